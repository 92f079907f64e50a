package reliability

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// threadsOf is the Threads: line of /proc/PID/status, or 0.
func threadsOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// peakThreads runs tubo with args until it exits and returns its status
// and the most threads it was seen with (sampled every 2 ms).
func peakThreads(t *testing.T, dir string, args ...string) (int, int, string) {
	t.Helper()
	p := start(t, dir, nil, args...)
	peak := 0
	done := make(chan int, 1)
	go func() { done <- p.wait(t, 60*time.Second) }()
	for {
		select {
		case st := <-done:
			return st, peak, p.stderr.String()
		case <-time.After(2 * time.Millisecond):
			peak = max(peak, threadsOf(p.cmd.Process.Pid))
		}
	}
}

// TestThreadsStayFew: tubo's threads do not grow with the graph. Starts
// run on a fixed pool of spawner threads, exits are awaited in the
// netpoller, and a FIFO whose both sides tubo opens is opened without
// blocking, so no thread waits per stage or per FIFO. (A FIFO open used
// to hold a thread until the other side opened: 50 such FIFOs, 50
// threads.)
func TestThreadsStayFew(t *testing.T) {
	const bound = 16
	t.Run("200-stage line", func(t *testing.T) {
		line := "seq 1000" + strings.Repeat(" | sh -c 'sleep 0.3; cat'", 199)
		// (--stall-after 0: this test is about threads, not the watchdog.)
		st, peak, stderr := peakThreads(t, "", "--stall-after", "0", line)
		if st != 0 || peak > bound {
			t.Errorf("status %d, %d threads at most (want ≤ %d): %s", st, peak, bound, stderr)
		}
		t.Logf("%d threads at most", peak)
	})
	t.Run("50 FIFOs opened long before their writers start", func(t *testing.T) {
		dir := t.TempDir()
		var b strings.Builder
		b.WriteString("version: 1\nfifos:\n")
		for i := range 50 {
			fmt.Fprintf(&b, "  f%d: {}\n", i)
		}
		b.WriteString("stages:\n  gate:\n    run: [sleep, \"0.5\"]\n")
		for i := range 50 {
			fmt.Fprintf(&b, "  w%d:\n    run: [echo, x%d]\n    stdout: f%d\n    after: [gate]\n", i, i, i)
			fmt.Fprintf(&b, "  r%d:\n    run: [cat]\n    stdin: f%d\n", i, i)
		}
		f := writeFile(t, dir, "fifos.yaml", b.String())
		st, peak, stderr := peakThreads(t, dir, "run", f)
		if st != 0 || peak > bound {
			t.Errorf("status %d, %d threads at most (want ≤ %d): %s", st, peak, bound, stderr)
		}
		t.Logf("%d threads at most", peak)
	})
}
