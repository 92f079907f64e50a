package reliability

import (
	"fmt"
	"testing"
	"time"
)

// TestWaitIsBounded checks the harness itself: a process that exits while
// a leftover child still holds its stdout must not make the test's wait
// hang (TestNoOrphansAfterSignal once hung 300 s this way, waiting on the
// pipe a survivor held). The wait returns within WaitDelay of the exit.
func TestWaitIsBounded(t *testing.T) {
	m := newMarker()
	p := startCmd(t, t.TempDir(), nil, "sh", "-c", fmt.Sprintf("sleep %s & echo started", m))
	t.Cleanup(func() { killMarked(withMarker(m)) })
	begin := time.Now()
	if st := p.wait(t, 30*time.Second); st != 0 {
		t.Errorf("status %d", st)
	}
	if d := time.Since(begin); d > 15*time.Second {
		t.Errorf("wait took %s with a survivor holding stdout", d)
	}
	if p.stdout.String() != "started\n" {
		t.Errorf("stdout %q", p.stdout.String())
	}
}
