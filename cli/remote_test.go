package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// These tests run bin/tubo (make test builds it) against real sshd
// servers: one on loopback and two in network namespaces (root and ip
// netns needed; they skip with the reason elsewhere).

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

func tuboBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(repoRoot(), "bin", "tubo")
	if _, err := os.Stat(filepath.Join(repoRoot(), "bin", "esclavo")); err != nil {
		sshtest.Skip(t, "bin/ not built: run make build (make test does)")
	}
	return bin
}

// tubo runs bin/tubo with the test hosts' ssh config, bounded in time.
func tubo(t *testing.T, env *sshtest.Env, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := startTubo(t, env, nil, args...)
	r.wait(t, "")
	return r.stdout.String(), r.stderr.String(), r.cmd.ProcessState.ExitCode()
}

func twoHosts(t *testing.T) *sshtest.Env {
	t.Helper()
	return sshtest.Start(t, sshtest.Options{Namespaced: 2})
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type jsonReport struct {
	Status int `json:"status"`
	Stages []struct {
		Node   string  `json:"node"`
		Host   string  `json:"host"`
		Status int     `json:"status"`
		Signal *string `json:"signal"`
		Reason *string `json:"reason"`
		Remote *struct {
			Known          bool `json:"known"`
			Status         *int `json:"status"`
			ConnectionLost bool `json:"connection_lost"`
		} `json:"remote"`
	} `json:"stages"`
}

func readReport(t *testing.T, path string) jsonReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r jsonReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return r
}

// pipelines/primes.yaml, unchanged, spreads its workers over the hosts of
// a --hosts file (two namespaced hosts and this machine) and still finds
// exactly the sieve's primes.
func TestPrimesSpreadByHostsFile(t *testing.T) {
	env := twoHosts(t)
	dir := t.TempDir()
	h1, h2 := env.Server("h1"), env.Server("h2")
	hosts := writeFile(t, dir, "hosts", fmt.Sprintf("# two hosts and this one\n%s\n2/%s\n:\n", h1.Spec(), h2.Spec()))
	report := filepath.Join(dir, "report.json")
	out, errs, code := tubo(t, env, "run", filepath.Join(repoRoot(), "pipelines", "primes.yaml"),
		"--hosts", hosts, "--set", "lo=0", "--set", "hi=30000", "--set", "workers=8", "--report-json", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, want := strings.Fields(out), sieve(0, 30000); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d primes, want %d", len(got), len(want))
	}
	// Slots 1, 2, 1 deal the order h1, h2, local, h2.
	want := []string{h1.Addr, h2.Addr, "local", h2.Addr, h1.Addr, h2.Addr, "local", h2.Addr}
	r := readReport(t, report)
	for i, s := range r.Stages {
		// A --hosts line without a name is named after its host.
		if s.Host != want[i] {
			t.Errorf("%s on %s, want %s", s.Node, s.Host, want[i])
		}
		if want[i] != "local" && (s.Remote == nil || !s.Remote.Known || *s.Remote.Status != 0) {
			t.Errorf("%s: remote %+v", s.Node, s.Remote)
		}
	}
}

// on: [h1, h2, local] in a pipeline file, with the hosts given by --host.
func TestPrimesOnListedHosts(t *testing.T) {
	env := twoHosts(t)
	dir := t.TempDir()
	yaml := writeFile(t, dir, "primes-on.yaml", fmt.Sprintf(`
path: [%s]
hosts:
  local: {slots: 1}
stages:
  esclavo:
    run: [esclavo, "{{part.lo}}", "{{part.hi}}"]
    replicas: 6
    split: {lo: 1, hi: 20000}
    on: [h1, h2, local]
    stdout: primes
merges:
  primes: {mode: ordered, record: int32, output: text}
`, filepath.Join(repoRoot(), "bin")))
	report := filepath.Join(dir, "report.json")
	out, errs, code := tubo(t, env, "run", yaml, "--host", "h1="+env.Server("h1").Spec(),
		"--host", "h2="+env.Server("h2").Spec(), "--report-json", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, want := strings.Fields(out), sieve(1, 20000); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d primes, want %d", len(got), len(want))
	}
	var hosts []string
	for _, s := range readReport(t, report).Stages {
		hosts = append(hosts, s.Host)
	}
	if got := strings.Join(hosts, " "); got != "h1 h2 local h1 h2 local" {
		t.Fatalf("hosts %s", got)
	}
}

// A tee whose two readers run on two hosts; its source is a local file
// and the readers write local files.
func TestTeeReadersOnTwoHosts(t *testing.T) {
	env := twoHosts(t)
	dir := t.TempDir()
	var data strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&data, "line %d\n", i)
	}
	writeFile(t, dir, "in.txt", data.String())
	yaml := writeFile(t, dir, "tee.yaml", `
files:
  in: in.txt
  count: count.txt
  tail: tail.txt
tees:
  t: {from: in}
stages:
  wc: {run: [wc, -l], stdin: t, stdout: count, on: h1}
  tl: {run: [tail, -n, "1"], stdin: t, stdout: tail, on: h2}
`)
	_, errs, code := tubo(t, env, "run", yaml, "--host", "h1="+env.Server("h1").Spec(), "--host", "h2="+env.Server("h2").Spec())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	count, _ := os.ReadFile(filepath.Join(dir, "count.txt"))
	tail, _ := os.ReadFile(filepath.Join(dir, "tail.txt"))
	if strings.TrimSpace(string(count)) != "200000" || string(tail) != "line 199999\n" {
		t.Fatalf("count %q, tail %q", count, tail)
	}
}

// started is a tubo run in the background, in a process group of its
// own, reaped by a goroutine; the test's end kills the group if tubo is
// still there (never after it was reaped: the number may be another's).
type started struct {
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{} // closed when tubo has been reaped
}

func startTubo(t *testing.T, env *sshtest.Env, extraEnv []string, args ...string) *started {
	t.Helper()
	r := &started{cmd: exec.Command(tuboBin(t), args...), done: make(chan struct{})}
	r.cmd.Env = append(append(os.Environ(), env.SSHEnv()), extraEnv...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.WaitDelay = 5 * time.Second
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// wait waits for tubo to end; a bound that only catches a hang.
func (r *started) wait(t *testing.T, why string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("tubo did not end%s: %s", why, r.stderr.String())
	}
}

// running waits until m's processes run on s (tubo connects first, which
// a loaded machine makes slow: the bound only catches a hang), failing at
// once with tubo's words if tubo ends before.
func (r *started) running(t *testing.T, env *sshtest.Env, s *sshtest.Server, m string) []string {
	t.Helper()
	return env.WaitRunning(t, s, m, 2*time.Minute, r.done, func() string {
		return "tubo said: " + r.stderr.String()
	})
}

// syncBuffer is a bytes.Buffer that a test may read while exec's copying
// goroutine writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// sleepers is a pipeline with a remote stage on each host that would run
// for ever (a shell and its child, so a whole group must end) and a
// local one that fails after a moment when fail is set.
func sleepers(t *testing.T, dir, m string, fail bool) string {
	local := `  idle: {run: [sleep, "1000"]}`
	if fail {
		local = `  fails: {run: [sh, -c, "sleep 1; exit 3"]}`
	}
	return writeFile(t, dir, "sleepers.yaml", fmt.Sprintf(`
on_failure: kill-rest
stages:
  s1: {run: [sh, -c, "sleep 1000; echo never", %[1]s], on: h1}
  s2: {run: [sh, -c, "sleep 1000; echo never", %[1]s], on: h2}
%[2]s
`, m, local))
}

func hostFlags(env *sshtest.Env) []string {
	return []string{"--host", "h1=" + env.Server("h1").Spec(), "--host", "h2=" + env.Server("h2").Spec()}
}

func TestKillRestEndsRemoteStages(t *testing.T) {
	env := twoHosts(t)
	m := sshtest.Marker()
	yaml := sleepers(t, t.TempDir(), m, true)
	_, errs, code := tubo(t, env, append([]string{"run", yaml}, hostFlags(env)...)...)
	if code != 3 || !strings.Contains(errs, "fails failed (exit 3); ending the other stages") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// tubo has exited: nothing of the run may be left on either host.
	env.WaitGone(t, env.Server("h1"), m)
	env.WaitGone(t, env.Server("h2"), m)
}

// tubo ended from outside — SIGINT, SIGTERM, even SIGKILL — leaves no
// remote process (by design within about a second; the test's bound only
// catches a leak, and it logs what it measured), nor the run's
// directories on the hosts or here.
func TestTuboEndedByASignalLeavesNothingRemote(t *testing.T) {
	env := twoHosts(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			m := sshtest.Marker()
			yaml := sleepers(t, t.TempDir(), m, false)
			// tubo's own private directories go in a TMPDIR of this test's.
			tmp := t.TempDir()
			r := startTubo(t, env, []string{"TMPDIR=" + tmp}, append([]string{"run", yaml}, hostFlags(env)...)...)
			procs := r.running(t, env, env.Server("h1"), m)
			procs = append(procs, r.running(t, env, env.Server("h2"), m)...)
			// The run's directories on the hosts, from the wrappers' command
			// lines (sh DIR/run …); the hosts share this machine's /tmp.
			dirs := map[string]bool{}
			for _, p := range procs {
				if f := strings.Fields(p); len(f) > 3 && f[2] == "sh" && strings.HasSuffix(f[3], "/run") {
					dirs[filepath.Dir(f[3])] = true
				}
			}
			if len(dirs) != 2 {
				t.Fatalf("want the run's directory on each host, found %v in %q", dirs, procs)
			}
			local, _ := filepath.Glob(filepath.Join(tmp, "tubo-*"))
			if len(local) == 0 {
				// Too long a path for a socket: the control directory
				// is in /tmp then; find it by its socket's master.
				local = controlDirs(t, r.cmd.Process.Pid)
			}
			if len(local) == 0 {
				t.Fatalf("no private directory of tubo's in %s", tmp)
			}
			for _, d := range local {
				dirs[d] = true
			}
			r.cmd.Process.Signal(sig)
			r.wait(t, " after "+sig.String())
			st := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
			switch {
			case sig == syscall.SIGKILL && !st.Signaled():
				t.Fatalf("tubo: %v", st)
			case sig != syscall.SIGKILL && st.ExitStatus() != 128+int(sig):
				t.Fatalf("tubo exited %d after %s, want %d: %s", st.ExitStatus(), sig, 128+int(sig), r.stderr.String())
			}
			env.WaitGone(t, env.Server("h1"), m)
			env.WaitGone(t, env.Server("h2"), m)
			// The hosts' directories go with their agents; tubo's own with
			// tubo, or its guardian after a SIGKILL. A bound that only
			// catches a leak: removal is not timed.
			began := time.Now()
			for {
				var left []string
				for d := range dirs {
					if _, err := os.Stat(d); err == nil {
						left = append(left, d)
					}
				}
				if len(left) == 0 {
					break
				}
				if time.Since(began) > sshtest.OrphanBound {
					t.Fatalf("run directories left behind: %q", left)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// A connection that drops mid-run fails the stages on that host with
// "h1: connection lost", under the run's failure policy, and the agent
// (which sees its stdin end) still ends what ran there.
func TestConnectionLostFailsThatStage(t *testing.T) {
	env := twoHosts(t)
	m := sshtest.Marker()
	dir := t.TempDir()
	yaml := writeFile(t, dir, "lost.yaml", fmt.Sprintf(`
on_failure: let-finish
stages:
  far: {run: [sh, -c, "sleep 1000", %s], on: h1}
  near: {run: [sh, -c, "sleep 3; echo done"]}
`, m))
	report := filepath.Join(dir, "report.json")
	r := startTubo(t, env, nil, append([]string{"run", yaml, "--report-json", report}, hostFlags(env)...)...)
	h1 := env.Server("h1")
	r.running(t, env, h1, m)
	// Kill h1's sshd connection processes (not the listener, nor the
	// sessions' programs): the TCP connection drops, as when a host goes
	// away. OpenSSH 9.8 and later name them sshd-session.
	for _, pid := range sshtest.Descendants(h1.Listener()) {
		switch comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) {
		case "sshd", "sshd-session":
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	r.wait(t, " after its connection to h1 dropped")
	if code := r.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(r.stderr.String(), "tubo: h1: connection lost") || r.stdout.String() != "done\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, r.stdout.String(), r.stderr.String())
	}
	rep := readReport(t, report)
	far := rep.Stages[0]
	if far.Reason == nil || *far.Reason != "h1: connection lost" || far.Remote == nil || !far.Remote.ConnectionLost {
		t.Fatalf("far: %+v", far)
	}
	// Orphaned by its sshd, the remote program is ended by the agent.
	env.WaitGone(t, h1, m)
}

// A host that cannot be reached fails the run before any stage starts,
// naming the host; the reachable one is not left connected.
func TestUnreachableHostStopsTheRunBeforeItStarts(t *testing.T) {
	env := twoHosts(t)
	dir := t.TempDir()
	touched := filepath.Join(dir, "started")
	yaml := writeFile(t, dir, "unreachable.yaml", fmt.Sprintf(`
stages:
  first: {run: [touch, %q]}
  far: {run: [true], on: h1}
  gone: {run: [true], on: dead}
`, touched))
	// A port on h2's address where nothing listens.
	_, errs, code := tubo(t, env, "run", yaml, "--host", "h1="+env.Server("h1").Spec(),
		"--host", fmt.Sprintf("dead=root@%s:2", env.Server("h2").Addr))
	if code != 255 || !strings.Contains(errs, "tubo: dead (root@"+env.Server("h2").Addr+" port 2): cannot connect: ") || strings.Contains(errs, "h1") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(touched); err == nil {
		t.Fatal("a stage started although a host was unreachable")
	}
}

// A key the host does not accept is refused the same way.
func TestRefusedKeyStopsTheRun(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	dir := t.TempDir()
	yaml := writeFile(t, dir, "refused.yaml", "stages:\n  far: {run: [true], on: n1}\n")
	lo := env.Servers[0]
	// nobody@ has no authorized key on the test server.
	_, errs, code := tubo(t, env, "run", yaml, "--host", fmt.Sprintf("n1=nobody@%s:%d", lo.Addr, lo.Port))
	if code != 255 || !strings.Contains(errs, "tubo: n1 (nobody@127.0.0.1 port") || !strings.Contains(errs, "Permission denied") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// controlDirs finds the control directories of tubo's ssh masters (its
// children whose argv says ControlMaster=yes) from their command lines.
func controlDirs(t *testing.T, tubo int) []string {
	var dirs []string
	for _, pid := range sshtest.Descendants(tubo) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(b), "\x00")
		if !slices.Contains(args, "ControlMaster=yes") {
			continue
		}
		for _, a := range args {
			if p, ok := strings.CutPrefix(a, "ControlPath="); ok {
				dirs = append(dirs, filepath.Dir(p))
			}
		}
	}
	return dirs
}

// A --set value reaches a remote program as one literal argument, through
// the YAML substitution and the remote login shell alike.
func TestHostileSetValueOnARemoteStage(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	dir := t.TempDir()
	yaml := writeFile(t, dir, "echo.yaml", `
params: {v: x}
stages:
  p: {run: [printf, '%s|', "{{v}}", "a {{v}} b"], on: n1}
`)
	lo := env.Servers[0]
	for _, v := range []string{"; touch /tmp/tubo-pwned-set", "$(id)", "it's", "a\nb", `\"'`} {
		out, errs, code := tubo(t, env, "run", yaml, "--set", "v="+v, "--host", "n1="+lo.Spec())
		if code != 0 || out != v+"|a "+v+" b|" {
			t.Errorf("--set v=%q: exit %d, out %q: %s", v, code, out, errs)
		}
	}
	if _, err := os.Stat("/tmp/tubo-pwned-set"); err == nil {
		os.Remove("/tmp/tubo-pwned-set")
		t.Fatal("a --set value ran a command on the host")
	}
}

// tubo graph draws a pipeline with remote stages without connecting to
// anything: each remote stage as what it runs, labelled with its host,
// wired like a local one. (It failed with "placed on host n1, but this
// run has no remote hosts" once the drawing was made from the plan.)
func TestGraphOfRemoteStages(t *testing.T) {
	dir := t.TempDir()
	yaml := writeFile(t, dir, "far.yaml", `
hosts:
  n1: {ssh: me@192.0.2.1}
stages:
  gen: {run: [seq, "3"]}
  sq: {run: [awk, '{print $1*$1}'], on: n1}
  w: {run: [echo, hi], replicas: 2, on: [n1, local], stdout: m}
merges:
  m: {mode: concat}
edges:
  - gen -> sq
`)
	for format, want := range map[string][]string{
		"dot":     {`label="sq on n1\n`, `label="w[0] on n1\n`, `label="w[1]\n`, `"gen" -> "sq" [label="1→0"]`, `"w[0]" -> "m"`},
		"mermaid": {"sq on n1", "w[0] on n1"},
	} {
		cmd := exec.Command(tuboBin(t), "graph", yaml, "--format", format)
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", format, err, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: no %q in\n%s", format, w, out)
			}
		}
		if strings.Contains(string(out), "ssh") {
			t.Errorf("%s: the drawing shows the ssh client:\n%s", format, out)
		}
	}
}

// --trace shows each host's master connection, a child of tubo like the
// stages: its start before the stage's, its exit after.
func TestTraceShowsTheConnections(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	yaml := writeFile(t, t.TempDir(), "t.yaml", "stages:\n  far: {run: [echo, hi], on: n1}\n")
	out, errs, code := tubo(t, env, "run", yaml, "--trace", "--host", "n1="+env.Servers[0].Spec())
	if code != 0 || out != "hi\n" {
		t.Fatalf("exit %d, out %q: %s", code, out, errs)
	}
	var order []string
	for _, l := range strings.Split(errs, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		who, _, _ := strings.Cut(f[3], "[")
		if who != "n1/ssh" && who != "far" {
			continue
		}
		order = append(order, f[2]+" "+who)
		if who == "n1/ssh" && f[2] == "exit" && !strings.HasSuffix(l, "(connection closed)") {
			t.Errorf("the connection's exit: %s", l)
		}
	}
	if got := strings.Join(order, ", "); got != "start n1/ssh, start far, exit far, exit n1/ssh" {
		t.Fatalf("trace order %s:\n%s", got, errs)
	}
}
