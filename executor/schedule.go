package executor

import (
	"errors"
	"syscall"

	"github.com/tubo-pipes/tubo/graph"
)

// What happens when a process is over: the failure policy, the start (or
// skip) of the processes that run after it, and the run's status. Every
// scheduling rule lives here.

// finish records that Plan.Procs[i] is over, applies the failure policy,
// and starts or skips the processes that were waiting on it.
func (r *run) finish(i int) {
	r.mu.Lock()
	res := r.res.Procs[i]
	r.done[i] = true
	failed := r.isFailure(res)
	first := failed && r.res.Failed == nil && !r.killing
	if first {
		r.res.Failed = res
	}
	killRest := first && r.p.Graph.OnFailure == graph.KillRest && len(r.p.Procs) > 1
	var ready, skip []int
	for j, pr := range r.p.Procs {
		if r.claimed[j] || len(pr.After) == 0 {
			continue
		}
		ok, all := true, true
		for _, d := range pr.After {
			if !r.done[d] {
				all = false
			} else if r.res.Procs[d].Status != 0 {
				ok = false
			}
		}
		switch {
		case !ok:
			skip = append(skip, j)
		case all:
			ready = append(ready, j)
		}
	}
	// Claimed under the lock, so that two stages finishing at once cannot
	// both start (or skip) the one that waited on them.
	for _, j := range append(ready, skip...) {
		r.claimed[j] = true
	}
	for _, j := range skip {
		r.res.Procs[j].Skipped = true
		r.res.Procs[j].Status = StatusFailure
	}
	r.nleft--
	r.mu.Unlock()

	for _, j := range skip {
		r.errorf("%s: not started: a stage it runs after failed", r.p.Procs[j].Node.ID)
		r.release(j)
		r.finish(j)
	}
	if killRest {
		r.errorf("%s failed (%s); ending the other stages", res.Node.ID, describe(res))
		r.killAll("failure policy kill-rest")
	}
	if len(ready) > 0 {
		// Not from here: finish may run on a spawner thread.
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.startAll(ready)
		}()
	}
	r.mu.Lock()
	if r.nleft == 0 {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	r.mu.Unlock()
}

// isFailure says whether a finished process counts as a failure of its own.
func (r *run) isFailure(res *ProcResult) bool {
	// A stage tubo ended for its own timeout failed, whatever it exited
	// with; one ended because of another's failure (or a cancel) did not.
	if res.TimedOut {
		return true
	}
	if res.Status == 0 || res.Killed || res.Skipped {
		return false
	}
	if res.Signal == syscall.SIGPIPE && r.p.Graph.IgnoreSIGPIPE {
		return false
	}
	return true
}

// status computes the run's status from its processes, as sh does for a
// pipeline: the last one's, or with pipefail the last non-zero one.
func (r *run) status() Status {
	st := r.procStatus()
	if st == 0 && r.res.TimedOut {
		// The run's own timeout ended it: never a success, even when
		// every stage exited 0 on SIGTERM.
		st = StatusTimedOut
	}
	return st
}

// effective is a process's status as the run counts it: a stage that
// timed out failed even if it exited 0 on tubo's SIGTERM.
func effective(pr *ProcResult) Status {
	if pr.TimedOut && pr.Status == 0 {
		return StatusTimedOut
	}
	return pr.Status
}

func (r *run) procStatus() Status {
	if f := r.fatalProc; f != nil {
		return f.Status
	}
	// Under kill-rest, the stages tubo ended died of its SIGTERM; the
	// run's status is that of the failure that ended them.
	if f := r.res.Failed; f != nil && r.p.Graph.OnFailure == graph.KillRest {
		return effective(f)
	}
	var st Status
	procs := r.res.Procs
	if len(procs) > 0 {
		st = effective(procs[len(procs)-1])
	}
	if r.p.Graph.Pipefail {
		st = 0
		for _, pr := range procs {
			if e := effective(pr); e != 0 && !(pr.Signal == syscall.SIGPIPE && r.p.Graph.IgnoreSIGPIPE) {
				st = e
			}
		}
	}
	if st == 0 {
		for _, b := range r.res.Builtins {
			switch {
			case b.Err == nil:
			case errors.Is(b.Err, syscall.EPIPE):
				if !r.p.Graph.IgnoreSIGPIPE {
					st = SignalStatus(syscall.SIGPIPE)
				}
			default:
				st = StatusFailure
			}
		}
	}
	return st
}
