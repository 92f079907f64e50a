package remote_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/remote"
	"github.com/tubo-pipes/tubo/remote/sshtest"
	"github.com/tubo-pipes/tubo/stream"
)

func init() { executor.Builtins = stream.RunNode }

// runGraph plans g with a session for its hosts, connects, runs it with
// stdout captured, and closes the session.
func runGraph(t *testing.T, env *sshtest.Env, g *graph.Graph, stdin string) (*executor.Result, string, string) {
	t.Helper()
	s := remote.New(g)
	if s == nil {
		t.Fatal("no session for a graph with remote nodes")
	}
	s.SSH = env.SSH
	var errBuf bytes.Buffer
	s.Stderr = &errBuf
	p, err := plan.Build(g, plan.Options{Remote: s})
	if err != nil {
		t.Fatal(err)
	}
	p.OwnGroups = true
	if err := s.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, _ := os.CreateTemp(t.TempDir(), "out")
	errf, _ := os.CreateTemp(t.TempDir(), "err")
	in, _ := os.CreateTemp(t.TempDir(), "in")
	in.WriteString(stdin)
	in.Seek(0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A long grace: a stage ended by tubo (a timeout) must end of the
	// SIGTERM, as the tests expect (143), however loaded the machine is
	// when the signal travels through ssh to the agent; the default 2 s
	// let SIGKILL (137) overtake it at load 20.
	res, err := executor.Run(ctx, p, executor.Options{Stdin: in, Stdout: out, Stderr: errf, Remote: s, Grace: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return res, string(o), string(e) + errBuf.String()
}

func TestRemoteEcho(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"printf", "%s\n", "hello; rm -rf /", "$(id)"}, Host: "n1", StdinNull: true})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 || out != "hello; rm -rf /\n$(id)\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
	rr := res.Procs[0].Remote
	if rr == nil || !rr.Known {
		t.Fatalf("no remote result: %+v", rr)
	}
	t.Logf("remote: %+v; stderr %q", rr, errs)
	_ = strings.TrimSpace
}
