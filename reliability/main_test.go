package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tubo is the path of the binary built from this module by TestMain.
var tubo string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "tubo-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tubo = filepath.Join(tmp, "tubo")
	build := exec.Command("go", "build", "-o", tubo, "./cmd/tubo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building tubo: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot finds the directory of go.mod with `go env GOMOD`.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a module")
	}
	return filepath.Dir(mod), nil
}

var markerSeq atomic.Int64

// newMarker returns a sleep duration that no other process on the machine
// uses, e.g. "300.4123001", so that /proc can be searched for it.
func newMarker() string {
	return fmt.Sprintf("300.%d%03d", os.Getpid()%100000, markerSeq.Add(1))
}

// withMarker lists the live (non-zombie) processes with an argv element
// that contains marker, except the pids in skip. A zombie has an empty
// cmdline, so it does not count: it is gone, only not yet reaped.
func withMarker(marker string, skip ...int) []string {
	ents, _ := os.ReadDir("/proc")
	var found []string
next:
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, s := range skip {
			if pid == s {
				continue next
			}
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		for _, a := range argv {
			if strings.Contains(a, marker) {
				found = append(found, fmt.Sprintf("%d %q", pid, argv))
				break
			}
		}
	}
	return found
}

// eventually polls cond every 20 ms until it holds or d has passed; the
// deadlines are generous because other jobs load this machine.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitProcs waits until at least n processes carry marker.
func waitProcs(t *testing.T, marker string, n int, skip ...int) {
	t.Helper()
	if !eventually(15*time.Second, func() bool { return len(withMarker(marker, skip...)) >= n }) {
		t.Fatalf("never saw %d processes with %s: %q", n, marker, withMarker(marker, skip...))
	}
}

// assertGone fails unless every process carrying marker is gone within d.
func assertGone(t *testing.T, marker string, d time.Duration, skip ...int) {
	t.Helper()
	if !eventually(d, func() bool { return len(withMarker(marker, skip...)) == 0 }) {
		left := withMarker(marker, skip...)
		t.Errorf("processes survived: %q", left)
		killMarked(left)
	}
}

// killMarked cleans up after a failed test so later tests start clean.
func killMarked(lines []string) {
	for _, l := range lines {
		pid, _ := strconv.Atoi(strings.Fields(l)[0])
		if pid > 1 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// proc is a tubo started by a test.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// start starts tubo with args in dir ("" = a fresh temp dir), with stdin
// /dev/null and output captured. env entries are added to the environment.
func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return startCmd(t, dir, env, tubo, args...)
}

// startCmd is start for any program.
func startCmd(t *testing.T, dir string, env []string, prog string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(prog, args...)}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	// Wait returns at most this long after the process exits, even if a
	// survivor still holds its stdout or stderr: a test that checks for
	// survivors must not hang on one.
	p.cmd.WaitDelay = 3 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// wait waits for tubo to exit, failing the test (instead of hanging) if it
// takes more than d, and returns its exit status (128+N for a signal). A
// survivor holding tubo's output makes it return WaitDelay after tubo's
// exit, not never.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("tubo %q still running after %s (a hang)\nstderr: %s", p.cmd.Args[1:], d, p.stderr.String())
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// runTubo runs tubo to the end (at most 60 s) and returns its status,
// stdout and stderr.
func runTubo(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	p := start(t, dir, nil, args...)
	st := p.wait(t, 60*time.Second)
	return st, p.stdout.String(), p.stderr.String()
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBounded runs cmd in a process group of its own and waits at most d.
// Past d it kills the whole group and fails: a hang is an error, never a
// stuck test. WaitDelay bounds the wait for output pipes that a leftover
// descendant may still hold. The status is 128+N for a signal.
func runBounded(cmd *exec.Cmd, d time.Duration) (int, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	timer := time.AfterFunc(d, func() {
		// SIGABRT first: a Go program (tubo) prints every goroutine's
		// stack on it, which says where the hang is.
		syscall.Kill(cmd.Process.Pid, syscall.SIGABRT)
		time.Sleep(time.Second)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	err := cmd.Wait()
	if !timer.Stop() {
		return 0, fmt.Errorf("still running after %s (a hang): killed", d)
	}
	if cmd.ProcessState == nil {
		return 0, err
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		return ws.ExitStatus(), fmt.Errorf("exited %d, but its output stayed open %s longer (a survivor holds it)", ws.ExitStatus(), cmd.WaitDelay)
	}
	return ws.ExitStatus(), nil
}

func itoa(n int) string { return strconv.Itoa(n) }
