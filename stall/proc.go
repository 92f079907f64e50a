package stall

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// proc is what /proc says of one process at one moment. Every field is
// read without stopping or touching the process: stat, io, wchan and
// syscall are plain reads, fd links are readlink(2), and fdinfo gives the
// open flags (which end of a pipe a descriptor is).
type proc struct {
	pid, ppid, pgid int
	comm            string // the kernel's short name, as in ps
	state           byte   // R running, S sleeping, D disk, T stopped, Z zombie…
	cpu             uint64 // utime + stime, in clock ticks
	start           uint64 // when it started, in clock ticks since boot

	// I/O counters of /proc/PID/io; ioOK is false when unreadable.
	rchar, wchar int64
	ioOK         bool

	// sys is the system call it is blocked in (-1: running in user space,
	// -2: unknown); args are its arguments.
	sys  int
	args [6]uint64
	// wchan is the kernel function it sleeps in ("anon_pipe_read",
	// "wait_for_partner"); "" when running or unreadable.
	wchan string

	fds map[int]fdesc // read on demand by readFDs; nil until then
}

// fdesc is one open descriptor of a process.
type fdesc struct {
	link  string // readlink of /proc/PID/fd/N: "pipe:[123]", "/tmp/x", "/dev/pts/1"
	flags int    // open flags from fdinfo (O_ACCMODE tells the end of a pipe)
	ino   uint64 // the inode: a pipe's from its link, a file's or FIFO's from stat
	dev   uint64
	fifo  bool // a named pipe (a FIFO), opened by path
}

func (d fdesc) pipe() bool { return strings.HasPrefix(d.link, "pipe:[") }
func (d fdesc) reads() bool {
	return d.flags&unix.O_ACCMODE == unix.O_RDONLY || d.flags&unix.O_ACCMODE == unix.O_RDWR
}
func (d fdesc) writes() bool {
	return d.flags&unix.O_ACCMODE == unix.O_WRONLY || d.flags&unix.O_ACCMODE == unix.O_RDWR
}

// procDir is the /proc directory of pid.
func procDir(pid int) string { return "/proc/" + strconv.Itoa(pid) + "/" }

// readProc reads stat, io, syscall and wchan of pid; ok is false when the
// process is gone.
func readProc(pid int) (p proc, ok bool) {
	dir := procDir(pid)
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		return p, false
	}
	if !parseStat(b, &p) {
		return p, false
	}
	p.pid = pid
	if b, err := os.ReadFile(dir + "io"); err == nil {
		p.rchar, p.wchar, p.ioOK = ioField(b, "rchar"), ioField(b, "wchar"), true
	}
	p.sys = -2
	if b, err := os.ReadFile(dir + "syscall"); err == nil {
		parseSyscall(b, &p)
	}
	if b, err := os.ReadFile(dir + "wchan"); err == nil && string(b) != "0" {
		p.wchan = strings.TrimSpace(string(b))
	}
	if c, ok := calls[p.sys]; ok && (c.kind == callFutex || c.kind == callPoll) {
		telling(dir, &p)
	}
	return p, true
}

// telling looks past a main thread parked on a lock or in the Go
// netpoller: a multi-threaded process (a Go program, tubo's own shell
// stages) waits for its children, a pipe or a FIFO on another thread, and
// that thread's call is the one that says what the process waits on.
// The first thread found in such a call replaces the main thread's call
// and wchan; the descriptors are the process's, shared by its threads.
func telling(dir string, p *proc) {
	tasks, err := os.ReadDir(dir + "task")
	if err != nil || len(tasks) < 2 {
		return
	}
	rank := map[callKind]int{callWait: 1, callOpen: 2, callRead: 3, callWrite: 3, callSplice: 3}
	best := 0
	for _, t := range tasks {
		tdir := dir + "task/" + t.Name() + "/"
		b, err := os.ReadFile(tdir + "syscall")
		if err != nil {
			continue
		}
		var q proc
		q.sys = -2
		parseSyscall(b, &q)
		r := rank[calls[q.sys].kind]
		if r == 0 || best != 0 && r >= best {
			continue
		}
		best = r
		p.sys, p.args = q.sys, q.args
		p.wchan = ""
		if w, err := os.ReadFile(tdir + "wchan"); err == nil && string(w) != "0" {
			p.wchan = strings.TrimSpace(string(w))
		}
	}
}

// parseStat reads the fields of /proc/PID/stat that matter here. The
// command name may hold spaces and parentheses: fields are counted from
// the last ')'.
func parseStat(b []byte, p *proc) bool {
	i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if i < 0 || j < i {
		return false
	}
	p.comm = string(b[i+1 : j])
	f := bytes.Fields(b[j+1:])
	// f[0] is field 3 (state); ppid 4, pgrp 5, utime 14, stime 15,
	// starttime 22.
	if len(f) < 20 || len(f[0]) == 0 {
		return false
	}
	p.state = f[0][0]
	p.ppid, _ = strconv.Atoi(string(f[1]))
	p.pgid, _ = strconv.Atoi(string(f[2]))
	ut, _ := strconv.ParseUint(string(f[11]), 10, 64)
	st, _ := strconv.ParseUint(string(f[12]), 10, 64)
	p.cpu = ut + st
	p.start, _ = strconv.ParseUint(string(f[19]), 10, 64)
	return true
}

// parseSyscall reads /proc/PID/syscall: "running", or the number and six
// arguments of the call the process is blocked in.
func parseSyscall(b []byte, p *proc) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return
	}
	if f[0] == "running" {
		p.sys = -1
		return
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 {
		return
	}
	p.sys = n
	for i := 0; i < 6 && i+1 < len(f); i++ {
		p.args[i], _ = strconv.ParseUint(strings.TrimPrefix(f[i+1], "0x"), 16, 64)
	}
}

func ioField(b []byte, name string) int64 {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(": "))
		if ok && string(k) == name {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return n
		}
	}
	return 0
}

// readFDs fills p.fds from /proc/PID/fd and fdinfo.
func (p *proc) readFDs() {
	p.fds = map[int]fdesc{}
	dir := procDir(p.pid)
	ents, err := os.ReadDir(dir + "fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if d, ok := readFD(p.pid, n); ok {
			p.fds[n] = d
		}
	}
}

// readFD describes descriptor n of pid.
func readFD(pid, n int) (fdesc, bool) {
	dir := procDir(pid)
	name := strconv.Itoa(n)
	link, err := os.Readlink(dir + "fd/" + name)
	if err != nil {
		return fdesc{}, false
	}
	d := fdesc{link: link}
	if b, err := os.ReadFile(dir + "fdinfo/" + name); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				f, _ := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
				d.flags = int(f)
			}
		}
	}
	if d.pipe() {
		d.ino, _ = strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "pipe:["), "]"), 10, 64)
		return d, true
	}
	if strings.HasPrefix(link, "/") {
		// stat through the link names the open file's inode; for a FIFO
		// it opens nothing, so no reader or writer is added.
		var st unix.Stat_t
		if unix.Stat(dir+"fd/"+name, &st) == nil {
			d.ino, d.dev = st.Ino, st.Dev
			d.fifo = st.Mode&unix.S_IFMT == unix.S_IFIFO
		}
	}
	return d, true
}

// children lists the direct children of pid, from the children files of
// its threads (/proc/PID/task/TID/children).
func children(pid int) []int {
	var out []int
	tasks, err := os.ReadDir(procDir(pid) + "task")
	if err != nil {
		return nil
	}
	for _, t := range tasks {
		b, err := os.ReadFile(procDir(pid) + "task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// uptimeTicks is the time since boot in clock ticks, the unit of a
// process's start time.
func uptimeTicks() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	up, _ := strconv.ParseFloat(f[0], 64)
	return up * clockTicks
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture.
const clockTicks = 100

// allPids lists every process on the machine.
func allPids() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// cmdline is the process's argv joined by spaces, cut to a readable
// length; the short name when argv is empty (a kernel thread, a zombie).
func cmdline(p *proc) string {
	b, err := os.ReadFile(procDir(p.pid) + "cmdline")
	if err != nil || len(b) == 0 {
		return p.comm
	}
	s := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// memString reads a NUL-terminated string at addr in pid's memory: the
// path a process passed to open(2). Reading /proc/PID/mem needs the same
// permission as ptrace; on failure it returns "".
func memString(pid int, addr uint64) string {
	if addr == 0 {
		return ""
	}
	f, err := os.Open(procDir(pid) + "mem")
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, int64(addr))
	if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
		return string(buf[:i])
	}
	return ""
}

// pipeFill returns the bytes waiting in the pipe behind descriptor fd of
// pid, and the pipe's capacity. It borrows the descriptor with
// pidfd_getfd(2): that is the same open file, not a new reader or writer,
// so it changes neither EOF nor SIGPIPE for anyone. ok is false when the
// kernel or the permissions do not allow it.
func pipeFill(pid, fd int) (buffered, capacity int, ok bool) {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, 0, false
	}
	defer unix.Close(pfd)
	n, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		return 0, 0, false
	}
	defer unix.Close(n)
	b, err := unix.IoctlGetInt(n, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return 0, 0, false
	}
	c, err := unix.FcntlInt(uintptr(n), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0, 0, false
	}
	return b, c, true
}
