package stall_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/cli"
)

// The test binary is also tubo: with TUBO_TEST_AS_TUBO set it runs
// cli.Main, so the stuck graphs below run in a real tubo process.
func TestMain(m *testing.M) {
	if os.Getenv("TUBO_TEST_AS_TUBO") != "" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// bound only catches hangs: a stuck graph must be diagnosed and ended
// (--on-stall fail) long before it.
const bound = 60 * time.Second

// stallFlags make each case report within a fraction of a second and end.
var stallFlags = []string{"--stall-after", "300ms", "--on-stall", "fail"}

type run struct {
	status int
	stderr string
	took   time.Duration
}

// tubo runs the test binary as tubo in dir with args; stdin is /dev/null
// unless given.
func tubo(t *testing.T, dir string, stdin *os.File, args ...string) run {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUBO_TEST_AS_TUBO=1", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if stdin != nil && isTTY(stdin) {
		// tubo's controlling terminal is the pty: a new session whose
		// foreground group is tubo's.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	r := run{stderr: stderr.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("tubo %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("tubo %q still running after %s:\n%s", args, bound, r.stderr)
	}
	return r
}

func isTTY(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// expect checks that a run was ended for its stall and that the diagnosis
// says each of want (regular expressions).
func expect(t *testing.T, r run, want ...string) {
	t.Helper()
	if r.status != int(cli.StatusStalled) {
		t.Errorf("status %d, want %d (ended by --on-stall fail)", r.status, cli.StatusStalled)
	}
	if !strings.Contains(r.stderr, "tubo: stalled for ") {
		t.Errorf("no stall report")
	}
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(r.stderr) {
			t.Errorf("the diagnosis lacks %q", w)
		}
	}
	t.Logf("stderr:\n%s", r.stderr)
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A stage reads a FIFO that no stage writes: tubo itself waits in open(2)
// for it, so the stage never starts.
func TestStuckFIFONoWriter(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
fifos:
  chan: {}
stages:
  r:
    run: [cat]
    stdin: chan
`)
	r := tubo(t, dir, nil, append([]string{"run"}, append(stallFlags, "p.yaml")...)...)
	expect(t, r,
		`r +not started +tubo is blocked in open\(2\) on FIFO chan \(for its fd 0\) — no writer has opened it; the graph declares no writer`,
		`cause: a FIFO never opened by its other side: no writer has opened FIFO chan`)
}

// The case: the reader opens the FIFO itself, and the one stage
// that names it exits without opening it.
func TestStuckFIFOWriterExited(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
fifos:
  chan: {}
stages:
  p:
    run: [sh, -c, 'exit 0', sh, "{{fifo.chan}}"]
  r:
    run: [cat, "{{fifo.chan}}"]
`)
	r := tubo(t, dir, nil, append([]string{"run"}, append(stallFlags, "p.yaml")...)...)
	expect(t, r,
		`r +pid [0-9]+ +blocked in open\(2\) on FIFO chan — no writer has opened it; its writers: p \(exited 0 after [0-9.]+s\)`)
}

// Two stages each wait to read the FIFO the other would write.
func TestStuckFIFOCycle(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
fifos:
  x: {}
  y: {}
stages:
  a:
    run: [sh, -c, 'cat <"$1" >"$2"', sh, "{{fifo.x}}", "{{fifo.y}}"]
  b:
    run: [sh, -c, 'cat <"$2" >"$1"', sh, "{{fifo.x}}", "{{fifo.y}}"]
`)
	r := tubo(t, dir, nil, append([]string{"run"}, append(stallFlags, "p.yaml")...)...)
	expect(t, r,
		`a +pid [0-9]+ +blocked in open\(2\) on FIFO x — no writer has opened it; its writers: b \(pid [0-9]+, running\)`,
		`b +pid [0-9]+ +blocked in open\(2\) on FIFO y — no writer has opened it; its writers: a `,
		`cause: a cycle of waits: (a → b → a|b → a → b)`)
}

// A stage leaves a background child holding its stdout: the reader never
// sees end-of-file, though the writer has exited.
func TestStuckBackgroundChild(t *testing.T) {
	dir := t.TempDir()
	r := tubo(t, dir, nil, append(stallFlags, "sh -c 'sleep 1000 & echo started' | cat")...)
	expect(t, r,
		`cat +pid [0-9]+ +blocked in read\(2\) on fd 0 ← pipe from sh:1 — pid [0-9]+ \(sleep 1000\), left behind by sh, still holds the write end \(fd 1\) and is itself sleeping`,
		`cause: a write end kept open by a background child: pid [0-9]+ \(sleep 1000\), left behind by sh, still holds sh:1 → cat:0`)
}

// A tee that may not spill feeds a lock-step reader (paste) through two
// branches; one branch (sort) writes nothing before its end, so paste
// waits on it while the other branch's FIFO is full.
func TestStuckLockStep(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
fifos:
  f1: {}
  f2: {}
tees:
  t: {from: gen, spill: false}
stages:
  gen:  {run: [seq, "1000000"]}
  a:    {run: [cat], stdin: t, stdout: f1}
  b:    {run: [sort, -r], stdin: t, stdout: f2}
  join: {run: [paste, "{{fifo.f1}}", "{{fifo.f2}}"], stdout: out}
files:
  out: out.txt
`)
	r := tubo(t, dir, nil, append([]string{"run", "--pipe-size", "65536"}, append(stallFlags, "p.yaml")...)...)
	expect(t, r,
		`join +pid [0-9]+ +blocked in read\(2\) on fd 4 FIFO f2`,
		`a +pid [0-9]+ +blocked in write\(2\) on fd 1 FIFO f1`,
		`cause: a lock-step reader \(paste\) starved: join waits on fd 4 while its other input, fd 3, is full .*tee t has spill: false`)
}

// A stage of a pipeline file reads the terminal: outside the terminal's
// foreground group, it is stopped by SIGTTIN.
func TestStuckTerminalStopped(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
stages:
  ask: {run: [cat], stdin: "-"}
`)
	ptmx, tty := openPTY(t)
	defer ptmx.Close()
	defer tty.Close()
	r := tubo(t, dir, tty, append([]string{"run"}, append(stallFlags, "p.yaml")...)...)
	expect(t, r,
		// Seen before the run, too.
		`tubo: warning: p.yaml:3:3: stage ask reads tubo's stdin, which is a terminal, from a process group of its own`,
		`ask +pid [0-9]+ +stopped on the terminal /dev/pts/[0-9]+ — stopped by SIGTTIN`,
		`cause: ask waits on the terminal`)
}

// A shell line gives its pipeline the terminal: the stage waits in read(2)
// for a line.
func TestStuckTerminalRead(t *testing.T) {
	dir := t.TempDir()
	ptmx, tty := openPTY(t)
	defer ptmx.Close()
	defer tty.Close()
	r := tubo(t, dir, tty, append(stallFlags, "cat | wc -l")...)
	expect(t, r,
		`cat +pid [0-9]+ +blocked in read\(2\) on fd 0 the terminal /dev/pts/[0-9]+ — it waits for a line typed on the terminal`,
		`wc +pid [0-9]+ +blocked in read\(2\) on fd 0 ← pipe from cat:1 — cat holds the write end and is itself blocked in read\(2\) on fd 0 the terminal`,
		`cause: cat waits on the terminal`)
}

func openPTY(t *testing.T) (*os.File, *os.File) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	go func() {
		// Drain what tubo writes to the terminal.
		buf := make([]byte, 4096)
		for {
			if _, err := ptmx.Read(buf); err != nil {
				return
			}
		}
	}()
	return ptmx, tty
}

// A stage that sleeps on a timer is waiting, not stuck: no report.
func TestSleepIsNotAStall(t *testing.T) {
	r := tubo(t, t.TempDir(), nil, append(stallFlags, "sleep 1.5 | cat")...)
	if r.status != 0 || strings.Contains(r.stderr, "stalled") {
		t.Errorf("status %d, stderr:\n%s", r.status, r.stderr)
	}
}

// SIGQUIT and SIGUSR1 print the live picture, and the run goes on to its
// normal end.
func TestSignalPicture(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--trace", "seq 1 300000 | sleep 1 | cat")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TUBO_TEST_AS_TUBO=1", "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Only a tubo not reaped yet: once it is, its pid may be another
		// test's process group (pids wrap at pid_max).
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out []string
	starts := 0
	timeout := time.After(bound)
	sent := false
	for l := range lines {
		out = append(out, l)
		if strings.Contains(l, " start ") {
			starts++
		}
		if starts == 3 && !sent {
			// All three stages run: tubo's handlers are in place.
			sent = true
			cmd.Process.Signal(syscall.SIGQUIT)
			cmd.Process.Signal(syscall.SIGUSR1)
		}
		select {
		case <-timeout:
			t.Fatalf("still running after %s:\n%s", bound, strings.Join(out, "\n"))
		default:
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("tubo ended with %v", err)
	}
	text := strings.Join(out, "\n")
	if n := strings.Count(text, "tubo: live picture after "); n < 1 {
		t.Errorf("no live picture:\n%s", text)
	}
	for _, want := range []string{
		`seq +pid [0-9]+ +(blocked in write\(2\) on fd 1 → pipe to sleep:0|running|exited)`,
		`sleep +pid [0-9]+ +sleeping in (clock_)?nanosleep\(2\)`,
		`cat +pid [0-9]+ +blocked in read\(2\) on fd 0 ← pipe from sleep:1 — sleep holds the write end`,
		`edges:`,
		`seq:1 → sleep:0 +pipe`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("the picture lacks %q:\n%s", want, text)
		}
	}
}

// stall_after: and on_stall: in the file do what the flags do.
func TestStallKeysInFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.yaml", `version: 1
stall_after: 300ms
on_stall: fail
fifos:
  chan: {}
stages:
  r:
    run: [cat]
    stdin: chan
`)
	r := tubo(t, dir, nil, "run", "p.yaml")
	expect(t, r, `r +not started +tubo is blocked in open\(2\) on FIFO chan`)
	// stall_after: 0 turns the watchdog off: a quiet stage is not
	// reported.
	write(t, dir, "q.yaml", `version: 1
stall_after: "0"
stages:
  s: {run: [sleep, "0.5"]}
`)
	if r := tubo(t, dir, nil, "run", "q.yaml"); r.status != 0 || strings.Contains(r.stderr, "stalled") {
		t.Errorf("stall_after: 0: status %d, stderr:\n%s", r.status, r.stderr)
	}
}

// A long chain of stages whose shells hold their pipes as well as the
// commands they run: each holder is described in a few words, not with
// its own holders down the chain (which branched twice per stage and
// never ended: a report of 30 stages took 2^30 steps).
func TestStuckLongChain(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // held open: the first cat waits for input for ever
	line := "cat" + strings.Repeat(" | sh -c 'cat; :'", 30)
	res := tubo(t, t.TempDir(), r, append(stallFlags, line)...)
	expect(t, res,
		`cat +pid [0-9]+ +blocked in read\(2\) on fd 0 `,
		`sh +pid [0-9]+ +blocked in wait4\(2\)`,
		`blocked in read\(2\) on fd 0 ← pipe from cat:1 — (cat|pid [0-9]+ \(cat\)) holds the write end and is itself blocked in read\(2\) on fd 0`)
}

// A shell stage (a compound command: tubo runs it in a child tubo) waits
// in the read builtin on a thread of its own while its main thread parks
// on a lock: the diagnosis names the read and the pipe, not the lock, and
// a pipe tubo was given (its stdin, held open by the test) is said to come
// from outside the run, not to have no writer.
func TestStuckShellStage(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	res := tubo(t, dir, r, append(stallFlags, `cat | { read x; echo "$x"; } | cat`)...)
	expect(t, res,
		`\{\} +pid [0-9]+ +blocked in read\(2\) on fd 0 ← pipe from cat:1 — cat holds the write end`,
		`cat +pid [0-9]+ +blocked in read\(2\) on fd 0 ← a pipe from outside the graph \(pipe:\[[0-9]+\]\) — no process of this run holds the write end: it comes from outside tubo`)
	if strings.Contains(res.stderr, "diagnosis stopped short") {
		t.Errorf("the diagnosis failed part way:\n%s", res.stderr)
	}
}
