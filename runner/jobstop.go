package runner

import (
	"fmt"
	"os"
	"syscall"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"

	"time"
)

// Job control at tubo's own prompt: ^Z stops the foreground line's
// stages (the terminal sends SIGTSTP to their group); the executor learns
// it from SIGCHLD and calls Options.Suspend, which here hands the run to
// the shell as a stopped job and waits until fg or bg says how it goes
// on. The shell takes the terminal back and prompts again.

// stopper is the meeting point between a foreground run's Suspend (on the
// executor's goroutine) and the shell.
type stopper struct {
	stopped chan struct{}
	resume  chan bool // true: fg, false: bg (or the shell's end)
	// signals is the run's Options.Signals for its whole life: each line
	// that has the run in the foreground relays its own caught signals
	// into it (relay), since the prompt catches signals line by line.
	signals chan os.Signal
}

func newStopper() *stopper {
	return &stopper{stopped: make(chan struct{}, 1), resume: make(chan bool), signals: make(chan os.Signal, 16)}
}

// relay passes the current line's caught signals (SIGCHLD for a ^Z, a
// SIGINT) to a run at the prompt, until the line or the run ends.
func (r *Runner) relay(sp *stopper, h *executor.Handle) {
	from, line := r.cfg.Signals, r.ctx
	if from == nil || line == nil {
		return
	}
	go func() {
		for {
			select {
			case s := <-from:
				select {
				case sp.signals <- s:
				default:
				}
			case <-line.Done():
				return
			case <-h.Done():
				return
			}
		}
	}()
}

// suspend is executor.Options.Suspend for a line run at the prompt.
func (s *stopper) suspend() bool {
	s.stopped <- struct{}{}
	return <-s.resume
}

// stopSignal is the status of a line stopped by ^Z: 128+SIGTSTP, as sh.
const stopSignal = 128 + int(syscall.SIGTSTP)

// stoppedJob makes a foreground run stopped by ^Z a job of the shell.
func (r *Runner) stoppedJob(g *graph.Graph, p *plan.Plan, h *executor.Handle, start time.Time, sp *stopper, text string) int {
	j := &job{id: r.jobs.newID(), h: h, g: g, p: p, start: start, text: text, stop: sp}
	for _, ps := range h.Procs() {
		if ps.Pid != 0 {
			j.pids = append(j.pids, ps.Pid)
			if j.pgid == 0 {
				j.pgid = ps.Pgid
			}
		}
	}
	r.jobs.list = append(r.jobs.list, j)
	return r.jobStopped(j)
}

// jobStopped reports a job that ^Z stopped and gives the prompt the
// terminal again.
func (r *Runner) jobStopped(j *job) int {
	j.stopped = true
	if r.cfg.TTY != nil {
		executor.ReclaimTerminal(r.cfg.TTY)
	}
	fmt.Fprintf(r.stderr(), "\n[%d]+  %-22s %s\n", j.id, "Stopped", j.text)
	return stopSignal
}

// cont continues a job: in the foreground (fg: the executor gives it the
// terminal) or in the background (bg).
func (j *job) cont(fg bool) {
	if j.stop != nil && j.stopped {
		j.stopped = false
		j.stop.resume <- fg
		return
	}
	j.h.Signal(syscall.SIGCONT)
}

// waitFG waits for a job brought to the foreground, until it ends or ^Z
// stops it again.
func (r *Runner) waitFG(j *job) (int, bool) {
	if j.stop == nil {
		return r.waitJob(j)
	}
	r.relay(j.stop, j.h)
	select {
	case <-j.h.Done():
		return j.status(), true
	case <-j.stop.stopped:
		return r.jobStopped(j), false
	}
}
