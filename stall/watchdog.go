package stall

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/report"
)

// DefaultAfter is how long nothing may move before the watchdog reports a
// stall, unless the command line or the pipeline file says otherwise.
const DefaultAfter = 10 * time.Second

// Options configure a Watchdog.
type Options struct {
	// After is how long no process may use CPU or move a byte before the
	// run counts as stalled; 0 never reports a stall (Snapshot still works).
	After time.Duration
	// OnStall is called once per stall, from the watchdog's goroutine,
	// with the diagnosis. Activity ends the stall; a later one is reported
	// again.
	OnStall func(*Report)
}

// Watchdog follows one run. Feed it the executor's events (Event) from
// the start; Stop it when the run is over. Its methods may be called from
// any goroutine.
type Watchdog struct {
	p   *plan.Plan
	opt Options

	edgeIndex map[*graph.Edge]int
	edgePipe  map[*graph.Edge]int // edge → index in p.Pipes

	mu     sync.Mutex
	stages []*stageRun
	byNode map[string]*stageRun
	first  time.Time // when the watchdog started, with the run
	// inoPipe maps a pipe inode to its index in the plan, learned from the
	// stages' descriptors.
	inoPipe map[uint64]int
	// extra are processes outside the live stages' trees that a full
	// reading found (strays in a stage's group, holders of the graph's
	// pipes), with the stage they belong to: followed from then on.
	extra map[int]string
	// up0 is the time since boot, in clock ticks, when the watchdog
	// started at t0: processes' start times are in that unit.
	up0 float64
	t0  time.Time
	// Activity: the last reading of every followed process, and when
	// something last moved.
	marks     map[int]mark
	moved     time.Time
	reported  bool
	stalled   *Report // the diagnosis of the stall in progress; nil if none
	edgeBytes map[int]edgeCount
	last      *Report

	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type stageRun struct {
	idx        int // in plan.Procs
	node       string
	pid, pgid  int
	start, end time.Time
	ended      bool
	exit       string
}

// mark is what moves in a process: CPU time and I/O counters.
type mark struct{ cpu, rchar, wchar uint64 }

type edgeCount struct {
	bytes int64
	rate  float64
	at    time.Time
}

// New returns a watchdog for a plan and starts it.
func New(p *plan.Plan, opt Options) *Watchdog {
	w := &Watchdog{
		p: p, opt: opt,
		edgeIndex: map[*graph.Edge]int{}, edgePipe: map[*graph.Edge]int{},
		byNode: map[string]*stageRun{}, inoPipe: map[uint64]int{}, extra: map[int]string{},
		marks: map[int]mark{}, edgeBytes: map[int]edgeCount{},
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	for i, e := range p.Graph.Edges {
		w.edgeIndex[e] = i
	}
	for i, pp := range p.Pipes {
		if pp.Edge != nil {
			w.edgePipe[pp.Edge] = i
		}
	}
	for i, pr := range p.Procs {
		s := &stageRun{idx: i, node: pr.Node.ID}
		w.stages = append(w.stages, s)
		w.byNode[s.node] = s
	}
	w.moved = time.Now()
	w.first = w.moved
	w.t0, w.up0 = w.moved, uptimeTicks()
	go w.loop()
	return w
}

// Event takes one executor event: starts and exits of stages.
func (w *Watchdog) Event(e executor.Event) {
	if e.Kind != "start" && e.Kind != "exit" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.byNode[e.Node]
	if s == nil {
		return
	}
	// Any change of the stage set is movement.
	w.moved, w.reported, w.stalled = e.Time, false, nil
	switch e.Kind {
	case "start":
		s.pid, s.start, s.pgid = e.Pid, e.Time, e.Pgid
	case "exit":
		s.ended, s.end, s.exit = true, e.Time, e.Detail
	}
}

// Stop ends the watchdog; it may be called more than once.
func (w *Watchdog) Stop() {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
}

// Snapshot reads the whole picture now: every stage's state, what each
// blocked process waits on, and each edge. It takes a few milliseconds
// (it reads /proc for every process on the machine).
func (w *Watchdog) Snapshot() *Report {
	now := time.Now()
	rep := w.diagnose(w.gather(true), now)
	w.mu.Lock()
	if w.last != nil {
		rep.Quiet = now.Sub(w.moved)
	}
	rep.Stalled = w.stalled != nil
	w.mu.Unlock()
	rep.settle()
	return rep
}

// Live returns the picture of the last sample: cheaper than Snapshot and
// up to one interval old. During a stall it is the stall's diagnosis.
// nil before the first sample.
func (w *Watchdog) Live() *Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stalled != nil {
		return w.stalled
	}
	return w.last
}

// interval is how often the watchdog samples.
func (w *Watchdog) interval() time.Duration {
	iv := w.opt.After / 5
	return min(max(iv, 50*time.Millisecond), time.Second)
}

func (w *Watchdog) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval())
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case now := <-t.C:
			w.tick(now)
		}
	}
}

// tick samples the followed processes; when nothing has moved for
// opt.After it checks the whole machine once more and reports.
func (w *Watchdog) tick(now time.Time) {
	wd := w.gather(false)
	moved := w.note(wd, now, false)
	w.mu.Lock()
	if moved {
		w.moved, w.reported, w.stalled = now, false, nil
	}
	quiet := now.Sub(w.moved)
	due := w.opt.After > 0 && !w.reported && quiet >= w.opt.After
	w.mu.Unlock()
	light := w.diagnose(wd, now)
	light.Quiet = quiet
	light.settle()
	w.mu.Lock()
	w.last = light
	w.mu.Unlock()
	if !due {
		return
	}
	// Confirm with the whole machine: a stray no stage's tree leads to may
	// be doing the work.
	full := w.gather(true)
	if w.note(full, now, true) {
		w.mu.Lock()
		w.moved = now
		w.mu.Unlock()
		return
	}
	rep := w.diagnose(full, now)
	rep.Quiet, rep.Stalled = quiet, true
	if waitsOnTime(rep) {
		// A stage sleeping on a timer (sleep 60 | cat) is waiting, not
		// stuck: look again one stall time later.
		w.mu.Lock()
		w.moved = now
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	if w.reported || now.Sub(w.moved) < w.opt.After {
		w.mu.Unlock()
		return
	}
	w.reported, w.stalled = true, rep
	w.mu.Unlock()
	if w.opt.OnStall != nil {
		w.opt.OnStall(rep)
	}
}

// waitsOnTime reports whether a live stage, or a process it started and
// that it still waits for, sleeps on a timer or waits for an event from
// outside the graph (inotify: tail -f): such a run is idle, not stuck. A
// process left behind by an exited stage does not count: it is how a
// background child keeps a pipe open.
func waitsOnTime(r *Report) bool {
	outside := func(state string, w Wait) bool {
		return state == "sleeping" || strings.HasPrefix(w.On, "anon_inode:")
	}
	for _, s := range r.Stages {
		if s.State == "exited" || s.State == "waiting" {
			continue
		}
		// A live remote stage may be working on its host, where no
		// counter of this machine can see it: idle here, not stuck.
		if s.Host != "" {
			return true
		}
		if outside(s.State, s.Wait) {
			return true
		}
		for _, p := range s.Procs {
			if !p.Orphan && outside(p.State, p.Wait) {
				return true
			}
		}
	}
	return false
}

// note records the counters of every process read, learns pipe inodes and
// per-edge bytes, and says whether anything moved since the last reading:
// a process used CPU or moved bytes, exited, or was started. A process
// seen for the first time by a full reading (a stray) counts only if it
// started since the last movement.
func (w *Watchdog) note(wd *world, now time.Time, full bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	moved := false
	seen := map[int]bool{}
	quietFrom := w.up0 + w.moved.Sub(w.t0).Seconds()*clockTicks
	for pid, q := range wd.procs {
		if pid == wd.self {
			continue
		}
		seen[pid] = true
		m := mark{q.cpu, uint64(q.rchar), uint64(q.wchar)}
		old, ok := w.marks[pid]
		switch {
		case ok && old != m:
			moved = true
		case !ok && (!full || float64(q.start) >= quietFrom-1):
			moved = true
		}
		w.marks[pid] = m
		if full && wd.stage[pid] == "" {
			w.extra[pid] = wd.owner[pid]
		}
	}
	for pid := range w.marks {
		if !seen[pid] {
			delete(w.marks, pid)
			delete(w.extra, pid)
			moved = true
		}
	}
	for ino, i := range wd.pipeIndex {
		w.inoPipe[ino] = i
	}
	for pid, node := range wd.stage {
		s := w.byNode[node]
		if q := wd.procs[pid]; q != nil && s.pgid == 0 {
			s.pgid = q.pgid
		}
		w.countEdges(node, wd.procs[pid], now)
	}
	return moved
}

// countEdges estimates the bytes on a stage's only output edge from its
// wchar (see the report package's writer_wchar basis).
func (w *Watchdog) countEdges(node string, q *proc, now time.Time) {
	if q == nil || !q.ioOK {
		return
	}
	outs := w.p.Graph.Outputs(node)
	if len(outs) != 1 || w.p.Graph.Node(node).Redirs != nil {
		return
	}
	i := w.edgeIndex[outs[0]]
	old, ok := w.edgeBytes[i]
	c := edgeCount{bytes: q.wchar, at: now}
	if ok && now.After(old.at) {
		r := float64(q.wchar-old.bytes) / now.Sub(old.at).Seconds()
		c.rate = 0.7*r + 0.3*old.rate
	}
	w.edgeBytes[i] = c
}

// fifoUsers lists the stages that could open FIFO n for writing (writers
// true) or reading: those joined to it by an edge on that side, and those
// that name its path in their argv (which side they open is not known).
func (w *Watchdog) fifoUsers(n *graph.Node, writers bool) []string {
	var out []string
	seen := map[string]bool{}
	addOnce := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range w.p.Graph.Edges {
		if writers && e.To.Node == n.ID {
			addOnce(e.From.Node)
		}
		if !writers && e.From.Node == n.ID {
			addOnce(e.To.Node)
		}
	}
	if n.Path != "" {
		for _, pr := range w.p.Procs {
			uses := strings.Contains(pr.Node.Shell, n.Path)
			for _, a := range pr.Node.Argv {
				uses = uses || strings.Contains(a, n.Path)
			}
			if uses {
				addOnce(pr.Node.ID)
			}
		}
	}
	return out
}

// stageBrief says where a stage is: "exited 0 after 0.01s", "running",
// "not started".
func (w *Watchdog) stageBrief(node string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.byNode[node]
	switch {
	case s == nil:
		return "?"
	case s.ended:
		return endedText(s.exit) + " after " + report.Seconds(s.end.Sub(s.start))
	case s.pid == 0:
		return "not started"
	}
	return fmt.Sprintf("pid %d, running", s.pid)
}

// noSpillTee names a tee of the graph that does not spill, if any.
func (w *Watchdog) noSpillTee() string {
	for _, n := range w.p.Graph.Nodes {
		if n.Kind == graph.Tee && !n.Spill {
			return n.ID
		}
	}
	return ""
}

// endedText turns the executor's "exit 0" into "exited 0"; "killed by
// SIGPIPE (status 141)" into "killed by SIGPIPE".
func endedText(detail string) string {
	if code, ok := strings.CutPrefix(detail, "exit "); ok {
		return "exited " + code
	}
	d, _, _ := strings.Cut(detail, " (")
	return d
}
