package report

import (
	"os"

	"github.com/tubo-pipes/tubo/graph"
)

// Basis says how an edge's byte count is known.
type Basis string

// The bases of an edge's byte count, from best to worst.
const (
	// Exact: counted by tubo itself, because a builtin (tee, merge) is at
	// one end and counts each of its inputs and outputs, or because the
	// writer never started and so wrote nothing.
	Exact Basis = "exact"
	// WriterWchar: the writer is a process whose only output edge this is
	// and that opens no file for writing; Bytes is its wchar from
	// /proc/PID/io: all it wrote, not a count of the edge. That equals the
	// edge's bytes only for a process that wrote nothing else: its stderr,
	// files it opened itself (sort's temporary files), the writes of the
	// children it reaped (a shell's commands, the lab's maestro's
	// workers) and a nested tubo's guardian pipe all count too, and a
	// child it did not reap does not. Shown as what it is, never as the
	// edge's bytes.
	WriterWchar Basis = "writer_wchar"
	// Unknown: the kernel keeps no per-pipe count, and the writer has
	// other outputs, or its counters could not be read. Bytes is -1.
	Unknown Basis = "unknown"
)

// Edge is one edge of the graph with what is known of the bytes that
// passed along it.
type Edge struct {
	From, To string // "node:fd" for a process, the node ID otherwise
	// Via is "pipe", "file" or "fifo": how the bytes travelled.
	Via   string
	Bytes int64 // -1 when unknown
	Basis Basis
}

// edgeCount finds e among a builtin's edges and returns the count the
// builtin kept for it, or -1 when it kept none.
func edgeCount(counts []int64, edges []*graph.Edge, e *graph.Edge) int64 {
	if len(counts) != len(edges) {
		return -1
	}
	for i, x := range edges {
		if x == e {
			return counts[i]
		}
	}
	return -1
}

// edges accounts for the bytes along every edge of g.
func edges(g *graph.Graph, r *Report) []*Edge {
	stages := map[string]*Stage{}
	for _, s := range r.Stages {
		stages[s.Node] = s
	}
	builtins := map[string]*Builtin{}
	for _, b := range r.Builtins {
		builtins[b.Node] = b
	}
	var out []*Edge
	known := map[*graph.Edge]*Edge{}
	for _, e := range g.Edges {
		from, to := g.Node(e.From.Node), g.Node(e.To.Node)
		if from == nil || to == nil {
			continue
		}
		re := &Edge{From: label(from, e.From), To: label(to, e.To), Via: via(from, to), Bytes: -1, Basis: Unknown}
		switch {
		case builtins[from.ID] != nil && len(g.Outputs(from.ID)) == 1:
			re.Bytes, re.Basis = builtins[from.ID].BytesOut, Exact
		case builtins[from.ID] != nil && edgeCount(builtins[from.ID].perOut, g.Outputs(from.ID), e) >= 0:
			re.Bytes, re.Basis = edgeCount(builtins[from.ID].perOut, g.Outputs(from.ID), e), Exact
		case builtins[to.ID] != nil && len(g.Inputs(to.ID)) == 1:
			re.Bytes, re.Basis = builtins[to.ID].BytesIn, Exact
		case builtins[to.ID] != nil && edgeCount(builtins[to.ID].perIn, g.Inputs(to.ID), e) >= 0:
			re.Bytes, re.Basis = edgeCount(builtins[to.ID].perIn, g.Inputs(to.ID), e), Exact
		case from.Kind == graph.Process && stages[from.ID] != nil:
			re.Bytes, re.Basis = writerBytes(g, from, stages[from.ID])
		}
		known[e] = re
		out = append(out, re)
	}
	// What goes into a FIFO with one writer and one reader comes out of
	// it: carry the count through.
	for _, e := range g.Edges {
		from := g.Node(e.From.Node)
		re := known[e]
		if from == nil || re == nil || re.Basis != Unknown || from.Kind != graph.FIFO {
			continue
		}
		in, outs := g.Inputs(from.ID), g.Outputs(from.ID)
		if len(in) == 1 && len(outs) == 1 && known[in[0]] != nil {
			re.Bytes, re.Basis = known[in[0]].Bytes, known[in[0]].Basis
		}
	}
	return out
}

// writerBytes is what a process wrote into its edge, when that edge is its
// only output.
func writerBytes(g *graph.Graph, n *graph.Node, s *Stage) (int64, Basis) {
	if s.Pid == 0 {
		return 0, Exact
	}
	if len(g.Outputs(n.ID)) != 1 || !s.IOKnown {
		return -1, Unknown
	}
	for _, rd := range n.Redirs {
		if rd.Kind == graph.Open && rd.Flag&(os.O_WRONLY|os.O_RDWR) != 0 {
			return -1, Unknown
		}
	}
	return s.Written, WriterWchar
}

func label(n *graph.Node, ep graph.Endpoint) string {
	if n.Kind == graph.Process {
		return ep.String()
	}
	return n.ID
}

func via(from, to *graph.Node) string {
	for _, n := range []*graph.Node{from, to} {
		switch n.Kind {
		case graph.FIFO:
			return "fifo"
		case graph.File:
			return "file"
		}
	}
	return "pipe"
}
