package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStageTimeout: a stage that ignores SIGTERM is SIGKILLed when the
// grace period after its timeout is over, with all its children; the
// report names it as the stage that timed out.
func TestStageTimeout(t *testing.T) {
	dir := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "slow.yaml", fmt.Sprintf(`version: 1
stages:
  slow:
    run: [sh, -c, "trap '' TERM; sleep %s"]
    timeout: 200ms
  quick:
    run: [sleep, "0.05"]
`, m))
	p := start(t, dir, nil, "--report", "--grace", "300ms", "run", f)
	st := p.wait(t, 30*time.Second)
	stderr := p.stderr.String()
	if st != 137 {
		t.Errorf("exit status %d, want 137 (SIGKILL after the grace period); stderr: %s", st, stderr)
	}
	for _, w := range []string{"slow: timed out after 200ms", "SIGKILL", "timed out, killed by tubo", "first failure slow"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	// quick ended on its own before the timeout: it is not blamed.
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "quick ") && !strings.Contains(line, "exit 0") {
			t.Errorf("quick should have exited 0: %q", line)
		}
	}
	assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
}

// TestRunTimeout: the run's own timeout ends every stage (and what they
// left behind), says so, and the status is non-zero.
func TestRunTimeout(t *testing.T) {
	dir := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "run.yaml", fmt.Sprintf(`version: 1
timeout: 500ms
stages:
  a:
    run: [sh, -c, "sleep %s & sleep %s"]
    stdout: b
  b:
    run: [sh, -c, "trap '' TERM; cat; sleep %s"]
`, m, m, m))
	p := start(t, dir, nil, "--grace", "300ms", "run", f)
	st := p.wait(t, 30*time.Second)
	if st == 0 {
		t.Errorf("exit status 0 after a run timeout")
	}
	if !strings.Contains(p.stderr.String(), "run timed out after 500ms") {
		t.Errorf("stderr lacks the run timeout:\n%s", p.stderr.String())
	}
	assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
}

// TestTimeoutIsFailureWhateverTheExit: a stage that hits its timeout and
// exits 0 on SIGTERM has still failed: the run's status is non-zero
// (124, as timeout(1)), the failure policy ends the other stages, and a
// run ended by its own timeout is never a success either.
func TestTimeoutIsFailureWhateverTheExit(t *testing.T) {
	t.Run("stage", func(t *testing.T) {
		dir := t.TempDir()
		m := newMarker()
		f := writeFile(t, dir, "t.yaml", fmt.Sprintf(`version: 1
stages:
  polite:
    run: [sh, -c, "trap 'exit 0' TERM; sleep %s & wait"]
    timeout: 200ms
  other:
    run: [sleep, "%s"]
`, m, m))
		p := start(t, dir, nil, "--report", "run", f)
		st := p.wait(t, 30*time.Second)
		stderr := p.stderr.String()
		if st != 124 {
			t.Errorf("exit status %d, want 124; stderr:\n%s", st, stderr)
		}
		for _, w := range []string{"polite: timed out after 200ms", "ending the other stages", "first failure polite"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
		assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
	})
	t.Run("run", func(t *testing.T) {
		dir := t.TempDir()
		m := newMarker()
		f := writeFile(t, dir, "t.yaml", fmt.Sprintf(`version: 1
timeout: 300ms
on_failure: let-finish
stages:
  polite:
    run: [sh, -c, "trap 'exit 0' TERM; sleep %s & wait"]
`, m))
		p := start(t, dir, nil, "run", f)
		if st := p.wait(t, 30*time.Second); st != 124 {
			t.Errorf("exit status %d, want 124; stderr:\n%s", st, p.stderr.String())
		}
		assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
	})
}
