package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// line builds a linear pipeline graph: argv[0] | argv[1] | …
func line(stages ...[]string) *graph.Graph {
	g := &graph.Graph{}
	for i, argv := range stages {
		g.Add(&graph.Node{ID: fmt.Sprintf("s%d", i), Argv: argv})
		if i > 0 {
			g.Connect(graph.Endpoint{Node: fmt.Sprintf("s%d", i-1), FD: 1}, graph.Endpoint{Node: fmt.Sprintf("s%d", i), FD: 0}, graph.Pos{})
		}
	}
	return g
}

type run struct {
	res            *executor.Result
	stdout, stderr string
}

// exec plans and runs g with stdout and stderr captured in files.
func exec(t *testing.T, g *graph.Graph, opt executor.Options) run {
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
	opt.Stdout, opt.Stderr = out, errf
	if opt.Stdin == nil {
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		// Closed here, not by a finalizer at some later GC, or the next
		// run's fd count would change under it.
		defer null.Close()
		opt.Stdin = null
	}
	before := openFDs(t)
	res, err := executor.Run(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	// A pidfd can outlive Wait by a moment when a timer's Signal still
	// holds it; what matters is that the count comes back. Fewer than
	// before is no leak of this run: a descriptor of an earlier test
	// (such a pidfd) may close while this one runs.
	after := openFDs(t)
	for deadline := time.Now().Add(2 * time.Second); after > before && time.Now().Before(deadline); after = openFDs(t) {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		t.Errorf("tubo holds %d fds after the run, %d before", after, before)
	}
	for _, pr := range res.Procs {
		if pr.Pid != 0 && syscall.Kill(pr.Pid, 0) == nil {
			t.Errorf("%s (pid %d) still exists after the run", pr.Node.ID, pr.Pid)
		}
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return run{res, string(o), string(e)}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestPipelineSorts(t *testing.T) {
	r := exec(t, line([]string{"printf", `b\na\n`}, []string{"sort"}), executor.Options{})
	if r.stdout != "a\nb\n" || r.res.Status != 0 {
		t.Fatalf("got %q status %d, want a b status 0", r.stdout, r.res.Status)
	}
	for _, pr := range r.res.Procs {
		if pr.Usage == nil || !pr.IO.Valid {
			t.Errorf("%s: no rusage or /proc io recorded", pr.Node.ID)
		}
	}
	if w := r.res.Procs[0].IO.Wchar; w != 4 {
		t.Errorf("printf wrote %d bytes by /proc/PID/io, want 4", w)
	}
}

func TestYesHeadEndsAtOnce(t *testing.T) {
	start := time.Now()
	r := exec(t, line([]string{"yes"}, []string{"head", "-n", "1"}), executor.Options{})
	if r.stdout != "y\n" || r.res.Status != 0 {
		t.Fatalf("got %q status %d", r.stdout, r.res.Status)
	}
	if got := r.res.Procs[0].Signal; got != syscall.SIGPIPE {
		t.Errorf("yes ended with signal %v, want SIGPIPE (children must start with default dispositions)", got)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("yes | head took %s: a pipe end leaked", d)
	}
}

func TestNotFoundReapsTheRest(t *testing.T) {
	g := line([]string{"ls"}, []string{"sort"}, []string{"tubo-no-such-command-lp"})
	r := exec(t, g, executor.Options{})
	if r.res.Status != executor.StatusNotFound {
		t.Errorf("status %d, want 127", r.res.Status)
	}
	if want := "tubo: tubo-no-such-command-lp: command not found\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	for _, pr := range r.res.Procs[:2] {
		if pr.Pid == 0 || pr.End.IsZero() {
			t.Errorf("%s was not started and reaped", pr.Node.ID)
		}
	}
}

func TestStatuses(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	tests := []struct {
		name     string
		g        *graph.Graph
		pipefail bool
		want     executor.Status
	}{
		{"exit code", line([]string{"sh", "-c", "exit 3"}), false, 3},
		{"last stage wins", line([]string{"false"}, []string{"true"}), false, 0},
		{"pipefail", line([]string{"false"}, []string{"true"}), true, 1},
		{"not executable", line([]string{noexec}), false, 126},
		{"directory", line([]string{dir}), false, 126},
		{"killed by signal", line([]string{"sh", "-c", "kill -SEGV $$"}), false, 128 + 11},
		{"sigpipe under pipefail", line([]string{"yes"}, []string{"head", "-c1"}), true, 141},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.g.Pipefail = tt.pipefail
			r := exec(t, tt.g, executor.Options{})
			if r.res.Status != tt.want {
				t.Errorf("status %d, want %d (stderr %q)", r.res.Status, tt.want, r.stderr)
			}
		})
	}
}

func TestIgnoreSIGPIPE(t *testing.T) {
	g := line([]string{"yes"}, []string{"head", "-c1"})
	g.Pipefail, g.IgnoreSIGPIPE, g.OnFailure = true, true, graph.KillRest
	r := exec(t, g, executor.Options{})
	if r.res.Status != 0 || r.res.Failed != nil {
		t.Errorf("status %d, failed %v: a SIGPIPE upstream of a finished reader is no failure here", r.res.Status, r.res.Failed)
	}
}

// TestFDTable checks that a stage sees exactly the descriptors it was
// given, plus those the test itself inherited (they pass through, as in
// sh). ls lists its own /proc/self/fd, which adds the descriptor it opened
// to read the directory: the lowest free one.
func TestFDTable(t *testing.T) {
	dir := t.TempDir()
	want := func(declared ...int) []int {
		fds := append([]int{0, 1, 2}, declared...)
		fds = append(fds, executor.InheritedFDs()...)
		for free := 3; ; free++ {
			if !slices.Contains(fds, free) {
				fds = append(fds, free) // ls's own directory descriptor
				break
			}
		}
		slices.Sort(fds)
		return fds
	}
	listed := func(out string) []int {
		var fds []int
		for _, f := range strings.Fields(out) {
			var n int
			fmt.Sscan(f, &n)
			fds = append(fds, n)
		}
		slices.Sort(fds)
		return fds
	}
	g := line([]string{"ls", "/proc/self/fd"})
	r := exec(t, g, executor.Options{})
	if got := listed(r.stdout); !slices.Equal(got, want()) {
		t.Errorf("fds %v, want %v", got, want())
	}
	g = line([]string{"ls", "/proc/self/fd"})
	g.Nodes[0].Redirs = []graph.Redir{{Kind: graph.Open, FD: 5, Path: filepath.Join(dir, "five"), Flag: os.O_WRONLY | os.O_CREATE | os.O_TRUNC}}
	r = exec(t, g, executor.Options{})
	if got := listed(r.stdout); !slices.Equal(got, want(5)) {
		t.Errorf("fds %v, want %v", got, want(5))
	}
}

func TestRedirections(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	g := line([]string{"sh", "-c", "echo to-out; echo to-err >&2"})
	g.Nodes[0].Redirs = []graph.Redir{
		{Kind: graph.Open, FD: 1, Path: out, Flag: os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
		{Kind: graph.Dup, FD: 2, Src: 1},
	}
	exec(t, g, executor.Options{})
	if b, _ := os.ReadFile(out); string(b) != "to-out\nto-err\n" {
		t.Errorf("out has %q", b)
	}
	// A failed open stops at once: the later `>made` is never created.
	made := filepath.Join(dir, "made")
	g = line([]string{"cat"})
	g.Nodes[0].Redirs = []graph.Redir{
		{Kind: graph.Open, FD: 0, Path: filepath.Join(dir, "missing"), Flag: os.O_RDONLY},
		{Kind: graph.Open, FD: 1, Path: made, Flag: os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
	}
	r := exec(t, g, executor.Options{})
	if r.res.Status != 1 || !strings.Contains(r.stderr, "missing: No such file or directory") {
		t.Errorf("status %d stderr %q", r.res.Status, r.stderr)
	}
	if _, err := os.Stat(made); err == nil {
		t.Error("made was created although an earlier redirection failed")
	}
	// A here-document larger than a pipe is fed without blocking the run.
	big := bytes.Repeat([]byte("0123456789abcdef\n"), 20000)
	g = line([]string{"wc", "-c"})
	g.Nodes[0].Redirs = []graph.Redir{{Kind: graph.Data, FD: 0, Data: big}}
	r = exec(t, g, executor.Options{})
	if strings.TrimSpace(r.stdout) != fmt.Sprint(len(big)) {
		t.Errorf("wc -c says %q, want %d", r.stdout, len(big))
	}
}

func TestAfterAndKillRest(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "mark")
	g := &graph.Graph{OnFailure: graph.KillRest}
	g.Add(&graph.Node{ID: "first", Argv: []string{"sh", "-c", "sleep 0.1; echo one > " + mark}})
	g.Add(&graph.Node{ID: "second", Argv: []string{"sh", "-c", "cat " + mark}, After: []string{"first"}})
	r := exec(t, g, executor.Options{})
	if r.stdout != "one\n" || r.res.Status != 0 {
		t.Errorf("after: got %q status %d", r.stdout, r.res.Status)
	}

	g = &graph.Graph{OnFailure: graph.KillRest}
	g.Add(&graph.Node{ID: "sleeper", Argv: []string{"sleep", "30"}})
	g.Add(&graph.Node{ID: "failer", Argv: []string{"sh", "-c", "sleep 0.1; exit 4"}})
	g.Add(&graph.Node{ID: "never", Argv: []string{"true"}, After: []string{"failer"}})
	start := time.Now()
	r = exec(t, g, executor.Options{Grace: 200 * time.Millisecond})
	if time.Since(start) > 10*time.Second {
		t.Fatal("kill-rest did not end the sleeper")
	}
	if r.res.Failed == nil || r.res.Failed.Node.ID != "failer" {
		t.Errorf("first failure %v, want failer", r.res.Failed)
	}
	if !r.res.Procs[0].Killed || !r.res.Procs[2].Skipped {
		t.Errorf("sleeper killed=%v, never skipped=%v", r.res.Procs[0].Killed, r.res.Procs[2].Skipped)
	}
}

func TestStageTimeout(t *testing.T) {
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "stubborn", Argv: []string{"sh", "-c", "trap '' TERM; sleep 30"}, Timeout: 100 * time.Millisecond})
	r := exec(t, g, executor.Options{Grace: 100 * time.Millisecond})
	pr := r.res.Procs[0]
	if !pr.TimedOut || pr.Signal != syscall.SIGKILL {
		t.Errorf("timed out %v, signal %v: want SIGKILL after the grace period", pr.TimedOut, pr.Signal)
	}
	if !strings.Contains(r.stderr, "stubborn: timed out") {
		t.Errorf("stderr %q does not name the stage", r.stderr)
	}
}

func TestFIFOEdges(t *testing.T) {
	dir := t.TempDir()
	g := &graph.Graph{TempDir: filepath.Join(dir, "private")}
	fifo := filepath.Join(g.TempDir, "chan")
	g.Add(&graph.Node{ID: "chan", Kind: graph.FIFO, Path: fifo})
	g.Add(&graph.Node{ID: "writer", Argv: []string{"printf", "through a fifo"}})
	g.Add(&graph.Node{ID: "reader", Argv: []string{"cat"}})
	g.Connect(graph.Endpoint{Node: "writer", FD: 1}, graph.Endpoint{Node: "chan"}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "chan"}, graph.Endpoint{Node: "reader", FD: 0}, graph.Pos{})
	r := exec(t, g, executor.Options{})
	if r.stdout != "through a fifo" {
		t.Errorf("got %q", r.stdout)
	}
	if _, err := os.Stat(g.TempDir); !os.IsNotExist(err) {
		t.Error("private FIFO directory left behind")
	}
}

func TestFIFOExistingFileRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "file")
	os.WriteFile(path, nil, 0o600)
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "chan", Kind: graph.FIFO, Path: path})
	p, _ := plan.Build(g, plan.Options{})
	_, err := executor.Run(context.Background(), p, executor.Options{})
	if err == nil || !strings.Contains(err.Error(), "is not a FIFO") {
		t.Errorf("err %v, want 'is not a FIFO'", err)
	}
}

func TestSignalForwarded(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	g := line([]string{"sleep", "30"}, []string{"cat"})
	go func() {
		time.Sleep(200 * time.Millisecond)
		sigs <- syscall.SIGINT
	}()
	r := exec(t, g, executor.Options{Signals: sigs})
	if r.res.Procs[0].Signal != syscall.SIGINT || r.res.Signal != syscall.SIGINT {
		t.Errorf("sleep ended by %v, run signal %v: want SIGINT forwarded", r.res.Procs[0].Signal, r.res.Signal)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644)
	tests := []struct {
		name, path string
		want       executor.Status
	}{
		{"tool", dir, 0},
		{"plain", dir, 126},
		{"absent", dir, 127},
		{"./tool", "", 0},
		{"./absent", "", 127},
	}
	for _, tt := range tests {
		_, err := executor.LookPath(tt.name, tt.path, dir)
		var got executor.Status
		if se, ok := err.(*executor.StartError); ok {
			got = se.Status
		}
		if got != tt.want {
			t.Errorf("LookPath(%q): status %d, want %d (%v)", tt.name, got, tt.want, err)
		}
	}
}

// TestAfterSkippedOnce has two stages fail at the same moment while a
// third waits on both: it must be skipped exactly once, and the run must
// still wait for everything (a double skip used to end the count early).
func TestAfterSkippedOnce(t *testing.T) {
	for range 30 {
		g := &graph.Graph{}
		g.Add(&graph.Node{ID: "a", Argv: []string{"false"}})
		g.Add(&graph.Node{ID: "b", Argv: []string{"false"}})
		g.Add(&graph.Node{ID: "slow", Argv: []string{"sleep", "0.05"}})
		g.Add(&graph.Node{ID: "c", Argv: []string{"true"}, After: []string{"a", "b"}})
		r := exec(t, g, executor.Options{})
		if c := r.res.Procs[3]; !c.Skipped || c.Pid != 0 {
			t.Fatalf("c: skipped %v, pid %d", c.Skipped, c.Pid)
		}
		if n := strings.Count(r.stderr, "c: not started"); n != 1 {
			t.Fatalf("c reported as not started %d times:\n%s", n, r.stderr)
		}
		if r.res.Procs[2].End.IsZero() {
			t.Fatal("the run returned before slow was reaped")
		}
	}
}

// TestStartAndSignal runs a pipeline in the background through Start, as
// a shell's `cmd &` does: Start returns with the stages running, Procs
// shows their pids and shared group, Signal reaches them, and Wait gives
// the result.
func TestStartAndSignal(t *testing.T) {
	g := line([]string{"sleep", "30"}, []string{"cat"})
	g.Add(&graph.Node{ID: "later", Argv: []string{"true"}, After: []string{"s0"}})
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	h, err := executor.Start(context.Background(), p, executor.Options{Stdin: null, Stdout: null, Stderr: null})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Done():
		t.Fatal("Start waited for the run to end")
	default:
	}
	pgid := h.Pgid()
	if pgid == 0 {
		t.Fatal("no process group after Start")
	}
	procs := h.Procs()
	for _, ps := range procs[:2] {
		if ps.State != executor.Running || ps.Pid == 0 || ps.Pgid != pgid || ps.Start.IsZero() {
			t.Errorf("%s: %+v, want running in group %d", ps.Node.ID, ps, pgid)
		}
	}
	if ps := procs[2]; ps.State != executor.Waiting || ps.Pid != 0 {
		t.Errorf("later: %+v, want waiting", ps)
	}
	if err := h.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res, err := h.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Procs[0].Signal != syscall.SIGTERM || res.Procs[1].Signal != syscall.SIGTERM {
		t.Errorf("signals %v %v, want SIGTERM for both", res.Procs[0].Signal, res.Procs[1].Signal)
	}
	procs = h.Procs()
	if procs[0].State != executor.Exited || procs[2].State != executor.NotRun || procs[0].End.IsZero() {
		t.Errorf("after Wait: %v %v, want exited and not run", procs[0].State, procs[2].State)
	}
	if err := h.Signal(syscall.SIGTERM); err != executor.ErrFinished {
		t.Errorf("Signal after the end: %v, want ErrFinished", err)
	}
	if again, _ := h.Wait(); again != res {
		t.Error("a second Wait gave another result")
	}
}

// TestSharedGroupNeverSplits runs a 10-stage /bin/true line many times:
// every stage must join the first one's process group. /bin/true exits at
// once, so a stage reaped before the others had joined would leave the
// group empty and make a later stage lead a group of its own (EPERM on
// setpgid), which the guardian might not hear about in time.
func TestSharedGroupNeverSplits(t *testing.T) {
	var stages [][]string
	for range 10 {
		stages = append(stages, []string{"/bin/true"})
	}
	for i := range 100 {
		r := exec(t, line(stages...), executor.Options{SkipProcIO: true})
		pg := r.res.Procs[0].Pgid
		for _, pr := range r.res.Procs {
			if pr.Pgid != pg || pg != r.res.Procs[0].Pid {
				t.Fatalf("run %d: %s is in group %d, the first stage (%d) leads %d", i, pr.Node.ID, pr.Pgid, r.res.Procs[0].Pid, pg)
			}
		}
	}
}

// TestSignalEndsWithItsStatus: a run ended by a signal that tubo caught
// (forwarded, then canceled, as the CLI does) has status 128+N, the
// status tubo exits with, even when a stage skipped on a FIFO says 143.
func TestSignalEndsWithItsStatus(t *testing.T) {
	dir := t.TempDir()
	g := &graph.Graph{TempDir: filepath.Join(dir, "priv")}
	g.Add(&graph.Node{ID: "f", Kind: graph.FIFO, Path: filepath.Join(dir, "priv", "f")})
	g.Add(&graph.Node{ID: "w", Argv: []string{"sleep", "30"}})
	g.Add(&graph.Node{ID: "r", Argv: []string{"cat"}})
	g.Connect(graph.Endpoint{Node: "f", FD: 1}, graph.Endpoint{Node: "r", FD: 0}, graph.Pos{})
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.OwnGroups = true
	sigs := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	h, err := executor.Start(ctx, p, executor.Options{Stdin: null, Stdout: null, Stderr: null, Signals: sigs, Grace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	sigs <- syscall.SIGINT
	cancel()
	res, _ := h.Wait()
	if res.Status != 130 || res.Signal != syscall.SIGINT {
		t.Errorf("status %d, signal %v; want 130 and SIGINT", res.Status, res.Signal)
	}
	if r := res.Procs[1]; !r.Skipped {
		t.Errorf("r: %+v, want skipped (its FIFO never opened)", r)
	}
}

// TestReaperHoldsNoGoroutinePerStage runs 200 stages that wait and checks
// that waiting for them costs no goroutine (and so no stack, no thread)
// per stage: the run's reaper polls every pidfd in one epoll set. Each
// stage is then reaped with its status.
func TestReaperHoldsNoGoroutinePerStage(t *testing.T) {
	const n = 200
	stages := make([][]string, n)
	for i := range stages {
		stages[i] = []string{"cat"}
	}
	g := line(stages...)
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The first cat reads from a pipe this test holds: every stage waits
	// until the test closes it.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	before := runtime.NumGoroutine()
	h, err := executor.Start(context.Background(), p, executor.Options{Stdin: pr, Stdout: null, Stderr: null})
	if err != nil {
		pw.Close()
		t.Fatal(err)
	}
	running := 0
	for _, ps := range h.Procs() {
		if ps.State == executor.Running {
			running++
		}
	}
	during := runtime.NumGoroutine()
	pw.Close()
	res, err := h.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if running != n {
		t.Errorf("%d of %d stages running after Start", running, n)
	}
	if during-before > 20 {
		t.Errorf("%d goroutines while %d stages run, %d before: one per stage?", during, n, before)
	}
	for _, pr := range res.Procs {
		if pr.Status != 0 || pr.Usage == nil || pr.End.IsZero() {
			t.Errorf("%s: status %d, usage %v, end %v: not reaped as it ended", pr.Node.ID, pr.Status, pr.Usage != nil, pr.End)
		}
	}
}

// TestLongLineSharesOneGroup starts 200 stages that exit at once: they
// are reaped while the later ones still start, but the group's leader is
// kept (a zombie) until all have joined, so every stage is in the one
// group (a later one would otherwise find the group gone and lead its
// own), and each is reaped with its status.
func TestLongLineSharesOneGroup(t *testing.T) {
	stages := make([][]string, 200)
	for i := range stages {
		stages[i] = []string{"true"}
	}
	r := exec(t, line(stages...), executor.Options{})
	pgid := r.res.Procs[0].Pgid
	if pgid == 0 || pgid != r.res.Procs[0].Pid {
		t.Fatalf("first stage: pid %d, group %d: it should lead the group", r.res.Procs[0].Pid, pgid)
	}
	for _, pr := range r.res.Procs {
		if pr.Pgid != pgid || pr.Status != 0 || pr.Usage == nil {
			t.Errorf("%s: group %d (want %d), status %d, usage %v", pr.Node.ID, pr.Pgid, pgid, pr.Status, pr.Usage != nil)
		}
	}
}
