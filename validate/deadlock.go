package validate

// Warnings for graphs that can deadlock but that tubo cannot prove will.
// Check refuses what it can prove from the declared edges (a pipe cycle,
// a diamond of pipes into a join). Stages also open FIFOs by path, from
// their command line ({{fifo.NAME}}): tubo sees the path in the argv but
// not which side the stage opens, nor when. What such uses make likely is
// reported here as a warning, and the run goes ahead (`tubo check` and
// `tubo run` print them): the stall watchdog diagnoses it if it happens.
//
// This file is the diag area's (issue 11 item 4); the rest of validate is
// the pipeline file's.

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Warnings returns what in g may deadlock though Check accepts it, sorted
// by position, each message ending with what to do:
//
//   - a FIFO that stages read but that nothing in the graph writes (or the
//     reverse): its reader (writer) waits in open(2) for ever;
//   - a fork that cannot run ahead of a slow branch (a tee with spill:
//     false, a stage writing several outputs) whose branches meet again at
//     a lock-step reader (paste, join, comm, sort -m, diff, an ordered
//     merge, any stage reading several inputs) through a FIFO the reader
//     opens by path;
//   - a loop of pipes closed by such a FIFO.
//
// g should have passed Check; Warnings of a graph with dangling edges is
// nil.
func Warnings(g *graph.Graph) []*Error {
	c := warner(g)
	if c == nil {
		return nil
	}
	uses := c.pathUses()
	c.fifoSides(uses)
	declared := map[string]bool{}
	for _, f := range c.g.Nodes {
		for _, m := range c.meetings(f) {
			declared[f.ID+"\x00"+m.join.ID] = true
		}
	}
	inferred := c.inferOpens(uses)
	c.lockStepJoins(declared, inferred)
	if !c.g.AllowCycles {
		c.openCycles(inferred) // else CycleWarnings says it all
	}
	c.errs.Err()
	return c.errs.Errors
}

// warner is a checker of a graph that passed Check, indexed; nil when
// an edge dangles.
func warner(g *graph.Graph) *checker {
	c := &checker{g: g, byID: map[string]*graph.Node{}, errs: &ErrorList{}}
	for _, n := range g.Nodes {
		c.byID[n.ID] = n
	}
	for _, e := range g.Edges {
		if c.byID[e.From.Node] == nil || c.byID[e.To.Node] == nil {
			return nil
		}
	}
	c.index()
	return c
}

// pathUses maps each FIFO to the stages that name its path in their argv,
// shell line, environment or redirections, in graph order, leaving out the
// stages that an edge already joins to it.
func (c *checker) pathUses() map[string][]*graph.Node {
	uses := map[string][]*graph.Node{}
	for _, f := range c.g.Nodes {
		if f.Kind != graph.FIFO || f.Path == "" {
			continue
		}
		joined := map[string]bool{}
		for _, e := range c.in[f.ID] {
			joined[e.From.Node] = true
		}
		for _, e := range c.out[f.ID] {
			joined[e.To.Node] = true
		}
		for _, n := range c.g.Nodes {
			if n.Kind == graph.Process && !joined[n.ID] && names(n, f.Path) {
				uses[f.ID] = append(uses[f.ID], n)
			}
		}
	}
	return uses
}

// names says whether a stage's command or settings hold path.
func names(n *graph.Node, path string) bool {
	if strings.Contains(n.Shell, path) {
		return true
	}
	for _, a := range n.Argv {
		if strings.Contains(a, path) {
			return true
		}
	}
	for _, kv := range n.Env {
		if _, v, _ := strings.Cut(kv, "="); strings.Contains(v, path) {
			return true
		}
	}
	for _, r := range n.Redirs {
		if r.Kind == graph.Open && r.Path == path {
			return true
		}
	}
	return false
}

// fifoSides warns about a FIFO whose other side nothing in the graph
// opens: opening a FIFO blocks until both sides are open.
func (c *checker) fifoSides(uses map[string][]*graph.Node) {
	for _, f := range c.g.Nodes {
		if f.Kind != graph.FIFO {
			continue
		}
		in, out, by := c.in[f.ID], c.out[f.ID], uses[f.ID]
		outside := ", unless a process outside this pipeline opens it"
		if c.g.TempDir != "" && strings.HasPrefix(f.Path, c.g.TempDir+"/") {
			outside = " (nothing outside tubo can open it: it lives in tubo's private directory)"
		}
		switch {
		case len(by) > 0:
			if len(in) == 0 && len(out) == 0 && len(by) == 1 {
				s := by[0]
				c.errs.Add(f.Pos, "fifo %s: only stage %s opens it (its path is in %s's command), so whichever side %s opens, open(2) waits for ever for the other%s. Connect the other side to a stage (stdin: %s or stdout: %s), unless %s opens both sides itself",
					f.ID, s.ID, s.ID, s.ID, outside, f.ID, f.ID, s.ID)
			}
		case len(out) > 0 && len(in) == 0:
			who := c.ends(out, false)
			c.errs.Add(f.Pos, "fifo %s: %s reads it but nothing in the graph writes it, so tubo waits in open(2) for a writer for ever and %s never starts%s. Give it a writer: a stage with stdout: %s, or one that opens {{fifo.%s}}",
				f.ID, who, who, outside, f.ID, f.ID)
		case len(in) > 0 && len(out) == 0:
			who := c.ends(in, true)
			c.errs.Add(f.Pos, "fifo %s: %s writes it but nothing in the graph reads it, so tubo waits in open(2) for a reader for ever and %s never starts%s. Give it a reader: a stage with stdin: %s, or one that opens {{fifo.%s}}",
				f.ID, who, who, outside, f.ID, f.ID)
		}
	}
}

// ends names the nodes at the far ends of edges (their sources when from
// is set): "stage r", "stages a, b", "merge m".
func (c *checker) ends(es []*graph.Edge, from bool) string {
	var stages, others []string
	for _, e := range es {
		id := e.To.Node
		if from {
			id = e.From.Node
		}
		if n := c.byID[id]; n.Kind != graph.Process {
			others = append(others, describe(n))
		} else {
			stages = append(stages, id)
		}
	}
	var parts []string
	if len(stages) > 0 {
		parts = append(parts, plural(len(stages), "stage ", "stages ")+strings.Join(stages, ", "))
	}
	return strings.Join(append(parts, others...), ", ")
}

// An opened edge is a FIFO that a stage opens by path, with the side it
// must open: the side the graph leaves free.
type opened struct {
	stage *graph.Node
	fifo  *graph.Node
	reads bool
}

// inferOpens adds to the stream graph, as edges, the FIFOs that stages
// open by path when the graph says which side is left to them: a FIFO
// with writers and no reader is read by the stages that name it, and the
// reverse. A FIFO named by stages on neither side is left out: nothing
// says which way its bytes go.
func (c *checker) inferOpens(uses map[string][]*graph.Node) map[*graph.Edge]opened {
	inferred := map[*graph.Edge]opened{}
	for _, f := range c.g.Nodes {
		by := uses[f.ID]
		if len(by) == 0 {
			continue
		}
		in, out := len(c.in[f.ID]) > 0, len(c.out[f.ID]) > 0
		for _, s := range by {
			var e *graph.Edge
			switch {
			case in && !out:
				e = &graph.Edge{From: graph.Endpoint{Node: f.ID}, To: graph.Endpoint{Node: s.ID, FD: -1}, Pos: s.Pos}
			case out && !in:
				e = &graph.Edge{From: graph.Endpoint{Node: s.ID, FD: -1}, To: graph.Endpoint{Node: f.ID}, Pos: s.Pos}
			default:
				continue
			}
			inferred[e] = opened{stage: s, fifo: f, reads: in}
		}
	}
	for e := range inferred {
		c.out[e.From.Node] = append(c.out[e.From.Node], e)
		c.in[e.To.Node] = append(c.in[e.To.Node], e)
	}
	return inferred
}

// lockStepJoins warns about a fork whose branches meet again at a join
// only through FIFOs opened by path: Check cannot see it, and refuses the
// same shape made of declared edges.
func (c *checker) lockStepJoins(declared map[string]bool, inferred map[*graph.Edge]opened) {
	for _, f := range c.g.Nodes {
		if f.Kind == graph.Tee && f.Spill {
			continue
		}
		for _, m := range c.meetings(f) {
			if declared[f.ID+"\x00"+m.join.ID] {
				continue
			}
			var fifos []string
			for _, e := range c.in[m.join.ID] {
				if o, ok := inferred[e]; ok {
					fifos = append(fifos, o.fifo.ID)
				}
			}
			sort.Strings(fifos)
			fork := fmt.Sprintf("%s feeds %s and %s", describe(f), m.a, m.b)
			if m.a == m.b {
				fork = fmt.Sprintf("%s writes into %s on two paths", describe(f), m.a)
			}
			if f.Kind == graph.Tee {
				fork = fmt.Sprintf("tee %s (spill: false) feeds %s and %s", f.ID, m.a, m.b)
			}
			reader := describe(m.join) + ", which reads several inputs"
			if prog := lockStepProgram(m.join); prog != "" {
				reader = fmt.Sprintf("%s (%s, which reads its inputs in turn)", describe(m.join), prog)
			}
			fix := "Send one branch through a file, or read the branches with an interleave or concat merge"
			if f.Kind == graph.Tee {
				fix = fmt.Sprintf("Let the tee spill (spill: true on tee %s), or send one branch through a file", f.ID)
			}
			c.errs.Add(f.Pos, "lock-step join: %s, which meet again at %s through %s, opened by path (%s); once the pipe of the branch it is not reading fills, %s blocks writing it and %s waits on the other for ever (deadlock). %s",
				fork, reader, plural(len(fifos), "FIFO", "FIFOs")+" "+strings.Join(fifos, ", "), m.join.Pos, f.ID, m.join.ID, fix)
		}
	}
}

// openCycles warns about loops of pipes that a FIFO opened by path closes.
func (c *checker) openCycles(inferred map[*graph.Edge]opened) {
	for _, cyc := range findCycles(c.g.Nodes, c.streamNext) {
		var by []string
		for i := 0; i+1 < len(cyc); i++ {
			for _, e := range c.out[cyc[i]] {
				if o, ok := inferred[e]; ok && e.To.Node == cyc[i+1] {
					side := "writes"
					if o.reads {
						side = "reads"
					}
					by = append(by, fmt.Sprintf("%s %s fifo %s by path", o.stage.ID, side, o.fifo.ID))
				}
			}
		}
		if len(by) == 0 {
			continue // made of declared edges: Check refuses it
		}
		n := c.byID[cyc[0]]
		c.errs.Add(n.Pos, "pipe cycle %s (%s): each waits for the next once a pipe fills, or already in open(2) (deadlock). Break the loop, e.g. through a file",
			strings.Join(cyc, " → "), strings.Join(by, "; "))
	}
}

// lockStepPrograms read their inputs in turn, a line (or a record) of
// each: a full pipe on one input holds back the others.
var lockStepPrograms = map[string]bool{"paste": true, "join": true, "comm": true, "diff": true, "cmp": true}

// lockStepProgram names a stage's lock-step program ("paste", "sort -m"),
// or "" when it is none of the known ones; an ordered merge is one too.
func lockStepProgram(n *graph.Node) string {
	if n.Kind == graph.Merge && n.Merge.Mode == graph.Ordered {
		return "an ordered merge"
	}
	if n.Kind != graph.Process || len(n.Argv) == 0 {
		return ""
	}
	prog := filepath.Base(n.Argv[0])
	if lockStepPrograms[prog] {
		return prog
	}
	if prog == "sort" {
		for _, a := range n.Argv[1:] {
			if a == "-m" || a == "--merge" || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "m")) {
				return "sort -m"
			}
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
