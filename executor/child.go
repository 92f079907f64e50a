package executor

import (
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// child is one process tubo started, known by its pid and by a pidfd that
// the kernel made at fork (CLONE_PIDFD). The pidfd is how tubo waits for
// it (in Go's netpoller: no thread is held per child) and signals it: a
// signal sent through a pidfd reaches that process and no other, even
// after its pid is reused. tubo is the only reaper of its children.
type child struct {
	pid  int
	pgid int // the process group it was started in

	mu     sync.Mutex
	pidfd  *os.File // nil when the kernel gave none; registered with the netpoller
	reaped bool     // after reap, the pid may belong to another process
}

// newChild wraps a started process and the pidfd its fork returned (-1 if
// none).
func newChild(pid, pgid, pidfd int) *child {
	c := &child{pid: pid, pgid: pgid}
	if pidfd >= 0 {
		// Non-blocking, so that os.File parks waits in the netpoller;
		// every waitid on it uses WNOHANG or comes after the exit.
		unix.SetNonblock(pidfd, true)
		c.pidfd = os.NewFile(uintptr(pidfd), "pidfd")
	}
	return c
}

// control runs fn on the pidfd's descriptor.
func (c *child) control(fn func(fd int)) bool {
	rc, err := c.pidfd.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) }) == nil
}

// signal sends sig to the process unless it has been reaped.
func (c *child) signal(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return os.ErrProcessDone
	}
	if c.pidfd != nil {
		var err error
		if c.control(func(fd int) { err = unix.PidfdSendSignal(fd, sig, nil, 0) }) {
			return err
		}
	}
	// Not reaped: the pid is still this process (or its zombie).
	return syscall.Kill(c.pid, sig)
}

// waitExited returns once the process has exited, without reaping it, so
// that /proc/PID/io can still be read and its process group stays pinned
// (a zombie keeps its pid and group ID from being reused).
//
// A blocking waitid would hold an OS thread per child for the child's whole
// life (a 1000-stage pipeline: 1000 threads). Instead the pidfd, which
// becomes readable when the child exits, is parked in Go's netpoller: the
// goroutine sleeps, no thread is held, and each wake-up checks with a
// non-blocking waitid(P_PIDFD, WNOHANG|WNOWAIT).
func (c *child) waitExited() {
	if c.pidfd == nil {
		c.waitExitedBlocking()
		return
	}
	rc, err := c.pidfd.SyscallConn()
	if err != nil {
		c.waitExitedBlocking()
		return
	}
	exited := func(fd uintptr) bool {
		for {
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
			if err == unix.EINTR {
				continue
			}
			// With WNOHANG, a child that has not exited leaves info
			// zeroed. An error means there is nothing left to wait for.
			return err != nil || info.Signo != 0
		}
	}
	// Read calls exited until it returns true, sleeping in the netpoller
	// (epoll on the pidfd) between calls.
	if err := rc.Read(exited); err != nil {
		c.waitExitedBlocking()
	}
}

// waitExitedBlocking is the fallback where pidfds cannot be polled.
func (c *child) waitExitedBlocking() {
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
// and closes its pidfd. It must be called once, after waitExited.
func (c *child) reap() (exit, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var info unix.Siginfo
	var ru unix.Rusage
	var err error = unix.EINVAL
	wait := func(idtype, id int) {
		for {
			err = unix.Waitid(idtype, id, &info, unix.WEXITED, &ru)
			if err != unix.EINTR {
				return
			}
		}
	}
	if c.pidfd == nil || !c.control(func(fd int) { wait(unix.P_PIDFD, fd) }) {
		wait(unix.P_PID, c.pid)
	}
	c.reaped = true
	if c.pidfd != nil {
		c.pidfd.Close()
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
