package reliability

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// underLimit runs a shell line with `ulimit -n nofile` under bash, in the
// given shell (tubo or dash), bounded.
func underLimit(t *testing.T, nofile int, prelude, shell, line string) (int, string, string) {
	t.Helper()
	script := fmt.Sprintf("ulimit -n %d; %s exec \"$0\" -c \"$1\"", nofile, prelude)
	cmd := exec.Command("bash", "-c", script, shell, line)
	cmd.Dir = t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	st, err := runBounded(cmd, 60*time.Second)
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", shell, err, stderr.String())
	}
	return st, stdout.String(), stderr.String()
}

// TestOutOfDescriptors runs ever longer lines with 64 descriptors allowed
// (ulimit -n 64). A line that fits prints exactly what dash prints; one
// that does not is an error that names the stage and the cause, with a
// non-zero status, and leaves nothing running: never lost output with
// status 0 (27-stage lines used to lose their output and exit 0). tubo
// makes each pipe when its stages start, so it needs a few descriptors at
// a time plus one pidfd per live stage: 40 stages must fit, as in dash.
func TestOutOfDescriptors(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal("dash is needed (CI installs it)")
	}
	for _, n := range []int{10, 27, 40, 60, 100, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := newMarker()
			// `sh -c 'cat; :' M` carries the marker as $0 (no exec of cat), so /proc shows it.
			line := "seq 100" + strings.Repeat(" | sh -c 'cat; :' "+m, n) + " | wc -l"
			st, out, stderr := underLimit(t, 64, "", tubo, line)
			switch {
			case st == 0 && out == "100\n" && stderr == "":
			case st == 0:
				t.Errorf("status 0 with stdout %q, stderr %q: want 100, or an error", out, stderr)
			case n <= 40:
				t.Errorf("%d stages do not fit in 64 descriptors (dash runs them): status %d, %s", n, st, stderr)
			case !strings.Contains(stderr, "cannot start stage") || !strings.Contains(stderr, "too many open files"):
				t.Errorf("status %d; the error does not say what went wrong: %q", st, stderr)
			}
			assertGone(t, m, 5*time.Second)
			if n <= 40 {
				if dst, dout, _ := underLimit(t, 64, "", dash, line); dst != st || dout != out {
					t.Errorf("dash: status %d, %q; tubo: status %d, %q", dst, dout, st, out)
				}
			}
		})
	}
}

// TestInheritedFDNearLimit: a descriptor tubo inherits just under its
// RLIMIT_NOFILE (or above it, as a wrapper can leave one) is passed to
// every stage as itself, and costs the stages nothing: they used to fail
// with 126 because the child moved descriptors above the highest one it
// was given, past the limit.
func TestInheritedFDNearLimit(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal("dash is needed (CI installs it)")
	}
	line := `printf 'a\nb\n' | sort -r | sh -c 'cat; ls /proc/self/fd | sort -n | tail -n 2' 2>&1`
	for _, fd := range []int{61, 62, 63} {
		t.Run(fmt.Sprint(fd), func(t *testing.T) {
			prelude := fmt.Sprintf("exec %d</dev/null;", fd)
			st, out, stderr := underLimit(t, 64, prelude, tubo, line)
			dst, dout, dstderr := underLimit(t, 64, prelude, dash, line)
			if st != dst || out != dout || stderr != dstderr {
				t.Errorf("tubo: status %d, %q, %q\ndash: status %d, %q, %q", st, out, stderr, dst, dout, dstderr)
			}
		})
	}
}
