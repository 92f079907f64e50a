package executor

import (
	"errors"
	"math"
	"strconv"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// What a stage's end means for the run and for the stages that run after
// it: which statuses count as success (graph.Node.OKExit), the stage's own
// failure policy (graph.Node.OnFailure), the outcome each `after` waits
// for (graph.Node.AfterOutcome), and retries (graph.Node.Retries); and
// finish and status, which ask these questions. Every scheduling rule
// lives here.

// Attempt is one earlier run of a stage that failed and was started again.
type Attempt struct {
	Pid        int
	Status     Status
	Signal     syscall.Signal
	TimedOut   bool
	Start, End time.Time
	Usage      *syscall.Rusage
}

// accepted says whether a finished process ended with a status its node
// counts as success: 0 or one of OKExit, or death by SIGPIPE where the
// graph ignores it (its reader finished first).
func (r *run) accepted(res *ProcResult) bool {
	switch {
	case res.Skipped:
		return res.NotNeeded || res.Cached
	case res.Pid == 0:
		return false // it could not start
	case res.Signal == syscall.SIGPIPE && r.p.Graph.IgnoreSIGPIPE:
		return true
	case res.Killed || res.TimedOut || res.Signal != 0:
		return false
	case res.Node.OKExit == nil:
		return res.Status == 0
	}
	for _, s := range res.Node.OKExit {
		if Status(s) == res.Status {
			return true
		}
	}
	return false
}

// policy is the failure policy of a node: its own, or the graph's.
func (r *run) policy(n *graph.Node) graph.Policy {
	if n.OnFailure != nil {
		return *n.OnFailure
	}
	return r.p.Graph.OnFailure
}

// ignored says whether a process's failure is to be counted as success.
func (r *run) ignored(res *ProcResult) bool {
	return r.policy(res.Node) == graph.Ignore && !res.NotNeeded
}

// runStatus is what a finished process adds to the run's status: its own,
// or 0 when that is a success by its node's rules.
func (r *run) runStatus(res *ProcResult) Status {
	if r.accepted(res) || r.ignored(res) {
		return 0
	}
	return effective(res)
}

// verdict is what to do with a stage that waits on others.
type verdict int

const (
	waitMore     verdict = iota
	startIt              // every stage it waits on ended as it needs
	skipFailed           // a stage whose success it needs did not succeed
	skipUnneeded         // it runs only on an outcome that did not happen
)

// decide looks at the stages Plan.Procs[j] waits on. A needed success
// that did not happen skips it at once (a failure of the run); an
// outcome it does not run on skips it quietly once all have ended.
func (r *run) decide(j int) verdict {
	pr := r.p.Procs[j]
	all, unneeded := true, false
	for _, d := range pr.After {
		if !r.done[d] {
			all = false
			continue
		}
		dep := r.res.Procs[d]
		want := pr.Node.AfterOutcome[dep.Node.ID]
		success := r.accepted(dep) && !dep.NotNeeded
		switch {
		case want == graph.Any:
		case dep.NotNeeded:
			unneeded = true
		case want == graph.Success && !success && !r.ignored(dep):
			return skipFailed
		case want == graph.Failure && success:
			unneeded = true
		}
	}
	switch {
	case !all:
		return waitMore
	case unneeded:
		return skipUnneeded
	}
	return startIt
}

// maxRetryDelay bounds one wait between attempts, whatever the backoff.
const maxRetryDelay = time.Hour

// retry starts Plan.Procs[i] again after its delay when it failed on its
// own terms and has attempts left; the failed run is kept in Attempts.
// It reports whether the stage will run again (it is then not finished).
func (r *run) retry(i int) bool {
	r.mu.Lock()
	res := r.res.Procs[i]
	n := res.Node
	if n.Retries == 0 || len(res.Attempts) >= n.Retries || r.killing || res.Pid == 0 || res.Skipped || r.accepted(res) || !r.isFailure(res) {
		r.mu.Unlock()
		return false
	}
	if len(procEnds(r.p.Procs[i])) > 0 {
		// Validation refuses retries on a stage with pipes: their ends
		// are gone once it started, and cannot be handed out again.
		r.mu.Unlock()
		return false
	}
	// The next start opens the stage's files again (truncating what it
	// writes) and releases them again once the child has them.
	r.released[i] = false
	res.Attempts = append(res.Attempts, Attempt{
		Pid: res.Pid, Status: res.Status, Signal: res.Signal, TimedOut: res.TimedOut,
		Start: res.Start, End: res.End, Usage: res.Usage,
	})
	k := len(res.Attempts)
	delay := retryDelay(n, k)
	was := describe(res)
	*res = ProcResult{Node: res.Node, Argv: res.Argv, Attempts: res.Attempts}
	// The next attempt opens its files again, and closes them once
	// started. (A retried stage has no pipe: check refuses it.)
	r.released[i] = false
	r.mu.Unlock()
	r.errorf("%s: attempt %d of %d failed (%s); retrying in %s", n.ID, k, n.Retries+1, was, delay)
	r.trace("retry", n.ID, 0, "attempt %d failed (%s); next in %s", k, was, delay)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		// Wait out the delay, unless the run is ended meanwhile: the
		// start then finds it ending and skips the stage.
		deadline := time.Now().Add(delay)
		for {
			r.mu.Lock()
			ending := r.killing
			r.mu.Unlock()
			left := time.Until(deadline)
			if ending || left <= 0 {
				break
			}
			time.Sleep(min(left, 20*time.Millisecond))
		}
		r.startAll([]int{i})
	}()
	return true
}

// retryDelay is the wait before attempt k+1: RetryDelay, times Backoff
// for each attempt after the first, at most maxRetryDelay.
func retryDelay(n *graph.Node, k int) time.Duration {
	d := float64(n.RetryDelay)
	if n.Backoff > 1 {
		d *= math.Pow(n.Backoff, float64(k-1))
	}
	if d > float64(maxRetryDelay) {
		return maxRetryDelay
	}
	return time.Duration(d)
}

// endByPolicy ends the run because a kill-rest stage failed.
func (r *run) endByPolicy() {
	r.mu.Lock()
	r.policyEnd = true
	r.mu.Unlock()
	r.killAll("failure policy kill-rest")
}

// runsWhileEnding says whether a stage may start although the run is
// being ended: one that waits for another's failure (or any outcome) is
// how cleanup and alerts are written, and an end by kill-rest is when
// they are needed. An end by a signal, a cancel or the run's timeout
// starts nothing more. Called with r.mu held.
func (r *run) runsWhileEnding(pr *plan.Proc) bool {
	if !r.policyEnd {
		return false
	}
	for _, o := range pr.Node.AfterOutcome {
		if o != graph.Success {
			return true
		}
	}
	return false
}

// lateStart handles a process that started while the run was being
// ended. A cleanup stage (runsWhileEnding) is kept out of the end's
// SIGKILL. Any other one began its fork before the end and got past the
// check: the end's SIGTERM went out before its group existed, so it gets
// its own now, and counts as ended by tubo. Called with r.mu held.
func (r *run) lateStart(pr *plan.Proc, res *ProcResult, pgid int) {
	if !r.killing {
		return
	}
	if r.runsWhileEnding(pr) {
		if r.spared == nil {
			r.spared = map[int]bool{}
		}
		r.spared[pgid] = true
		return
	}
	res.Killed = true
	signalGroup(pgid, syscall.SIGTERM)
	r.trace("signal", pr.Node.ID, res.Pid, "started as the run was ending: SIGTERM")
}

// attemptEnv tells a stage that may be retried which attempt this is, as
// TUBO_ATTEMPT=1, 2, …, so that it can change its approach (a longer
// timeout, another mirror), as Nextflow's task.attempt allows.
func (r *run) attemptEnv(i int, env []string) []string {
	if r.p.Procs[i].Node.Retries == 0 {
		return env
	}
	r.mu.Lock()
	k := len(r.res.Procs[i].Attempts) + 1
	r.mu.Unlock()
	return mergeEnv(env, []string{"TUBO_ATTEMPT=" + strconv.Itoa(k)})
}

// finish records that Plan.Procs[i] is over, applies the failure policy,
// and starts or skips the processes that were waiting on it.
func (r *run) finish(i int) {
	if r.retry(i) {
		return
	}
	r.mu.Lock()
	res := r.res.Procs[i]
	r.done[i] = true
	res.OK = r.accepted(res) || r.ignored(res)
	failed := r.isFailure(res)
	first := failed && r.res.Failed == nil && !r.killing
	if first {
		r.res.Failed = res
	}
	killRest := first && r.policy(res.Node) == graph.KillRest && len(r.p.Procs) > 1
	var ready, skip, unneeded []int
	for _, j := range r.waiters {
		if r.claimed[j] {
			continue
		}
		switch r.decide(j) {
		case skipFailed:
			skip = append(skip, j)
		case skipUnneeded:
			unneeded = append(unneeded, j)
		case startIt:
			ready = append(ready, j)
		}
	}
	// Claimed under the lock, so that two stages finishing at once cannot
	// both start (or skip) the one that waited on them.
	for _, j := range append(append(ready, skip...), unneeded...) {
		r.claimed[j] = true
	}
	for _, j := range skip {
		r.res.Procs[j].Skipped = true
		r.res.Procs[j].Status = StatusFailure
	}
	for _, j := range unneeded {
		r.res.Procs[j].Skipped = true
		r.res.Procs[j].NotNeeded = true
	}
	r.nleft--
	r.mu.Unlock()

	for _, j := range skip {
		r.errorf("%s: not started: a stage it runs after failed", r.p.Procs[j].Node.ID)
		r.release(j)
		r.finish(j)
	}
	for _, j := range unneeded {
		r.trace("skip", r.p.Procs[j].Node.ID, 0, "not needed: it runs after an outcome that did not happen")
		r.release(j)
		r.finish(j)
	}
	if killRest {
		r.errorf("%s failed (%s); ending the other stages", res.Node.ID, describe(res))
		r.endByPolicy()
	}
	if next := r.passTurn(i); next >= 0 {
		ready = append(ready, next)
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
	// with (unless its failures are ignored); one ended because of
	// another's failure (or a cancel) did not.
	if res.TimedOut {
		return !r.ignored(res)
	}
	if res.Killed || res.Skipped {
		return false
	}
	return !r.accepted(res) && !r.ignored(res)
}

// status computes the run's status from its processes, as sh does for a
// pipeline: the last one's, or with pipefail the last non-zero one.
func (r *run) status() Status {
	if r.canceled && r.res.Signal != 0 {
		// A signal ended the run (tubo caught it, forwarded it, and was
		// canceled): the run's status is 128+N, as tubo's own will be,
		// whatever the stages died of (a stage skipped as the run ended
		// says 143).
		return SignalStatus(r.res.Signal)
	}
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
	if f := r.res.Failed; f != nil && r.policy(f.Node) == graph.KillRest {
		return effective(f)
	}
	var st Status
	procs := r.res.Procs
	if len(procs) > 0 {
		st = r.runStatus(procs[len(procs)-1])
	}
	if r.p.Graph.Pipefail {
		st = 0
		for _, pr := range procs {
			// A stage skipped because a stage it needed failed (status 1)
			// adds nothing: the run's status is that failure's. One
			// skipped because the run was ending keeps its 128+SIGTERM.
			if s := r.runStatus(pr); s != 0 && !(pr.Skipped && s == StatusFailure) {
				st = s
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

// cached finishes Plan.Procs[i] without starting it when it is up to date
// (graph.Node.Cached, decided by package cache): it is skipped, counts as
// a success, and what runs after it starts.
func (r *run) cached(i int) bool {
	if !r.p.Procs[i].Node.Cached {
		return false
	}
	r.mu.Lock()
	res := r.res.Procs[i]
	res.Skipped, res.Cached = true, true
	r.mu.Unlock()
	r.trace("skip", res.Node.ID, 0, "cached: its outputs are up to date")
	r.release(i)
	r.finish(i)
	return true
}
