package executor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"golang.org/x/sys/unix"
)

// reap waits for one child. It first waits without reaping (WNOWAIT) so
// that /proc/PID/io can still be read, then reaps through os.Process.Wait
// (a pidfd), which also returns the rusage.
func (r *run) reap(i int, proc *os.Process, pgid int, timer *time.Timer) {
	defer r.wg.Done()
	res := r.res.Procs[i]
	waitExited(proc.Pid)
	if timer != nil {
		timer.Stop()
	}
	var io ProcIO
	if !r.opt.SkipProcIO {
		io = readProcIO(proc.Pid)
	}
	st, err := proc.Wait()
	end := time.Now()
	remote := r.remoteEnd(i, st, err)
	r.mu.Lock()
	tail := r.tails[i]
	delete(r.tails, i)
	r.mu.Unlock()
	var tailText string
	if tail != nil {
		tailText = tail.text(time.Second)
	}
	r.mu.Lock()
	res.End = end
	res.IO = io
	res.StderrTail = tailText
	if err != nil {
		res.Err, res.Status = err, StatusFailure
	} else {
		ws := st.Sys().(syscall.WaitStatus)
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			res.Usage = ru
		}
		switch {
		case ws.Signaled():
			res.Signal = ws.Signal()
			res.Status = SignalStatus(ws.Signal())
		default:
			res.Status = Status(ws.ExitStatus())
		}
	}
	remote.apply(res)
	delete(r.live, proc.Pid)
	if r.groups[pgid]--; r.groups[pgid] <= 0 {
		// Every process tubo started in this group is reaped. Whatever is
		// left in it was left behind by a stage (`cmd &`) and could hold a
		// pipe open forever: it does not outlive the stage.
		signalGroup(pgid, syscall.SIGKILL)
		delete(r.groups, pgid)
		guard.watch(pgid, false)
	}
	r.mu.Unlock()
	if r.opt.Trace != nil {
		r.emit(Event{Time: end, Kind: "exit", Node: res.Node.ID, Pid: proc.Pid, Pgid: pgid, Detail: describe(res)})
	}
	r.finish(i)
}

// describe says how a process ended, e.g. "exit 0" or "killed by SIGPIPE".
func describe(res *ProcResult) string {
	if rr := res.Remote; rr != nil && rr.Lost {
		return rr.Host + ": connection lost"
	}
	how := fmt.Sprintf("exit %d", res.Status)
	if res.Signal != 0 {
		how = fmt.Sprintf("killed by %s (status %d)", unix.SignalName(res.Signal), res.Status)
	}
	if res.TimedOut {
		how = "timed out, " + how
	}
	return how
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
	for j, pr := range r.p.Procs {
		if r.claimed[j] || len(pr.After) == 0 {
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
		r.start(next)
	}
	for _, j := range ready {
		r.start(j)
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

func readProcIO(pid int) ProcIO {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return ProcIO{}
	}
	var io ProcIO
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			io.Rchar = n
		case "wchar":
			io.Wchar = n
		case "read_bytes":
			io.ReadBytes = n
		case "write_bytes":
			io.WriteBytes = n
		}
	}
	io.Valid = true
	return io
}
