package executor

import (
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
// for (graph.Node.AfterOutcome), and retries (graph.Node.Retries). The
// finish and status logic of reap.go asks these questions; the answers
// live here.

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
		return res.NotNeeded
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
		r.start(i)
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
