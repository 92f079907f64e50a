package executor

import (
	"bufio"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// No stage survives tubo, however tubo ends. Three mechanisms cover it:
//
//  1. Every stage is started with Pdeathsig = SIGKILL (see spawn.go), so
//     the processes tubo forked die when tubo does, even of SIGKILL.
//  2. Pdeathsig does not reach a stage's own children. For those, tubo
//     has one guardian per tubo process: a copy of itself (GuardArg) in a
//     process group of its own, reading from a pipe whose only writer is
//     tubo. The guardian is running before the first stage is forked.
//     tubo writes "+PGID" on the spawner thread right after the fork that
//     made a new process group, and "-PGID" once the group is swept
//     (before its last member is reaped, so the ID cannot have been
//     reused). EOF on the pipe means tubo is gone, by whatever path; the
//     guardian then ends every group still listed (see GuardMain). tubo
//     also lists the paths it must remove ("r" + quoted path, "R" once
//     removed): the private FIFO directory (listed before it is made) and
//     the FIFOs it made elsewhere, which the guardian removes last.
//  3. The group sweep (reap.go): when the last process tubo started in a
//     group has exited, what is left in the group is killed.

// GuardArg is the first argument that makes tubo act as the guardian.
const GuardArg = "__tubo_guard"

// GuardPath is the tubo executable to start as the guardian; "" disables
// the guardian (Pdeathsig still covers direct children). Set it before the
// first run, or call StartGuardian.
var GuardPath string

type guardian struct {
	once    sync.Once
	started chan struct{} // closed once the start has been tried

	mu  sync.Mutex
	w   int // write end of the pipe; -1 when there is no guardian
	err error
}

var guard = guardian{started: make(chan struct{}), w: -1}

// StartGuardian starts the guardian in the background, so that its fork
// and exec overlap with what tubo does before its first stage (parsing,
// planning). The first run waits for it; calling this is optional.
func StartGuardian() {
	guard.once.Do(func() { go guard.start() })
}

// ready waits until the guardian has been started (or has failed to
// start): after it returns, a stage may be forked.
func (g *guardian) ready() {
	g.once.Do(g.start)
	<-g.started
}

func (g *guardian) start() {
	defer close(g.started)
	path := GuardPath
	if path == "" {
		return
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		g.err = err
		return
	}
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		g.err = err
		return
	}
	// No Pdeathsig: the guardian must outlive tubo. Its own process
	// group keeps a signal sent to tubo's group (Ctrl-C) from reaching
	// it; "/" keeps it from holding tubo's directory busy.
	pid, _, err := syscall.StartProcess(path, []string{"tubo", GuardArg}, &syscall.ProcAttr{
		Dir: "/",
		// tubo's environment (a test binary acting as tubo needs it), and
		// one P, no GC: the guardian must never need a thread it cannot
		// get when the stages have used up ulimit -u.
		Env:   append(os.Environ(), "GOMAXPROCS=1", "GOGC=off"),
		Files: []uintptr{uintptr(fds[0]), uintptr(null), uintptr(null)},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	unix.Close(fds[0])
	unix.Close(null)
	if err != nil {
		unix.Close(fds[1])
		g.err = err
		return
	}
	_ = pid // reaped by init once tubo is gone; it never exits before tubo
	g.w = fds[1]
}

// send writes one line to the guardian. It is a single write(2) of a few
// bytes: atomic on a pipe, and cheap enough for the spawner thread.
func (g *guardian) send(line string) {
	g.ready() // the first thing to tell it starts it
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w < 0 {
		return
	}
	b := []byte(line)
	for len(b) > 0 {
		n, err := unix.Write(g.w, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// The guardian is gone: there is nothing more to tell it.
			unix.Close(g.w)
			g.w = -1
			return
		}
		b = b[n:]
	}
}

// watch tells the guardian that a process group exists (add) or is gone.
func (g *guardian) watch(pgid int, add bool) {
	op := "-"
	if add {
		op = "+"
	}
	g.send(op + strconv.Itoa(pgid) + "\n")
}

// watchPath tells the guardian that tubo is about to make path (add) and
// that the guardian must remove it, or that tubo has removed it.
func (g *guardian) watchPath(path string, add bool) {
	op := "R"
	if add {
		op = "r"
	}
	g.send(op + strconv.Quote(path) + "\n")
}

// GuardMain is the guardian's whole life: follow the list of live groups
// and paths on stdin until EOF, then end what is left and remove the
// paths.
//
// tubo lists a group only while a process it started in the group is
// alive or an unreaped zombie; such a process keeps the group's ID from
// being reused. At EOF those processes are dying of Pdeathsig, so the
// guardian acts at once: it takes every member of each group (from /proc)
// by pidfd, sends SIGTERM, waits up to 300 ms for them to go, then sends
// SIGKILL. A signal through a pidfd reaches that process only; the group
// as a whole (kill(-PGID)), which also reaches members forked in the
// meantime, is signalled only while one of those pidfds shows a live
// member, which proves the group is still the one tubo made.
func GuardMain() int {
	// Terminal and job-control signals are tubo's business; the guardian
	// must live until EOF. (Nothing is exec'd from here, so these ignored
	// dispositions reach no stage.)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	groups := map[int]bool{}
	paths := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		switch line[0] {
		case 'r', 'R':
			if path, err := strconv.Unquote(line[1:]); err == nil && filepath.IsAbs(path) {
				if line[0] == 'r' {
					paths[path] = true
				} else {
					delete(paths, path)
				}
			}
		case '+', '-':
			pgid, err := strconv.Atoi(line[1:])
			if err != nil || pgid <= 1 {
				continue
			}
			if line[0] == '+' {
				groups[pgid] = true
			} else {
				delete(groups, pgid)
			}
		}
	}
	endGroups(groups, 300*time.Millisecond)
	for path := range paths {
		os.RemoveAll(path)
	}
	return 0
}

// member is a process in a group the guardian ends, held by its pidfd.
type member struct {
	pid   int
	pidfd int
}

// endGroups sends SIGTERM to every member of each group, waits up to
// grace for them to exit, then sends SIGKILL to what is left.
func endGroups(groups map[int]bool, grace time.Duration) {
	if len(groups) == 0 {
		return
	}
	held := map[int][]member{} // pgid → members
	defer func() {
		for _, ms := range held {
			for _, m := range ms {
				unix.Close(m.pidfd)
			}
		}
	}()
	collect := func() (found int) {
		for pid, pgid := range processGroups(groups) {
			known := false
			for _, m := range held[pgid] {
				known = known || m.pid == pid
			}
			if known {
				continue
			}
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue
			}
			// The pid was read from /proc before the pidfd was opened:
			// check that the process still is in the group.
			if pgidOf(pid) != pgid {
				unix.Close(fd)
				continue
			}
			held[pgid] = append(held[pgid], member{pid, fd})
			found++
		}
		return found
	}
	signalAll := func(sig syscall.Signal) {
		for pgid, ms := range held {
			pinned := false
			for _, m := range ms {
				if unix.PidfdSendSignal(m.pidfd, sig, nil, 0) == nil {
					pinned = true
				}
			}
			if pinned {
				// A member held by pidfd is alive: the group is still
				// tubo's, and this reaches members forked since.
				syscall.Kill(-pgid, sig)
			}
		}
	}
	// A stage dies of Pdeathsig a moment after tubo, and may fork in that
	// moment: every pass looks for members again, and the end comes only
	// when a pass finds every member gone and no new one.
	collect()
	signalAll(syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for {
		time.Sleep(10 * time.Millisecond)
		late := !time.Now().Before(deadline)
		if collect() > 0 && !late {
			signalAll(syscall.SIGTERM)
			continue
		}
		if late || !anyAlive(held) {
			break
		}
	}
	if anyAlive(held) {
		signalAll(syscall.SIGKILL)
		// What SIGKILL reaches cannot fork any more; a member forked
		// just before it is found by one more pass.
		for collect() > 0 {
			signalAll(syscall.SIGKILL)
		}
	}
}

func anyAlive(held map[int][]member) bool {
	for _, ms := range held {
		for _, m := range ms {
			if unix.PidfdSendSignal(m.pidfd, 0, nil, 0) == nil && !isZombie(m.pid) {
				return true
			}
		}
	}
	return false
}

// processGroups lists the processes (pid → pgid) whose group is in groups.
func processGroups(groups map[int]bool) map[int]int {
	out := map[int]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pgid := pgidOf(pid); groups[pgid] {
			out[pid] = pgid
		}
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// pgidOf is a process's group (field 5 of /proc/PID/stat), or 0.
func pgidOf(pid int) int {
	f := statFields(pid)
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

func isZombie(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}
