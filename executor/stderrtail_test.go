package executor_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// With StderrTail, each stage's inherited stderr still reaches tubo's
// stderr whole, and the last lines are kept for the report; a stage whose
// stderr goes elsewhere keeps nothing.
func TestStderrTail(t *testing.T) {
	g := line(
		[]string{"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; echo out"},
		[]string{"sh", "-c", "cat >/dev/null; echo last words >&2; exit 3"},
	)
	g.Add(&graph.Node{ID: "quiet", Argv: []string{"sh", "-c", "echo to null >&2"}, StdinNull: true,
		Redirs: []graph.Redir{{Kind: graph.Open, FD: 2, Path: "/dev/null", Flag: os.O_WRONLY}}})
	r := exec(t, g, executor.Options{StderrTail: 1000})
	if !strings.HasPrefix(r.stderr, "line 0\n") || !strings.Contains(r.stderr, "line 1999\n") || !strings.Contains(r.stderr, "last words\n") {
		t.Errorf("tubo's stderr did not get everything: %d bytes", len(r.stderr))
	}
	first := r.res.Procs[0].StderrTail
	if len(first) > 1000 || !strings.HasSuffix(first, "line 1999\n") || !strings.HasPrefix(first, "line ") {
		t.Errorf("tail of s0 is %q: want whole lines, the last one line 1999, at most 1000 bytes", first)
	}
	if got := r.res.Procs[1].StderrTail; got != "last words\n" {
		t.Errorf("tail of s1 is %q", got)
	}
	if got := r.res.Procs[2].StderrTail; got != "" {
		t.Errorf("a stage with 2>/dev/null kept %q", got)
	}
}

// A background child that keeps the stderr pipe open does not hold up
// the run for long: the tail is what came until the stage exited.
func TestStderrTailBackgroundHolder(t *testing.T) {
	g := line([]string{"sh", "-c", "echo before >&2; sleep 60 & exit 0"})
	r := exec(t, g, executor.Options{StderrTail: 100})
	if got := r.res.Procs[0].StderrTail; got != "before\n" {
		t.Errorf("tail %q", got)
	}
}
