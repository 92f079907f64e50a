package validate

import (
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
)

// lockStep is the graph of stall.TestStuckLockStep: a tee feeds two
// branches that write FIFOs f1 and f2, which paste opens by path.
func lockStep(spill bool) *graph.Graph {
	g := &graph.Graph{TempDir: "/tmp/tubo-x"}
	at := func(l int) graph.Pos { return graph.Pos{File: "p.yaml", Line: l, Col: 3} }
	g.Add(&graph.Node{ID: "f1", Kind: graph.FIFO, Path: "/tmp/tubo-x/f1", Pos: at(3)})
	g.Add(&graph.Node{ID: "f2", Kind: graph.FIFO, Path: "/tmp/tubo-x/f2", Pos: at(4)})
	g.Add(&graph.Node{ID: "t", Kind: graph.Tee, Spill: spill, Pos: at(6)})
	g.Add(&graph.Node{ID: "gen", Argv: []string{"seq", "1000000"}, Pos: at(8)})
	g.Add(&graph.Node{ID: "a", Argv: []string{"cat"}, Pos: at(9)})
	g.Add(&graph.Node{ID: "b", Argv: []string{"sort", "-r"}, Pos: at(10)})
	g.Add(&graph.Node{ID: "join", Argv: []string{"paste", "/tmp/tubo-x/f1", "/tmp/tubo-x/f2"}, Pos: at(11)})
	g.Connect(ep("gen", 1), ep("t", 0), at(6))
	g.Connect(ep("t", 0), ep("a", 0), at(9))
	g.Connect(ep("t", 0), ep("b", 0), at(10))
	g.Connect(ep("a", 1), ep("f1", 0), at(9))
	g.Connect(ep("b", 1), ep("f2", 0), at(10))
	return g
}

func TestWarnings(t *testing.T) {
	fifo := func(id string, line int) *graph.Node {
		return &graph.Node{ID: id, Kind: graph.FIFO, Path: "/tmp/tubo-x/" + id, Pos: graph.Pos{File: "p.yaml", Line: line, Col: 3}}
	}
	stage := func(id string, line int, argv ...string) *graph.Node {
		return &graph.Node{ID: id, Argv: argv, Pos: graph.Pos{File: "p.yaml", Line: line, Col: 3}}
	}
	tests := []struct {
		name string
		g    func() *graph.Graph
		n    int      // warnings
		want []string // what they say
	}{
		{"lock-step reader of FIFOs by path", func() *graph.Graph { return lockStep(false) }, 1, []string{
			"p.yaml:6:3: lock-step join: tee t (spill: false) feeds a and b, which meet again at stage join (paste, which reads its inputs in turn) through FIFOs f1, f2, opened by path (p.yaml:11:3)",
			"Let the tee spill (spill: true on tee t)",
		}},
		{"a tee that spills is fine", func() *graph.Graph { return lockStep(true) }, 0, nil},
		{"sort -m, and a stage writing two outputs", func() *graph.Graph {
			g := lockStep(false)
			g.Nodes[6].Argv = []string{"sort", "-m", "/tmp/tubo-x/f1", "/tmp/tubo-x/f2"}
			// gen writes both branches itself: its stdout and its fd 3.
			g.Nodes = append(g.Nodes[:2], g.Nodes[3:]...)
			g.Edges = []*graph.Edge{
				{From: ep("gen", 1), To: ep("a", 0)}, {From: ep("gen", 3), To: ep("b", 0)},
				{From: ep("a", 1), To: ep("f1", 0)}, {From: ep("b", 1), To: ep("f2", 0)},
			}
			return g
		}, 1, []string{"p.yaml:8:3: lock-step join: stage gen feeds a and b, which meet again at stage join (sort -m, which reads its inputs in turn)", "Send one branch through a file"}},
		{"independent inputs of paste are fine", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("f1", 3))
			g.Add(fifo("f2", 4))
			g.Add(stage("a", 6, "seq", "9"))
			g.Add(stage("b", 7, "seq", "9"))
			g.Add(stage("j", 8, "paste", "/tmp/tubo-x/f1", "/tmp/tubo-x/f2"))
			g.Connect(ep("a", 1), ep("f1", 0), graph.Pos{})
			g.Connect(ep("b", 1), ep("f2", 0), graph.Pos{})
			return g
		}, 0, nil},
		{"a FIFO with a reader and no writer", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("chan", 3))
			g.Add(stage("r", 6, "cat"))
			g.Connect(ep("chan", 0), ep("r", 0), graph.Pos{})
			return g
		}, 1, []string{"p.yaml:3:3: fifo chan: stage r reads it but nothing in the graph writes it, so tubo waits in open(2) for a writer for ever and stage r never starts (nothing outside tubo can open it: it lives in tubo's private directory). Give it a writer: a stage with stdout: chan, or one that opens {{fifo.chan}}"}},
		{"a FIFO with a writer and no reader, at a path of the user's", func() *graph.Graph {
			g := &graph.Graph{}
			g.Add(&graph.Node{ID: "out", Kind: graph.FIFO, Path: "/srv/out.fifo", Pos: graph.Pos{File: "p.yaml", Line: 3, Col: 3}})
			g.Add(stage("w", 6, "echo", "hi"))
			g.Connect(ep("w", 1), ep("out", 0), graph.Pos{})
			return g
		}, 1, []string{"p.yaml:3:3: fifo out: stage w writes it but nothing in the graph reads it", "unless a process outside this pipeline opens it. Give it a reader"}},
		{"a FIFO whose writer opens it by path", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("chan", 3))
			g.Add(stage("r", 6, "cat"))
			g.Add(&graph.Node{ID: "w", Shell: "echo hi > /tmp/tubo-x/chan"})
			g.Connect(ep("chan", 0), ep("r", 0), graph.Pos{})
			return g
		}, 0, nil},
		{"a FIFO only one stage names", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("z", 3))
			g.Add(&graph.Node{ID: "s", Argv: []string{"cat"}, Env: []string{"IN=/tmp/tubo-x/z"}})
			return g
		}, 1, []string{"p.yaml:3:3: fifo z: only stage s opens it"}},
		{"a FIFO two stages name", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("z", 3))
			g.Add(stage("p", 6, "sh", "-c", "exit 0", "sh", "/tmp/tubo-x/z"))
			g.Add(stage("r", 7, "cat", "/tmp/tubo-x/z"))
			return g
		}, 0, nil},
		{"a cycle closed by FIFOs opened by path", func() *graph.Graph {
			g := &graph.Graph{TempDir: "/tmp/tubo-x"}
			g.Add(fifo("x", 3))
			g.Add(fifo("y", 4))
			g.Add(stage("a", 6, "sh", "-c", `cat >"$1"`, "sh", "/tmp/tubo-x/y"))
			g.Add(stage("b", 7, "sh", "-c", `cat >"$1"`, "sh", "/tmp/tubo-x/x"))
			g.Connect(ep("x", 0), ep("a", 0), graph.Pos{})
			g.Connect(ep("y", 0), ep("b", 0), graph.Pos{})
			return g
		}, 1, []string{"p.yaml:3:3: pipe cycle x → a → y → b → x (a writes fifo y by path; b writes fifo x by path)", "Break the loop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g()
			if err := Graph(g); err != nil {
				t.Fatalf("Check refuses the graph: %v", err)
			}
			ws := Warnings(g)
			if len(ws) != tt.n {
				t.Fatalf("%d warnings, want %d:\n%v", len(ws), tt.n, ws)
			}
			var all []string
			for _, w := range ws {
				all = append(all, w.Error())
			}
			text := strings.Join(all, "\n")
			for _, want := range tt.want {
				if !strings.Contains(text, want) {
					t.Errorf("warnings lack %q:\n%s", want, text)
				}
			}
		})
	}
}

// A tee whose spill tubo decides spills when its branches meet at a
// reader of FIFOs by path, as it does for a diamond of declared edges.
func TestDiamondsThroughFIFOs(t *testing.T) {
	tees := Diamonds(lockStep(false))
	if len(tees) != 1 || tees[0].ID != "t" {
		t.Errorf("Diamonds = %v, want tee t", tees)
	}
	g := lockStep(false)
	g.Nodes[6].Argv = []string{"cat"} // no longer opens the FIFOs
	if tees := Diamonds(g); len(tees) != 0 {
		t.Errorf("Diamonds = %v without a join", tees)
	}
}
