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
	"syscall"

	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// setup creates the private directory and the FIFOs (pipes are made as
// their holders start, see pipes.go). Nothing is started yet, so a
// failure here leaves nothing behind.
func (r *run) setup() error {
	guard.ready()
	if r.p.TempDir != "" {
		// Listed with the guardian before it exists: a SIGKILL of tubo
		// right after the mkdir must not leave it behind.
		guard.watchPath(r.p.TempDir, true)
		// Mkdir, not MkdirAll: the directory must be new, so no one else
		// can have planted a FIFO or symlink in it.
		if err := os.Mkdir(r.p.TempDir, 0o700); err != nil {
			guard.watchPath(r.p.TempDir, false)
			return fmt.Errorf("creating private FIFO directory: %w", err)
		}
		r.tmpDir = r.p.TempDir
	}
	for _, f := range r.p.FIFOs {
		if err := r.mkfifo(f); err != nil {
			return err
		}
	}
	r.pipeBudget = pipeBudget()
	return nil
}

func (r *run) mkfifo(f plan.FIFO) error {
	st, err := os.Lstat(f.Path)
	switch {
	case err == nil && st.Mode()&os.ModeNamedPipe != 0:
		// An existing FIFO at a path the pipeline named is used as is,
		// if it is one only its owner can use: one that another user
		// made, or that anyone may write, could be read or fed by a
		// stranger (a FIFO planted in /tmp at a guessable name).
		if err := fifoIsOurs(st); err != nil {
			return fmt.Errorf("%s: fifo %s: %s %v; remove it or choose another path", f.Node.Pos, f.Node.ID, f.Path, err)
		}
		r.trace("mkfifo", f.Node.ID, 0, "%s exists, used as is", f.Path)
		return nil
	case err == nil:
		return fmt.Errorf("%s: fifo %s: %s exists and is not a FIFO; remove it or choose another path", f.Node.Pos, f.Node.ID, f.Path)
	}
	if err := unix.Mkfifo(f.Path, 0o600); err != nil {
		return fmt.Errorf("%s: fifo %s: mkfifo %s: %w", f.Node.Pos, f.Node.ID, f.Path, err)
	}
	r.madeFIFOs = append(r.madeFIFOs, f.Path)
	if f.Remove && !r.inTmpDir(f.Path) {
		guard.watchPath(f.Path, true)
	}
	r.trace("mkfifo", f.Node.ID, 0, "mkfifo(%s, 0600)", f.Path)
	return nil
}

// fifoIsOurs refuses an existing FIFO that tubo's user does not own or
// that others may write (mode o+w).
func fifoIsOurs(st os.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(sys.Uid) != uid {
		return fmt.Errorf("exists but belongs to uid %d, not to you (uid %d)", sys.Uid, uid)
	}
	if st.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("exists but anyone may write it (mode %04o)", st.Mode().Perm())
	}
	return nil
}

// inTmpDir reports whether path lies in the run's private directory, which
// is removed (and watched by the guardian) as a whole.
func (r *run) inTmpDir(path string) bool {
	return r.tmpDir != "" && strings.HasPrefix(path, r.tmpDir+string(filepath.Separator))
}

// cleanup closes whatever tubo still holds and removes the FIFOs it made.
func (r *run) cleanup() {
	r.mu.Lock()
	if r.reaper != nil {
		r.reaper.close()
		r.reaper = nil
	}
	r.mu.Unlock()
	for i := range r.pipes {
		closeFD(&r.pipes[i][0])
		closeFD(&r.pipes[i][1])
	}
	for i := range r.files {
		closeFile(&r.files[i])
	}
	closeFile(&r.null)
	for _, f := range r.p.FIFOs {
		// Only what tubo made is removed: a FIFO that already existed at
		// a path the pipeline named stays.
		if f.Remove && slices.Contains(r.madeFIFOs, f.Path) {
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
