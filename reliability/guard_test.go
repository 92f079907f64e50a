package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGuardianEndsOnlyListedGroups plays tubo's side of the guardian's
// pipe: it lists three process groups and two paths, takes one group and
// one path back (as tubo does once it has swept a group or removed a
// path), and closes the pipe as a dying tubo would. The guardian must end
// the groups still listed, leave the one taken back alone (its ID may
// belong to someone else by then), remove the listed path only, and exit.
func TestGuardianEndsOnlyListedGroups(t *testing.T) {
	m := newMarker()
	group := func(script string) *exec.Cmd {
		c := exec.Command("sh", "-c", script)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL); c.Wait() })
		return c
	}
	a := group("exec sleep " + m)
	b := group("exec sleep " + m)
	c := group(fmt.Sprintf("sleep %s & sleep %s; wait", m, m))
	waitProcs(t, m, 4)
	dir := t.TempDir()
	listed, unlisted := filepath.Join(dir, "listed"), filepath.Join(dir, "unlisted")
	for _, d := range []string{listed, unlisted} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	g := exec.Command(tubo, "__tubo_guard")
	g.Stdin = r
	g.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	fmt.Fprintf(w, "+%d\n+%d\n+%d\n-%d\n", a.Process.Pid, b.Process.Pid, c.Process.Pid, b.Process.Pid)
	fmt.Fprintf(w, "r%x\nr%x\nR%x\n", listed, unlisted, unlisted)
	w.Close() // tubo is gone
	if st, err := runBoundedWait(g, 10*time.Second); err != nil || st != 0 {
		t.Fatalf("guardian: status %d, %v", st, err)
	}
	left := withMarker(m)
	if len(left) != 1 || !strings.HasPrefix(left[0], strconv.Itoa(b.Process.Pid)+" ") {
		t.Errorf("after the guardian: %q alive, want only the unlisted group's sleep (pid %d)", left, b.Process.Pid)
	}
	if _, err := os.Stat(listed); !os.IsNotExist(err) {
		t.Errorf("the listed path is still there (%v)", err)
	}
	if _, err := os.Stat(unlisted); err != nil {
		t.Errorf("the path taken back was removed: %v", err)
	}
}

// TestGuardianGoesWithTubo runs a 10-stage /bin/true line many times:
// after tubo exits, its guardian, which has nothing left to end (every
// group was swept and taken back before its last member was reaped),
// exits at once instead of signalling groups that are gone. (That the
// stages never split into several groups is executor's
// TestSharedGroupNeverSplits.)
func TestGuardianGoesWithTubo(t *testing.T) {
	line := strings.TrimSuffix(strings.Repeat("/bin/true | ", 10), " | ")
	runs := 40
	worst := time.Duration(0)
	for i := range runs {
		cmd := exec.Command(tubo, "-c", line+"; cat")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.WaitDelay = 3 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// While tubo waits for cat (reading the test's pipe), its guardian is
		// its child.
		var guard int
		eventually(10*time.Second, func() bool { guard = guardianOf(cmd.Process.Pid); return guard != 0 })
		if i == 0 && guard != 0 {
			checkGuardianProcess(t, guard)
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, stderr.String())
		}
		exited := time.Now()
		if guard == 0 {
			t.Fatalf("run %d: no guardian found", i)
		}
		if !eventually(5*time.Second, func() bool { return procState(guard) == "" || procState(guard) == "Z" }) {
			t.Fatalf("run %d: guardian %d still running 5 s after tubo", i, guard)
		}
		worst = max(worst, time.Since(exited))
	}
	// Polling every 20 ms: what is measured is an upper bound.
	if worst > 250*time.Millisecond {
		t.Errorf("a guardian outlived its tubo by %s (want < 250 ms: it has nothing to end)", worst)
	}
	t.Logf("%d runs: the guardian was gone at most %s after tubo", runs, worst)
}

// checkGuardianProcess checks what the forked guardian keeps of tubo: fd 0
// only (the read end of its pipe; the write end in its hands would keep
// EOF from ever coming), "/" as its directory, a process group of its
// own, one thread, and every signal blocked (SIGKILL and SIGSTOP cannot
// be).
func checkGuardianProcess(t *testing.T, pid int) {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		fds = append(fds, e.Name())
	}
	if len(fds) != 1 || fds[0] != "0" {
		t.Errorf("guardian %d holds descriptors %v, want only 0", pid, fds)
	} else if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid)); !strings.HasPrefix(l, "pipe:") {
		t.Errorf("guardian's fd 0 is %s, want its pipe", l)
	}
	if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); cwd != "/" {
		t.Errorf("guardian's directory is %q, want /", cwd)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("guardian's process group is %d (%v), want its own (%d)", pgid, err, pid)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, want := range []string{"Threads:\t1\n", "SigBlk:\tfffffffffffbfeff\n"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("guardian's status lacks %q:\n%s", want, status)
		}
	}
}

// guardianOf finds the guardian among tubo's children.
func guardianOf(tuboPid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", tuboPid, tuboPid))
	if err != nil {
		return 0
	}
	// Threads other than the main one fork too: look at all of them.
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", tuboPid))
	for _, e := range ents {
		more, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", tuboPid, e.Name()))
		b = append(append(b, ' '), more...)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if string(comm) == "tubo-guardian\n" {
			return pid
		}
	}
	return 0
}

// runBoundedWait waits for a started cmd, at most d.
func runBoundedWait(cmd *exec.Cmd, d time.Duration) (int, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return 0, fmt.Errorf("still running after %s", d)
	}
	return cmd.ProcessState.ExitCode(), nil
}
