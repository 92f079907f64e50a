package executor

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/tubo-pipes/tubo/lookup"
)

// Status is an exit status as a POSIX shell reports it: 0–125 from the
// program, 126 not executable, 127 not found, 128+N killed by signal N.
type Status int

const (
	StatusOK      Status = 0
	StatusFailure Status = 1
	StatusUsage   Status = 2 // bad input: nothing was started
	// StatusTimedOut (as timeout(1)) is a run's status when a timeout
	// ended it and the processes' own statuses would say 0: a stage that
	// exits 0 on tubo's SIGTERM has still failed.
	StatusTimedOut      Status = 124
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
	Name   string // the command as the user wrote it; the stage's name when Resource
	Status Status
	Err    error
	// Resource is set when the system ran out of something (processes,
	// descriptors, memory): the stage is not at fault, and the run ends.
	Resource bool
}

func (e *StartError) Error() string {
	if e.Resource {
		return "cannot start stage " + e.Name + ": " + e.Err.Error()
	}
	return lookup.Message(e.Name, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// errText gives the C library's wording of an errno, as sh prints it.
func errText(err error) string { return lookup.ErrText(err) }

// programs caches program lookups for every run of this process.
var programs lookup.Cache

// LookPath finds the program a command names, as sh does (see
// lookup.Program); the error is a *StartError with status 126 or 127.
func LookPath(name, path, dir string) (string, error) {
	found, err := programs.Program(name, path, dir)
	if err != nil {
		var le *lookup.Error
		if errors.As(err, &le) {
			st := StatusNotExecutable
			if le.NotFound() {
				st = StatusNotFound
			}
			return "", &StartError{Name: name, Status: st, Err: le.Err}
		}
		return "", err
	}
	return found, nil
}
