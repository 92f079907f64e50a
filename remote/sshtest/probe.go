package sshtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// OrphanBound is how long a test waits for a run's remote processes to be
// gone. By design they end within about a second (the agent sends
// SIGTERM, then SIGKILL a second later; a wrapper's own clean-up lives a
// second), and the tests log what they measured; the bound is generous
// only so that a loaded machine never fails a test that has no leak.
const OrphanBound = 15 * time.Second

// Marker is an argument that no other process has: a test puts it in a
// remote stage's command line to find its processes with ps.
func Marker() string { return fmt.Sprintf("tubo-marker-%d", rand.Int64()) }

// Processes lists the processes on s whose command line holds m, as ps
// run through s's sshd sees them (the probe's own ps and shell left out).
func (e *Env) Processes(s *Server, m string) ([]string, error) {
	out, err := e.Run(s, "ps -eo pid,pgid,args")
	if err != nil {
		return nil, fmt.Errorf("ps through %s: %v: %s", s.Name, err, out)
	}
	var found []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, m) && !strings.Contains(l, "ps -eo") {
			found = append(found, strings.TrimSpace(l))
		}
	}
	return found, nil
}

// WaitGone waits until no process on s holds m in its command line, up to
// OrphanBound, and fails the test if some still do. It logs how long that
// took from the call, and how long the last probe (a ps through sshd,
// slow on a loaded machine) took of it.
func (e *Env) WaitGone(t testing.TB, s *Server, m string) {
	t.Helper()
	began := time.Now()
	for {
		probe := time.Now()
		left, err := e.Processes(s, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			t.Logf("%s: gone %s after the wait began (the probe took %s)", s.Name,
				probe.Sub(began).Round(time.Millisecond), time.Since(probe).Round(time.Millisecond))
			return
		}
		if time.Since(began) > OrphanBound {
			t.Fatalf("still running on %s %s later: %q", s.Name, OrphanBound, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitRunning waits until some process on s holds m in its command line,
// and returns them. It fails the test at once when ended is closed first
// (what started them exited; why says what it said), and after bound.
func (e *Env) WaitRunning(t testing.TB, s *Server, m string, bound time.Duration, ended <-chan struct{}, why func() string) []string {
	t.Helper()
	began := time.Now()
	for {
		found, err := e.Processes(s, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) > 0 {
			return found
		}
		select {
		case <-ended:
			t.Fatalf("ended before %s ran on %s: %s", m, s.Name, why())
		default:
		}
		if time.Since(began) > bound {
			t.Fatalf("%s not running on %s after %s: %s", m, s.Name, bound, why())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Unavailable says why servers with opt cannot be started here, or "".
func Unavailable(opt Options) string {
	if why := Available(); why != "" {
		return "no test sshd: " + why
	}
	if opt.Namespaced > 0 {
		if why := CanNamespace(); why != "" {
			return "needs namespaced hosts: " + why
		}
	}
	return ""
}

// Skip skips a test that this machine cannot run, with the reason; under
// CI (CI set in the environment), whose machine .ci/run provides with
// everything, it fails the test instead, so that nothing is skipped
// there unseen.
func Skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: .ci/run must provide it)", why)
	}
	t.Skip(why)
}
