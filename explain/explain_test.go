package explain_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/explain"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// lsSort is the plan of `ls | sort 2>&1`.
func lsSort(t *testing.T) *plan.Plan {
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "ls", Argv: []string{"ls"}})
	g.Add(&graph.Node{ID: "sort", Argv: []string{"sort"}, Redirs: []graph.Redir{{Kind: graph.Dup, FD: 2, Src: 1}}})
	g.Connect(graph.Endpoint{Node: "ls", FD: 1}, graph.Endpoint{Node: "sort", FD: 0}, graph.Pos{})
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	// A tubo whose runtime holds fds 3 and 4, that inherited fd 7, and
	// that has not started its guardian yet (its pipe comes first, 5 and 6, and tubo keeps 6: the pipe gets 5 and 8).
	explain.Text(&b, lsSort(t), explain.Options{Open: []int{0, 1, 2, 3, 4, 7}, Inherited: []int{7}, Guardian: true})
	explain.Footer(&b, explain.Options{Open: []int{0, 1, 2, 3, 4, 7}})
	for _, want := range []string{
		"pipe2(O_CLOEXEC) = [5, 8]  ls:1 → sort:0",
		"fork + exec ls, first, alone: its pid becomes the process group",
		"      fd 1 → write end of pipe [5, 8], dup2(8, 1)  → sort:0",
		"      fd 7 = tubo's fd 7 (inherited: tubo got it without close-on-exec)",
		"close(8) in tubo: ls has its own copies",
		"fork tubo's guardian",
		"      fd 0 ← read end of the guardian's pipe",
		"      every other descriptor closed: close_range(1, ~0U)",
		"      no execve: ",
		"fork + exec sort, started alongside the others",
		"      fd 0 ← read end of pipe [5, 8], dup2(5, 0)  ← ls:1",
		"      fd 2 = tubo's fd 1, dup2(1, 2)  (2>&1)",
		"close(5) in tubo",
		`execve("sort", ["sort"])`,
		"(0–4, 7\nopen)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("explain output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDrawings(t *testing.T) {
	var dot, mmd bytes.Buffer
	explain.DOT(&dot, lsSort(t))
	explain.Mermaid(&mmd, lsSort(t))
	for _, want := range []string{`proc0:f1 -> pipe0 [label="write end"]`, `pipe0 -> proc1:f0 [label="read end"]`} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("DOT lacks %q:\n%s", want, dot.String())
		}
	}
	for _, want := range []string{"proc0_1 -->|write end| pipe0", "pipe0 -->|read end| proc1_0"} {
		if !strings.Contains(mmd.String(), want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, mmd.String())
		}
	}
	// Where Graphviz is installed, the DOT must be valid input for it.
	if path, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command(path, "-Tsvg")
		cmd.Stdin = &dot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("dot rejects the drawing: %v\n%s", err, out)
		}
	}
}
