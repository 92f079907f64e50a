package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/runner"
)

// TestDoneWhen checks the lines that close the shell front end's issue.
func TestDoneWhen(t *testing.T) {
	t.Run("sort", func(t *testing.T) {
		got := runIn(t, t.TempDir(), `printf "b\na\n" | sort`, runner.Config{})
		if got.code != 0 || got.stdout != "a\nb\n" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("lp not found", func(t *testing.T) {
		var events []executor.Event
		cfg := runner.Config{Trace: func(e executor.Event) { events = append(events, e) }}
		got := runIn(t, t.TempDir(), `ls | sort | lp`, cfg)
		if got.code != 127 || got.stderr != "tubo: lp: command not found\n" {
			t.Errorf("got %+v", got)
		}
		// ls and sort were started and reaped.
		exited := map[string]bool{}
		for _, e := range events {
			if e.Kind == "exit" {
				exited[e.Node] = true
			}
		}
		if !exited["ls"] || !exited["sort"] {
			t.Errorf("exits traced: %v", exited)
		}
	})
	t.Run("command substitution", func(t *testing.T) {
		got := runIn(t, t.TempDir(), `echo $(echo hi | tr a-z A-Z) > out; cat < out`, runner.Config{})
		if got.code != 0 || got.stdout != "HI\n" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		err := runner.New(runner.Config{}).Run(t.Context(), "echo ok; echo (")
		var ee *executor.ExitError
		if !errors.As(err, &ee) || ee.Status != 2 || ee.Err == nil || !regexp.MustCompile(`^1:\d+: `).MatchString(ee.Err.Error()) {
			t.Errorf("got %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	if err := runner.Check("", "a | b && (c; d) > f 2>&1"); err != nil {
		t.Errorf("supported line rejected: %v", err)
	}
	err := runner.Check("script.sh", "echo a\n\nselect x in a; do :; done")
	if err == nil || err.Error() != "script.sh:3:1: select loops are not supported" {
		t.Errorf("got %v", err)
	}
}

// TestConfig covers Name ($0 and positions), Args, Errexit and Pipefail.
func TestConfig(t *testing.T) {
	dir := t.TempDir()
	got := runIn(t, dir, `echo $0 $# "$2"; false | true; echo st=$?`, runner.Config{Name: "s.sh", Args: []string{"a", "b c"}, Pipefail: true})
	if got.stdout != "s.sh 2 b c\nst=1\n" {
		t.Errorf("got %+v", got)
	}
	got = runIn(t, dir, `false; echo no`, runner.Config{Errexit: true})
	if got.code != 1 || got.stdout != "" {
		t.Errorf("errexit: got %+v", got)
	}
	got = runIn(t, dir, "echo ok\nselect x in y; do :; done", runner.Config{Name: "s.sh"})
	if got.code != 2 || got.stdout != "" || got.stderr != "s.sh:2:1: select loops are not supported\n" {
		t.Errorf("positions: got %+v", got)
	}
}

// TestRunKeepsState: variables, options and the directory carry over
// from one Run to the next, as lines typed into one shell.
func TestRunKeepsState(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	out, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	defer out.Close()
	r := runner.New(runner.Config{Dir: dir, Stdout: out, Env: []string{"PATH=" + fixedPath}, Self: tubo})
	for _, line := range []string{`x=1; cd sub`, `set -o pipefail`, `echo $x; pwd; false | true`} {
		r.Run(t.Context(), line)
	}
	b, _ := os.ReadFile(out.Name())
	if want := "1\n" + filepath.Join(dir, "sub") + "\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}

func TestPipelines(t *testing.T) {
	dir := t.TempDir()
	r := runner.New(runner.Config{Dir: dir, Env: []string{"HOME=/home/u", "PATH=" + fixedPath}})
	src := "ls -l ~ | sort -k2 > out; X=v; echo $(date) \"$X\" | cat | cat\n" +
		"false && sh -c 'echo e >&2' |& grep e; (cd /tmp) | cat; cd sub"
	gs, err := r.Pipelines(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range gs {
		got = append(got, describe(g))
	}
	want := []string{
		"ls[ls -l /home/u] → sort[sort -k2 1>out]",
		"echo[tubo --shell-stage] → cat[cat] → cat#2[cat]",
		"sh[sh -c echo e >&2 2>&1] → grep[grep e]",
		"()[tubo --shell-stage] → cat[cat]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Positions: the |& redirection and the edge point at the operator.
	g := gs[2]
	line2 := strings.Split(src, "\n")[1]
	if p := g.Edges[0].Pos; p.Line != 2 || p.Col != strings.Index(line2, "|&")+1 {
		t.Errorf("edge pos %v", p)
	}
	if rd := g.Nodes[0].Redirs[0]; rd.Kind != graph.Dup || rd.FD != 2 || rd.Src != 1 || rd.Pos != g.Edges[0].Pos {
		t.Errorf("|& redir %+v", rd)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("Pipelines created a file")
	}
	if _, err := r.Pipelines("select x in a; do :; done"); err == nil || !regexp.MustCompile(`^1:1: select`).MatchString(err.Error()) {
		t.Errorf("unsupported: %v", err)
	}
}

// describe prints a linear graph as "id[argv redirs] → …".
func describe(g *graph.Graph) string {
	var parts []string
	for _, n := range g.Nodes {
		argv := strings.Join(n.Argv, " ")
		if len(n.Argv) == 3 && n.Argv[1] == runner.StageArg {
			// A shell stage: tubo re-executed, its state on a pipe.
			argv = "tubo " + runner.StageArg
		}
		for _, rd := range n.Redirs {
			if rd.Kind == graph.Data && len(n.Argv) == 3 && n.Argv[1] == runner.StageArg && rd.FD == atoi(n.Argv[2]) {
				continue
			}
			argv += " " + rd.String()
		}
		parts = append(parts, n.ID+"["+argv+"]")
	}
	return strings.Join(parts, " → ")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
