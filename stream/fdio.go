package stream

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
)

// errCanceled is returned by a wait that the node's cancel pipe ended.
var errCanceled = errors.New("stream: canceled")

// endpoint is an *os.File seen as a raw descriptor. The file stays owned by
// the caller of Tee or Merge and is closed only after every goroutine that
// uses fd has finished, so fd cannot be reused under our feet.
type endpoint struct {
	f        *os.File
	fd       int
	pipe     bool // a pipe or FIFO: tee(2) and splice(2) work on it
	nonblock bool // O_NONBLOCK is set (e.g. by os.Pipe)
	// spliceTo: splice(2) from a pipe can write into it: a pipe, or a
	// regular file not opened O_APPEND (splice refuses those).
	spliceTo bool
	// name says what is at the other end, for messages: the stage (or
	// file) the executor named the descriptor after; "" if not known.
	name string
	// polled, when not nil, is a non-blocking duplicate of fd registered
	// with Go's netpoller (see poll): read waits there, in no thread.
	polled *os.File
}

// poll makes reads of a pipe endpoint wait in Go's netpoller instead of a
// poll(2) that holds an OS thread: a merge of 1024 inputs then runs on a
// handful of threads, not one per input that waits. The descriptor is
// duplicated and set O_NONBLOCK (a flag of the open file description, which
// only this builtin uses); cn cancels its waits with a read deadline.
// Best effort: on any failure reads stay as they were.
func (e *endpoint) poll(cn *canceler) {
	if !e.pipe || e.polled != nil {
		return
	}
	fd, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return
	}
	// os.NewFile registers a non-blocking descriptor with the netpoller.
	e.polled = os.NewFile(uintptr(fd), e.name)
	e.nonblock = true
	cn.watch(e.polled)
}

// label names input i of a builtin in messages: by what is at its other
// end (esclavo[1], a file's path) when the executor said, else "input i".
func (e *endpoint) label(i int) string {
	if e.name != "" {
		return e.name
	}
	return fmt.Sprintf("input %d", i)
}

// newEndpoint looks at f without changing it. (f.Fd() would switch f to
// blocking mode; SyscallConn().Control gives the descriptor without that.)
func newEndpoint(f *os.File) (endpoint, error) {
	e := endpoint{f: f, fd: -1}
	if f == nil {
		return e, errors.New("stream: nil file")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return e, err
	}
	if err := rc.Control(func(fd uintptr) { e.fd = int(fd) }); err != nil {
		return e, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(e.fd, &st); err != nil {
		return e, fmt.Errorf("stream: fstat %s: %w", f.Name(), err)
	}
	e.pipe = st.Mode&unix.S_IFMT == unix.S_IFIFO
	fl, err := unix.FcntlInt(uintptr(e.fd), unix.F_GETFL, 0)
	if err != nil {
		return e, fmt.Errorf("stream: fcntl %s: %w", f.Name(), err)
	}
	e.nonblock = fl&unix.O_NONBLOCK != 0
	e.spliceTo = e.pipe || st.Mode&unix.S_IFMT == unix.S_IFREG && fl&unix.O_APPEND == 0
	if n := f.Name(); n != "" && !strings.HasPrefix(n, "|") && n != "pipe-r" && n != "pipe-w" {
		e.name = n // os.Pipe's "|0", the executor's unnamed ends: not a name
	}
	return e, nil
}

// canceler is a pipe whose write end is closed to cancel: its read end then
// polls readable (POLLHUP) forever, waking every wait at once.
type canceler struct {
	r, w int
	once sync.Once
	// files are the netpoller-registered inputs (endpoint.poll): cancel
	// ends their reads with a deadline in the past; close closes them.
	mu       sync.Mutex
	files    []*os.File
	canceled bool
}

// watch registers a polled input with the canceler.
func (c *canceler) watch(f *os.File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files = append(c.files, f)
	if c.canceled {
		f.SetReadDeadline(time.Unix(1, 0))
	}
}

func newCanceler() (*canceler, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("stream: cancel pipe: %w", err)
	}
	return &canceler{r: p[0], w: p[1]}, nil
}

// cancel wakes all waiters; any goroutine may call it, any number of times.
func (c *canceler) cancel() {
	c.once.Do(func() {
		unix.Close(c.w)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.canceled = true
		for _, f := range c.files {
			f.SetReadDeadline(time.Unix(1, 0))
		}
	})
}

func (c *canceler) close() {
	c.cancel()
	unix.Close(c.r)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
}

// waitFd blocks in poll(2) until fd is ready for events or cancelfd (if
// >= 0) is readable. poll is not restarted after a signal, and the Go
// runtime sends signals for preemption, so EINTR just loops.
func waitFd(fd int, events int16, cancelfd int) error {
	pfd := [2]unix.PollFd{{Fd: int32(fd), Events: events}, {Fd: int32(cancelfd), Events: unix.POLLIN}}
	n := 2
	if cancelfd < 0 {
		n = 1
	}
	for {
		_, err := unix.Poll(pfd[:n], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 2 && pfd[1].Revents != 0 {
			return errCanceled
		}
		// POLLERR/POLLHUP on fd also end the wait: the next call reports it.
		return nil
	}
}

// read reads into p, waiting in poll so that the wait can be canceled. It
// returns io.EOF at end of input.
func (e *endpoint) read(p []byte, cancelfd int) (int, error) {
	if e.polled != nil {
		n, err := e.polled.Read(p)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n, errCanceled
		}
		return n, err // io.EOF at the end
	}
	for {
		if !e.nonblock {
			// A blocking read(2) could not be interrupted: wait first.
			if err := waitFd(e.fd, unix.POLLIN, cancelfd); err != nil {
				return 0, err
			}
		}
		n, err := unix.Read(e.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := waitFd(e.fd, unix.POLLIN, cancelfd); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// writeAll writes all of p with raw write(2) calls (never os.File.Write,
// see the package comment). It returns unix.EPIPE when the reader is gone.
// A blocking descriptor is polled first so that a cancel can end a wait for
// room; the write itself may still block until the reader makes room.
func (e *endpoint) writeAll(p []byte, cancelfd int) (int, error) {
	done := 0
	for done < len(p) {
		if !e.nonblock && e.pipe && cancelfd >= 0 {
			if err := waitFd(e.fd, unix.POLLOUT, cancelfd); err != nil {
				return done, err
			}
		}
		n, err := unix.Write(e.fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := waitFd(e.fd, unix.POLLOUT, cancelfd); err != nil {
				return done, err
			}
		case err != nil:
			return done, err
		}
	}
	return done, nil
}

// rawWriter adapts an endpoint to io.Writer for bufio.Writer.
type rawWriter struct {
	e      *endpoint
	cancel int
	n      int64
	live   *executor.Counts // counts into output 0; nil counts nothing
}

func (w *rawWriter) Write(p []byte) (int, error) {
	n, err := w.e.writeAll(p, w.cancel)
	w.n += int64(n)
	w.live.AddOut(0, int64(n))
	return n, err
}

// pipeMaxSize is the largest pipe an unprivileged process may ask for,
// capped at 1 MiB (larger pipes do not move data faster).
func pipeMaxSize() int {
	const limit = 1 << 20
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		return limit
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	if n <= 0 || n > limit {
		return limit
	}
	return n
}

// growPipe asks for a pipe of size bytes (F_SETPIPE_SZ) and returns the
// size it got. Failure (e.g. the per-user pipe quota) leaves the pipe as it
// was, which is still correct, only slower.
func growPipe(fd, size int) int {
	if cur, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && cur >= size {
		return cur
	}
	unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size)
	cur, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0
	}
	return cur
}

// closeAll closes every file and returns the first error.
func closeAll(fs ...*os.File) error {
	var first error
	for _, f := range fs {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && first == nil && !errors.Is(err, os.ErrClosed) {
			first = err
		}
	}
	return first
}
