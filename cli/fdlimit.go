package cli

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// minFreeFDs is what tubo needs free to start: the Go runtime's poller (an
// epoll and an eventfd) and the pipe that makes it.
const minFreeFDs = 4

// pollerReady makes the Go runtime's poller now, while tubo can still say
// why it cannot run. The runtime makes it when the first file or pipe
// becomes an *os.File; if the process is out of descriptors then (ulimit
// -n 8 leaves tubo 5), it dies with a fatal error that no code can catch,
// in the middle of a run. Started, tubo reports a later EMFILE as the
// failure of what needed the descriptor.
func pollerReady() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 64 {
		free := 0
		for fd := 0; fd < int(lim.Cur); fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
				free++
			}
		}
		if free < minFreeFDs {
			return fmt.Errorf("%d of %d file descriptors are free (ulimit -n %d); tubo needs %d to start", free, lim.Cur, lim.Cur, minFreeFDs)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("cannot start: %v", err)
	}
	r.Close()
	w.Close()
	return nil
}
