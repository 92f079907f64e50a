package report_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/report"
)

func TestBytesWritten(t *testing.T) {
	g := &graph.Graph{Name: "zeros"}
	g.Add(proc("head", "head", "-c", "1000000", "/dev/zero"))
	g.Add(proc("wc", "wc", "-c"))
	g.Add(&graph.Node{ID: "count", Kind: graph.File, Path: filepath.Join(t.TempDir(), "count")})
	pipe(g, "head", "wc")
	pipe(g, "wc", "count")
	r := run(t, g)
	head := r.Stage("head")
	if head.State != report.Exited || head.Status != 0 || !head.IOKnown {
		t.Fatalf("head: %+v", head)
	}
	if head.Written != 1000000 {
		t.Errorf("head wrote %d bytes, want 1000000", head.Written)
	}
	if head.Pid == 0 || head.Wall <= 0 || head.MaxRSS <= 0 {
		t.Errorf("head: pid %d wall %v maxrss %d", head.Pid, head.Wall, head.MaxRSS)
	}
	if wc := r.Stage("wc"); wc.Read < 1000000 {
		t.Errorf("wc read %d bytes, want at least 1000000", wc.Read)
	}
	if len(r.Edges) != 2 {
		t.Fatalf("edges: %+v", r.Edges)
	}
	e := r.Edges[0]
	if e.From != "head:1" || e.To != "wc:0" || e.Via != "pipe" || e.Basis != report.WriterWchar || e.Bytes != 1000000 {
		t.Errorf("edge head → wc: %+v", e)
	}
	if e := r.Edges[1]; e.Via != "file" || e.To != "count" || e.Basis != report.WriterWchar || e.Bytes != 8 {
		t.Errorf("edge wc → count: %+v", e) // "1000000\n"
	}
	var b bytes.Buffer
	report.Text(&b, r)
	for _, want := range []string{"STAGE", "head", "976.6KiB", "?      unknown; its writer wrote 976.6KiB in all (wchar)", "exit 0", "run: status 0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
	validate(t, r)
	b.Reset()
	report.Short(&b, r)
	if b.Len() != 0 {
		t.Errorf("Short wrote %q for a run that succeeded", b.String())
	}
}

func TestCPUTime(t *testing.T) {
	g := &graph.Graph{}
	g.Add(proc("burn", "sh", "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`))
	r := run(t, g)
	s := r.Stage("burn")
	if s.User < 50*time.Millisecond {
		t.Errorf("user CPU %v, want > 0.05s", s.User)
	}
	if r.User < s.User {
		t.Errorf("run user CPU %v < stage's %v", r.User, s.User)
	}
	validate(t, r)
}

func TestSIGPIPE(t *testing.T) {
	g := &graph.Graph{}
	g.Add(proc("yes", "yes"))
	g.Add(proc("head", "head", "-n", "1"))
	pipe(g, "yes", "head")
	r := run(t, g)
	s := r.Stage("yes")
	if s.State != report.Signaled || s.Signal != syscall.SIGPIPE || s.Describe() != "SIGPIPE" || s.Status != 141 {
		t.Errorf("yes: %+v", s)
	}
	var b bytes.Buffer
	report.Text(&b, r)
	if !strings.Contains(b.String(), "SIGPIPE") {
		t.Errorf("text lacks SIGPIPE:\n%s", b.String())
	}
	j := jsonOf(t, r)
	if !strings.Contains(j, `"signal": "SIGPIPE"`) || !strings.Contains(j, `"status": 141`) {
		t.Errorf("JSON lacks the signal:\n%s", j)
	}
	validate(t, r)
}

func TestKillRest(t *testing.T) {
	g := &graph.Graph{OnFailure: graph.KillRest}
	g.Add(proc("sleeper", "sleep", "10"))
	g.Add(proc("fails", "sh", "-c", "sleep 0.1; exit 3"))
	r := run(t, g)
	if r.FirstFailure != "fails" || !r.Failed() {
		t.Fatalf("first failure %q", r.FirstFailure)
	}
	s := r.Stage("sleeper")
	if !s.KilledByTubo || s.Signal != syscall.SIGTERM || s.State != report.Signaled {
		t.Errorf("sleeper: %+v", s)
	}
	var b bytes.Buffer
	report.Short(&b, r)
	want := `^tubo: fails failed: exit 3 after [0-9.]+s; sleeper killed by tubo \(SIGTERM\)\n$`
	matches(t, b.String(), want)
	validate(t, r)
}

func TestTimeout(t *testing.T) {
	g := &graph.Graph{}
	n := g.Add(proc("slow", "sleep", "10"))
	n.Timeout = 100 * time.Millisecond
	r := run(t, g)
	s := r.Stage("slow")
	if !s.TimedOut || !s.KilledByTubo || s.Signal != syscall.SIGTERM {
		t.Errorf("slow: %+v", s)
	}
	var b bytes.Buffer
	report.Short(&b, r)
	matches(t, b.String(), `^tubo: slow timed out after [0-9.]+s \(killed by SIGTERM\)\n$`)
	report.Text(&b, r)
	if !strings.Contains(b.String(), "timed out, killed by tubo") {
		t.Errorf("text lacks the timeout:\n%s", b.String())
	}
	validate(t, r)
}

func TestNotStartedAndSkipped(t *testing.T) {
	g := &graph.Graph{}
	g.Add(proc("missing", "tubo-no-such-command"))
	later := g.Add(proc("later", "true"))
	later.After = []string{"missing"}
	r := run(t, g)
	m := r.Stage("missing")
	if m.State != report.NotStarted || m.Status != 127 || !strings.Contains(m.Reason, "command not found") {
		t.Errorf("missing: %+v", m)
	}
	l := r.Stage("later")
	if l.State != report.Skipped || l.Reason != "after: missing failed" {
		t.Errorf("later: %+v", l)
	}
	var b bytes.Buffer
	report.Short(&b, r)
	matches(t, b.String(), `^tubo: missing failed: not started: tubo-no-such-command: command not found\ntubo: later skipped \(after: missing failed\)\n$`)
	j := jsonOf(t, r)
	if !strings.Contains(j, `"not_started": true`) || !strings.Contains(j, `"skipped": true`) || !strings.Contains(j, `"pid": null`) {
		t.Errorf("JSON:\n%s", j)
	}
	validate(t, r)
}

func TestTeeBytes(t *testing.T) {
	g := &graph.Graph{}
	const n = 5 << 20
	g.Add(proc("src", "head", "-c", fmt.Sprint(n), "/dev/zero"))
	g.Add(&graph.Node{ID: "t", Kind: graph.Tee})
	g.Add(proc("a", "wc", "-c"))
	g.Add(proc("b", "head", "-c", "100"))
	pipe(g, "src", "t")
	pipe(g, "t", "a")
	pipe(g, "t", "b")
	r := run(t, g)
	if len(r.Builtins) != 1 || r.Builtins[0].BytesIn != n {
		var b bytes.Buffer
		report.Text(&b, r)
		t.Fatalf("builtins: %+v\n%s", *r.Builtins[0], b.String())
	}
	// Every edge at the tee is counted exactly, each output on its own:
	// b left after 100 bytes, so its edge carried less than a's.
	for _, e := range r.Edges {
		if e.Basis != report.Exact {
			t.Errorf("edge %s → %s: basis %s, want exact", e.From, e.To, e.Basis)
		}
	}
	if r.Edges[0].Bytes != n || r.Edges[1].Bytes != n {
		t.Errorf("tee input %d, output to a %d bytes; want %d each", r.Edges[0].Bytes, r.Edges[1].Bytes, n)
	}
	if b := r.Edges[2].Bytes; b < 100 || b >= n {
		t.Errorf("output to b (left after 100 bytes): %d bytes", b)
	}
	validate(t, r)
}

func TestShortInterrupted(t *testing.T) {
	r := &report.Report{
		Status: 130, Signal: syscall.SIGINT, Wall: 1500 * time.Millisecond, FirstFailure: "a",
		Stages: []*report.Stage{
			{Node: "a", State: report.Signaled, Status: 130, Signal: syscall.SIGINT, FirstFailure: true},
			{Node: "b", State: report.Signaled, Status: 130, Signal: syscall.SIGINT},
		},
	}
	var b bytes.Buffer
	report.Short(&b, r)
	matches(t, b.String(), `^tubo: interrupted by SIGINT after 1\.50s; a killed by SIGINT, b killed by SIGINT\n$`)
}

func TestShortManyKilled(t *testing.T) {
	r := &report.Report{Status: 3, FirstFailure: "w[0]"}
	r.Stages = append(r.Stages, &report.Stage{Node: "w[0]", State: report.Exited, Status: 3, FirstFailure: true, Wall: 120 * time.Millisecond})
	for _, id := range []string{"w[1]", "w[2]", "w[3]", "w[4]", "w[5]", "w[6]"} {
		r.Stages = append(r.Stages, &report.Stage{Node: id, State: report.Signaled, Status: 143, Signal: syscall.SIGTERM, KilledByTubo: true})
	}
	var b bytes.Buffer
	report.Short(&b, r)
	matches(t, b.String(), `^tubo: w\[0\] failed: exit 3 after 0\.12s; w\[1\] killed by tubo \(SIGTERM\), w\[2\] killed by tubo \(SIGTERM\), w\[3\] killed by tubo \(SIGTERM\), w\[4\] killed by tubo \(SIGTERM\) and 2 more\n$`)
}

func TestBytesFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 1000000: "976.6KiB", 50000000: "47.7MiB", -1: "?"} {
		if got := report.Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
