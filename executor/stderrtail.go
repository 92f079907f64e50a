package executor

import (
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// stderrTail keeps the last lines a process wrote to its stderr, for the
// report (Options.StderrTail). The process gets the write end of a pipe
// instead of tubo's stderr, and tubo copies everything that comes to its
// own stderr as it comes: what the user sees is unchanged, except that the
// process's stderr is a pipe and no longer the terminal.
type stderrTail struct {
	w    *os.File // the child's end; tubo closes its copy once the child has it
	max  int
	mu   sync.Mutex
	buf  []byte // the last max bytes written
	cut  bool   // bytes before buf were dropped
	done chan struct{}
}

// newStderrTail makes the pipe and starts copying from it to out.
func newStderrTail(out io.Writer, max int) (*stderrTail, error) {
	// os.Pipe opens both ends with O_CLOEXEC.
	rd, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	t := &stderrTail{w: w, max: max, done: make(chan struct{})}
	go t.copy(rd, out)
	return t, nil
}

func (t *stderrTail) copy(rd *os.File, out io.Writer) {
	defer close(t.done)
	defer rd.Close()
	if tw, ok := out.(*tagWriter); ok {
		// Only a tagWriter is closed (its last line); out is otherwise
		// tubo's own stderr, which must stay open.
		defer tw.Close()
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			out.Write(buf[:n])
			t.keep(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (t *stderrTail) keep(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
}

// text is the tail once the process has exited: it waits up to wait for
// the pipe's end (a background child may keep it open, and is not waited
// for), then gives the last whole lines kept.
func (t *stderrTail) text(wait time.Duration) string {
	select {
	case <-t.done:
	case <-time.After(wait):
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if t.cut {
		// The first line kept is the end of a longer one: drop it.
		if i := strings.IndexByte(s, '\n'); i >= 0 && i+1 < len(s) {
			s = s[i+1:]
		}
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}
