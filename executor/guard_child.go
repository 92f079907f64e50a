//go:build !noforkguard

package executor

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The guardian's side of guard.go. It runs in a child forked from tubo
// without exec: a copy of tubo's memory with a single thread, every signal
// blocked, and the Go runtime frozen as it was at the fork. Such a child
// must never allocate, grow its stack, take a runtime lock, write a
// pointer or panic (the same rules as syscall.forkAndExecInChild1). So
// every function in this file is nosplit and norace (the linker checks
// that their frames fit the nosplit limit), calls only syscall.RawSyscall6
// and other functions of this file, checks its own indexes, and keeps its
// state in a guardMem mapped before the fork.
//
// The protocol on the pipe, one line per record, written by tubo only:
//
//	+PGID      a process group to end if tubo dies
//	-PGID      that group is gone (swept); forget it
//	rHEX       a path to remove if tubo dies (hex of its bytes)
//	RHEX       tubo removed it; forget it
//
// EOF (or any read error) means tubo is gone.

//go:nosplit
//go:norace
func gsys(trap, a1, a2, a3, a4 uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(trap, a1, a2, a3, a4, 0, 0)
	return r, e
}

// forkGuardian forks the guardian, which reads r and never returns. The
// caller has locked its OS thread: the signal mask set here must be the
// one of the thread that forks.
//
// A plain fork would share every page of tubo copy-on-write for as long
// as the guardian lives, and tubo would then fault (and copy) each page
// it writes: 700 more page faults for a one-stage line. So the mappings
// in m.maps are marked MADV_DONTFORK around the fork, all but the pages
// around this goroutine's stack pointer, where the guardian's frames go.
// The guardian touches nothing else: its code and constants (read-only
// mappings of the executable), m, and its stack. The stack cannot move
// meanwhile: this function is nosplit, so nothing in it grows the stack.
// With the C library linked (cgo), the kernel also writes the thread's
// rseq area, in its TLS block, on each return to user space (a missing
// one is a SIGSEGV): the mapping holding the thread pointer stays, and
// where that pointer cannot be read, every mapping does.
//
//go:nosplit
//go:norace
func forkGuardian(m *guardMem, r int) (int, syscall.Errno) {
	var here byte
	sp := uintptr(unsafe.Pointer(&here))
	lo, hi := (sp-64<<10)&^4095, (sp+4096+4095)&^4095
	tp := threadPointer()
	if linkedLibc && tp == 0 {
		m.nmaps = 0
	}
	guardAdvise(m, lo, hi, tp, unix.MADV_DONTFORK)
	// Every signal blocked across the fork: the child must never run a Go
	// signal handler (and keeps them blocked for life; SIGKILL and
	// SIGSTOP cannot be).
	all, old := ^uint64(0), uint64(0)
	gsys(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8)
	pid, err := gsys(unix.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0)
	if err == 0 && pid == 0 {
		guardChild(m, r)
	}
	gsys(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8)
	guardAdvise(m, lo, hi, tp, unix.MADV_DOFORK)
	return int(pid), err
}

// guardAdvise applies advice to the mappings in m.maps, except [lo, hi)
// and the mapping that holds keep.
//
//go:nosplit
//go:norace
func guardAdvise(m *guardMem, lo, hi, keep uintptr, advice int) {
	for i := 0; i < m.nmaps && i < len(m.maps); i++ {
		s, e := m.maps[i][0], m.maps[i][1]
		if keep >= s && keep < e {
			continue
		}
		if s < lo {
			gsys(unix.SYS_MADVISE, s, min(e, lo)-s, uintptr(advice), 0)
		}
		if e > hi {
			s = max(s, hi)
			gsys(unix.SYS_MADVISE, s, e-s, uintptr(advice), 0)
		}
	}
}

// guardChild is the forked guardian's life.
//
//go:nosplit
//go:norace
func guardChild(m *guardMem, r int) {
	// A group of its own, so that Ctrl-C or a signal to tubo's group does
	// not reach it; "/" so that it holds no directory busy; a name that
	// says what it is in ps.
	gsys(unix.SYS_SETPGID, 0, 0, 0, 0)
	gsys(unix.SYS_CHDIR, uintptr(unsafe.Pointer(&m.root[0])), 0, 0, 0)
	gsys(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(&m.comm[0])), 0, 0)
	// And a command line that says so, not tubo's (a test or a user
	// looking for tubo by its arguments must not find the guardian).
	const title = "tubo-guardian"
	for i := 0; m.args != nil && i < m.nargs; i++ {
		c := byte(0)
		if i < len(title) {
			c = title[i]
		}
		*(*byte)(unsafe.Add(m.args, i)) = c
	}
	// Only the pipe's read end, as fd 0: every other descriptor of tubo
	// (the pipe's write end above all, or EOF never comes) is closed.
	if r != 0 {
		gsys(unix.SYS_DUP3, uintptr(r), 0, 0, 0)
	}
	if _, e := gsys(unix.SYS_CLOSE_RANGE, 1, ^uintptr(0)>>32, 0, 0); e != 0 {
		for fd := uintptr(1); fd < 65536; fd++ {
			gsys(unix.SYS_CLOSE, fd, 0, 0, 0)
		}
	}
	guardRun(m, 0)
	gsys(unix.SYS_EXIT_GROUP, 0, 0, 0, 0)
}

// guardRun follows the list on fd until EOF, then ends every group still
// listed and removes every path still listed. GuardMain runs it too.
//
//go:nosplit
//go:norace
func guardRun(m *guardMem, fd int) {
	for {
		if m.fill == len(m.in) {
			// A line longer than the buffer is no line tubo writes:
			// drop it up to its end.
			m.fill, m.skip = 0, true
		}
		n, e := gsys(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&m.in[m.fill])), uintptr(len(m.in)-m.fill), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || n == 0 {
			break
		}
		m.fill += int(n)
		guardLines(m)
	}
	guardEnd(m, 300e6)
	for i := range m.pathLen {
		if m.pathLen[i] > 0 {
			guardRemove(m, &m.paths[i][0])
		}
	}
}

// guardLines takes the complete lines from the front of m.in.
//
//go:nosplit
//go:norace
func guardLines(m *guardMem) {
	start := 0
	for i := 0; i < m.fill && i < len(m.in); i++ {
		if m.in[i] != '\n' {
			continue
		}
		if m.skip {
			m.skip = false
		} else {
			guardLine(m, start, i)
		}
		start = i + 1
	}
	// Carry the partial line to the front.
	j := 0
	for k := start; k < m.fill && k < len(m.in); k++ {
		m.in[j] = m.in[k]
		j++
	}
	m.fill = j
}

// guardLine applies the record in m.in[start:end].
//
//go:nosplit
//go:norace
func guardLine(m *guardMem, start, end int) {
	if end-start < 2 || end > len(m.in) {
		return
	}
	switch m.in[start] {
	case '+', '-':
		pgid := 0
		for k := start + 1; k < end; k++ {
			c := m.in[k]
			if c < '0' || c > '9' || pgid > 1<<30 {
				return
			}
			pgid = pgid*10 + int(c-'0')
		}
		if pgid <= 1 {
			return
		}
		if m.in[start] == '+' {
			guardAddGroup(m, int32(pgid))
		} else {
			guardDelGroup(m, int32(pgid))
		}
	case 'r', 'R':
		hex := end - start - 1
		if hex%2 != 0 || hex/2 >= guardPathMax || m.in[start+1] != '2' || m.in[start+2] != 'f' {
			return // not an absolute path ("/" is 2f)
		}
		// Decode into the first free slot, then keep it ('r') or use
		// it to find the listed copy and free both ('R').
		free := -1
		for i := range m.pathLen {
			if m.pathLen[i] == 0 {
				free = i
				break
			}
		}
		if free < 0 {
			return // full: this path is not watched
		}
		n := hex / 2
		s := &m.paths[free]
		for k := 0; k < n; k++ {
			hi, lo := unhex(m.in[start+1+2*k]), unhex(m.in[start+2+2*k])
			if hi < 0 || lo < 0 {
				return
			}
			s[k] = byte(hi<<4 | lo)
		}
		s[n] = 0
		if m.in[start] == 'r' {
			m.pathLen[free] = int32(n)
			return
		}
		for i := range m.pathLen {
			if i != free && m.pathLen[i] == int32(n) && samePath(&m.paths[i], s, n) {
				m.pathLen[i] = 0
				break
			}
		}
	}
}

//go:nosplit
//go:norace
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

//go:nosplit
//go:norace
func samePath(a, b *[guardPathMax]byte, n int) bool {
	for k := 0; k < n && k < guardPathMax; k++ {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

//go:nosplit
//go:norace
func groupHome(pgid int32) int {
	return int(uint32(pgid)*2654435761>>16) & (guardSlots - 1)
}

//go:nosplit
//go:norace
func guardFind(m *guardMem, pgid int32) int {
	for i := groupHome(pgid); ; i = (i + 1) & (guardSlots - 1) {
		switch m.groups[i] {
		case pgid:
			return i
		case 0:
			return -1
		}
	}
}

//go:nosplit
//go:norace
func guardAddGroup(m *guardMem, pgid int32) {
	if m.ngroups >= guardSlots/4*3 {
		return // full: this group is not watched
	}
	i := groupHome(pgid)
	for m.groups[i] != 0 {
		if m.groups[i] == pgid {
			return
		}
		i = (i + 1) & (guardSlots - 1)
	}
	m.groups[i] = pgid
	m.ngroups++
}

// guardDelGroup removes pgid by backward-shift deletion, which keeps every
// other entry reachable from its home slot without tombstones.
//
//go:nosplit
//go:norace
func guardDelGroup(m *guardMem, pgid int32) {
	i := guardFind(m, pgid)
	if i < 0 {
		return
	}
	m.groups[i] = 0
	m.ngroups--
	for j := (i + 1) & (guardSlots - 1); m.groups[j] != 0; j = (j + 1) & (guardSlots - 1) {
		// Move groups[j] into the hole at i unless its home lies
		// cyclically in (i, j].
		h := groupHome(m.groups[j])
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			m.groups[i], m.groups[j] = m.groups[j], 0
			i = j
		}
	}
}

// guardEnd ends the listed groups: every member (from /proc) is held by
// pidfd and sent SIGTERM; after grace nanoseconds what is left gets
// SIGKILL. A signal through a pidfd reaches that process only; the whole
// group (kill(-PGID)), which also reaches members forked in the meantime,
// is signalled only while one of its held members is alive, which proves
// the group is still the one tubo made (tubo lists a group only while a
// process it started in it is alive or an unreaped zombie).
//
//go:nosplit
//go:norace
func guardEnd(m *guardMem, grace int64) {
	if m.ngroups == 0 {
		return
	}
	// A stage dies of Pdeathsig a moment after tubo, and may fork in that
	// moment: every pass looks for members again, and the end comes only
	// when a pass finds every member gone and no new one.
	guardCollect(m)
	guardSignal(m, syscall.SIGTERM)
	deadline := guardNow(m) + grace
	for {
		guardSleep(m, 10e6)
		late := guardNow(m) >= deadline
		if guardCollect(m) > 0 && !late {
			guardSignal(m, syscall.SIGTERM)
			continue
		}
		if late || !guardAnyAlive(m) {
			break
		}
	}
	if guardAnyAlive(m) {
		guardSignal(m, syscall.SIGKILL)
		// What SIGKILL reaches cannot fork any more; a member forked
		// just before it is found by one more pass.
		for guardCollect(m) > 0 {
			guardSignal(m, syscall.SIGKILL)
		}
	}
}

//go:nosplit
//go:norace
func guardNow(m *guardMem) int64 {
	gsys(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&m.ts[0])), 0, 0)
	return m.ts[0]*1e9 + m.ts[1]
}

//go:nosplit
//go:norace
func guardSleep(m *guardMem, ns int64) {
	m.ts[0], m.ts[1] = ns/1e9, ns%1e9
	gsys(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, 0, uintptr(unsafe.Pointer(&m.ts[0])), 0)
}

// guardCollect holds, by pidfd, every process of a listed group not held
// yet, and returns how many it found.
//
//go:nosplit
//go:norace
func guardCollect(m *guardMem) int {
	dir, e := gsys(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&m.proc[0])), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if e != 0 {
		return 0
	}
	found := 0
	for n := guardReadDir(m, dir); n > 0; n = guardReadDir(m, dir) {
		for off := 0; ; {
			name, next := guardDirent(m, off, n)
			if name < 0 {
				break
			}
			off = next
			if pid := direntPid(m, name, next); pid > 0 && guardTake(m, pid) {
				found++
			}
		}
	}
	gsys(unix.SYS_CLOSE, dir, 0, 0, 0)
	return found
}

// guardReadDir reads the next entries of the directory dir into m.dents
// and returns how many bytes it read, 0 at the end or on an error.
//
//go:nosplit
//go:norace
func guardReadDir(m *guardMem, dir uintptr) int {
	for {
		n, e := gsys(unix.SYS_GETDENTS64, dir, uintptr(unsafe.Pointer(&m.dents[0])), uintptr(len(m.dents)), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || int(n) > len(m.dents) {
			return 0
		}
		return int(n)
	}
}

// guardDirent takes the linux_dirent64 at m.dents[off:n]: where its name
// starts (-1 when there is no entry left) and where the next entry is.
//
//go:nosplit
//go:norace
func guardDirent(m *guardMem, off, n int) (name, next int) {
	// d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name.
	if off < 0 || off+19 >= n || off+19 >= len(m.dents) {
		return -1, n
	}
	reclen := int(m.dents[off+16]) | int(m.dents[off+17])<<8
	if reclen < 20 {
		return -1, n
	}
	return off + 19, off + reclen
}

// direntPid is the number a /proc entry's name m.dents[start:end] spells,
// or 0.
//
//go:nosplit
//go:norace
func direntPid(m *guardMem, start, end int) int32 {
	pid := 0
	for k := start; k < end && k < len(m.dents); k++ {
		c := m.dents[k]
		if c == 0 {
			break
		}
		if c < '0' || c > '9' || pid > 1<<30 {
			return 0
		}
		pid = pid*10 + int(c-'0')
	}
	return int32(pid)
}

// guardTake holds pid if it is in a listed group and not held yet.
//
//go:nosplit
//go:norace
func guardTake(m *guardMem, pid int32) bool {
	pgid, _ := guardStat(m, pid)
	if pgid <= 1 {
		return false
	}
	slot := guardFind(m, pgid)
	if slot < 0 || m.nheld >= guardHeld {
		return false
	}
	for k := 0; k < m.nheld && k < guardHeld; k++ {
		if m.held[k].pid == pid {
			return false
		}
	}
	fd, e := gsys(unix.SYS_PIDFD_OPEN, uintptr(pid), 0, 0, 0)
	if e != 0 {
		return false
	}
	// The pid was read from /proc before the pidfd was opened: check that
	// the process still is in the group.
	if again, _ := guardStat(m, pid); again != pgid {
		gsys(unix.SYS_CLOSE, fd, 0, 0, 0)
		return false
	}
	m.held[m.nheld] = heldMember{pid: pid, pidfd: int32(fd), slot: int32(slot)}
	m.nheld++
	return true
}

// guardStat reads a process's group and state from /proc/PID/stat: "pid
// (comm) state ppid pgrp …". It returns 0 when there is no such process.
//
//go:nosplit
//go:norace
func guardStat(m *guardMem, pid int32) (pgid int32, state byte) {
	// "/proc/" + pid + "/stat". The indexes are masked to the arrays'
	// sizes (powers of two) so that no bounds check, and no panic path,
	// is compiled into this deepest function of the guardian.
	const proc, stat = "/proc/", "/stat\x00"
	n := 0
	for i := 0; i < len(proc); i++ {
		m.name[n&63] = proc[i]
		n++
	}
	var digits [16]byte
	d := 0
	for v := pid; v > 0 || d == 0; v /= 10 {
		digits[d&15] = byte('0' + v%10)
		d++
	}
	for d > 0 {
		d--
		m.name[n&63] = digits[d&15]
		n++
	}
	for i := 0; i < len(stat); i++ {
		m.name[n&63] = stat[i]
		n++
	}
	fd, e := gsys(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&m.name[0])), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if e != 0 {
		return 0, 0
	}
	r, e := gsys(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&m.stat[0])), uintptr(len(m.stat)), 0)
	gsys(unix.SYS_CLOSE, fd, 0, 0, 0)
	got := int(r) & 511
	if e != 0 || int(r) > len(m.stat) {
		return 0, 0
	}
	// comm may hold ')' and spaces: the fields start after the last ')'.
	paren := -1
	for k := 0; k < got; k++ {
		if m.stat[k&511] == ')' {
			paren = k
		}
	}
	// ") S 123 456 "
	k := paren + 2
	if paren < 0 || k+1 >= got {
		return 0, 0
	}
	state = m.stat[k&511]
	field := 0
	v := int32(0)
	for k += 2; k < got; k++ {
		c := m.stat[k&511]
		if c == ' ' {
			if field == 1 {
				return v, state
			}
			field, v = field+1, 0
			continue
		}
		if c < '0' || c > '9' || v > 1<<30 {
			return 0, 0
		}
		v = v*10 + int32(c-'0')
	}
	return 0, 0
}

// guardSignal sends sig to every held member, and to the whole group of
// each one that took it.
//
//go:nosplit
//go:norace
func guardSignal(m *guardMem, sig syscall.Signal) {
	for k := 0; k < m.nheld && k < guardHeld; k++ {
		h := &m.held[k]
		if _, e := gsys(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(h.pidfd), uintptr(sig), 0, 0); e == 0 && h.slot >= 0 && h.slot < guardSlots {
			m.pinned[h.slot] = true
		}
	}
	for k := 0; k < m.nheld && k < guardHeld; k++ {
		slot := m.held[k].slot
		if slot >= 0 && slot < guardSlots && m.pinned[slot] {
			m.pinned[slot] = false
			// A member held by pidfd is alive: the group is still
			// tubo's, and this reaches members forked since.
			gsys(unix.SYS_KILL, uintptr(-int(m.groups[slot])), uintptr(sig), 0, 0)
		}
	}
}

// guardAnyAlive reports whether a held member is still running (not dead,
// not a zombie).
//
//go:nosplit
//go:norace
func guardAnyAlive(m *guardMem) bool {
	for k := 0; k < m.nheld && k < guardHeld; k++ {
		h := &m.held[k]
		if _, e := gsys(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(h.pidfd), 0, 0, 0); e != 0 {
			continue
		}
		if _, st := guardStat(m, h.pid); st != 'Z' && st != 'X' && st != 0 {
			return true
		}
	}
	return false
}

// guardRemove removes a path tubo listed: a file or FIFO, or a directory
// with the files, FIFOs and empty directories tubo put in it (the private
// FIFO directory, the ssh control socket directory).
//
//go:nosplit
//go:norace
func guardRemove(m *guardMem, path *byte) {
	p := uintptr(unsafe.Pointer(path))
	if _, e := gsys(unix.SYS_UNLINKAT, atFDCWD, p, 0, 0); e != syscall.EISDIR {
		return
	}
	dir, e := gsys(unix.SYS_OPENAT, atFDCWD, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if e == 0 {
		for n := guardReadDir(m, dir); n > 0; n = guardReadDir(m, dir) {
			for off := 0; ; {
				name, next := guardDirent(m, off, n)
				if name < 0 {
					break
				}
				off = next
				// Not "." or "..".
				if m.dents[name] == '.' && (m.dents[name+1] == 0 || m.dents[name+1] == '.' && m.dents[(name+2)&(len(m.dents)-1)] == 0) {
					continue
				}
				at := uintptr(unsafe.Pointer(&m.dents[name]))
				if _, e := gsys(unix.SYS_UNLINKAT, dir, at, 0, 0); e == syscall.EISDIR {
					gsys(unix.SYS_UNLINKAT, dir, at, unix.AT_REMOVEDIR, 0)
				}
			}
		}
		gsys(unix.SYS_CLOSE, dir, 0, 0, 0)
	}
	gsys(unix.SYS_UNLINKAT, atFDCWD, p, unix.AT_REMOVEDIR, 0)
}
