// Package validate checks a process graph before anything starts: names
// that point nowhere, descriptors used twice, cycles, waits that can never
// end, and fan-out/fan-in shapes that deadlock on bounded pipes. It works
// only on graph.Graph, so both front ends (a shell line, a YAML file) share
// it, and every message names the source position of the node or edge.
package validate

import (
	"fmt"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Graph checks g and returns nil or an *ErrorList with every problem found.
// Structural checks (cycles, after-waits, diamonds) run only when the nodes
// and edges themselves are sound, so one mistake is not reported thrice.
func Graph(g *graph.Graph) error { return Check(g, Options{}) }

// Options tune a check.
type Options struct {
	// Incomplete names nodes that lost connections because a front end
	// could not build what they connect to (and reported that already):
	// the number of their inputs and outputs is not checked. nil means
	// the graph is whole.
	Incomplete map[string]bool
}

// Check is Graph for a graph that a front end may have built only in
// part, so that one pass reports the problems of what was built.
func Check(g *graph.Graph, opt Options) error {
	c := &checker{g: g, byID: map[string]*graph.Node{}, errs: &ErrorList{}, opt: opt}
	c.nodes()
	c.edges()
	if c.errs.Len() == 0 {
		c.index()
		c.cycles()
		c.afterCycles()
		c.builtins()
		c.fds()
		c.paths()
		c.remote()
		c.retries()
		c.maxParallel()
		if c.errs.Len() == 0 {
			c.afterWaits()
			c.diamonds()
		}
	}
	return c.errs.Err()
}

type checker struct {
	g    *graph.Graph
	opt  Options
	byID map[string]*graph.Node
	errs *ErrorList
	// in and out are each node's edges in declaration order.
	in, out map[string][]*graph.Edge
}

// nodes checks each node on its own.
func (c *checker) nodes() {
	for _, n := range c.g.Nodes {
		if n.ID == "" {
			c.errs.Add(n.Pos, "a %s node has no id", n.Kind)
			continue
		}
		if prev, dup := c.byID[n.ID]; dup {
			c.errs.Add(n.Pos, "duplicate node id %q (first at %s)", n.ID, prev.Pos)
			continue
		}
		c.byID[n.ID] = n
		switch n.Kind {
		case graph.Process:
			switch {
			case len(n.Argv) == 0 && n.Shell == "":
				c.errs.Add(n.Pos, "stage %s has nothing to run", n.ID)
			case len(n.Argv) > 0 && n.Shell != "":
				c.errs.Add(n.Pos, "stage %s has both a command and a shell line", n.ID)
			}
			if n.Timeout < 0 {
				c.errs.Add(n.Pos, "stage %s: negative timeout %s", n.ID, n.Timeout)
			}
		case graph.FIFO:
			if n.Path == "" {
				c.errs.Add(n.Pos, "fifo %s has no path", n.ID)
			}
		case graph.File:
			if n.Path == "" {
				c.errs.Add(n.Pos, "file %s has no path", n.ID)
			}
		case graph.Tee, graph.Merge, graph.Scatter:
		default:
			c.errs.Add(n.Pos, "node %s has unknown kind %s", n.ID, n.Kind)
		}
	}
	for _, n := range c.g.Nodes {
		for _, dep := range n.After {
			d := c.byID[dep]
			switch {
			case n.Kind != graph.Process:
				c.errs.Add(n.Pos, "%s: only stages can wait with after", describe(n))
			case d == nil:
				c.errs.Add(n.Pos, "stage %s: after: no stage named %q", n.ID, dep)
			case d == n:
				c.errs.Add(n.Pos, "stage %s: after: waits for itself", n.ID)
			case d.Kind != graph.Process:
				c.errs.Add(n.Pos, "stage %s: after: %s is not a stage", n.ID, describe(d))
			}
		}
	}
	if c.g.Timeout < 0 {
		c.errs.Add(graph.Pos{}, "negative run timeout %s", c.g.Timeout)
	}
}

// edges checks each edge on its own: both ends exist and each descriptor is
// used in its direction.
func (c *checker) edges() {
	for _, e := range c.g.Edges {
		from, to := c.byID[e.From.Node], c.byID[e.To.Node]
		if from == nil {
			c.errs.Add(e.Pos, "edge from %q: no such node", e.From.Node)
		}
		if to == nil {
			c.errs.Add(e.Pos, "edge to %q: no such node", e.To.Node)
		}
		if from == nil || to == nil {
			continue
		}
		if from == to {
			c.errs.Add(e.Pos, "edge from %s to itself", describe(from))
			continue
		}
		if from.Kind == graph.Process {
			switch {
			case e.From.FD < 0 || e.From.FD > MaxFD:
				c.errs.Add(e.Pos, "edge from %s: fd %d is outside 0–%d", from.ID, e.From.FD, MaxFD)
			case e.From.FD == graph.Stdin:
				c.errs.Add(e.Pos, "edge from %s: fd 0 is its stdin, an input; did you mean stdout?", from.ID)
			}
		}
		if to.Kind == graph.Process {
			switch {
			case e.To.FD < 0 || e.To.FD > MaxFD:
				c.errs.Add(e.Pos, "edge to %s: fd %d is outside 0–%d", to.ID, e.To.FD, MaxFD)
			case e.To.FD == graph.Stdout || e.To.FD == graph.Stderr:
				c.errs.Add(e.Pos, "edge to %s: fd %d is its %s, an output; did you mean stdin?", to.ID, e.To.FD, fdName(e.To.FD))
			}
		}
		if isPath(from) && isPath(to) {
			c.errs.Add(e.Pos, "edge from %s to %s: nothing moves the bytes between two paths; put a stage (such as cat) between them", describe(from), describe(to))
		}
	}
}

func (c *checker) index() {
	c.in, c.out = map[string][]*graph.Edge{}, map[string][]*graph.Edge{}
	for _, e := range c.g.Edges {
		c.out[e.From.Node] = append(c.out[e.From.Node], e)
		c.in[e.To.Node] = append(c.in[e.To.Node], e)
	}
}

// fds checks that each descriptor of a process carries at most one edge.
func (c *checker) fds() {
	type use struct {
		e   *graph.Edge
		out bool // the process writes on this fd
	}
	// Each node's uses in edge order, from one pass over the edges.
	uses := map[string][]use{}
	for _, e := range c.g.Edges {
		uses[e.From.Node] = append(uses[e.From.Node], use{e, true})
		uses[e.To.Node] = append(uses[e.To.Node], use{e, false})
	}
	for _, n := range c.g.Nodes {
		if n.Kind != graph.Process {
			continue
		}
		byFD := map[int][]use{}
		var order []int
		for _, u := range uses[n.ID] {
			fd := u.e.To.FD
			if u.out {
				fd = u.e.From.FD
			}
			if _, seen := byFD[fd]; !seen {
				order = append(order, fd)
			}
			byFD[fd] = append(byFD[fd], u)
		}
		for _, fd := range order {
			us := byFD[fd]
			if len(us) < 2 {
				continue
			}
			var ins, outs []string
			for _, u := range us {
				if u.out {
					outs = append(outs, c.endName(u.e.To)+" ("+u.e.Pos.String()+")")
				} else {
					ins = append(ins, c.endName(u.e.From)+" ("+u.e.Pos.String()+")")
				}
			}
			pos := us[1].e.Pos
			switch {
			case len(outs) == 0:
				c.errs.Add(pos, "%d writers into %s's %s: %s; join them with a merge node, or give each its own fd", len(ins), n.ID, fdName(fd), strings.Join(ins, ", "))
			case len(ins) == 0:
				c.errs.Add(pos, "%s's %s has %d readers: %s; copy it to each with a tee node", n.ID, fdName(fd), len(outs), strings.Join(outs, ", "))
			default:
				c.errs.Add(pos, "%s's %s is used both as an input (from %s) and as an output (to %s)", n.ID, fdName(fd), strings.Join(ins, ", "), strings.Join(outs, ", "))
			}
		}
	}
}

// builtins checks the shape of tee and merge nodes.
func (c *checker) builtins() {
	for _, n := range c.g.Nodes {
		if c.opt.Incomplete[n.ID] {
			continue
		}
		in, out := len(c.in[n.ID]), len(c.out[n.ID])
		switch n.Kind {
		case graph.Tee:
			if in != 1 {
				c.errs.Add(n.Pos, "tee %s has %d inputs; a tee copies exactly one input (join several with a merge node first)", n.ID, in)
			}
			if out == 0 {
				c.errs.Add(n.Pos, "tee %s has no outputs", n.ID)
			}
		case graph.Merge:
			if in == 0 {
				c.errs.Add(n.Pos, "merge %s has no inputs", n.ID)
			}
			// No output means tubo's own stdout.
			if out > 1 {
				c.errs.Add(n.Pos, "merge %s has %d outputs; a merge writes one stream (copy it with a tee node)", n.ID, out)
			}
		case graph.Scatter:
			if in != 1 {
				c.errs.Add(n.Pos, "scatter %s has %d inputs; a scatter cuts exactly one stream", n.ID, in)
			}
			if out == 0 {
				c.errs.Add(n.Pos, "scatter %s has no outputs", n.ID)
			}
			if n.Chunk.Size < 1 {
				c.errs.Add(n.Pos, "scatter %s: chunks of %d %s", n.ID, n.Chunk.Size, n.Chunk.By)
			}
		}
	}
}

// paths checks how files and FIFOs are wired.
func (c *checker) paths() {
	for _, n := range c.g.Nodes {
		in, out := c.in[n.ID], c.out[n.ID]
		switch n.Kind {
		case graph.File:
			if len(in) > 1 && !n.Append {
				c.errs.Add(in[1].Pos, "file %s has %d writers, %s; each would truncate it and overwrite the others (set append: true)", n.ID, len(in), c.names(in, true))
			}
			if len(in) > 0 && len(out) > 0 {
				c.fileReadWrite(n, in, out)
			}
		case graph.FIFO:
			if len(out) > 1 {
				c.errs.Add(out[1].Pos, "fifo %s has %d readers, %s; each byte would go to only one of them (read it once and copy it with a tee node)", n.ID, len(out), c.names(out, false))
			}
		}
	}
}

// fileReadWrite allows a file that some stages write and others read only
// when every reader starts after every writer has exited.
func (c *checker) fileReadWrite(n *graph.Node, in, out []*graph.Edge) {
	for _, r := range out {
		rn := c.byID[r.To.Node]
		before := c.afterClosure(rn)
		for _, w := range in {
			wn := c.byID[w.From.Node]
			if rn.Kind != graph.Process || wn.Kind != graph.Process || !before[wn.ID] {
				c.errs.Add(r.Pos, "file %s is read by %s while %s may still be writing it; make the reader run after the writer (after: [%s]) or use a pipe", n.ID, rn.ID, wn.ID, wn.Name())
				return
			}
		}
	}
}

// names lists the far ends of edges: sources (from=true) or destinations.
func (c *checker) names(es []*graph.Edge, from bool) string {
	var s []string
	for _, e := range es {
		if from {
			s = append(s, c.endName(e.From))
		} else {
			s = append(s, c.endName(e.To))
		}
	}
	return strings.Join(s, ", ")
}

// endName names an endpoint for a message: "gen[0]'s stdout", "merge m".
func (c *checker) endName(ep graph.Endpoint) string {
	n := c.byID[ep.Node]
	if n == nil {
		return ep.Node
	}
	if n.Kind == graph.Process {
		return n.ID + "'s " + fdName(ep.FD)
	}
	return describe(n)
}

func describe(n *graph.Node) string {
	if n.Kind == graph.Process {
		return "stage " + n.ID
	}
	return n.Kind.String() + " " + n.ID
}

func fdName(fd int) string {
	switch fd {
	case graph.Stdin:
		return "stdin"
	case graph.Stdout:
		return "stdout"
	case graph.Stderr:
		return "stderr"
	}
	return fmt.Sprintf("fd %d", fd)
}

func isPath(n *graph.Node) bool { return n.Kind == graph.File || n.Kind == graph.FIFO }

// MaxFD is the highest descriptor number an edge may use; the executor
// builds each child's table up to its highest descriptor.
const MaxFD = 1023
