package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutOfProcesses runs a 20-stage line as an unprivileged user (root is
// not held to RLIMIT_NPROC) under ever smaller `ulimit -u` allowances,
// which tubo's threads and its stages share. Whatever the allowance, tubo
// must not crash ("runtime: failed to create new OS thread"), must say
// what it could not do, and must leave nothing running: it checks before
// its first fork that its own threads and its guardian fit, makes those
// threads then, and ends the run when a stage cannot be forked.
func TestOutOfProcesses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run tubo as another user (CI runs as root)")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed for ulimit -u")
	}
	// A copy of tubo and a directory that the other user can use.
	dir, err := os.MkdirTemp("", "tubo-nproc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tubo")
	b, err := os.ReadFile(tubo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// Below 8, the Go runtime itself cannot run (it has 7 threads by its
	// first garbage collection), whatever the program.
	for _, n := range []int{8, 10, 12, 14, 16, 18, 20, 24, 30, 40, 60} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := newMarker()
			// `sh -c 'cat; :' M` carries the marker as $0 (no exec of cat), so /proc shows it.
			line := "seq 10" + strings.Repeat(" | sh -c 'cat; :' "+m, 19)
			cmd := exec.Command("bash", "-c", fmt.Sprintf("ulimit -u %d; exec \"$0\" -c \"$1\"", n), bin, line)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TMPDIR="+dir)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			st, err := runBounded(cmd, 60*time.Second)
			if err != nil {
				t.Fatalf("%v\nstderr: %s", err, stderr.String())
			}
			msg := stderr.String()
			if strings.Contains(msg, "runtime:") || strings.Contains(msg, "fatal error") || st > 128 {
				t.Fatalf("tubo crashed (status %d):\n%q", st, msg)
			}
			// tubo's own message, or a stage's (dash: "Cannot fork"),
			// when a stage could start but not fork a child of its own.
			if st != 0 && !strings.Contains(msg, "cannot start") && !strings.Contains(msg, "Cannot fork") {
				t.Errorf("status %d without a clear message: %q", st, msg)
			}
			if st == 0 && n < 30 {
				t.Errorf("status 0 with %d processes allowed for 39 (20 stages, 19 of them sh and cat), tubo and its guardian", n)
			}
			assertGone(t, m, 5*time.Second)
		})
	}
}
