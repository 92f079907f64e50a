package reliability

import (
	"strings"
	"testing"
)

// TestCrashReporting: a stage that dies of a signal gives 128+N, and
// --report names the signal.
func TestCrashReporting(t *testing.T) {
	for _, c := range []struct {
		sig    string
		status int
	}{{"SEGV", 139}, {"ABRT", 134}} {
		t.Run("shell/"+c.sig, func(t *testing.T) {
			st, _, stderr := runTubo(t, "", "--report", `sh -c 'kill -`+c.sig+` $$'`)
			if st != c.status {
				t.Errorf("exit status %d, want %d; stderr: %s", st, c.status, stderr)
			}
			if !strings.Contains(stderr, "SIG"+c.sig) {
				t.Errorf("--report does not name SIG%s:\n%s", c.sig, stderr)
			}
		})
		t.Run("yaml/"+c.sig, func(t *testing.T) {
			dir := t.TempDir()
			f := writeFile(t, dir, "crash.yaml", `version: 1
stages:
  gen:
    run: [sh, -c, "echo x; sleep 0.2"]
    stdout: crash
  crash:
    run: [sh, -c, "read x; kill -`+c.sig+` $$"]
`)
			st, _, stderr := runTubo(t, dir, "--report", "run", f)
			if st != c.status {
				t.Errorf("exit status %d, want %d; stderr: %s", st, c.status, stderr)
			}
			if !strings.Contains(stderr, "SIG"+c.sig) || !strings.Contains(stderr, "first failure crash") {
				t.Errorf("--report does not name SIG%s and the crashed stage:\n%s", c.sig, stderr)
			}
		})
	}
}
