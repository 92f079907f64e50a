package reliability

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// orphanCase is one way of starting tubo with stages that leave a
// background child behind; marker is the sleep duration of every sleep.
type orphanCase struct {
	name  string
	args  func(t *testing.T, dir, marker string) []string
	sleep int // sleeps that exist once everything has started
}

var orphanCases = []orphanCase{
	{
		name: "shell",
		args: func(t *testing.T, dir, m string) []string {
			return []string{fmt.Sprintf(`sh -c "sleep %s & sleep %s" | cat`, m, m)}
		},
		sleep: 2,
	},
	{
		name: "yaml",
		args: func(t *testing.T, dir, m string) []string {
			f := writeFile(t, dir, "bg.yaml", fmt.Sprintf(`version: 1
stages:
  bg:
    run: [sh, -c, "sleep %s & sleep %s"]
    stdout: sink
  sink:
    run: [cat]
  other:
    shell: "sleep %s | cat"
`, m, m, m))
			return []string{"run", f}
		},
		sleep: 3,
	},
}

// TestNoOrphansAfterSignal kills (or signals) tubo while its stages and
// their background children run, and checks that none of them survives
// and that the exit status is 128+N.
func TestNoOrphansAfterSignal(t *testing.T) {
	for _, c := range orphanCases {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT} {
			t.Run(c.name+"/"+sig.String(), func(t *testing.T) {
				dir := t.TempDir()
				m := newMarker()
				p := start(t, dir, nil, c.args(t, dir, m)...)
				tuboPid := p.cmd.Process.Pid
				waitProcs(t, m, c.sleep, tuboPid)
				p.cmd.Process.Signal(sig)
				st := p.wait(t, 30*time.Second)
				if want := 128 + int(sig); st != want {
					t.Errorf("exit status %d, want %d; stderr: %s", st, want, p.stderr.String())
				}
				// The guardian needs SIGTERM + 300 ms + SIGKILL after a
				// SIGKILL of tubo; give a loaded machine some slack.
				assertGone(t, m, 4*time.Second, tuboPid)
			})
		}
	}
}

// TestNoOrphansAfterNormalExit: a stage that exits leaving `sleep &`
// behind (holding the pipe to the next stage open) must not keep the run
// alive, nor survive it.
func TestNoOrphansAfterNormalExit(t *testing.T) {
	t.Run("shell", func(t *testing.T) {
		// The background sleep holds tubo's stdout (the test's pipe):
		// the test's Wait would hang if it survived its stage.
		m := newMarker()
		p := start(t, "", nil, fmt.Sprintf(`sh -c "sleep %s & echo started"; echo next`, m))
		if st := p.wait(t, 30*time.Second); st != 0 {
			t.Errorf("exit status %d, want 0; stderr: %s", st, p.stderr.String())
		}
		if got := p.stdout.String(); got != "started\nnext\n" {
			t.Errorf("stdout %q, want %q", got, "started\nnext\n")
		}
		assertGone(t, m, 4*time.Second)
	})
	t.Run("shell-pipeline", func(t *testing.T) {
		// In a shell pipeline (one process group) the leftover child is
		// swept when the group's last stage is reaped. It holds no pipe
		// here: one that held `| cat`'s input open would keep cat (and
		// the run) waiting, exactly as in sh (see docs/reliability.md).
		m := newMarker()
		p := start(t, "", nil, fmt.Sprintf(`sh -c "sleep %s >/dev/null 2>&1 & echo started" | cat`, m))
		if st := p.wait(t, 30*time.Second); st != 0 {
			t.Errorf("exit status %d, want 0; stderr: %s", st, p.stderr.String())
		}
		if got := p.stdout.String(); got != "started\n" {
			t.Errorf("stdout %q, want %q", got, "started\n")
		}
		assertGone(t, m, 4*time.Second)
	})
	t.Run("yaml", func(t *testing.T) {
		dir := t.TempDir()
		m := newMarker()
		f := writeFile(t, dir, "bg.yaml", fmt.Sprintf(`version: 1
stages:
  bg:
    run: [sh, -c, "sleep %s & echo started"]
    stdout: sink
  sink:
    run: [cat]
`, m))
		p := start(t, dir, nil, "run", f)
		if st := p.wait(t, 30*time.Second); st != 0 {
			t.Errorf("exit status %d, want 0; stderr: %s", st, p.stderr.String())
		}
		if got := p.stdout.String(); got != "started\n" {
			t.Errorf("stdout %q, want %q", got, "started\n")
		}
		assertGone(t, m, 4*time.Second)
	})
}
