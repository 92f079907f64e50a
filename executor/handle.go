package executor

import (
	"errors"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
)

// Handle is a run that Start started: a shell's background job (`cmd &`,
// `wait`, `$!`, `kill %1`), or a run that a live view watches.
type Handle struct {
	r    *run
	done chan struct{} // closed when the run is over and cleaned up
}

// ErrFinished is returned by Signal when the run is already over.
var ErrFinished = errors.New("executor: the run has finished")

// Wait waits until every process of the run has finished and been reaped,
// and tubo's pipes, files and FIFOs are cleaned up, and returns the
// result. It may be called any number of times, from any goroutine.
func (h *Handle) Wait() (*Result, error) {
	<-h.done
	return h.r.res, nil
}

// Done is closed when the run is over (Wait then returns at once).
func (h *Handle) Done() <-chan struct{} { return h.done }

// Pgid is the run's shared process group (a shell line's job), once its
// first process has started; 0 for a plan with OwnGroups or before any
// process started. A process of a shell-line run that could not join the
// group (its members had all exited) leads a group of its own; Procs
// shows each process's group.
func (h *Handle) Pgid() int {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	return h.r.pgid
}

// Signal sends sig to every live process group of the run, as the
// executor forwards a signal tubo caught; it does not end the run by
// itself (the processes do what the signal makes them do).
func (h *Handle) Signal(sig syscall.Signal) error {
	select {
	case <-h.done:
		return ErrFinished
	default:
	}
	h.r.signalAll(sig)
	return nil
}

// State says where a process is in its life.
type State int

const (
	Waiting State = iota // not started yet (it runs after others, or is being started)
	Running              // started, not reaped yet
	Exited               // reaped: Status says how it ended
	NotRun               // never ran: it could not start, or was skipped
)

func (s State) String() string {
	return [...]string{"waiting", "running", "exited", "not run"}[s]
}

// ProcState is one process as a live view sees it.
type ProcState struct {
	Node       *graph.Node
	State      State
	Pid, Pgid  int       // 0 until started
	Start, End time.Time // zero until started / reaped
	Status     Status    // meaningful once Exited or NotRun
	Signal     syscall.Signal
}

// Procs returns the state of every planned process, in plan order, taken
// at one moment under the run's lock. It is cheap enough to call many
// times a second.
func (h *Handle) Procs() []ProcState {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ProcState, len(r.res.Procs))
	for i, pr := range r.res.Procs {
		st := Waiting
		switch {
		case pr.Pid != 0 && !pr.End.IsZero():
			st = Exited
		case pr.Pid != 0:
			st = Running
		case r.done[i]:
			st = NotRun
		}
		out[i] = ProcState{
			Node: pr.Node, State: st,
			Pid: pr.Pid, Pgid: pr.Pgid,
			Start: pr.Start, End: pr.End,
			Status: pr.Status, Signal: pr.Signal,
		}
	}
	return out
}
