package pipeline

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/split"
)

// Hostile inputs are refused quickly and without much memory.
func TestHostileFiles(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'z'; i++ {
		prev := string(i - 1)
		bomb += string(i) + ": &" + string(i) + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
	}
	bomb += "stages: {p: {run: [echo, *z]}}\n"
	tests := []struct {
		name, src, want string
	}{
		{"alias bomb", bomb, "too many aliases (more than 32)"},
		{"alias as argv list", "x: &l [a, b]\nstages: {p: {run: [echo, *l]}}\n", "p.yaml:1:1: pipeline: unknown key \"x\""},
		{"huge", "stages: {p: {run: [echo]}}\n#" + strings.Repeat("x", MaxFileSize), "file is 1048604 bytes; pipeline files are limited to 1048576 bytes"},
		{"deep flow", "stages: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", "nesting deeper than 32 levels"},
		{"deep block", "stages:\n" + deepBlock(200), "nesting deeper than 32 levels"},
		{"duplicate top key", "stages: {p: {run: [a]}}\nstages: {q: {run: [b]}}\n", `p.yaml:2:1: pipeline: duplicate key "stages" (first at line 1)`},
		{"duplicate param", "params: {a: 1, a: 2}\nstages: {p: {run: [a]}}\n", `p.yaml:1:16: params: duplicate key "a" (first at line 1)`},
		{"many nodes", "stages: {p: {run: [" + strings.Repeat("x,", 120000) + "x]}}\n", "too many YAML nodes (more than 100000)"},
		{"NUL byte", "stages: {p: {run: [a\x00]}}\n", "file contains a NUL byte; pipeline files are text"},
		{"replica bomb", "params: {n: 5}\nstages: {p: {run: [a], replicas: '{{n}}'}}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := load(t, tt.src)
			took := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want it to contain %q", got, tt.want)
			}
			if took > 2*time.Second {
				t.Errorf("took %s", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
	if _, err := load(t, "params: {n: 5}\nstages: {p: {run: [a], replicas: '{{n}}'}}\n", "n=1000000"); err == nil || !strings.Contains(err.Error(), "replicas: 1000000 is outside 1–4096") {
		t.Errorf("a million replicas: %v", err)
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", 2*(i+1)) + "k:\n")
	}
	return b.String()
}

func TestLoadRefusesHugeFileBeforeReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, make([]byte, 2*MaxFileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "pipeline files are limited to") {
		t.Fatalf("got %v", err)
	}
}

func TestFIFOPathIsRegularFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "chan"), []byte("x"), 0o644)
	src := "fifos:\n  c: {path: chan}\nstages:\n  p: {run: [echo, '{{fifo.c}}']}\n"
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	_, err := Load(path, Options{SkipLookup: true})
	want := path + ":2:13: fifo c: " + filepath.Join(dir, "chan") + " exists and is not a FIFO (it is a regular file); remove it or choose another path"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestMissingProgram(t *testing.T) {
	src := "path: [nowhere]\nstages:\n  p:\n    run: [no-such-program-tubo, x]\n"
	_, err := LoadBytes("p.yaml", []byte(src), Options{Env: []string{"PATH=/nonexistent"}})
	want := "p.yaml:4:11: stage p: no-such-program-tubo: command not found (searched " + filepath.Join(mustAbs(t, "."), "nowhere") + " and $PATH; are the programs built?)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true}); err != nil {
		t.Errorf("SkipLookup: %v", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Replicas with split get contiguous parts covering [lo, hi] whose sizes
// differ by at most one, the larger ones first.
func TestSplitParts(t *testing.T) {
	cases := [][3]int64{{1000, 2000, 2}, {1, 10, 3}, {0, 0, 1}, {-50, 50, 7}, {5, 9, 5}, {0, 1 << 40, 13}, {-(1 << 62), 1 << 62, 64}}
	for _, c := range cases {
		src := "params: {lo: 0, hi: 0, n: 1}\nstages:\n  w: {run: [w, '{{part.lo}}', '{{part.hi}}', '{{replica}}/{{replicas}}'], replicas: '{{n}}', split: {lo: '{{lo}}', hi: '{{hi}}'}}\n"
		g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true, Set: []string{"lo=" + itoa(c[0]), "hi=" + itoa(c[1]), "n=" + itoa(c[2])}})
		if err != nil {
			t.Fatal(err)
		}
		want := split.Range(c[0], c[1], int(c[2]))
		var minSize, maxSize uint64 = 1<<64 - 1, 0
		next := c[0]
		for i, n := range g.Nodes {
			lo, hi := atoi(t, n.Argv[1]), atoi(t, n.Argv[2])
			if lo != next || hi < lo || [2]int64{lo, hi} != want[i] {
				t.Fatalf("%v: part %d is [%d, %d]; previous ended at %d", c, i, lo, hi, next-1)
			}
			size := uint64(hi-lo) + 1
			if size > 0 && i > 0 && size > maxSize {
				t.Fatalf("%v: part %d is larger than an earlier one", c, i)
			}
			minSize, maxSize = min(minSize, size), max(maxSize, size)
			next = hi + 1
			if n.Argv[3] != itoa(int64(i))+"/"+itoa(c[2]) || n.ID != "w["+itoa(int64(i))+"]" || n.Replicas != int(c[2]) || n.Group != "w" {
				t.Fatalf("%v: replica %d: argv %q id %s", c, i, n.Argv, n.ID)
			}
		}
		if next-1 != c[1] || maxSize-minSize > 1 {
			t.Fatalf("%v: parts end at %d; sizes %d–%d", c, next-1, minSize, maxSize)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct{ set, want string }{
		{"lo=10", "p.yaml:4:54: stage w: split: lo 10 is greater than hi 5"},
		{"n=9", "p.yaml:4:54: stage w: split: [0, 5] holds 6 numbers, fewer than the 9 replicas; use at most 6 replicas"},
		{"n=0", "p.yaml:4:38: stage w: replicas: 0 is outside 1–4096"},
		{"hi=3000000000", "p.yaml:4:54: stage w: split: [0, 3000000000] does not fit the int32 records of merge m (-2147483648 to 2147483647)"},
	}
	src := "params: {lo: 0, hi: 5, n: 2}\nmerges: {m: {mode: ordered, record: int32, to: c}}\nstages:\n  w: {run: [w], stdout: m, replicas: '{{n}}', split: {lo: '{{lo}}', hi: '{{hi}}'}}\n  c: {run: [cat]}\n"
	for _, tt := range tests {
		_, err := load(t, src, tt.set)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v\nwant %s", tt.set, err, tt.want)
		}
	}
}

// split: cost gives parts of equal cost for a per-number cost x^k: the
// parts are split.Weighted's, contiguous, and wider at the bottom.
func TestSplitCost(t *testing.T) {
	tests := []struct {
		cost string
		k    float64
	}{{"even", 0}, {"sqrt", 0.5}, {"linear", 1}, {"1.5", 1.5}, {"'{{k}}'", 0.25}}
	for _, tt := range tests {
		src := "params: {k: 0.25}\nstages:\n  w: {run: [w, '{{part.lo}}', '{{part.hi}}'], replicas: 4, split: {lo: 1, hi: 1000000, cost: " + tt.cost + "}}\n"
		g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true})
		if err != nil {
			t.Fatalf("cost %s: %v", tt.cost, err)
		}
		want := split.Weighted(1, 1000000, 4, tt.k)
		for i, n := range g.Nodes {
			if got := [2]int64{atoi(t, n.Argv[1]), atoi(t, n.Argv[2])}; got != want[i] {
				t.Errorf("cost %s: part %d is %v, want %v", tt.cost, i, got, want[i])
			}
		}
		if first := want[0][1] - want[0][0]; tt.k > 0 && first <= want[3][1]-want[3][0] {
			t.Errorf("cost %s: parts %v; want the first wider than the last", tt.cost, want)
		}
	}
	errs := []struct{ src, want string }{
		{"stages:\n  w: {run: [w], replicas: 2, split: {lo: 1, hi: 9, cost: cubic}}\n",
			`p.yaml:2:58: stage w: split: cost "cubic" is not even, sqrt, linear or a number from 0 to 8 (k in a cost of x^k per number x)`},
		{"stages:\n  w: {run: [w], replicas: 2, split: {lo: 1, hi: 9, cost: 9}}\n",
			`p.yaml:2:58: stage w: split: cost "9" is not even, sqrt, linear or a number from 0 to 8 (k in a cost of x^k per number x)`},
		{"stages:\n  w: {run: [w], replicas: 2, split: {lo: -5, hi: 9, cost: sqrt}}\n",
			"p.yaml:2:59: stage w: split: cost sqrt needs lo ≥ 0 (lo is -5); use cost: even for a range below zero"},
	}
	for _, tt := range errs {
		if got, err := load(t, tt.src); err == nil || got != tt.want {
			t.Errorf("got %v\nwant %s", got, tt.want)
		}
	}
}

// replicas: goes up to MaxReplicas (4096), and a run of that many copies
// of a stage into one merge really starts, runs and reaps them all
// (issue 15 item 6: 2000 was refused). Under the race detector the load
// alone is checked: 4096 forks of a race-instrumented tubo take minutes.
func TestManyReplicas(t *testing.T) {
	src := "stages:\n  w: {run: [echo, '{{replica}}'], replicas: 4096, stdout: all}\n  count: {run: [wc, -l]}\nmerges:\n  all: {mode: concat, to: count}\n"
	g, err := LoadBytes("p.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.Nodes); n != 4096+2 {
		t.Fatalf("%d nodes, want 4098", n)
	}
	if raceEnabled {
		return
	}
	stdout, errs, res := runGraphWithin(t, g, 3*time.Minute)
	if res.Status != 0 || strings.TrimSpace(stdout) != "4096" {
		t.Fatalf("status %d, stdout %q, stderr %.500q", res.Status, stdout, errs)
	}
}

// A scatter to 4096 replicas that a merge reassembles loads: the diamond
// check once went over every pair of the scatter's outputs for every
// node, 4096² × 4098 steps (found by TestLoadMutants, as a hang).
func TestWideScatterLoads(t *testing.T) {
	src := `merges: {m: {mode: reassemble, to: s}}
stages:
  src: {run: [seq, "10"]}
  w: {run: [cat], replicas: 4096, scatter: {by: lines, size: 1}, stdin: src, stdout: m}
  s: {run: [cat]}
`
	g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true})
	if err != nil {
		t.Fatal(err)
	}
	// seq, the scatter, 4096 copies of cat, the merge and the last cat.
	if n := len(g.Nodes); n != 4096+4 {
		t.Fatalf("%d nodes, want 4100", n)
	}
}

func itoa(x int64) string { return strconvFormat(x) }

// A small file whose placeholders multiply (a long param used many times
// in many replicas) is refused at the placeholder that crosses the bound,
// quickly and without the gigabytes it asks for (issue 9 item 11).
func TestExpansionBomb(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"argv", "params: {p: '" + strings.Repeat("x", 4000) + "'}\nstages:\n  a: {run: [echo, '" + strings.Repeat("{{p}}", 400) + "'], replicas: 1024}\n",
			"p.yaml:3:"},
		{"shell", "params: {p: '" + strings.Repeat("x", 4000) + "'}\nstages:\n  a: {shell: 'echo " + strings.Repeat("{{p}}", 400) + "', replicas: 1024}\n",
			"p.yaml:3:"},
		{"spread", "params: {l: [" + strings.Repeat("aaaaaaaaaaaaaaaa,", 5000) + "b]}\nstages:\n  a: {run: [echo, '{{l...}}', '{{l...}}', '{{l...}}', '{{l...}}'], replicas: 1024}\n",
			"p.yaml:3:"},
		{"env", "params: {p: '" + strings.Repeat("x", 4000) + "'}\nstages:\n  a: {run: [echo], env: {A: '" + strings.Repeat("{{p}}", 400) + "'}, replicas: 1024}\n",
			"p.yaml:3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := load(t, tt.src)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "placeholders expand to more than 16 MiB") {
				t.Fatalf("got %.300q; want an expansion error at %s", got, tt.want)
			}
			if n := strings.Count(got, "\n"); n > 0 {
				t.Errorf("%d more errors after the first; want the bound reported once:\n%.500s", n, got)
			}
			if took > 5*time.Second {
				t.Errorf("took %s", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}
