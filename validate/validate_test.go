package validate

import (
	"testing"

	"github.com/tubo-pipes/tubo/graph"
)

func proc(id string, after ...string) *graph.Node {
	return &graph.Node{ID: id, Kind: graph.Process, Argv: []string{id}, After: after, Pos: graph.Pos{Line: 1, Col: len(id)}}
}

func ep(node string, fd int) graph.Endpoint { return graph.Endpoint{Node: node, FD: fd} }

func TestGraph(t *testing.T) {
	type edge struct {
		from, to graph.Endpoint
	}
	tests := []struct {
		name  string
		nodes []*graph.Node
		edges []edge
		want  string
	}{
		{"ok pipeline", []*graph.Node{proc("a"), proc("b")}, []edge{{ep("a", 1), ep("b", 0)}}, ""},
		{"unknown node", []*graph.Node{proc("a")}, []edge{{ep("a", 1), ep("zz", 0)}}, `9:9: edge to "zz": no such node`},
		{"duplicate id", []*graph.Node{proc("a"), proc("a")}, nil, `1:1: duplicate node id "a" (first at 1:1)`},
		{"nothing to run", []*graph.Node{{ID: "a", Kind: graph.Process, Pos: graph.Pos{Line: 2, Col: 1}}}, nil, "2:1: stage a has nothing to run"},
		{"two readers", []*graph.Node{proc("a"), proc("b"), proc("c")}, []edge{{ep("a", 1), ep("b", 0)}, {ep("a", 1), ep("c", 0)}},
			"9:9: a's stdout has 2 readers: b's stdin (9:9), c's stdin (9:9); copy it to each with a tee node"},
		{"in and out on one fd", []*graph.Node{proc("a"), proc("b"), proc("c")}, []edge{{ep("a", 1), ep("b", 3)}, {ep("b", 3), ep("c", 0)}},
			"9:9: b's fd 3 is used both as an input (from a's stdout (9:9)) and as an output (to c's stdin (9:9))"},
		{"fd too high", []*graph.Node{proc("a"), proc("b")}, []edge{{ep("a", 1), ep("b", 5000)}}, "9:9: edge to b: fd 5000 is outside 0–1023"},
		{"self edge", []*graph.Node{proc("a")}, []edge{{ep("a", 1), ep("a", 0)}}, "9:9: edge from stage a to itself"},
		{"tee two inputs", []*graph.Node{proc("a"), proc("b"), proc("c"), {ID: "t", Kind: graph.Tee}}, []edge{{ep("a", 1), ep("t", 0)}, {ep("b", 1), ep("t", 0)}, {ep("t", 0), ep("c", 0)}},
			"tee t has 2 inputs; a tee copies exactly one input (join several with a merge node first)"},
		{"fifo two readers", []*graph.Node{proc("b"), proc("c"), {ID: "f", Kind: graph.FIFO, Path: "/x"}}, []edge{{ep("f", 0), ep("b", 0)}, {ep("f", 0), ep("c", 0)}},
			"9:9: fifo f has 2 readers, b's stdin, c's stdin; each byte would go to only one of them (read it once and copy it with a tee node)"},
		{"file written then read", []*graph.Node{proc("w"), proc("r", "w"), {ID: "f", Kind: graph.File, Path: "/x"}}, []edge{{ep("w", 1), ep("f", 0)}, {ep("f", 0), ep("r", 0)}}, ""},
		{"file read while written", []*graph.Node{proc("w"), proc("r"), {ID: "f", Kind: graph.File, Path: "/x"}}, []edge{{ep("w", 1), ep("f", 0)}, {ep("f", 0), ep("r", 0)}},
			"9:9: file f is read by r while w may still be writing it; make the reader run after the writer (after: [w]) or use a pipe"},
		{"after waits on feeder", []*graph.Node{proc("a", "b"), proc("b")}, []edge{{ep("a", 1), ep("b", 0)}},
			"1:1: stage a runs after b exits but feeds it through pipes; b waits for input that never comes (deadlock)"},
		{"after transitive", []*graph.Node{proc("a"), proc("b", "a"), proc("c", "b")}, []edge{{ep("a", 1), ep("c", 0)}},
			"1:1: stage c runs after a exits but reads its output through pipes; a blocks once the pipe fills and never exits (deadlock); drop the after, or go through a file"},
		{"process fan-in diamond", []*graph.Node{proc("a"), proc("j")}, []edge{{ep("a", 1), ep("j", 3)}, {ep("a", 2), ep("j", 4)}},
			"1:1: diamond: stage a writes into stage j on two descriptors; with bounded pipes j waits on one branch while a blocks writing the other (deadlock). Use an interleave or concat merge, or send one branch through a file"},
		{"interleave diamond is fine", []*graph.Node{proc("a"), proc("b"), proc("c"), proc("d"), {ID: "t", Kind: graph.Tee}, {ID: "m", Kind: graph.Merge, Merge: graph.MergeSpec{Mode: graph.Interleave}}},
			[]edge{{ep("a", 1), ep("t", 0)}, {ep("t", 0), ep("b", 0)}, {ep("t", 0), ep("c", 0)}, {ep("b", 1), ep("m", 0)}, {ep("c", 1), ep("m", 0)}, {ep("m", 0), ep("d", 0)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graph.Graph{Nodes: tt.nodes}
			for _, e := range tt.edges {
				g.Connect(e.from, e.to, graph.Pos{Line: 9, Col: 9})
			}
			err := Graph(g)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}
