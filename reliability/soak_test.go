package reliability

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// children counts the processes (zombies included) whose parent is the
// test process.
func children() int {
	ents, _ := os.ReadDir("/proc")
	me := os.Getpid()
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == me {
				n++
			}
		}
	}
	return n
}

// soakOnce runs `printf x | cat` through graph → plan.Build →
// executor.Run, with stdout captured into a pipe.
func soakOnce(t *testing.T, null *os.File) {
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "printf", Argv: []string{"printf", "x"}})
	g.Add(&graph.Node{ID: "cat", Argv: []string{"cat"}})
	g.Connect(graph.Endpoint{Node: "printf", FD: 1}, graph.Endpoint{Node: "cat", FD: 0}, graph.Pos{})
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), p, executor.Options{Stdin: null, Stdout: w, Stderr: null})
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	r.Close()
	if res.Status != 0 || string(out) != "x" {
		t.Fatalf("status %d, output %q", res.Status, out)
	}
}

// TestSoak runs TUBO_SOAK (default 300) pipelines back to back through
// the executor API and checks that descriptors, goroutines, children and
// heap do not grow.
func TestSoak(t *testing.T) {
	n := 300
	if s := os.Getenv("TUBO_SOAK"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("TUBO_SOAK=%q: want a positive count", s)
		}
		n = v
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	// Warm up: the spawner thread and one-time allocations.
	for range 20 {
		soakOnce(t, null)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	fds := countFDs(t)

	for i := range n {
		soakOnce(t, null)
		if i%500 == 499 {
			if c := countFDs(t); c > fds+4 {
				t.Fatalf("after %d runs: %d fds open, %d at start", i+1, c, fds)
			}
		}
	}

	// A pidfd or a timer may hold on for a moment after Run returns.
	if !eventually(5*time.Second, func() bool { return countFDs(t) <= fds }) {
		t.Errorf("after %d runs: %d fds open, %d at start", n, countFDs(t), fds)
	}
	if !eventually(5*time.Second, func() bool { return children() == 0 }) {
		t.Errorf("after %d runs: %d children of the test (unreaped or alive)", n, children())
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Slack for the GC's pacing and the race detector; a leak of even
	// 1 KiB per run shows at full size (5000 runs).
	if slack := before.HeapInuse/4 + 4<<20; after.HeapInuse > before.HeapInuse+slack {
		t.Errorf("heap in use grew from %d to %d bytes over %d runs", before.HeapInuse, after.HeapInuse, n)
	}
	t.Logf("%d runs: fds %d, heap in use %d → %d bytes", n, countFDs(t), before.HeapInuse, after.HeapInuse)
	goleak.VerifyNone(t,
		// The executor forks on one locked thread for the life of the
		// process (Pdeathsig, see executor/spawn.go).
		goleak.IgnoreTopFunction("github.com/tubo-pipes/tubo/executor.spawner"),
	)
}
