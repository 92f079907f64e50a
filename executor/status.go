package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Status is an exit status as a POSIX shell reports it: 0–125 from the
// program, 126 not executable, 127 not found, 128+N killed by signal N.
type Status int

const (
	StatusOK            Status = 0
	StatusFailure       Status = 1
	StatusUsage         Status = 2 // bad input: nothing was started
	StatusNotExecutable Status = 126
	StatusNotFound      Status = 127
	StatusSignalBase    Status = 128
)

// SignalStatus is the status of a process killed by sig.
func SignalStatus(sig syscall.Signal) Status { return StatusSignalBase + Status(sig) }

// ExitError is an error that carries the exit status tubo should end with.
type ExitError struct {
	Status Status
	Err    error // nil when the status speaks for itself
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Status)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the status to exit with.
func (e *ExitError) ExitCode() int { return int(e.Status) }

// StartError says why a process could not be started, with the status a
// shell would give it.
type StartError struct {
	Name   string // the command as the user wrote it
	Status Status
	Err    error
}

func (e *StartError) Error() string {
	switch {
	case e.Status == StatusNotFound && errors.Is(e.Err, fs.ErrNotExist) && !strings.Contains(e.Name, "/"):
		return e.Name + ": command not found"
	case errors.Is(e.Err, fs.ErrNotExist):
		return e.Name + ": No such file or directory"
	}
	return e.Name + ": " + errText(e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// errText gives the C library's wording of an errno, as sh prints it.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// LookPath finds the program a command names, as sh does: a name with a
// slash is taken as a path (relative to dir); any other is searched on
// path, where an empty entry means the current directory. A found file that
// is not executable is reported with status 126, nothing found with 127.
func LookPath(name, path, dir string) (string, error) {
	if name == "" {
		return "", &StartError{Name: name, Status: StatusNotFound, Err: fs.ErrNotExist}
	}
	if strings.Contains(name, "/") {
		full := name
		if !filepath.IsAbs(full) && dir != "" {
			full = filepath.Join(dir, full)
		}
		if err := checkExecutable(full); err != nil {
			st := StatusNotExecutable
			if errors.Is(err, fs.ErrNotExist) {
				st = StatusNotFound
			}
			return "", &StartError{Name: name, Status: st, Err: err}
		}
		return name, nil
	}
	var denied error
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		full := filepath.Join(d, name)
		if !filepath.IsAbs(full) && dir != "" {
			full = filepath.Join(dir, full)
		}
		err := checkExecutable(full)
		if err == nil {
			if !filepath.IsAbs(d) {
				// Keep a relative entry relative: the child runs in dir.
				return filepath.Join(d, name), nil
			}
			return full, nil
		}
		if denied == nil && !errors.Is(err, fs.ErrNotExist) {
			denied = err
		}
	}
	if denied != nil {
		return "", &StartError{Name: name, Status: StatusNotExecutable, Err: denied}
	}
	return "", &StartError{Name: name, Status: StatusNotFound, Err: fs.ErrNotExist}
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	if fi.IsDir() {
		return syscall.EISDIR
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return err
	}
	return nil
}
