package executor

import (
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// child is one process tubo started, known by its pid and by a pidfd that
// the kernel made at fork (CLONE_PIDFD). The pidfd is how tubo learns that
// it exited (the run's reaper polls every pidfd of the run at once, see
// reaper.go: no thread or goroutine is held per child) and how it signals
// it: a signal sent through a pidfd reaches that process and no other,
// even after its pid is reused. tubo is the only reaper of its children.
type child struct {
	pid  int
	pgid int // the process group it was started in

	mu     sync.Mutex
	pidfd  int  // -1 when the kernel gave none, and once reaped (closed)
	reaped bool // after reap, the pid may belong to another process
}

// newChild wraps a started process and the pidfd its fork returned (-1 if
// none). The pidfd stays a bare descriptor (close-on-exec, as the kernel
// makes it): no *os.File, so no fcntl, netpoller registration or
// finalizer per stage.
func newChild(pid, pgid, pidfd int) *child {
	return &child{pid: pid, pgid: pgid, pidfd: pidfd}
}

// signal sends sig to the process unless it has been reaped.
func (c *child) signal(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return os.ErrProcessDone
	}
	if c.pidfd >= 0 {
		// The pidfd is closed only under c.mu, at reap: it is this
		// process's.
		return unix.PidfdSendSignal(c.pidfd, sig, nil, 0)
	}
	// Not reaped: the pid is still this process (or its zombie).
	return syscall.Kill(c.pid, sig)
}

// waitExited returns once the process has exited, without reaping it, so
// that /proc/PID/io can still be read and its process group stays pinned
// (a zombie keeps its pid and group ID from being reused). It holds a
// thread while it waits: it is only for a child the kernel gave no pidfd
// (Linux before 5.3), which the reaper cannot poll.
func (c *child) waitExited() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, c.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// exit is how a reaped process ended.
type exit struct {
	status int            // exit code, when signal is 0
	signal syscall.Signal // the signal that killed it, or 0
	usage  *syscall.Rusage
}

// reap collects the exited process (waitid, which also gives its rusage)
// and closes its pidfd. It must be called once, after the process exited.
func (c *child) reap() (exit, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var info unix.Siginfo
	var ru unix.Rusage
	var err error
	idtype, id := unix.P_PID, c.pid
	if c.pidfd >= 0 {
		idtype, id = unix.P_PIDFD, c.pidfd
	}
	for {
		err = unix.Waitid(idtype, id, &info, unix.WEXITED, &ru)
		if err != unix.EINTR {
			break
		}
	}
	c.reaped = true
	if c.pidfd >= 0 {
		unix.Close(c.pidfd)
		c.pidfd = -1
	}
	if err != nil {
		return exit{}, err
	}
	code, status := siginfoChild(&info)
	e := exit{usage: (*syscall.Rusage)(unsafe.Pointer(&ru))}
	switch code {
	case cldKilled, cldDumped:
		e.signal = syscall.Signal(status)
	default:
		e.status = int(status)
	}
	return e, nil
}

// siginfoChild reads si_code and si_status of a SIGCHLD siginfo, which
// x/sys/unix leaves opaque: si_signo, si_errno and si_code, then the union,
// aligned as a pointer, whose SIGCHLD member is si_pid, si_uid, si_status.
func siginfoChild(info *unix.Siginfo) (code, status int32) {
	b := (*[128]byte)(unsafe.Pointer(info))
	union := 16
	if unsafe.Sizeof(uintptr(0)) == 4 {
		union = 12
	}
	code = *(*int32)(unsafe.Pointer(&b[8]))
	status = *(*int32)(unsafe.Pointer(&b[union+8]))
	return code, status
}

// si_code values of SIGCHLD (<asm-generic/siginfo.h>).
const (
	cldExited  = 1
	cldKilled  = 2
	cldDumped  = 3
	cldTrapped = 4
	cldStopped = 5
)
