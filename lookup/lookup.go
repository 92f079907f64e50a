// Package lookup finds the program a command names, as sh does, for the
// executor (at start) and the YAML loader (at check time, so a missing
// program is an error before anything starts). A Cache remembers answers
// and checks them again cheaply, so a loop that starts the same program a
// thousand times does not search PATH a thousand times, yet a PATH change,
// a program that appears earlier on PATH, or one that is removed or made
// non-executable is seen at once.
package lookup

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Error says why a command's program was not found or cannot run.
type Error struct {
	Name string // the command as the user wrote it
	// Err is fs.ErrNotExist when nothing was found; otherwise the errno of
	// the best candidate (EACCES, EISDIR, …).
	Err error
}

func (e *Error) Error() string { return Message(e.Name, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// NotFound reports whether nothing was found (sh status 127); false means a
// file was found that cannot be executed (126).
func (e *Error) NotFound() bool { return errors.Is(e.Err, fs.ErrNotExist) }

// Message words a failure to run name as sh does: "x: command not found"
// for a name searched on PATH, "./x: No such file or directory" for a path,
// "x: Permission denied" for the rest.
func Message(name string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist) && !strings.Contains(name, "/"):
		return name + ": command not found"
	case errors.Is(err, fs.ErrNotExist):
		return name + ": No such file or directory"
	}
	return name + ": " + ErrText(err)
}

// ErrText gives the C library's wording of an errno, as sh prints it
// ("Permission denied", not Go's "permission denied").
func ErrText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// Program finds the program a command names, as sh does: a name with a
// slash is taken as a path (relative to dir); any other is searched on
// path (a PATH value), where an empty entry means the current directory. A
// relative result stays relative: the child runs in dir. The error is an
// *Error.
func Program(name, path, dir string) (string, error) {
	found, _, err := search(name, path, dir, false)
	return found, err
}

// search is Program; with stamp it also returns what a Cache needs to
// check the answer later.
func search(name, path, dir string, stamp bool) (string, []mark, error) {
	if name == "" {
		return "", nil, &Error{Name: name, Err: fs.ErrNotExist}
	}
	var marks []mark
	if strings.Contains(name, "/") {
		full := name
		if !filepath.IsAbs(full) && dir != "" {
			full = filepath.Join(dir, full)
		}
		m, err := executable(full)
		if stamp {
			marks = append(marks, m)
		}
		if err != nil {
			return "", marks, &Error{Name: name, Err: err}
		}
		return name, marks, nil
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
		if stamp {
			// A program that appears in this directory later changes
			// the directory's mtime: the cached answer is then stale.
			m, _ := stat(filepath.Dir(full))
			marks = append(marks, m)
		}
		m, err := executable(full)
		if err == nil {
			if stamp {
				marks = append(marks, m)
			}
			if !filepath.IsAbs(d) {
				return filepath.Join(d, name), marks, nil
			}
			return full, marks, nil
		}
		if denied == nil && !errors.Is(err, fs.ErrNotExist) {
			denied = err
			if stamp {
				marks = append(marks, m)
			}
		}
	}
	if denied != nil {
		return "", marks, &Error{Name: name, Err: denied}
	}
	return "", marks, &Error{Name: name, Err: fs.ErrNotExist}
}

// mark is what a path looked like when an answer was computed: the answer
// holds as long as every mark still matches.
type mark struct {
	path string
	ok   bool // the path existed
	ino  uint64
	dev  uint64
	mode uint32
	uid  uint32
	gid  uint32
	mtim unix.Timespec
	ctim unix.Timespec
}

func stat(path string) (mark, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return mark{path: path}, err
	}
	return mark{path: path, ok: true, ino: st.Ino, dev: st.Dev, mode: st.Mode, uid: st.Uid, gid: st.Gid, mtim: st.Mtim, ctim: st.Ctim}, nil
}

// executable checks that path is a file this process may execute, as
// execve would: it exists, is not a directory, and access(X_OK) allows it
// (for root: some execute bit is set).
func executable(path string) (mark, error) {
	m, err := stat(path)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return m, fs.ErrNotExist
	case err != nil:
		return m, err
	case m.mode&unix.S_IFMT == unix.S_IFDIR:
		return m, syscall.EISDIR
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return m, err
	}
	return m, nil
}
