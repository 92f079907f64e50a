package runner

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// job is a background job: a graph the executor started without waiting
// (`cmd &`). Its stages are reaped by the executor like any other; the
// shell remembers its status for wait, jobs and $!.
type job struct {
	id    int
	h     *executor.Handle
	g     *graph.Graph
	p     *plan.Plan
	start time.Time
	pids  []int
	pgid  int
	text  string
	// reported is set once the job's end was reported (jobs, wait, the
	// prompt); it is then forgotten.
	reported bool
	// stop is set for a line that ^Z stopped at the prompt (jobstop.go);
	// stopped says it is stopped now.
	stop    *stopper
	stopped bool
}

// status is the job's exit status, once it is done.
func (j *job) done() bool {
	select {
	case <-j.h.Done():
		return true
	default:
		return false
	}
}

func (j *job) status() int {
	res, _ := j.h.Wait()
	if res == nil {
		return 0
	}
	return int(res.Status)
}

// jobs is the shell's job table.
type jobs struct {
	list   []*job
	ctx    context.Context
	cancel context.CancelFunc
	// statuses of jobs already forgotten, by pid, for a late `wait PID`.
	statuses map[int]int
}

func newJobs() *jobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &jobs{ctx: ctx, cancel: cancel, statuses: map[int]int{}}
}

// newID numbers a new job as sh does: one more than the highest in the
// table, so numbers are used again once their jobs are gone.
func (js *jobs) newID() int {
	id := 0
	for _, j := range js.list {
		id = max(id, j.id)
	}
	return id + 1
}

// endAll ends every job still running: nothing outlives tubo.
func (js *jobs) endAll() {
	running := false
	for _, j := range js.list {
		if !j.done() {
			running = true
			if j.stop != nil {
				// A line stopped at the prompt runs in the shell's context,
				// not the jobs': end it by hand.
				j.h.Signal(syscall.SIGTERM)
			}
		}
	}
	if !running {
		return
	}
	js.cancel()
	for _, j := range js.list {
		if j.stopped {
			// Its run waits for fg or bg: let it go on, to be ended.
			j.cont(false)
		}
		j.h.Wait()
	}
}

// background runs `cmd &`: the command's graph is started and not waited
// for; $! is its last stage's pid.
func (r *Runner) background(s *syntax.Stmt) {
	cp := *s
	cp.Background = false
	var stages []stage
	if !cp.Negated {
		stages = flatten(&cp, 0, syntax.Pos{})
	} else {
		stages = []stage{{stmt: &cp}}
	}
	g, err := r.buildGraph(stages)
	if err != nil {
		r.status = r.expandFailed(err)
		return
	}
	if r.static {
		r.graphs = append(r.graphs, g)
		r.status = 0
		return
	}
	h, p, start, err := r.startGraph(g, true, true)
	if err != nil {
		r.errorf("%v", err)
		r.status = 1
		return
	}
	j := &job{id: r.jobs.newID(), h: h, g: g, p: p, start: start, text: printNode(&cp)}
	for _, ps := range h.Procs() {
		if ps.Pid != 0 {
			j.pids = append(j.pids, ps.Pid)
			if j.pgid == 0 {
				j.pgid = ps.Pgid
			}
		}
	}
	if n := len(j.pids); n > 0 {
		r.lastBg = j.pids[n-1]
	}
	r.jobs.list = append(r.jobs.list, j)
	r.setPipestatusList([]string{"0"})
	if r.interactive {
		fmt.Fprintf(r.stderr(), "[%d] %d\n", j.id, r.lastBg)
	}
	if r.cfg.AfterRun != nil {
		go func() {
			res, _ := h.Wait()
			r.cfg.AfterRun(g, p, res, start, time.Now())
		}()
	}
	r.status = 0
}

// waitForeground waits for a foreground run. A signal that ends the shell
// ends the run too: forwarded at once by the executor, then, if a stage
// outlives the grace period, the run is canceled.
func (r *Runner) waitForeground(h *executor.Handle) (*executor.Result, error) {
	hb := theHub.h
	if hb == nil || !r.cfg.CatchSignals {
		return h.Wait()
	}
	var deadline <-chan time.Time
	for {
		select {
		case <-h.Done():
			return h.Wait()
		case <-hb.wake:
			if s := hb.fatal.Load(); s != 0 && deadline == nil {
				h.Signal(syscall.Signal(s))
				grace := r.cfg.Grace
				if grace == 0 {
					grace = 2 * time.Second
				}
				deadline = time.After(grace)
			}
			// A trapped signal's trap runs after the job ends.
		case <-deadline:
			h.Signal(syscall.SIGKILL)
			deadline = nil
		}
	}
}

// findJob resolves a job spec: %N, %%, %+, %-, %string, or a pid.
func (r *Runner) findJob(spec string) (*job, int, bool) {
	if strings.HasPrefix(spec, "%") {
		s := spec[1:]
		cand := r.jobs.list
		if len(cand) == 0 {
			return nil, 0, false
		}
		switch {
		case s == "" || s == "%" || s == "+":
			return cand[len(cand)-1], 0, true
		case s == "-":
			if len(cand) < 2 {
				return cand[len(cand)-1], 0, true
			}
			return cand[len(cand)-2], 0, true
		}
		if n, err := strconv.Atoi(s); err == nil {
			for _, j := range cand {
				if j.id == n {
					return j, 0, true
				}
			}
			return nil, 0, false
		}
		for _, j := range cand {
			if strings.HasPrefix(j.text, s) || strings.HasPrefix(s, "?") && strings.Contains(j.text, s[1:]) {
				return j, 0, true
			}
		}
		return nil, 0, false
	}
	pid, err := strconv.Atoi(spec)
	if err != nil {
		return nil, 0, false
	}
	for _, j := range r.jobs.list {
		for _, p := range j.pids {
			if p == pid {
				return j, pid, true
			}
		}
	}
	return nil, pid, false
}

// forget drops finished jobs that were reported.
func (r *Runner) forget(j *job) {
	for i, x := range r.jobs.list {
		if x == j {
			if len(j.pids) > 0 {
				r.jobs.statuses[j.pids[len(j.pids)-1]] = j.status()
			}
			r.jobs.list = append(r.jobs.list[:i], r.jobs.list[i+1:]...)
			return
		}
	}
}

// waitJob waits for a job, interrupted by a trapped signal (POSIX: wait
// then returns 128+N, and the trap runs).
func (r *Runner) waitJob(j *job) (int, bool) {
	hb := theHub.h
	if hb == nil || !r.cfg.CatchSignals || r.virtual {
		return j.status(), true
	}
	for {
		select {
		case <-j.h.Done():
			return j.status(), true
		case <-hb.wake:
			if s := hb.fatal.Load(); s != 0 {
				return int(executor.SignalStatus(syscall.Signal(s))), false
			}
			for s := 1; s < 65; s++ {
				if hb.pending[s].Load() {
					return 128 + s, false
				}
			}
		}
	}
}

// reportDone prints the jobs that ended since the last prompt, for an
// interactive shell: "[1]+  Done  sleep 1".
func (r *Runner) reportDone(w io.Writer) {
	for _, j := range append([]*job(nil), r.jobs.list...) {
		if j.done() && !j.reported {
			st := j.status()
			word := "Done"
			if st != 0 {
				word = fmt.Sprintf("Exit %d", st)
			}
			fmt.Fprintf(w, "[%d]+  %-22s %s\n", j.id, word, j.text)
			j.reported = true
			r.forget(j)
		}
	}
}

// ReportJobs prints the background jobs that ended, for the prompt.
func (r *Runner) ReportJobs(w io.Writer) { r.reportDone(w) }
