package validate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// A stream edge is one whose bytes flow while both ends run: every edge
// except those into or out of a regular file, which the writer can fill
// without anyone reading.
func (c *checker) isStream(e *graph.Edge) bool {
	return c.byID[e.From.Node].Kind != graph.File && c.byID[e.To.Node].Kind != graph.File
}

// streamNext lists the nodes that a node's stream edges lead to.
func (c *checker) streamNext(id string) []string {
	var next []string
	for _, e := range c.out[id] {
		if c.isStream(e) {
			next = append(next, e.To.Node)
		}
	}
	return next
}

// cycles refuses a loop of stream edges: once a pipe on the loop fills,
// every stage on it waits for the next one.
func (c *checker) cycles() {
	if c.g.AllowCycles {
		return // Warnings says what each one needs (cycleWarnings)
	}
	reported := findCycles(c.g.Nodes, c.streamNext)
	for _, cyc := range reported {
		n := c.byID[cyc[0]]
		c.errs.Add(n.Pos, "pipe cycle %s: each stage would wait for the next once a pipe fills (deadlock); break the loop, e.g. through a file, or declare it with cycles: allow if each stage answers what it reads before reading more", strings.Join(cyc, " → "))
	}
}

// CycleWarnings says, for each loop of pipes that a file allows
// (cycles: allow), what makes it deadlock. tubo check prints them; a run
// does not repeat them, since the file declared the loop.
func CycleWarnings(g *graph.Graph) []*Error {
	if !g.AllowCycles {
		return nil
	}
	c := warner(g)
	if c == nil {
		return nil
	}
	for _, cyc := range findCycles(c.g.Nodes, c.streamNext) {
		c.errs.Add(c.byID[cyc[0]].Pos, "pipe cycle %s (cycles: allow): it runs only while each stage answers what it has read before it reads more. A stage that reads all its input first (sort, wc, tac), holds its input or output in a buffer (most programs on a pipe: use sed -u, grep --line-buffered, mawk -W interactive) or writes more than a pipe holds before it reads again waits for ever; the stall report then names it",
			strings.Join(cyc, " → "))
	}
	c.errs.Err()
	return c.errs.Errors
}

// afterCycles refuses stages that wait for each other to exit.
func (c *checker) afterCycles() {
	waiters := map[string][]string{} // dep → stages that run after it
	for _, n := range c.g.Nodes {
		for _, d := range n.After {
			waiters[d] = append(waiters[d], n.ID)
		}
	}
	for _, cyc := range findCycles(c.g.Nodes, func(id string) []string { return waiters[id] }) {
		n := c.byID[cyc[len(cyc)-1]]
		c.errs.Add(n.Pos, "after cycle %s: none of these stages can start", strings.Join(cyc, " → "))
	}
}

// findCycles returns up to a few cycles (as node ids, first repeated last)
// found by depth-first search.
func findCycles(nodes []*graph.Node, next func(string) []string) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found [][]string
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		stack = append(stack, id)
		for _, m := range next(id) {
			switch color[m] {
			case white:
				visit(m)
			case grey:
				if len(found) < 3 {
					i := len(stack) - 1
					for stack[i] != m {
						i--
					}
					cyc := append(append([]string(nil), stack[i:]...), m)
					found = append(found, cyc)
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	for _, n := range nodes {
		if color[n.ID] == white {
			visit(n.ID)
		}
	}
	return found
}

// afterClosure is every stage that must have exited before n starts.
func (c *checker) afterClosure(n *graph.Node) map[string]bool {
	seen := map[string]bool{}
	var walk func(*graph.Node)
	walk = func(n *graph.Node) {
		for _, d := range n.After {
			if !seen[d] {
				seen[d] = true
				if dn := c.byID[d]; dn != nil {
					walk(dn)
				}
			}
		}
	}
	walk(n)
	return seen
}

// reach is every node that bytes from id can reach through stream edges,
// id included.
func (c *checker) reach(id string) map[string]bool {
	seen := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, m := range c.streamNext(cur) {
			if !seen[m] {
				seen[m] = true
				queue = append(queue, m)
			}
		}
	}
	return seen
}

// afterWaits refuses a stage that waits for another to exit while the two
// are joined by pipes: the earlier one blocks once the pipe fills (or, in
// the other direction, waits forever for input), so it never exits.
func (c *checker) afterWaits() {
	reach := map[string]map[string]bool{}
	get := func(id string) map[string]bool {
		if r, ok := reach[id]; ok {
			return r
		}
		reach[id] = c.reach(id)
		return reach[id]
	}
	for _, n := range c.g.Nodes {
		if len(n.After) == 0 {
			continue
		}
		for d := range c.afterClosure(n) {
			switch {
			case get(d)[n.ID]:
				c.errs.Add(n.Pos, "stage %s runs after %s exits but reads its output through pipes; %s blocks once the pipe fills and never exits (deadlock); drop the after, or go through a file", n.ID, d, d)
			case get(n.ID)[d]:
				c.errs.Add(n.Pos, "stage %s runs after %s exits but feeds it through pipes; %s waits for input that never comes (deadlock)", n.ID, d, d)
			default:
				continue
			}
			break
		}
	}
}

// isJoin says whether a node waits on its inputs in an order of its own, so
// that a full pipe on one input can stall the others: an ordered merge (it
// needs the next record of every input) or a stage reading several fds.
// Concat and interleave merges read every input at once and buffer, so they
// are safe.
func (c *checker) isJoin(n *graph.Node) bool {
	switch n.Kind {
	case graph.Merge:
		return n.Merge.Mode == graph.Ordered
	case graph.Process:
		k := 0
		for _, e := range c.in[n.ID] {
			if c.isStream(e) {
				k++
			}
		}
		return k > 1
	}
	return false
}

// diamonds refuses a fork (a tee, or a stage writing on several fds) whose
// branches meet again at a join: with bounded pipes the join waits on one
// branch while the fork is blocked writing into the other's full pipe. A
// tee that spills is no such fork: it is never blocked by a full pipe.
func (c *checker) diamonds() {
	for _, f := range c.g.Nodes {
		if f.Kind == graph.Tee && f.Spill {
			continue
		}
		for _, m := range c.meetings(f) {
			fork := fmt.Sprintf("%s feeds %s and %s, which meet again at %s", describe(f), m.a, m.b, describe(m.join))
			if m.a == m.b {
				fork = fmt.Sprintf("%s writes into %s on two descriptors", describe(f), describe(m.join))
			}
			fix := "Use an interleave or concat merge, or send one branch through a file"
			if f.Kind == graph.Tee {
				fix = "Let the tee spill (spill: true), use an interleave or concat merge, or send one branch through a file"
			}
			c.errs.Add(f.Pos, "diamond: %s; with bounded pipes %s waits on one branch while %s blocks writing the other (deadlock). %s",
				fork, m.join.ID, f.ID, fix)
		}
	}
}

// meeting is two branches of a fork that meet again at a join.
type meeting struct {
	a, b string // the first nodes of the two branches
	join *graph.Node
}

// meetings lists the joins that two of f's stream outputs both reach.
func (c *checker) meetings(f *graph.Node) []meeting {
	var outs []*graph.Edge
	for _, e := range c.out[f.ID] {
		if c.isStream(e) {
			outs = append(outs, e)
		}
	}
	if len(outs) < 2 {
		return nil
	}
	reach := make([]map[string]bool, len(outs))
	for i, e := range outs {
		reach[i] = c.reach(e.To.Node)
	}
	// A join meets at the first two outputs that reach it. Going over
	// the nodes once, not over every pair of outputs, keeps this linear
	// in the outputs: a scatter to 4096 replicas has 4096 of them.
	type at struct {
		meeting
		i, j int // the outputs' indexes in outs
	}
	var found []at
	for _, n := range c.g.Nodes {
		if !c.isJoin(n) {
			continue
		}
		i := 0
		for i < len(outs) && !reach[i][n.ID] {
			i++
		}
		j := i + 1
		for j < len(outs) && !reach[j][n.ID] {
			j++
		}
		if j < len(outs) {
			found = append(found, at{meeting{outs[i].To.Node, outs[j].To.Node, n}, i, j})
		}
	}
	// Reported by pair of outputs, then in node order.
	slices.SortStableFunc(found, func(x, y at) int {
		return cmp.Or(cmp.Compare(x.i, y.i), cmp.Compare(x.j, y.j))
	})
	ms := make([]meeting, len(found))
	for k, f := range found {
		ms[k] = f.meeting
	}
	return ms
}

// Diamonds returns the tees of g whose branches meet again at a join, so
// that a front end can let them spill (graph.Node.Spill) instead of having
// the graph refused.
func Diamonds(g *graph.Graph) []*graph.Node {
	c := &checker{g: g, byID: map[string]*graph.Node{}, errs: &ErrorList{}}
	for _, n := range g.Nodes {
		c.byID[n.ID] = n
	}
	for _, e := range g.Edges {
		if c.byID[e.From.Node] == nil || c.byID[e.To.Node] == nil {
			return nil // dangling: Graph reports it
		}
	}
	c.index()
	// A join reached through FIFOs that stages open by path deadlocks
	// just the same (see Warnings).
	c.inferOpens(c.pathUses())
	var tees []*graph.Node
	for _, n := range g.Nodes {
		if n.Kind == graph.Tee && len(c.meetings(n)) > 0 {
			tees = append(tees, n)
		}
	}
	return tees
}
