package pipeline

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/internal/mutants"
)

func strconvFormat(x int64) string { return strconv.FormatInt(x, 10) }

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	x, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// FuzzLoad feeds arbitrary files and --set values to the loader: it may
// refuse them, but must never panic, hang or return a graph that fails
// validation.
func FuzzLoad(f *testing.F) {
	for _, s := range loadSeeds() {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, data []byte, set string) { checkLoad(t, data, set) })
}

// TestLoadMutants is FuzzLoad on a fixed sequence of mutants
// (internal/mutants): the same inputs on every run.
func TestLoadMutants(t *testing.T) {
	mutants.Run(t, mutants.Count(t, 1000), mutants.Target{
		Name:  "FuzzLoad",
		Seeds: loadSeeds(),
		Dict:  mutants.YAML,
		Types: []string{"[]byte", "string"},
		Check: func(t *testing.T, args []string) { checkLoad(t, []byte(args[0]), args[1]) },
	})
}

// loadSeeds gives the shipped pipelines, the valid test files and a few
// lines, each with a --set value.
func loadSeeds() [][]string {
	var out [][]string
	seeds, _ := filepath.Glob("../../pipelines/*.yaml")
	more, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			out = append(out, []string{string(data), "workers=3"})
		}
	}
	for _, s := range []string{
		"stages: {a: {run: [echo, '{{x}}']}}",
		"hosts: {n1: 2/me@h:22, n2: {ssh: x, slots: 3, options: [-v]}, local: {slots: 1}}\nstages: {a: {run: [x], replicas: 4, on: [n1, n2, local]}, b: {run: [y], on: all, stdin: a}}",
		"stages: {a: {run: [cat], stdin: a}}",
		"params: {l: [a]}\nstages: {a: {shell: 'echo {{l...}}'}}",
		"stages: {a: {run: [seq, 3], stdout: [b, c]}, b: {run: [cat]}, c: {run: [cat]}}",
		"x: &a [*a]\nstages: {a: {run: [x]}}",
		"stages: {a: {run: [x], fds: {3: a, n: {to: b}}}, b: {run: [y]}}",
		"edges: ['a -> b -> c']\nstages: {a: {run: [x]}, b: {run: [x]}, c: {run: [x]}}",
	} {
		out = append(out, []string{s, "x=1"})
	}
	return out
}

func checkLoad(t *testing.T, data []byte, set string) {
	start := time.Now()
	g, err := LoadBytes("fuzz.yaml", data, Options{Set: []string{set}, SkipLookup: true, TempDir: "/tmp/tubo-fuzz"})
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	if err == nil && g == nil {
		t.Fatal("nil graph without an error")
	}
}
