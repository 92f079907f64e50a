package remote_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/remote"
	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// hostileParams would do harm, or be split or changed, if they reached
// the remote login shell unquoted. Each must arrive as one argument.
var hostileParams = []string{
	"; rm -rf /", "$(touch /tmp/tubo-pwned)", "`touch /tmp/tubo-pwned`", "$HOME",
	"${PATH}", "'", `"`, `\`, `'\''`, "a\nb", "\n", " ", "", "*", "~", "#x",
	"!", "&", "|", "<x", ">x", "2>&1", "(", "{a,b}", "a=b", "-n", "--", "%s",
	"é", "\t\r", "it's \"quoted\"", "$((1+1))", "\x01\x7f",
}

func TestHostileParamsReachTheRemoteProgramLiterally(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	argv := append([]string{"printf", `%s\0`}, hostileParams...)
	g.Add(&graph.Node{ID: "p", Kind: graph.Process, Argv: argv, Host: "n1", StdinNull: true,
		Env: []string{"X=" + hostileParams[1] + "\n'"}, Dir: "/"})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 {
		t.Fatalf("status %d: %s", res.Status, errs)
	}
	got := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	if len(got) != len(hostileParams) {
		t.Fatalf("got %d arguments, want %d: %q", len(got), len(hostileParams), got)
	}
	for i, w := range hostileParams {
		if got[i] != w {
			t.Errorf("argument %d: sent %q, received %q", i, w, got[i])
		}
	}
	if _, err := os.Stat("/tmp/tubo-pwned"); err == nil {
		os.Remove("/tmp/tubo-pwned")
		t.Fatal("a parameter ran a command on the remote side")
	}
}

func TestRemoteEnvCwdAndPath(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "whereami"), []byte("#!/bin/sh\necho \"$PWD $GREETING\"\n"), 0o755)
	work := t.TempDir()
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "w", Kind: graph.Process, Argv: []string{"whereami"}, Host: "n1", StdinNull: true,
		Dir: work, Env: []string{"GREETING=a b $c"}, PathDirs: []string{bin}})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 || out != work+" a b $c\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
}

// A stage's environment may use any name, the wrapper's own variables'
// included (it broke on n, and c changed the directory): every one
// reaches the program as given, and the wrapper still does its work.
func TestRemoteEnvNamesAreTheStagesOwn(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	names := strings.Fields("a c d e f g h k n o p q r s t w w0 x z P")
	var assigns []string
	script := ""
	for _, n := range names {
		assigns = append(assigns, n+"=v-"+n)
		script += fmt.Sprintf(`printf '%%s\n' "$%s";`, n)
	}
	work := t.TempDir()
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "e", Kind: graph.Process, Argv: []string{"sh", "-c", script + ` pwd`}, Host: "n1", StdinNull: true,
		Env: assigns, Dir: work, Retries: 1})
	res, out, errs := runGraph(t, env, g, "")
	want := ""
	for _, n := range names {
		want += "v-" + n + "\n"
	}
	if res.Status != 0 || out != want+work+"\n" {
		t.Fatalf("status %d, out %q, want %q, err %q", res.Status, out, want+work+"\n", errs)
	}
}

func TestMissingRemoteProgramIs127(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "m", Kind: graph.Process, Argv: []string{"no-such-program-tubo"}, Host: "n1", StdinNull: true})
	res, _, errs := runGraph(t, env, g, "")
	pr := res.Procs[0]
	if res.Status != 127 || pr.Status != 127 || pr.Remote == nil || !pr.Remote.Known || pr.Remote.Status != 127 {
		t.Fatalf("run status %d, stage %+v, remote %+v", res.Status, pr, pr.Remote)
	}
	if !strings.Contains(errs, "tubo: n1: no-such-program-tubo: command not found") {
		t.Fatalf("stderr %q", errs)
	}
}

// A remote program killed by a signal is 128+N with that signal, as a
// local one is, and its stderr holds only what it wrote: not the remote
// sh's "Segmentation fault" (which it printed before the wrapper kept it
// out).
func TestRemoteSignalIsTheStatusAndNotInTheStderr(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "k", Kind: graph.Process, Argv: []string{"sh", "-c", "echo own words >&2; kill -s SEGV $$"}, Host: "n1", StdinNull: true})
	res, _, errs := runGraph(t, env, g, "")
	pr := res.Procs[0]
	if pr.Status != 139 || pr.Signal != syscall.SIGSEGV || pr.Remote == nil || !pr.Remote.Known || pr.Remote.Status != 139 {
		t.Fatalf("stage %+v, remote %+v", pr, pr.Remote)
	}
	if errs != "own words\n" {
		t.Fatalf("stderr %q, want only the program's words", errs)
	}
}

// A remote stage is fed from a local file and writes into a local merge,
// next to a local stage: fds 0 and 1 cross through ssh like any pipe.
func TestRemoteStageBetweenLocalFileAndMerge(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	in := filepath.Join(t.TempDir(), "in")
	os.WriteFile(in, []byte("3\n1\n2\n"), 0o600)
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}, OnFailure: graph.KillRest, Pipefail: true}
	g.Add(&graph.Node{ID: "input", Kind: graph.File, Path: in})
	g.Add(&graph.Node{ID: "sort", Kind: graph.Process, Argv: []string{"sort", "-n"}, Host: "n1"})
	g.Add(&graph.Node{ID: "local", Kind: graph.Process, Argv: []string{"seq", "4", "5"}, StdinNull: true})
	g.Add(&graph.Node{ID: "m", Kind: graph.Merge, Merge: graph.MergeSpec{Mode: graph.Ordered, Numeric: true}})
	g.Connect(graph.Endpoint{Node: "input"}, graph.Endpoint{Node: "sort", FD: 0}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "sort", FD: 1}, graph.Endpoint{Node: "m"}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "local", FD: 1}, graph.Endpoint{Node: "m"}, graph.Pos{})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 || out != "1\n2\n3\n4\n5\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
}

func TestTimeoutEndsTheRemoteGroup(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	m := sshtest.Marker()
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	// The program's child (sleep) is what must not survive: a process
	// group, not just a pid.
	g.Add(&graph.Node{ID: "slow", Kind: graph.Process, Argv: []string{"sh", "-c", "sleep 1000; echo not reached", m},
		Host: "n1", StdinNull: true, Timeout: 300 * time.Millisecond})
	res, out, errs := runGraph(t, env, g, "")
	pr := res.Procs[0]
	if !pr.TimedOut || pr.Signal.String() != "terminated" || pr.Status != 143 || out != "" {
		t.Fatalf("stage %+v remote %+v out %q err %q", pr, pr.Remote, out, errs)
	}
	env.WaitGone(t, env.Servers[0], m)
}

func TestUnreachableHostFailsBeforeAnythingStarts(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	dead := &graph.Host{Name: "dead", SSH: "root@127.0.0.1", Port: freeClosedPort(t)}
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1"), dead}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"true"}, Host: "n1"})
	g.Add(&graph.Node{ID: "b", Kind: graph.Process, Argv: []string{"true"}, Host: "dead"})
	s := remote.New(g)
	s.SSH = env.SSH
	err := s.Connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dead (root@127.0.0.1 port") || !strings.Contains(err.Error(), "Connection refused") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "n1") {
		t.Fatalf("n1 was reachable: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("control directory left behind: %v", err)
	}
}

func freeClosedPort(t *testing.T) int {
	// A port that nothing listens on: one the kernel just handed out and
	// took back.
	for range 10 {
		p := 20000 + rand.IntN(30000)
		if _, err := (&netDialer{}).dial(p); err != nil {
			return p
		}
	}
	t.Fatal("no closed port")
	return 0
}

// A signal that arrives before the remote wrapper has registered its
// process group (here a timeout of 1ms, while the session is still
// starting) still ends the stage, and the program never runs.
func TestSignalBeforeTheStageRegistered(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	m := sshtest.Marker()
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "early", Kind: graph.Process, Argv: []string{"sh", "-c", "sleep 1000", m},
		Host: "n1", StdinNull: true, Timeout: time.Millisecond})
	res, _, errs := runGraph(t, env, g, "")
	pr := res.Procs[0]
	if !pr.TimedOut || pr.Status != 143 || pr.Remote == nil || !pr.Remote.Known || pr.Remote.Status != 143 {
		t.Fatalf("stage %+v remote %+v err %q", pr, pr.Remote, errs)
	}
	env.WaitGone(t, env.Servers[0], m)
}

// The user's ssh config applies, but a RemoteCommand in it would replace
// the stage's command: tubo's own sessions say RemoteCommand=none.
func TestUserConfigRemoteCommandDoesNotReplaceTheStage(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	cfg, err := os.ReadFile(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(t.TempDir(), "config")
	os.WriteFile(own, append(cfg, "\tRemoteCommand echo hijacked\n"...), 0o600)
	env.SSH = []string{"ssh", "-F", own}
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"echo", "the stage"}, Host: "n1", StdinNull: true})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 || out != "the stage\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
}

// A retried remote stage starts clean: the signal that ended its first
// run (a timeout's SIGTERM, kept by the agent for a stage that had not
// registered yet) does not stop the second; and each attempt is told its
// number (TUBO_ATTEMPT), as a local stage is. The first attempt never
// ends by itself, however slow the machine: only the timeout ends it.
func TestRetryAfterARemoteTimeout(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "r", Kind: graph.Process, Host: "n1", StdinNull: true,
		Argv:    []string{"sh", "-c", `if [ "$TUBO_ATTEMPT" = 2 ]; then echo "attempt $TUBO_ATTEMPT"; exit 0; fi; exec sleep 1000`},
		Timeout: time.Second, Retries: 1})
	res, out, errs := runGraph(t, env, g, "")
	pr := res.Procs[0]
	if res.Status != 0 || out != "attempt 2\n" || len(pr.Attempts) != 1 || pr.Attempts[0].Status != 143 {
		t.Fatalf("status %d, out %q, attempts %+v, err %q", res.Status, out, pr.Attempts, errs)
	}
}

// The user's ssh config is what reaches a host: here a ProxyCommand (a
// jump through the loopback server, which leaves a mark) to a namespaced
// one. The master goes through it; the stages' clients, which only use
// the master's socket (and say ProxyCommand=false so that they never
// connect by themselves), are not disturbed by it.
func TestUserConfigProxyIsRespected(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{Namespaced: 1})
	lo, h1 := env.Server("lo"), env.Server("h1")
	cfg, err := os.ReadFile(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mark := filepath.Join(dir, "proxied")
	own := filepath.Join(dir, "config")
	proxy := fmt.Sprintf("Host %s\n\tProxyCommand sh -c 'touch %s; exec ssh -F %s -W %%h:%%p -p %d root@%s'\n",
		h1.Addr, mark, env.Config, lo.Port, lo.Addr)
	os.WriteFile(own, append([]byte(proxy), cfg...), 0o600)
	env.SSH = []string{"ssh", "-F", own}
	g := &graph.Graph{Hosts: []*graph.Host{h1.Host("far")}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"echo", "far away"}, Host: "far", StdinNull: true})
	res, out, errs := runGraph(t, env, g, "")
	if res.Status != 0 || out != "far away\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatal("the connection did not go through the user's ProxyCommand")
	}
}
