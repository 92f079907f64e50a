package reliability

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// killRuns is how many times TestSIGKILLAtAnyMoment kills each kind of
// run: TUBO_KILL_RUNS (1000 in make test-long and CI), 150 by default.
func killRuns(t *testing.T) int {
	if s := os.Getenv("TUBO_KILL_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TUBO_KILL_RUNS=%q: want a positive count", s)
		}
		return n
	}
	return 150
}

// TestSIGKILLAtAnyMoment starts tubo over and over and SIGKILLs it at a
// moment drawn from a fixed sequence: 0–50 ms after the start, or right
// after tubo has traced its first stage's start. Every stage leaves a
// child of its own behind (which Pdeathsig does not reach), there is a
// private FIFO directory and a tee and merge inside tubo. After all the
// runs, no marked process may be alive and TMPDIR must be empty: the
// guardian must be watching from the first fork on. The count of runs is
// an execution count (killRuns), never a time budget.
func TestSIGKILLAtAnyMoment(t *testing.T) {
	n := killRuns(t)
	dir := t.TempDir()
	tmp := t.TempDir()
	m, mf, mt := newMarker(), newMarker(), newMarker()
	line := fmt.Sprintf(`sh -c "sleep %s & sleep %s" | sh -c "sleep %s & cat" | cat`, m, m, m)
	fifo := writeFile(t, dir, "fifo.yaml", fmt.Sprintf(`version: 1
fifos:
  chan: {}
stages:
  writer:
    run: [sh, -c, "sleep %s & seq 100000; wait"]
    stdout: chan
  reader:
    run: [sh, -c, "sleep %s & cat >/dev/null; wait"]
    stdin: chan
`, mf, mf))
	teeMerge := writeFile(t, dir, "teemerge.yaml", fmt.Sprintf(`version: 1
stages:
  gen:
    run: [sh, -c, "sleep %s & seq 200000"]
    stdout: t
  left:
    run: [sh, -c, "sleep %s & cat"]
    stdin: t
    stdout: m
  right:
    run: [sh, -c, "sleep %s & cat"]
    stdin: t
    stdout: m
  sink:
    run: [sh, -c, "sleep %s & cat >/dev/null"]
    stdin: m
tees:
  t: {spill: true}
merges:
  m: {mode: interleave}
`, mt, mt, mt, mt))
	kinds := []struct {
		name string
		args []string
	}{
		{"line", []string{line}},
		{"fifo", []string{"run", fifo}},
		{"tee-merge", []string{"run", teeMerge}},
	}
	rng := rand.New(rand.NewPCG(9, 15)) // a fixed sequence of moments
	type job struct {
		args    []string
		delay   time.Duration // -1: right after the first stage's start
		kind    string
		attempt int
	}
	var jobs []job
	for _, k := range kinds {
		for i := range n {
			d := time.Duration(rng.IntN(50_001)) * time.Microsecond
			if i%4 == 3 {
				d = -1
			}
			jobs = append(jobs, job{k.args, d, k.name, i})
		}
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var mu sync.Mutex
	killedAlive := 0 // runs killed while tubo still ran
	var failures []string
	work := make(chan job)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				alive, err := killOnce(tubo, j.args, dir, tmp, null, j.delay)
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s #%d: %v", j.kind, j.attempt, err))
				}
				if alive {
					killedAlive++
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	// The guardian takes up to 300 ms (SIGTERM, then SIGKILL) after each
	// kill; the last ones may still be at it.
	for i, mk := range []string{m, mf, mt} {
		if !eventually(15*time.Second, func() bool { return len(withMarker(mk)) == 0 }) {
			left := withMarker(mk)
			t.Errorf("%s: %d processes survived %d SIGKILLs of tubo: %q", kinds[i].name, len(left), n, left)
			killMarked(left)
		}
	}
	var left []os.DirEntry
	eventually(15*time.Second, func() bool { left, _ = os.ReadDir(tmp); return len(left) == 0 })
	if len(left) != 0 {
		t.Errorf("TMPDIR not empty after %d SIGKILLs of tubo: %v", len(jobs), left)
	}
	t.Logf("%d runs (%d per kind) killed by SIGKILL, %d of them while tubo was still running; survivors and leftover directories: none unless reported above", len(jobs), n, killedAlive)
}

// killOnce starts tubo and SIGKILLs it after delay (or, for a negative
// delay, as soon as its trace shows the first stage started). It reports
// whether tubo was still running when killed.
func killOnce(tubo string, args []string, dir, tmp string, null *os.File, delay time.Duration) (bool, error) {
	var targs []string
	if delay < 0 {
		targs = append(targs, "--trace")
	}
	cmd := exec.Command(tubo, append(targs, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stdin, cmd.Stdout = null, null
	var trace *bufio.Reader
	if delay < 0 {
		r, err := cmd.StderrPipe()
		if err != nil {
			return false, err
		}
		trace = bufio.NewReader(r)
	} else {
		cmd.Stderr = null
	}
	if err := cmd.Start(); err != nil {
		return false, err
	}
	if delay >= 0 {
		time.Sleep(delay)
	} else {
		for {
			l, err := trace.ReadString('\n')
			if err != nil || strings.Contains(l, " start ") {
				break
			}
		}
	}
	alive := procState(cmd.Process.Pid) != "Z"
	cmd.Process.Signal(syscall.SIGKILL)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return alive, fmt.Errorf("tubo not reaped 30 s after SIGKILL")
	}
	return alive, nil
}

// procState is the state letter of /proc/PID/stat ("R", "S", "Z", …), or
// "" if the process is gone.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}
