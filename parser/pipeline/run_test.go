package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/stream"
)

func init() { executor.Builtins = stream.RunNode }

// binDir is the repository's bin/, where `make build` puts tubo and the
// example programs; tests that need them skip when it is not built.
func binDir(t *testing.T, progs ...string) string {
	t.Helper()
	dir, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Skipf("%s not built (run make build)", p)
		}
	}
	return dir
}

// runGraph plans and runs g with real processes and returns what they
// wrote on stdout and stderr.
func runGraph(t *testing.T, g *graph.Graph) (string, string, *executor.Result) {
	t.Helper()
	return runGraphWithin(t, g, 30*time.Second)
}

// runGraphWithin is runGraph with its own bound on the run.
func runGraphWithin(t *testing.T, g *graph.Graph, bound time.Duration) (string, string, *executor.Result) {
	t.Helper()
	dir := t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "stdout"))
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	defer out.Close()
	defer errf.Close()
	self := filepath.Join(binDir(t), "tubo")
	p, err := plan.Build(g, plan.Options{Self: self})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	res, err := executor.Run(ctx, p, executor.Options{Stdout: out, Stderr: errf, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return string(o), string(e), res
}

func loadFile(t *testing.T, path string, set ...string) *graph.Graph {
	t.Helper()
	g, err := Load(path, Options{Set: set})
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return g
}

func primesIn(lo, hi int) []string {
	var out []string
	for n := lo; n <= hi; n++ {
		if n < 2 {
			continue
		}
		prime := true
		for k := 2; k*k <= n; k++ {
			if n%k == 0 {
				prime = false
				break
			}
		}
		if prime {
			out = append(out, strconv.Itoa(n))
		}
	}
	return out
}

func TestRunPrimes(t *testing.T) {
	binDir(t, "esclavo")
	for _, workers := range []string{"1", "2", "3", "7"} {
		t.Run("workers="+workers, func(t *testing.T) {
			g := loadFile(t, "../../pipelines/primes.yaml", "workers="+workers)
			out, errs, res := runGraph(t, g)
			if res.Status != 0 {
				t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
			}
			got := strings.Fields(out)
			want := primesIn(1000, 2000)
			if len(got) != 135 || strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("got %d primes %v…; want the 135 primes of 1000–2000", len(got), got[:min(5, len(got))])
			}
		})
	}
}

func TestRunPrimesOtherRange(t *testing.T) {
	binDir(t, "esclavo")
	g := loadFile(t, "../../pipelines/primes.yaml", "lo=0", "hi=100", "workers=4")
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	if got, want := strings.Join(strings.Fields(out), " "), strings.Join(primesIn(0, 100), " "); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestRunFIFO(t *testing.T) {
	binDir(t, "fifo-producer", "fifo-consumer")
	g := loadFile(t, "../../pipelines/fifo.yaml", "producers=4")
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %q; want 4 messages", out)
	}
	for i := 0; i < 4; i++ {
		if !strings.Contains(out, "received: message from producer "+strconv.Itoa(i)+"\n") {
			t.Errorf("message %d missing from %q", i, out)
		}
	}
	if _, err := os.Stat(g.TempDir); !os.IsNotExist(err) {
		t.Errorf("private FIFO directory %s left behind", g.TempDir)
	}
}

func TestRunLssort(t *testing.T) {
	g := loadFile(t, "../../pipelines/lssort.yaml", "dir=testdata/lsdir")
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	if out != "a\nb\nc\n" {
		t.Errorf("got %q", out)
	}
}

func TestRunFanout(t *testing.T) {
	binDir(t, "tubo")
	copyPath := filepath.Join(t.TempDir(), "copy.txt")
	g := loadFile(t, "../../pipelines/fanout.yaml", "n=100", "out="+copyPath)
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	for _, want := range []string{"count: 100\n", "lines with a 7: 19\n", "first: 1\nfirst: 2\nfirst: 3\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	seq, _ := exec.Command("seq", "100").Output()
	if got, _ := os.ReadFile(copyPath); string(got) != string(seq) {
		t.Errorf("file copy holds %d bytes; want seq 100", len(got))
	}
}

func TestRunTextMerge(t *testing.T) {
	g := loadFile(t, "../../pipelines/textmerge.yaml", "n=200", "parts=4")
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	want, _ := exec.Command("seq", "0", "200").Output()
	if out != string(want) {
		t.Errorf("got %q…", out[:min(40, len(out))])
	}
}

func TestRunFds(t *testing.T) {
	g := loadFile(t, "../../pipelines/fds.yaml")
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d; stderr:\n%s", res.Status, errs)
	}
	if out != "alice 30\nbob 31\ncarol 32\n" {
		t.Errorf("got %q", out)
	}
}

// A hostile value reaches the program as exactly one argument, unchanged.
func TestRunHostileArgv(t *testing.T) {
	hostile := "a b; rm -rf / $(touch pwned) `x` 'q' \"d\" \n|& > out *"
	src := "params: {v: x}\nstages:\n  p:\n    run: [printf, '%s|', '{{v}}', 'pre-{{v}}']\n"
	g, err := LoadBytes("p.yaml", []byte(src), Options{Set: []string{"v=" + hostile}})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d: %s", res.Status, errs)
	}
	if want := hostile + "|pre-" + hostile + "|"; out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

// In a shell: line a substituted value is one quoted word: the shell
// prints it back verbatim and runs nothing it contains.
func TestRunHostileShell(t *testing.T) {
	binDir(t, "tubo")
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	for _, hostile := range []string{
		"plain",
		"a b",
		"x; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"'; touch " + marker + "; '",
		"\"$HOME\"",
		"line1\nline2",
		"tab\there",
		"*",
		"~",
		"",
	} {
		src := "params: {v: x}\nstages:\n  p:\n    shell: \"printf '%s|' {{v}}\"\n"
		g, err := LoadBytes("p.yaml", []byte(src), Options{Set: []string{"v=" + hostile}})
		if err != nil {
			t.Fatal(err)
		}
		out, errs, res := runGraph(t, g)
		if res.Status != 0 {
			t.Errorf("%q: status %d: %s", hostile, res.Status, errs)
			continue
		}
		if out != hostile+"|" {
			t.Errorf("%q: shell printed %q", hostile, out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%q ran a command", hostile)
		}
	}
}

// Stages wait for after: stages; env, cwd and files work.
func TestRunAfterEnvCwdFiles(t *testing.T) {
	dir := t.TempDir()
	src := `
params: {greeting: hello}
files:
  log: {path: log.txt, append: true}
stages:
  first:
    run: [sh, -c, 'echo "$GREETING from $(basename "$PWD")"']
    env: {GREETING: "{{greeting}}"}
    cwd: sub
    stdout: log
  second:
    run: [echo, second]
    after: [first]
    stdout: log
`
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	g, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, errs, res := runGraph(t, g)
	if res.Status != 0 {
		t.Fatalf("status %d: %s", res.Status, errs)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "log.txt"))
	if string(got) != "hello from sub\nsecond\n" {
		t.Errorf("log.txt = %q", got)
	}
}
