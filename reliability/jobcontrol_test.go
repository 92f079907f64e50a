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

	"github.com/creack/pty"
)

// startBash runs an interactive bash (job control on) as the session
// leader of a fresh pseudo-terminal, with tubo on its PATH.
func startBash(t *testing.T, dir string) *ttySession {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed")
	}
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s := &ttySession{cmd: exec.Command(bash, "--norc", "--noprofile", "-i"), master: master, done: make(chan struct{})}
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), "PS1=bash$ ", "PATH="+filepath.Dir(tubo)+":"+os.Getenv("PATH"), "TERM=dumb")
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = tty, tty, tty
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			// bash leads a session of its own: a test that failed
			// half-way may leave its jobs (tubo, its stopped stages) in
			// other process groups of that session, where killing
			// bash's group would not reach them.
			killSession(s.cmd.Process.Pid)
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		master.Close()
	})
	s.expect(t, "bash$ ", 1)
	return s
}

// killSession SIGKILLs every process of session sid (a stopped process
// too: SIGKILL needs no SIGCONT).
func killSession(sid int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		// After the name: state, ppid, pgrp, session.
		f := strings.Fields(st[i+1:])
		if len(f) > 3 && f[3] == strconv.Itoa(sid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// allStopped reports whether every live process carrying marker is
// stopped: T, or D in the kernel's clone (a shell caught between vfork and
// its child's exec waits there, uninterruptibly, for the child, which is
// stopped itself).
func allStopped(marker string) bool {
	lines := withMarker(marker)
	if len(lines) == 0 {
		return false
	}
	for _, l := range lines {
		var pid int
		fmt.Sscan(l, &pid)
		switch procState(pid) {
		case "T":
		case "D":
			w, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/wchan")
			if !strings.Contains(string(w), "clone") && !strings.Contains(string(w), "vfork") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// states gives the /proc state letter of every live process carrying
// marker.
func states(marker string) []string {
	var out []string
	for _, l := range withMarker(marker) {
		var pid int
		fmt.Sscan(l, &pid)
		out = append(out, procState(pid))
	}
	return out
}

func allIn(states []string, want ...string) bool {
	if len(states) == 0 {
		return false
	}
	for _, s := range states {
		ok := false
		for _, w := range want {
			ok = ok || s == w
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestCtrlZ runs tubo from an interactive bash in a pseudo-terminal and
// types ^Z, `jobs` and `fg`, as a user does: for a shell line (whose group
// has the terminal, so ^Z stops its stages, not tubo) and for a YAML run
// (whose stages each have a group, so ^Z reaches tubo alone). Either way
// the stages and tubo stop, bash gets its prompt back and lists the job
// as Stopped, and fg resumes everything to a normal end. (A shell line
// used to leave tubo waiting on stopped stages, so the prompt never came
// back; a YAML run stopped tubo while its stages ran on.)
//
// The stage ends when the test creates the file "go" (after fg), so no
// timing decides what the test sees.
func TestCtrlZ(t *testing.T) {
	const waitGo = `until [ -e go ]; do sleep 0.05; done`
	cases := []struct {
		name string
		cmd  func(dir, m string) string
	}{
		{"line", func(dir, m string) string {
			return fmt.Sprintf(`tubo 'sh -c "%s; echo line-done" %s | cat'`, waitGo, m)
		}},
		{"yaml", func(dir, m string) string {
			writeFile(t, dir, "z.yaml", fmt.Sprintf(`version: 1
stages:
  a:
    run: [sh, -c, "%s; echo yaml-done", %s]
    stdout: b
  b:
    run: [cat]
`, waitGo, m))
			return "tubo run z.yaml"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m := newMarker()
			s := startBash(t, dir)
			s.master.Write([]byte(c.cmd(dir, m) + "\n"))
			waitProcs(t, m, 1)
			s.master.Write([]byte{0x1a}) // ^Z
			if !eventually(8*time.Second, func() bool { return strings.Count(s.output(), "Stopped") >= 1 }) {
				// Seen once in a CI run under -race and load: the ^Z was
				// echoed but tubo never stopped (a known, unexplained loss;
				// see the closing note of stop 17). A second ^Z must work.
				t.Logf("the first ^Z did not stop the job; terminal: %q", s.output())
				t.Logf("DEBUG\n%s", sessionDump(s))
				s.master.Write([]byte{0x1a})
			}
			s.expect(t, "Stopped", 1)
			s.expect(t, "bash$ ", 2)
			if !eventually(5*time.Second, func() bool { return allStopped(m) }) {
				t.Fatalf("after ^Z the stage is %v, want stopped (T); terminal: %q", states(m), s.output())
			}
			s.master.Write([]byte("jobs\n"))
			s.expect(t, "Stopped", 2)
			s.expect(t, "bash$ ", 3)
			s.master.Write([]byte("fg\n"))
			writeFile(t, dir, "go", "")
			if !eventually(5*time.Second, func() bool { return allIn(states(m), "S", "R") || len(withMarker(m)) == 0 }) {
				t.Logf("DEBUG\n%s", sessionDump(s))
				t.Fatalf("after fg the stage is %v, want running; terminal: %q", states(m), s.output())
			}
			s.expect(t, c.name+"-done", 1)
			s.expect(t, "bash$ ", 4)
			s.master.Write([]byte("echo status=$?\n"))
			s.expect(t, "status=0", 1)
			if strings.Count(s.output(), "Stopped") < 2 {
				t.Errorf("terminal: %q", s.output())
			}
			s.master.Write([]byte("exit\n"))
			assertGone(t, m, 4*time.Second)
		})
	}
}

// sessionDump shows every process of bash's session (bash leads it):
// groups, the terminal's group, states, and each tubo's signal masks per
// thread. It is for the log of a failed job-control test.
func sessionDump(s *ttySession) string {
	sid := strconv.Itoa(s.cmd.Process.Pid)
	out, _ := exec.Command("sh", "-c", `ps -o pid,ppid,pgid,tpgid,stat,wchan:20,cmd -s `+sid+`; for p in $(ps -o pid= -s `+sid+`); do [ "$(cat /proc/$p/comm)" = tubo ] || continue; echo "== tubo $p"; grep -E "State|Sig|ShdPnd" /proc/$p/status; for t in /proc/$p/task/*; do echo "$t $(cut -d' ' -f3 $t/stat) $(cat $t/wchan) $(grep -E 'SigBlk|SigPnd' $t/status | tr '\n' ' ')"; done; done`).CombinedOutput()
	return string(out)
}
