package live

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/procstat"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stall"
	"github.com/tubo-pipes/tubo/web"
)

// The states a node is shown in. Stalled is not among them: it is a flag
// beside the state, since a stalled stage is still running.
const (
	Waiting    = "waiting"     // not started yet
	Running    = "running"     // started, not reaped yet
	Ending     = "ending"      // tubo is ending it (timeout, failure policy, ^C)
	Exited     = "exited"      // exited with status 0
	Failed     = "failed"      // exited non-zero, or could not start
	Killed     = "killed"      // a signal ended it
	Skipped    = "skipped"     // tubo did not start it (an `after` failed, the run was ended)
	Cached     = "cached"      // up to date: not run, its outputs kept
	Passive    = "passive"     // a FIFO or file: nothing runs
	NotStarted = "not_started" // it could not be started (command not found, …)
)

// runState is one pipeline run as the page sees it: the graph, drawn
// once, and the figures of its nodes and edges, refreshed while it runs.
// All of it is guarded by the Server's mutex.
type runState struct {
	id    int
	g     *graph.Graph
	start time.Time
	info  runInfo
	nodes []*nodeLive
	byID  map[string]*nodeLive
	edges []*edgeLive
	// stalls gives the stall detector's picture; nil without one.
	stalls func() *stall.Report
	// causes are the deadlocks it recognised while the run is stalled.
	causes []string
	// ended is set once the result is in; report is then the JSON report.
	ended  bool
	end    time.Time
	report []byte
}

// nodeLive is one node: what the page is sent, and what sampling needs.
type nodeLive struct {
	n    *graph.Node
	st   NodeState
	outs int // edges that leave it
	// writesFiles: a redirection opens a file for writing, so its wchar
	// counts more than its edges.
	writesFiles bool
	lastW       int64
	lastT       time.Time
	rate        float64
	rateKnown   bool
	// counts are a running tee's, merge's or scatter's bytes per input and
	// output (from its "builtin" event); nil for a process, or a builtin
	// that has not started.
	counts *executor.Counts
}

// edgeLive is one edge: what the page is sent, and what it is estimated
// from.
type edgeLive struct {
	e        *graph.Edge
	st       EdgeState
	lastB    int64
	lastMove time.Time
	// prevB and prevT are the count and time of the last sample of an
	// exactly counted edge, for its rate.
	prevB int64
	prevT time.Time
}

func newRun(id int, g *graph.Graph, start time.Time) *runState {
	r := &runState{id: id, g: g, start: start, byID: map[string]*nodeLive{}}
	r.info = runInfo{Run: id, Name: g.Name, Start: start.UTC(), Params: paramsOf(g), Drawing: web.Draw(g)}
	for _, n := range g.Nodes {
		nl := &nodeLive{n: n, st: NodeState{ID: n.ID, State: Waiting, RSS: -1, Read: -1, Written: -1}}
		switch n.Kind {
		case graph.FIFO, graph.File:
			nl.st.State = Passive
		case graph.Tee, graph.Merge, graph.Scatter:
			nl.st.State = Running
		}
		for _, rd := range n.Redirs {
			if rd.Kind == graph.Open && rd.Flag&(os.O_WRONLY|os.O_RDWR) != 0 {
				nl.writesFiles = true
			}
		}
		r.nodes = append(r.nodes, nl)
		r.byID[n.ID] = nl
	}
	for i, e := range g.Edges {
		if from := r.byID[e.From.Node]; from != nil {
			from.outs++
		}
		r.edges = append(r.edges, &edgeLive{e: e, st: EdgeState{I: i, Bytes: -1, Basis: string(report.Unknown), Buffered: -1, Capacity: -1}})
	}
	return r
}

func paramsOf(g *graph.Graph) []param {
	var ps []param
	for _, p := range g.Params {
		ps = append(ps, param{Name: p.Name, Value: p.Value})
	}
	return ps
}

// event moves a node along from an executor event.
func (r *runState) event(e executor.Event) {
	if r.ended {
		return
	}
	if e.Node == "" {
		if e.Kind == "signal" && strings.HasPrefix(e.Detail, "ending the run") {
			for _, nl := range r.nodes {
				if nl.st.State == Running && nl.n.Kind == graph.Process {
					nl.st.State = Ending
				}
			}
		}
		return
	}
	nl := r.byID[e.Node]
	if nl == nil {
		return
	}
	switch e.Kind {
	case "start":
		nl.st.State, nl.st.Pid = Running, e.Pid
		nl.st.Start = r.since(e.Time)
		nl.lastT = e.Time
	case "exit":
		nl.st.End = r.since(e.Time)
		nl.st.State, nl.st.Detail = exitState(e.Detail)
	case "signal":
		if nl.st.State == Running {
			nl.st.State = Ending
		}
	case "builtin":
		nl.counts = e.Counts
	}
}

// since is t as seconds since the run started.
func (r *runState) since(t time.Time) float64 { return t.Sub(r.start).Seconds() }

// exitState reads the executor's exit detail: "exit 3" or "killed by
// SIGPIPE (status 141)".
func exitState(detail string) (state, how string) {
	if rest, ok := strings.CutPrefix(detail, "killed by "); ok {
		sig, _, _ := strings.Cut(rest, " ")
		return Killed, sig
	}
	if detail == "exit 0" {
		return Exited, detail
	}
	return Failed, detail
}

// running lists the pids to sample: processes started and not reaped.
func (r *runState) running() map[*nodeLive]int {
	pids := map[*nodeLive]int{}
	for _, nl := range r.nodes {
		if nl.n.Kind == graph.Process && nl.st.Pid != 0 && (nl.st.State == Running || nl.st.State == Ending) {
			pids[nl] = nl.st.Pid
		}
	}
	return pids
}

// sampled takes the samples of running processes, then estimates what
// passed along each edge.
func (r *runState) sampled(got map[*nodeLive]procstat.Sample, pids map[*nodeLive]int, now time.Time) {
	if r.ended {
		return
	}
	for nl, s := range got {
		if nl.st.Pid != pids[nl] || !s.OK() {
			continue
		}
		if s.HasCPU {
			nl.st.CPU, nl.st.RSS = s.CPU.Seconds(), s.RSS
		}
		if s.HasIO {
			if dt := now.Sub(nl.lastT).Seconds(); dt > 0 && !nl.lastT.IsZero() {
				rate := float64(s.Wchar-nl.lastW) / dt
				if nl.rateKnown {
					rate = 0.7*rate + 0.3*nl.rate // smoothed, but a stall shows at once
				}
				nl.rate, nl.rateKnown = rate, true
			}
			nl.st.Read, nl.st.Written = s.Rchar, s.Wchar
			nl.lastW, nl.lastT = s.Wchar, now
		}
	}
	r.estimateEdges(now)
	r.countedEdges(now)
}

// countedEdges sets the bytes of every edge into or out of a running
// tee, merge or scatter from its live counts: exact, as in the report.
// The builtin's inputs and outputs are its edges in the graph's order
// (plan.Builtin), so the k-th edge into it is its input k.
func (r *runState) countedEdges(now time.Time) {
	ins, outs := map[*nodeLive][]int64{}, map[*nodeLive][]int64{}
	nin, nout := map[*nodeLive]int{}, map[*nodeLive]int{}
	for _, nl := range r.nodes {
		if nl.counts != nil {
			ins[nl], outs[nl] = nl.counts.In(), nl.counts.Out()
			nl.st.Read, nl.st.Written = sum(ins[nl]), sum(outs[nl])
		}
	}
	for _, el := range r.edges {
		if to := r.byID[el.e.To.Node]; to != nil && to.counts != nil {
			if k := nin[to]; k < len(ins[to]) {
				el.counted(ins[to][k], now, to.st.State == Running)
			}
			nin[to]++
		}
		if from := r.byID[el.e.From.Node]; from != nil && from.counts != nil {
			if k := nout[from]; k < len(outs[from]) {
				el.counted(outs[from][k], now, from.st.State == Running)
			}
			nout[from]++
		}
	}
}

// counted sets an edge's exact count b, and its rate since the last one.
func (el *edgeLive) counted(b int64, now time.Time, flowing bool) {
	rate := 0.0
	if dt := now.Sub(el.prevT).Seconds(); !el.prevT.IsZero() && dt > 0 {
		rate = float64(b-el.prevB) / dt
	}
	el.prevB, el.prevT = b, now
	el.setBytes(b, report.Exact, rate, now, flowing)
}

func sum(v []int64) (n int64) {
	for _, x := range v {
		n += x
	}
	return n
}

// estimateEdges sets each edge's bytes as far as the live figures tell,
// by the rules of the report (report.Basis): the writer's wchar when the
// edge is the only output of a process that opens no file for writing,
// carried through a FIFO with one writer and one reader; unknown
// otherwise (a tee's, merge's or scatter's edges are counted exactly by
// countedEdges).
func (r *runState) estimateEdges(now time.Time) {
	carried := map[string]*edgeLive{} // FIFO ID → the edge into it
	for _, el := range r.edges {
		from := r.byID[el.e.From.Node]
		if from == nil || from.n.Kind != graph.Process || from.outs != 1 || from.writesFiles || from.st.Written < 0 {
			continue
		}
		el.setBytes(from.st.Written, report.WriterWchar, from.rate, now, from.st.State == Running)
		if to := r.byID[el.e.To.Node]; to != nil && to.n.Kind == graph.FIFO {
			carried[to.n.ID] = el
		}
	}
	for _, el := range r.edges {
		in := carried[el.e.From.Node]
		if in == nil || r.byID[el.e.From.Node].outs != 1 || len(r.g.Inputs(el.e.From.Node)) != 1 {
			continue
		}
		writer := r.byID[in.e.From.Node]
		el.setBytes(in.st.Bytes, report.Basis(in.st.Basis), in.st.Rate, now, writer.st.State == Running)
	}
}

// stalled marks the nodes and edges that the stall detector's picture
// says are stuck (only while the run has stalled), and takes how full
// each pipe is. rep may be nil.
func (r *runState) stalled(rep *stall.Report) {
	if r.ended || rep == nil {
		return
	}
	r.causes = nil
	if rep.Stalled {
		r.causes = append([]string{}, rep.Causes...)
		if len(r.causes) == 0 {
			r.causes = []string{"nothing has moved for " + report.Seconds(rep.Quiet)}
		}
	}
	why := map[int]string{} // edge → what waits on it
	for _, sg := range rep.Stages {
		nl := r.byID[sg.Node]
		if nl == nil {
			continue
		}
		blocked := rep.Stalled && (sg.State == "blocked" || sg.State == "stopped" || sg.Call != "")
		nl.st.Stalled, nl.st.Stall = blocked, ""
		if blocked {
			nl.st.Stall = stall.StageText(sg) // what it waits on, and who holds the other end
			if sg.Edge >= 0 {
				why[sg.Edge] = sg.Node + " " + stall.StageText(sg)
			}
		}
	}
	for _, e := range rep.Edges {
		if e.Index < 0 || e.Index >= len(r.edges) {
			continue
		}
		st := &r.edges[e.Index].st
		st.Buffered, st.Capacity = e.Buffered, e.Capacity
		st.Stalled, st.Stall = rep.Stalled && e.Stalled, ""
		if st.Stalled {
			st.Stall = why[e.Index]
		}
	}
}

// setBytes updates an edge's count and rate; idle is how long the count
// has not moved while its writer runs.
func (el *edgeLive) setBytes(b int64, basis report.Basis, rate float64, now time.Time, flowing bool) {
	if b != el.lastB || el.lastMove.IsZero() {
		el.lastB, el.lastMove = b, now
	}
	el.st.Bytes, el.st.Basis, el.st.Rate = b, string(basis), rate
	el.st.Idle = 0
	if flowing {
		el.st.Idle = now.Sub(el.lastMove).Seconds()
	} else {
		el.st.Rate = 0
	}
}

// finish takes the exact figures of the run's report: every stage's
// final state, CPU, RSS and bytes, and every edge's count as the report
// accounts for it.
func (r *runState) finish(rep *report.Report, doc []byte, end time.Time) {
	r.ended, r.end, r.report = true, end, doc
	for _, s := range rep.Stages {
		nl := r.byID[s.Node]
		if nl == nil {
			continue
		}
		st := &nl.st
		st.Pid = s.Pid
		st.State, st.Detail = stageState(s)
		st.CPU = (s.User + s.System).Seconds()
		st.RSS = -1
		if s.MaxRSS > 0 {
			st.RSS = s.MaxRSS
		}
		st.Read, st.Written = -1, -1
		if s.IOKnown {
			st.Read, st.Written = s.Read, s.Written
		}
		if !s.Start.IsZero() {
			st.Start, st.End = r.since(s.Start), r.since(s.End)
		}
		st.Stalled, st.Stall = false, ""
	}
	r.causes = nil
	for _, b := range rep.Builtins {
		nl := r.byID[b.Node]
		if nl == nil {
			continue
		}
		nl.st.State, nl.st.Detail = Exited, ""
		nl.st.Read, nl.st.Written = b.BytesIn, b.BytesOut
		if b.Err != "" {
			nl.st.State, nl.st.Detail = Failed, b.Err
		}
	}
	for i, re := range rep.Edges {
		if i >= len(r.edges) {
			break
		}
		st := &r.edges[i].st
		st.Bytes, st.Basis, st.Rate, st.Idle, st.Stalled, st.Stall = re.Bytes, string(re.Basis), 0, 0, false, ""
		st.Buffered, st.Capacity = -1, -1
		if re.Basis == report.Unknown {
			st.Bytes = -1
		}
	}
}

// stageState is how the page shows a finished stage. A stage that ended
// as a success by its own rules (ok_exit, an ignored SIGPIPE or failure)
// is shown exited, with what it really did in the detail.
func stageState(s *report.Stage) (state, detail string) {
	switch {
	case s.State == report.Skipped && s.NotNeeded:
		return Skipped, "not needed: " + s.Reason
	case s.State == report.Skipped:
		return Skipped, s.Reason
	case s.State == report.NotStarted:
		return NotStarted, s.Reason
	case s.State == report.Signaled && s.OK:
		return Exited, report.SignalName(s.Signal) + " (ok)"
	case s.State == report.Signaled:
		return Killed, report.SignalName(s.Signal)
	case s.Status != 0 && s.OK:
		return Exited, "exit " + strconv.Itoa(s.Status) + " (" + s.Accepted + ")"
	case s.Status != 0:
		return Failed, "exit " + strconv.Itoa(s.Status)
	}
	return Exited, "exit 0"
}

// summary counts the processes by state.
func (r *runState) summary() Summary {
	var s Summary
	for _, nl := range r.nodes {
		if nl.n.Kind != graph.Process {
			continue
		}
		switch nl.st.State {
		case Waiting:
			s.Waiting++
		case Running, Ending:
			s.Running++
		case Exited, Cached:
			s.Done++
		default:
			s.Failed++
		}
	}
	s.Stalled = r.causes
	s.Elapsed = time.Since(r.start).Seconds()
	if r.ended {
		s.Elapsed = r.end.Sub(r.start).Seconds()
		s.Ended = true
	}
	return s
}
