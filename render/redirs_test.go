package render_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/render"
)

// shellPipeline builds a shell pipeline's graph as the runner does: one
// process per command, stdout into the next one's stdin, fd 0 of the
// first and fd 1 of the last inherited from tubo.
func shellPipeline(line int, cmds ...*graph.Node) *graph.Graph {
	g := &graph.Graph{Name: "line"}
	for i, n := range cmds {
		n.Kind = graph.Process
		n.Pos = graph.Pos{Line: line, Col: 1 + 10*i}
		g.Add(n)
		if i > 0 {
			g.Connect(graph.Endpoint{Node: cmds[i-1].ID, FD: 1}, graph.Endpoint{Node: n.ID, FD: 0}, n.Pos)
		}
	}
	return g
}

func cmd(id string, redirs ...graph.Redir) *graph.Node {
	return &graph.Node{ID: id, Argv: strings.Fields(id), Redirs: redirs}
}

func open(fd int, path string, flag int) graph.Redir {
	return graph.Redir{Kind: graph.Open, FD: fd, Path: path, Flag: flag}
}

func dup(fd, src int) graph.Redir { return graph.Redir{Kind: graph.Dup, FD: fd, Src: src} }

const (
	trunc  = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	appnd  = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	rdonly = os.O_RDONLY
)

func dot(t *testing.T, gs ...*graph.Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := render.DOTPipelines(&b, "line", gs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mermaid(t *testing.T, gs ...*graph.Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := render.MermaidPipelines(&b, "line", gs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func contains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %s:\n%s", what, w, text)
		}
	}
}

// Files and redirections are drawn as explain shows them: a file per
// path, an arrow per descriptor that holds it once the redirections have
// run, and tubo's own stdin and stdout where a stage inherits them.
func TestRedirections(t *testing.T) {
	// echo hi >out.txt 2>&1
	out := dot(t, shellPipeline(1, cmd("echo hi", open(1, "out.txt", trunc), dup(2, 1))))
	contains(t, "DOT", out,
		`"(stdin)" [shape=plaintext, label="tubo's stdin"];`,
		`"file out.txt" [shape=note, label="file out.txt"];`,
		`"(stdin)" -> "echo hi" [label="0→0"];`,
		`"echo hi" -> "file out.txt" [label="1,2→"];`)
	if strings.Contains(out, "(stdout)") {
		t.Errorf("tubo's stdout drawn though fd 1 goes to a file:\n%s", out)
	}

	// ls | sort 2>&1 >>log <in
	out = dot(t, shellPipeline(1, cmd("ls"), cmd("sort", dup(2, 1), open(1, "log", appnd), open(0, "in", rdonly))))
	contains(t, "DOT", out,
		`"sort" -> "(stdout)" [label="2→1"];`, // 2>&1 took fd 1 before >>log
		`"sort" -> "file log" [label="1→ (append)"];`,
		`"file in" -> "sort" [label="→0"];`,
		// sort's stdin is the file now: the pipe from ls is read by none.
		`"ls" -> "sort" [style=dashed, label="1→0 (sort's fd 0 redirected)"];`)

	// ls 2>&1 | wc -l: both of ls's outputs go into the pipe.
	out = dot(t, shellPipeline(1, cmd("ls", dup(2, 1)), cmd("wc")))
	contains(t, "DOT", out, `"ls" -> "wc" [label="1,2→0"];`, `"wc" -> "(stdout)" [label="1→1"];`)

	// cat 1>&2 <>rw, and a here-document.
	hd := graph.Redir{Kind: graph.Data, FD: 0, Data: []byte("abc\n")}
	out = dot(t, shellPipeline(1, cmd("tr", hd), cmd("cat", dup(1, 2), open(3, "rw", os.O_RDWR|os.O_CREATE))))
	contains(t, "DOT", out,
		`[shape=note, style=dashed, label="here-document\n4 bytes"];`,
		`-> "tr" [label="→0"];`,
		`"cat" -> "(stderr)" [label="1→2"];`,
		`"cat" -> "file rw" [dir=both, label="3↔"];`)
	if strings.Contains(out, `"(stdin)"`) {
		t.Errorf("tubo's stdin drawn though the here-document replaces it:\n%s", out)
	}

	// cat <&3 reads tubo's fd 3; 3<&0 puts tubo's stdin on fd 3 too.
	out = dot(t, shellPipeline(1, cmd("cat", dup(0, 3), dup(4, 0))))
	contains(t, "DOT", out, `"(fd 3)" [shape=plaintext, label="tubo's fd 3"];`, `"(fd 3)" -> "cat" [label="3→0,4"];`)
	m := mermaid(t, shellPipeline(1, cmd("tr", hd), cmd("cat", dup(1, 2), open(3, "rw", os.O_RDWR|os.O_CREATE))))
	contains(t, "Mermaid", m, `(["tubo's stderr"])`, `>"here-document<br/>4 bytes"]`, `<-->|"3↔"|`, `[/"file rw"/]`)
}

// A line of several pipelines is one digraph (one flowchart): a cluster
// per pipeline, in order, with the files and tubo's stdio shared.
func TestSeveralPipelines(t *testing.T) {
	// echo hi >f; cat <f | wc -c && ls
	gs := []*graph.Graph{
		shellPipeline(1, cmd("echo hi", open(1, "f", trunc))),
		shellPipeline(1, cmd("cat", open(0, "f", rdonly)), cmd("wc -c")),
		shellPipeline(2, cmd("ls")),
	}
	out := dot(t, gs...)
	if n := strings.Count(out, "digraph"); n != 1 {
		t.Fatalf("%d digraphs:\n%s", n, out)
	}
	i1, i2, i3 := strings.Index(out, `label="pipeline 1 at 1:1"`), strings.Index(out, `label="pipeline 2 at 1:1"`), strings.Index(out, `label="pipeline 3 at 2:1"`)
	if i1 < 0 || i2 < i1 || i3 < i2 {
		t.Errorf("clusters missing or out of order (%d %d %d):\n%s", i1, i2, i3, out)
	}
	if n := strings.Count(out, `"file f" [shape`); n != 1 {
		t.Errorf("the file both pipelines use is drawn %d times:\n%s", n, out)
	}
	contains(t, "DOT", out,
		`"1/echo hi" -> "file f" [label="1→"];`,
		`"file f" -> "2/cat" [label="→0"];`,
		`"2/cat" -> "2/wc -c" [label="1→0"];`,
		`"2/wc -c" -> "(stdout)" [label="1→1"];`,
		`"3/ls" -> "(stdout)" [label="1→1"];`)
	if n := strings.Count(out, `"(stdout)" [shape`); n != 1 {
		t.Errorf("tubo's stdout drawn %d times:\n%s", n, out)
	}
	m := mermaid(t, gs...)
	if n := strings.Count(m, "flowchart"); n != 1 {
		t.Fatalf("%d flowcharts:\n%s", n, m)
	}
	contains(t, "Mermaid", m, `subgraph g0 ["pipeline 1 at 1:1"]`, `subgraph g2 ["pipeline 3 at 2:1"]`)
	if n := strings.Count(m, "end\n"); n != 3 {
		t.Errorf("%d subgraphs closed, want 3:\n%s", n, m)
	}
}

// One pipeline is drawn without a cluster around it, as a file's graph.
func TestOnePipelineNoCluster(t *testing.T) {
	out := dot(t, shellPipeline(1, cmd("ls"), cmd("sort")))
	if strings.Contains(out, "subgraph") {
		t.Errorf("a cluster around the only pipeline:\n%s", out)
	}
	contains(t, "DOT", out, `"ls" -> "sort" [label="1→0"];`, `"(stdin)" -> "ls" [label="0→0"];`, `"sort" -> "(stdout)" [label="1→1"];`)
}

// A redirection that dups a closed descriptor cannot be drawn: the error
// names its place.
func TestBadDup(t *testing.T) {
	g := shellPipeline(1, cmd("ls", graph.Redir{Kind: graph.Close, FD: 1}, graph.Redir{Kind: graph.Dup, FD: 2, Src: 1, Pos: graph.Pos{Line: 1, Col: 9}}))
	var b bytes.Buffer
	err := render.DOT(&b, g)
	if err == nil || !strings.Contains(err.Error(), "1:9: 1: bad file descriptor") {
		t.Errorf("err = %v", err)
	}
}
