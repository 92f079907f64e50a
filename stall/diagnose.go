package stall

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/report"
)

func statDevIno(st os.FileInfo) (devIno, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok || st.Mode()&os.ModeNamedPipe == 0 {
		return devIno{}, false
	}
	return devIno{uint64(s.Dev), s.Ino}, true
}

// lockStep are programs that read their inputs in turn, so a full pipe on
// one input while they wait on another deadlocks them.
var lockStep = map[string]bool{"paste": true, "join": true, "comm": true, "sort": true, "diff": true, "cmp": true}

// diagnosis builds the report from one reading of the world.
type diagnosis struct {
	w      *Watchdog
	wd     *world
	rep    *Report
	causes []string
	seen   map[string]bool // causes already named
	// waitsFor is the wait graph between stages, for cycles.
	waitsFor map[string][]string
	// shallow is set while describing another process in a few words
	// ("… and is itself blocked in read(2) on fd 0 ← pipe from a:1"):
	// then wait says what it is blocked on, not who holds the other end.
	// Without it, each holder's account would hold its own holders', down
	// the whole graph: a chain of stages whose shells hold their pipes
	// too branches twice at each step (exponential).
	shallow bool
}

// peek is wait for a process described inside another one's account.
func (d *diagnosis) peek(q *proc) (string, Wait) {
	if d.shallow {
		return d.wait(q)
	}
	d.shallow = true
	defer func() { d.shallow = false }()
	return d.wait(q)
}

func (w *Watchdog) diagnose(wd *world, now time.Time) (rep *Report) {
	d := &diagnosis{w: w, wd: wd, rep: &Report{At: now}, seen: map[string]bool{}, waitsFor: map[string][]string{}}
	defer func() {
		// What /proc says changes under the reading, and a graph may hold
		// what this code did not foresee: a diagnosis that fails must not
		// take tubo (and the run it watches) down with it.
		if v := recover(); v != nil {
			rep = d.rep
			rep.Causes = append(d.causes, fmt.Sprintf("(the diagnosis stopped short: %v)", v))
		}
	}()
	w.mu.Lock()
	if !w.first.IsZero() {
		d.rep.Elapsed = now.Sub(w.first)
	}
	stages := make([]stageRun, len(w.stages))
	for i, s := range w.stages {
		stages[i] = *s
	}
	w.mu.Unlock()
	for _, s := range stages {
		d.rep.Stages = append(d.rep.Stages, d.stage(s, now))
	}
	d.edges()
	d.cycles()
	d.rep.Causes = d.causes
	return d.rep
}

func (d *diagnosis) cause(s string) {
	if !d.seen[s] {
		d.seen[s] = true
		d.causes = append(d.causes, s)
	}
}

// stage describes one stage of the plan.
func (d *diagnosis) stage(s stageRun, now time.Time) Stage {
	st := Stage{Node: s.node, Host: d.w.p.Procs[s.idx].Host, Pid: s.pid, Wait: noWait()}
	switch {
	case s.ended:
		st.State, st.Exit, st.Ran = "exited", s.exit, s.end.Sub(s.start)
	case s.pid == 0:
		st.State = "waiting"
		st.Wait = d.notStarted(s)
	default:
		q := d.wd.procs[s.pid]
		if q == nil {
			st.State = "exited"
			break
		}
		st.State, st.Wait = d.wait(q)
	}
	for pid, owner := range d.wd.owner {
		if owner != s.node || d.wd.stage[pid] != "" {
			continue
		}
		q := d.wd.procs[pid]
		state, wt := d.wait(q)
		st.Procs = append(st.Procs, Proc{Pid: pid, Command: cmdline(q), Of: s.node, Orphan: d.wd.orphan[pid], State: state, Wait: wt})
	}
	sort.Slice(st.Procs, func(i, j int) bool { return st.Procs[i].Pid < st.Procs[j].Pid })
	return st
}

func noWait() Wait { return Wait{FD: -1, Edge: -1} }

// notStarted explains a stage that has no process yet: tubo may be blocked
// opening a FIFO for it, or it waits for the stages it runs after.
func (d *diagnosis) notStarted(s stageRun) Wait {
	pr := d.w.p.Procs[s.idx]
	for _, t := range d.wd.tasks {
		c, ok := calls[t.sys]
		if !ok || c.kind != callOpen {
			continue
		}
		path := memString(d.wd.self, t.args[c.pathArg])
		mode := int(t.args[c.pathArg+1]) & unix.O_ACCMODE
		for _, fi := range pr.Files {
			f := d.w.p.Files[fi]
			if !f.IsFIFO || !samePath(f.Path, path) || f.Flag&unix.O_ACCMODE != mode {
				continue
			}
			n := d.wd.fifoByPath(d.wd.self, path)
			wt := Wait{Call: "open", FD: -1, Edge: -1, On: fifoName(n, path)}
			wt.Why = d.fifoPartners(n, f.Flag&unix.O_ACCMODE != unix.O_RDONLY, s.node, "")
			for _, e := range pr.FDs {
				if e.Src.Kind == plan.OpenFile && e.Src.Index == fi {
					wt.On += fmt.Sprintf(" (for its fd %d)", e.Num)
				}
			}
			d.fifoCause(n, f.Flag&unix.O_ACCMODE != unix.O_RDONLY, s.node)
			return wt
		}
	}
	var deps []string
	for _, a := range pr.After {
		deps = append(deps, d.w.p.Procs[a].Node.ID)
	}
	if len(deps) > 0 {
		return Wait{FD: -1, Edge: -1, Why: "runs after " + strings.Join(deps, ", ")}
	}
	return noWait()
}

func samePath(planned, got string) bool {
	if planned == got {
		return true
	}
	a, err1 := filepath.Abs(planned)
	b, err2 := filepath.Abs(got)
	return err1 == nil && err2 == nil && a == b
}

func fifoName(n *graph.Node, path string) string {
	if n != nil {
		return "FIFO " + n.ID
	}
	return "FIFO " + path
}

// wait says what process q is doing.
func (d *diagnosis) wait(q *proc) (string, Wait) {
	wt := noWait()
	switch {
	case q == nil:
		return "exited", wt
	case q.state == 'Z' || q.state == 'X':
		return "exited", wt
	case q.state == 'T' || q.state == 't':
		if fd, ok := q.fds[0]; ok && isTTYPath(fd.link) {
			wt.On = "the terminal " + fd.link
			wt.FD = 0
			wt.Why = "stopped by SIGTTIN: it read the terminal from outside the terminal's foreground process group"
			d.cause(fmt.Sprintf("%s waits on the terminal (%s): give it input or redirect its stdin", d.wd.who(q.pid), fd.link))
		} else {
			wt.Why = "stopped by a signal"
		}
		return "stopped", wt
	case q.state == 'R' || q.sys == -1:
		return "running", wt
	}
	c, ok := calls[q.sys]
	if !ok {
		if q.sys >= 0 {
			wt.Call = fmt.Sprintf("syscall %d", q.sys)
		}
		return "blocked", wt
	}
	wt.Call = c.name
	switch c.kind {
	case callRead, callWrite:
		fd := int(q.args[0])
		d.onFD(q, fd, c.kind == callWrite, &wt)
	case callSplice:
		in, out := int(q.args[0]), int(q.args[2])
		if c.name == "tee" {
			out = int(q.args[1])
		}
		if c.name == "sendfile" {
			in, out = int(q.args[1]), int(q.args[0])
		}
		if strings.Contains(q.wchan, "write") {
			d.onFD(q, out, true, &wt)
		} else {
			d.onFD(q, in, false, &wt)
		}
	case callOpen:
		path := memString(q.pid, q.args[c.pathArg])
		flags := int(q.args[c.pathArg+1])
		n := d.wd.fifoByPath(q.pid, path)
		if n != nil || strings.Contains(q.wchan, "partner") || strings.Contains(q.wchan, "fifo") {
			wt.On = fifoName(n, path)
			writing := flags&unix.O_ACCMODE == unix.O_WRONLY
			wt.Why = d.fifoPartners(n, writing, d.wd.stage[q.pid], "")
			d.fifoCause(n, writing, d.wd.who(q.pid))
		} else if path != "" {
			wt.On = path
		}
	case callWait:
		wt.Why = "waits for its children"
		if d.shallow {
			break
		}
		var kids []string
		for pid, p := range d.wd.procs {
			if p.ppid == q.pid {
				st, kw := d.peek(p)
				kids = append(kids, fmt.Sprintf("pid %d (%s) %s", pid, cmdline(p), brief(st, kw)))
			}
		}
		sort.Strings(kids)
		if len(kids) > 0 {
			wt.Why += ": " + strings.Join(kids, "; ")
		}
	case callSleep:
		wt.Why = "a timer wakes it"
		return "sleeping", wt
	case callPoll:
		wt.Why = "waits on several descriptors at once"
	case callFutex:
		wt.Why = "waits on a lock between its threads"
	case callSignal:
		wt.Why = "waits for a signal"
	}
	return "blocked", wt
}

// brief is a short account of a process's state, for "… is itself
// blocked in write(2) on fd 3 → pipe to join:4".
func brief(state string, w Wait) string {
	switch {
	case state == "blocked" && w.Call != "":
		s := "blocked in " + w.Call + "(2)"
		if w.FD >= 0 {
			s += fmt.Sprintf(" on fd %d", w.FD)
		}
		if w.On != "" {
			if w.FD >= 0 {
				s += " " + w.On
			} else {
				s += " on " + w.On
			}
		}
		return s
	case state == "sleeping":
		return "sleeping (" + w.Call + ")"
	}
	return state
}

// onFD fills in a read or write on descriptor fd of q.
func (d *diagnosis) onFD(q *proc, fd int, writing bool, wt *Wait) {
	wt.FD = fd
	desc, ok := q.fds[fd]
	if !ok {
		return
	}
	switch {
	case desc.pipe():
		i, known := d.wd.pipeIndex[desc.ino]
		if known {
			wt.On = d.pipeName(i, writing)
			if e := d.w.p.Pipes[i].Edge; e != nil {
				wt.Edge = d.w.edgeIndex[e]
			}
		} else {
			wt.On = "← a pipe from outside the graph (" + desc.link + ")"
			if writing {
				wt.On = "→ a pipe outside the graph (" + desc.link + ")"
			}
		}
		if d.shallow {
			return
		}
		wt.Why = d.otherEnd(q, fd, desc, writing, i, known)
	case desc.fifo:
		n := d.wd.fifoNode[devIno{desc.dev, desc.ino}]
		wt.On = fifoName(n, desc.link)
		if d.shallow {
			return
		}
		if writing {
			wt.Why = "its readers do not read"
		} else {
			wt.Why = "no writer writes into it"
		}
		wt.Why = d.holdersOf(d.wd.fifos[devIno{desc.dev, desc.ino}], q.pid, !writing, wt.Why)
		if writing {
			if b, c, ok := pipeFill(q.pid, fd); ok && b >= c-4096 {
				wt.Why = fmt.Sprintf("the FIFO is full (%s); %s", report.Bytes(int64(b)), wt.Why)
			}
		} else {
			d.lockStep(q, fd)
		}
	case isTTYPath(desc.link):
		wt.On = "the terminal " + desc.link
		if !writing {
			wt.Why = "it waits for a line typed on the terminal"
			d.cause(fmt.Sprintf("%s waits on the terminal (%s): give it input or redirect its stdin", d.wd.who(q.pid), desc.link))
		}
	case strings.HasPrefix(desc.link, "socket:"):
		wt.On = "a socket (outside the graph)"
	default:
		wt.On = desc.link
	}
}

// pipeName says which edge pipe i is, from the side that reads (writing
// false: "pipe from gen:1") or writes it ("pipe to join:4").
func (d *diagnosis) pipeName(i int, writing bool) string {
	if i < 0 || i >= len(d.w.p.Pipes) {
		return "a pipe outside the graph"
	}
	pp := d.w.p.Pipes[i]
	if writing {
		return "→ pipe to " + d.w.p.Label(pp.To)
	}
	if pp.Edge == nil {
		return "← here-document pipe (tubo writes it)"
	}
	return "← pipe from " + d.w.p.Label(pp.Edge.From)
}

// edgeName is "gen:1 → sort:0" for pipe i.
func (d *diagnosis) edgeName(i int) string {
	if i < 0 || i >= len(d.w.p.Pipes) {
		return "a pipe outside the graph"
	}
	pp := d.w.p.Pipes[i]
	if pp.Edge == nil {
		return "the here-document pipe into " + d.w.p.Label(pp.To)
	}
	return d.w.p.Label(pp.Edge.From) + " → " + d.w.p.Label(pp.Edge.To)
}

// otherEnd explains who holds the other end of the pipe q waits on.
func (d *diagnosis) otherEnd(q *proc, fd int, desc fdesc, writing bool, pipe int, known bool) string {
	hs := d.wd.pipes[desc.ino]
	var why []string
	if writing {
		if b, c, ok := pipeFill(q.pid, fd); ok {
			if b >= c-4096 {
				why = append(why, fmt.Sprintf("the pipe is full (%s)", report.Bytes(int64(b))))
			} else {
				why = append(why, fmt.Sprintf("%s of %s in the pipe", report.Bytes(int64(b)), report.Bytes(int64(c))))
			}
		}
	}
	var others []string
	var self []int
	stages := 0
	for _, h := range hs {
		if writing && !h.reads || !writing && !h.writes {
			continue
		}
		if h.pid == q.pid {
			if h.fd != fd {
				self = append(self, h.fd)
			}
			continue
		}
		others = append(others, d.holderText(h, pipe, known, writing))
		if d.wd.stage[h.pid] != "" || h.pid == d.wd.self {
			stages++
		}
		if a, b := d.wd.stage[q.pid], d.wd.stage[h.pid]; a != "" && b != "" {
			d.waitsFor[a] = append(d.waitsFor[a], b)
		}
	}
	end := "write end"
	if writing {
		end = "read end"
	}
	for _, fd2 := range self {
		why = append(why, fmt.Sprintf("it holds the %s itself (fd %d), so it can never see end-of-file", end, fd2))
		d.cause(fmt.Sprintf("%s holds the %s of its own input (fd %d): it waits for itself", d.wd.who(q.pid), end, fd2))
	}
	sort.Strings(others)
	if len(others) > 0 {
		why = append(why, strings.Join(others, "; "))
	} else if len(self) == 0 && !writing && known {
		why = append(why, "no process holds the write end")
	} else if len(self) == 0 && !writing {
		// Only the run's processes are looked at: the writer of a pipe
		// tubo was given is outside it.
		why = append(why, "no process of this run holds the write end: it comes from outside tubo")
	}
	if !writing && len(others) > 0 && stages == 0 {
		// Only strays hold the write end: a background child of a stage.
		var strays []string
		for _, h := range hs {
			if h.writes && h.pid != q.pid {
				strays = append(strays, d.wd.who(h.pid))
			}
		}
		sort.Strings(strays)
		who := strings.Join(strays, " and ")
		if strings.Contains(who, ", ") {
			who += ","
		}
		what := "the write end of a pipe outside the graph (" + desc.link + ")"
		if known {
			what = d.edgeName(pipe)
		}
		d.cause(fmt.Sprintf("a write end kept open by a background child: %s still holds %s, so %s never sees end-of-file",
			who, what, d.wd.who(q.pid)))
	}
	if !writing && known {
		d.lockStep(q, fd)
	}
	return strings.Join(why, "; ")
}

// holderText describes one holder of the other end.
func (d *diagnosis) holderText(h holder, pipe int, known, writing bool) string {
	end := "write end"
	if writing {
		end = "read end"
	}
	if h.pid == d.wd.self {
		return d.tuboHolds(pipe, known, writing)
	}
	q := d.wd.procs[h.pid]
	st, wt := d.peek(q)
	verb := "holds the " + end
	if d.wd.orphan[h.pid] {
		verb = "still holds the " + end + " (fd " + fmt.Sprint(h.fd) + ")"
	}
	who := d.wd.who(h.pid)
	if strings.Contains(who, ", ") {
		who += ","
	}
	s := who + " " + verb
	if b := brief(st, wt); b != "" {
		s += " and is itself " + b
	}
	return s
}

// tuboHolds explains why tubo itself holds an end: a tee or merge inside
// it, or a stage that has not started yet.
func (d *diagnosis) tuboHolds(pipe int, known, writing bool) string {
	if !known || pipe < 0 || pipe >= len(d.w.p.Pipes) {
		return "tubo holds it"
	}
	pp := d.w.p.Pipes[pipe]
	if pp.Edge == nil {
		return "tubo writes the here-document into it"
	}
	ep := pp.Edge.From
	if writing {
		ep = pp.Edge.To
	}
	n := d.w.p.Graph.Node(ep.Node)
	if n != nil && (n.Kind == graph.Tee || n.Kind == graph.Merge) {
		return fmt.Sprintf("%s %s (inside tubo) holds it", n.Kind, n.ID)
	}
	if n != nil && n.Kind == graph.Process {
		return "tubo keeps it for " + n.ID + ", which has not started"
	}
	return "tubo holds it"
}

// holdersOf lists the processes holding a FIFO on the other side.
func (d *diagnosis) holdersOf(hs []holder, self int, writers bool, dflt string) string {
	var out []string
	for _, h := range hs {
		if h.pid == self || writers && !h.writes || !writers && !h.reads {
			continue
		}
		st, wt := d.peek(d.wd.procs[h.pid])
		out = append(out, d.wd.who(h.pid)+" has it open and is "+brief(st, wt))
	}
	if len(out) == 0 {
		return dflt
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// fifoPartners explains a blocked FIFO open: the other side has not opened
// it, and which stages of the graph could.
func (d *diagnosis) fifoPartners(n *graph.Node, writing bool, me, prefix string) string {
	side, other := "writer", "writers"
	if writing {
		side, other = "reader", "readers"
	}
	why := "no " + side + " has opened it"
	if prefix != "" {
		why = prefix + "; " + why
	}
	if n == nil {
		return why
	}
	var list []string
	for _, s := range d.w.fifoUsers(n, !writing) {
		if s == me {
			continue
		}
		list = append(list, s+" ("+d.w.stageBrief(s)+")")
		if me != "" {
			d.waitsFor[me] = append(d.waitsFor[me], s)
		}
	}
	if len(list) == 0 {
		return why + "; the graph declares no " + side
	}
	return why + "; its " + other + ": " + strings.Join(list, ", ")
}

func (d *diagnosis) fifoCause(n *graph.Node, writing bool, who string) {
	name := "the FIFO"
	if n != nil {
		name = "FIFO " + n.ID
	}
	side := "writer"
	if writing {
		side = "reader"
	}
	d.cause(fmt.Sprintf("a FIFO never opened by its other side: no %s has opened %s, so %s waits in open(2) for ever", side, name, who))
}

// lockStep recognises a reader of several inputs that waits on an empty
// one while another of its inputs is full.
func (d *diagnosis) lockStep(q *proc, fd int) {
	for fd2, d2 := range q.fds {
		if fd2 == fd || !d2.reads() || !d2.pipe() && !d2.fifo {
			continue
		}
		_, ours := d.wd.pipeIndex[d2.ino]
		if d2.fifo {
			ours = d.wd.fifoNode[devIno{d2.dev, d2.ino}] != nil
		}
		if !ours {
			continue
		}
		b, c, ok := pipeFill(q.pid, fd2)
		if !ok || b < c-4096 {
			continue
		}
		prog := q.comm
		kind := "a reader of several inputs"
		if lockStep[prog] {
			kind = "a lock-step reader (" + prog + ")"
		}
		s := fmt.Sprintf("%s starved: %s waits on fd %d while its other input, fd %d, is full (%s)",
			kind, d.wd.who(q.pid), fd, fd2, report.Bytes(int64(b)))
		if t := d.w.noSpillTee(); t != "" {
			s += "; tee " + t + " has spill: false, so it cannot run ahead of the slower branch"
		}
		d.cause(s)
	}
}

// edges fills in the state of every edge.
func (d *diagnosis) edges() {
	w := d.w
	for i, e := range w.p.Graph.Edges {
		ed := Edge{Index: i, From: w.p.Label(e.From), To: w.p.Label(e.To), Bytes: -1, Basis: "unknown", Buffered: -1, Capacity: -1}
		from, to := w.p.Graph.Node(e.From.Node), w.p.Graph.Node(e.To.Node)
		switch {
		case from != nil && from.Kind == graph.FIFO || to != nil && to.Kind == graph.FIFO:
			ed.Via = "fifo"
		case from != nil && from.Kind == graph.File || to != nil && to.Kind == graph.File:
			ed.Via = "file"
		default:
			ed.Via = "pipe"
		}
		w.mu.Lock()
		if b, ok := w.edgeBytes[i]; ok {
			ed.Bytes, ed.Basis, ed.Rate = b.bytes, "writer_wchar", b.rate
		}
		w.mu.Unlock()
		if pi, ok := w.edgePipe[e]; ok {
			for ino, idx := range d.wd.pipeIndex {
				if idx != pi {
					continue
				}
				for _, h := range d.wd.pipes[ino] {
					if b, c, ok := pipeFill(h.pid, h.fd); ok {
						ed.Buffered, ed.Capacity = int64(b), int64(c)
						break
					}
				}
			}
		}
		d.rep.Edges = append(d.rep.Edges, ed)
	}
	for _, s := range d.rep.Stages {
		d.markStalled(s.Wait)
		for _, p := range s.Procs {
			d.markStalled(p.Wait)
		}
	}
}

func (d *diagnosis) markStalled(w Wait) {
	if w.Edge >= 0 && w.Edge < len(d.rep.Edges) {
		d.rep.Edges[w.Edge].Stalled = true
	}
}

// cycles names a cycle in the waits between stages.
func (d *diagnosis) cycles() {
	state := map[string]int{}
	var stack []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = 1
		stack = append(stack, n)
		for _, m := range d.waitsFor[n] {
			if state[m] == 1 {
				i := 0
				for stack[i] != m {
					i++
				}
				cyc := append(append([]string{}, stack[i:]...), m)
				d.cause("a cycle of waits: " + strings.Join(cyc, " → ") + " (each waits for the next)")
				return true
			}
			if state[m] == 0 && visit(m) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return false
	}
	var names []string
	for n := range d.waitsFor {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if state[n] == 0 && visit(n) {
			return
		}
	}
}
