package web_test

import (
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/web"
)

// The page finds the i-th edge of the graph as the i-th edge of the DOT
// (SVG element edge<i+1>): the graph's edges come first, in order, before
// the drawing's own (tubo's stdout, after, opens).
func TestDrawEdgeOrder(t *testing.T) {
	g := &graph.Graph{}
	for _, id := range []string{"a", "b", "c"} {
		g.Add(&graph.Node{ID: id, Argv: []string{"cat"}})
	}
	g.Nodes[2].After = []string{"a"}
	g.Connect(graph.Endpoint{Node: "b", FD: 1}, graph.Endpoint{Node: "c", FD: 0}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "a", FD: 1}, graph.Endpoint{Node: "b", FD: 0}, graph.Pos{})
	d := web.Draw(g)
	if len(d.Nodes) != 3 || len(d.Edges) != 2 || d.Edges[0].From != "b" || d.Edges[1].To != "b" {
		t.Fatalf("drawing %+v", d)
	}
	var arrows []string
	for _, l := range strings.Split(d.DOT, "\n") {
		if from, rest, ok := strings.Cut(strings.TrimSpace(l), " -> "); ok {
			to, _, _ := strings.Cut(rest, " ")
			arrows = append(arrows, from+">"+to)
		}
	}
	// The graph's edges first; then the drawing's own, among them the
	// after: wait (and tubo's stdin and stdout, which a and c inherit).
	want := []string{`"b">"c"`, `"a">"b"`}
	if len(arrows) < len(want) || strings.Join(arrows[:len(want)], " ") != strings.Join(want, " ") {
		t.Errorf("DOT edges in the order %v, want %v first", arrows, want)
	}
	if !strings.Contains(strings.Join(arrows[len(want):], " "), `"a">"c"`) {
		t.Errorf("no after: edge a → c among %v", arrows)
	}
}
