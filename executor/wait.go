package executor

import (
	"os"

	"golang.org/x/sys/unix"
)

// waitExited returns once process pid has exited, without reaping it, so
// that /proc/PID/io can still be read before os.Process.Wait reaps it.
//
// A blocking waitid would hold an OS thread per child for the child's whole
// life (a 1000-stage pipeline: 1000 threads). Instead the child's pidfd,
// which becomes readable when the child exits, is parked in Go's netpoller:
// the goroutine sleeps, no thread is held, and each wake-up checks with a
// non-blocking waitid(P_PIDFD, WNOHANG|WNOWAIT).
func waitExited(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		waitExitedBlocking(pid)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		waitExitedBlocking(pid)
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
		waitExitedBlocking(pid)
	}
}

// waitExitedBlocking is the fallback where pidfds cannot be polled.
func waitExitedBlocking(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}
