package report_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stream"
)

// proc is a process node.
func proc(id string, argv ...string) *graph.Node {
	return &graph.Node{ID: id, Argv: argv, StdinNull: true}
}

// pipe connects from's stdout to to's stdin (or to a non-process node).
func pipe(g *graph.Graph, from, to string) {
	g.Connect(graph.Endpoint{Node: from, FD: 1}, graph.Endpoint{Node: to, FD: 0}, graph.Pos{})
}

// run plans and runs g with stdout and stderr in temporary files and
// returns its report, made with the graph.
func run(t *testing.T, g *graph.Graph) *report.Report {
	t.Helper()
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "out"))
	errf, _ := os.Create(filepath.Join(dir, "err"))
	defer out.Close()
	defer errf.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	start := time.Now()
	res, err := executor.Run(context.Background(), p, executor.Options{
		Stdin: null, Stdout: out, Stderr: errf, Grace: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return report.New(res, start, time.Now(), report.WithGraph(g))
}

// The executor runs tee and merge nodes through the stream package, as
// the CLI sets it up.
func init() { executor.Builtins = stream.RunNode }
