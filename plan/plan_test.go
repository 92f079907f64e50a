package plan_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// table renders a process's fd table compactly: "0=pr0 1=f0 2=in2".
func table(p *plan.Plan, pr *plan.Proc) string {
	var parts []string
	for _, fd := range pr.FDs {
		var s string
		switch fd.Src.Kind {
		case plan.Inherit:
			s = fmt.Sprintf("in%d", fd.Src.FD)
		case plan.PipeRead:
			s = fmt.Sprintf("pr%d", fd.Src.Index)
		case plan.PipeWrite:
			s = fmt.Sprintf("pw%d", fd.Src.Index)
		case plan.OpenFile:
			s = "f:" + p.Files[fd.Src.Index].Path
		case plan.Closed:
			s = "closed"
		case plan.DevNull:
			s = "null"
		}
		parts = append(parts, fmt.Sprintf("%d=%s", fd.Num, s))
	}
	return strings.Join(parts, " ")
}

func build(t *testing.T, g *graph.Graph) *plan.Plan {
	t.Helper()
	p, err := plan.Build(g, plan.Options{Self: "/tubo"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func proc(id string, redirs ...graph.Redir) *graph.Node {
	return &graph.Node{ID: id, Argv: []string{id}, Redirs: redirs}
}

func connect(g *graph.Graph, from string, ffd int, to string, tfd int) {
	g.Connect(graph.Endpoint{Node: from, FD: ffd}, graph.Endpoint{Node: to, FD: tfd}, graph.Pos{})
}

const wr = os.O_WRONLY | os.O_CREATE | os.O_TRUNC

// TestRedirectionOrder checks the fd tables against what sh does in the
// child: redirections apply left to right after the pipes are in place.
func TestRedirectionOrder(t *testing.T) {
	tests := []struct {
		name   string
		redirs []graph.Redir
		want   string // the second stage's table; stdin comes from ls
	}{
		{"plain", nil, "0=pr0 1=in1 2=in2"},
		// sort > f 2>&1: both to f.
		{">f 2>&1", []graph.Redir{{Kind: graph.Open, FD: 1, Path: "f", Flag: wr}, {Kind: graph.Dup, FD: 2, Src: 1}}, "0=pr0 1=f:f 2=f:f"},
		// sort 2>&1 > f: stderr to the old stdout, stdout to f.
		{"2>&1 >f", []graph.Redir{{Kind: graph.Dup, FD: 2, Src: 1}, {Kind: graph.Open, FD: 1, Path: "f", Flag: wr}}, "0=pr0 1=f:f 2=in1"},
		// < f overrides the pipe on stdin, as in sh.
		{"<f", []graph.Redir{{Kind: graph.Open, FD: 0, Path: "f", Flag: os.O_RDONLY}}, "0=f:f 1=in1 2=in2"},
		{"3>&-", []graph.Redir{{Kind: graph.Close, FD: 2}}, "0=pr0 1=in1 2=closed"},
		{"5<&0", []graph.Redir{{Kind: graph.Dup, FD: 5, Src: 0}}, "0=pr0 1=in1 2=in2 5=pr0"},
		{"here-doc", []graph.Redir{{Kind: graph.Data, FD: 0, Data: []byte("x\n")}}, "0=pr1 1=in1 2=in2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graph.Graph{}
			g.Add(proc("ls"))
			g.Add(proc("sort", tt.redirs...))
			connect(g, "ls", 1, "sort", 0)
			p := build(t, g)
			if got := table(p, p.Procs[0]); got != "0=in0 1=pw0 2=in2" {
				t.Errorf("ls: %s", got)
			}
			if got := table(p, p.Procs[1]); got != tt.want {
				t.Errorf("sort: %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDupOfClosedIsAnError(t *testing.T) {
	g := &graph.Graph{}
	g.Add(proc("cat", graph.Redir{Kind: graph.Close, FD: 1}, graph.Redir{Kind: graph.Dup, FD: 2, Src: 1, Pos: graph.Pos{Line: 1, Col: 9}}))
	_, err := plan.Build(g, plan.Options{Self: "/tubo"})
	if err == nil || err.Error() != "1:9: 1: bad file descriptor" {
		t.Errorf("err %v", err)
	}
}

func TestFilesFIFOsAndBuiltins(t *testing.T) {
	g := &graph.Graph{TempDir: "/tmp/tubo-x"}
	g.Add(&graph.Node{ID: "in", Kind: graph.File, Path: "input"})
	g.Add(&graph.Node{ID: "chan", Kind: graph.FIFO, Path: "/tmp/tubo-x/chan"})
	g.Add(&graph.Node{ID: "m", Kind: graph.Merge})
	g.Add(proc("a"))
	g.Add(proc("b"))
	g.Add(&graph.Node{ID: "sh", Shell: "echo hi", StdinNull: true})
	connect(g, "in", 0, "a", 0)
	connect(g, "a", 1, "chan", 0)
	connect(g, "chan", 0, "b", 0)
	connect(g, "b", 1, "m", 0)
	connect(g, "sh", 1, "m", 0)
	p := build(t, g)
	if len(p.FIFOs) != 1 || !p.FIFOs[0].Remove || p.TempDir != "/tmp/tubo-x" {
		t.Errorf("FIFOs %+v, temp dir %q", p.FIFOs, p.TempDir)
	}
	if got := table(p, p.Procs[0]); got != "0=f:input 1=f:/tmp/tubo-x/chan 2=in2" {
		t.Errorf("a: %s", got)
	}
	if got := table(p, p.Procs[1]); got != "0=f:/tmp/tubo-x/chan 1=pw0 2=in2" {
		t.Errorf("b: %s", got)
	}
	if got := table(p, p.Procs[2]); got != "0=null 1=pw1 2=in2" {
		t.Errorf("sh: %s", got)
	}
	if argv := p.Procs[2].Argv; strings.Join(argv, " ") != "/tubo -c echo hi" {
		t.Errorf("shell stage argv %q", argv)
	}
	m := p.Builtins[0]
	if len(m.Inputs) != 2 || m.Inputs[0].Index != 0 || m.Inputs[1].Index != 1 {
		t.Errorf("merge inputs %+v, want pipes 0 and 1 in edge order", m.Inputs)
	}
	// A merge with no output edge writes to tubo's own stdout.
	if len(m.Outputs) != 1 || m.Outputs[0].Kind != plan.Inherit || m.Outputs[0].FD != 1 {
		t.Errorf("merge outputs %+v, want tubo's fd 1", m.Outputs)
	}
	if !p.Files[1].IsFIFO || p.Files[1].Flag&os.O_WRONLY == 0 {
		t.Errorf("a opens the FIFO %+v, want write-only, marked as a FIFO", p.Files[1])
	}
}
