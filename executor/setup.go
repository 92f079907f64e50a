package executor

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// setup creates the private directory, the FIFOs and the pipes. Nothing is
// started yet, so a failure here leaves nothing behind.
func (r *run) setup() error {
	if r.p.TempDir != "" {
		// Mkdir, not MkdirAll: the directory must be new, so no one else
		// can have planted a FIFO or symlink in it.
		if err := os.Mkdir(r.p.TempDir, 0o700); err != nil {
			return fmt.Errorf("creating private FIFO directory: %w", err)
		}
		r.tmpDir = r.p.TempDir
		guard.watchPath(r.tmpDir, true)
	}
	for _, f := range r.p.FIFOs {
		if err := r.mkfifo(f); err != nil {
			return err
		}
	}
	budget := pipeBudget()
	for i, pp := range r.p.Pipes {
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return fmt.Errorf("pipe: %w", err)
		}
		r.pipes[i] = [2]*os.File{os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")}
		r.trace("pipe", "", 0, "pipe2(O_CLOEXEC) = [%d %d]  %s", fds[0], fds[1], pp.Why)
		if size := min(pp.Size, pipeMaxSize()); size > 0 && size <= budget {
			// Best effort: a pipe that keeps the kernel's 64 KiB works.
			if got, err := unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, size); err == nil {
				budget -= got
				r.trace("pipe", "", 0, "fcntl(%d, F_SETPIPE_SZ, %d) = %d", fds[1], size, got)
			}
		}
	}
	// An end that no process holds after its redirections (`echo hi
	// >/dev/null | wc -l`) must not stay open in tubo: the reader would
	// never see EOF, the writer never get SIGPIPE.
	for i := range r.p.Pipes {
		for end := range 2 {
			if r.holders[i][end] == 0 && r.pipes[i][end] != nil {
				r.trace("close", "", 0, "close(%d)  no stage holds it: %s", r.pipes[i][end].Fd(), r.p.Pipes[i].Why)
				closeFile(&r.pipes[i][end])
			}
		}
	}
	for i, pp := range r.p.Pipes {
		if pp.Data != nil {
			r.feed(i, pp.Data)
		}
	}
	return nil
}

func (r *run) mkfifo(f plan.FIFO) error {
	st, err := os.Lstat(f.Path)
	switch {
	case err == nil && st.Mode()&os.ModeNamedPipe != 0:
		// An existing FIFO at a path the pipeline named is used as is.
		r.trace("mkfifo", f.Node.ID, 0, "%s exists, used as is", f.Path)
		return nil
	case err == nil:
		return fmt.Errorf("%s: fifo %s: %s exists and is not a FIFO; remove it or choose another path", f.Node.Pos, f.Node.ID, f.Path)
	}
	if err := unix.Mkfifo(f.Path, 0o600); err != nil {
		return fmt.Errorf("%s: fifo %s: mkfifo %s: %w", f.Node.Pos, f.Node.ID, f.Path, err)
	}
	r.made = append(r.made, f.Path)
	if f.Remove && !r.inTmpDir(f.Path) {
		guard.watchPath(f.Path, true)
	}
	r.trace("mkfifo", f.Node.ID, 0, "mkfifo(%s, 0600)", f.Path)
	return nil
}

// feed writes a here-document into its pipe. A body that fits in the pipe
// is written at once; a larger one by a goroutine, so a reader that stops
// early (EPIPE) just ends the feeding.
func (r *run) feed(i int, data []byte) {
	w, err := r.takeEnd(i, 1)
	if err != nil {
		return
	}
	fd := w.Fd()
	to := r.p.Label(r.p.Pipes[i].To)
	if len(data) <= 4096 {
		n, _ := w.Write(data)
		w.Close()
		r.trace("write", "", 0, "write(%d, …, %d) = %d, close(%d)  here-document → %s", fd, len(data), n, fd, to)
		return
	}
	go func() {
		n, _ := w.Write(data)
		w.Close()
		r.trace("write", "", 0, "write(%d, …, %d) = %d, close(%d)  here-document → %s", fd, len(data), n, fd, to)
	}()
}

// inTmpDir reports whether path lies in the run's private directory, which
// is removed (and watched by the guardian) as a whole.
func (r *run) inTmpDir(path string) bool {
	return r.tmpDir != "" && strings.HasPrefix(path, r.tmpDir+string(filepath.Separator))
}

// cleanup closes whatever tubo still holds and removes the FIFOs it made.
func (r *run) cleanup() {
	for i := range r.pipes {
		closeFile(&r.pipes[i][0])
		closeFile(&r.pipes[i][1])
	}
	for i := range r.files {
		closeFile(&r.files[i])
	}
	for _, f := range r.p.FIFOs {
		// Only what tubo made is removed: a FIFO that already existed at
		// a path the pipeline named stays.
		if f.Remove && slices.Contains(r.made, f.Path) {
			if err := os.Remove(f.Path); err == nil {
				r.trace("rmfifo", f.Node.ID, 0, "unlink(%s)", f.Path)
				if !r.inTmpDir(f.Path) {
					guard.watchPath(f.Path, false)
				}
			}
		}
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
		guard.watchPath(r.tmpDir, false)
	}
}

// pipeMaxSize is the largest pipe buffer an unprivileged process may ask
// for (/proc/sys/fs/pipe-max-size); F_SETPIPE_SZ fails above it.
var pipeMaxSize = sync.OnceValue(func() int {
	return readProcInt("/proc/sys/fs/pipe-max-size", 1<<20)
})

// pipeBudget is how many bytes of pipe buffer one run may ask for. Past
// pipe-user-pages-soft (64 MiB by default) the kernel gives an
// unprivileged user's new pipes 2 pages only, which would cripple a big
// graph; tubo stays within half of it. Root is not limited.
func pipeBudget() int {
	if os.Geteuid() == 0 {
		return math.MaxInt
	}
	pages := readProcInt("/proc/sys/fs/pipe-user-pages-soft", 16384)
	if pages == 0 {
		return math.MaxInt
	}
	return pages * os.Getpagesize() / 2
}

func readProcInt(path string, def int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return def
	}
	return n
}
