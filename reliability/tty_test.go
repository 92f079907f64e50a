package reliability

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ttySession is tubo running as a session leader on a fresh
// pseudo-terminal that is its controlling terminal.
type ttySession struct {
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

func startOnTTY(t *testing.T, args ...string) *ttySession {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s := &ttySession{cmd: exec.Command(tubo, args...), master: master, done: make(chan struct{})}
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
			if err != nil { // EIO once the last holder of the tty is gone
				return
			}
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		master.Close()
	})
	return s
}

func (s *ttySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the terminal output has shown want count times.
func (s *ttySession) expect(t *testing.T, want string, count int) {
	t.Helper()
	if !eventually(15*time.Second, func() bool { return strings.Count(s.output(), want) >= count }) {
		t.Fatalf("terminal never showed %q ×%d; it shows %q", want, count, s.output())
	}
}

func (s *ttySession) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Fatalf("tubo still running after 30 s; terminal: %q", s.output())
	}
	ws := s.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// stat returns the pgrp and tpgid fields of /proc/PID/stat.
func stat(pid int) (pgrp, tpgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] state, f[1] ppid, f[2] pgrp, f[3] session, f[4] tty_nr, f[5] tpgid
	pgrp, _ = strconv.Atoi(f[2])
	tpgid, _ = strconv.Atoi(f[5])
	return pgrp, tpgid, true
}

// stages lists the live children of pid that run one of the named
// programs (the guardian, also a child, is not one of them).
func stages(pid int, comm string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		name := s[strings.IndexByte(s, '(')+1 : strings.LastIndexByte(s, ')')]
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid && name == comm && f[0] != "Z" {
			p, _ := strconv.Atoi(e.Name())
			out = append(out, p)
		}
	}
	return out
}

// TestTerminalForegroundAndCtrlC: the pipeline's group gets the terminal,
// a typed line reaches it, Ctrl-C ends it with SIGINT, tubo exits 130.
func TestTerminalForegroundAndCtrlC(t *testing.T) {
	s := startOnTTY(t, "cat | cat")
	tuboPid := s.cmd.Process.Pid
	var cats []int
	if !eventually(15*time.Second, func() bool { cats = stages(tuboPid, "cat"); return len(cats) == 2 }) {
		t.Fatalf("never saw the two cat stages; terminal: %q", s.output())
	}
	tuboPgrp, _, _ := stat(tuboPid)
	var pgrp, tpgid int
	if !eventually(15*time.Second, func() bool {
		pgrp, tpgid, _ = stat(cats[0])
		return pgrp == tpgid
	}) {
		t.Fatalf("stage pgrp %d, terminal foreground group %d: the pipeline is not in the foreground", pgrp, tpgid)
	}
	if pgrp == tuboPgrp {
		t.Errorf("the stages run in tubo's own group %d", pgrp)
	}
	if p2, _, _ := stat(cats[1]); p2 != pgrp {
		t.Errorf("the two stages are in groups %d and %d, want one", pgrp, p2)
	}
	s.master.Write([]byte("hello tty\n"))
	s.expect(t, "hello tty", 2) // the terminal's echo, then cat | cat
	s.master.Write([]byte{3})   // Ctrl-C: SIGINT to the foreground group
	if st := s.wait(t); st != 130 {
		t.Errorf("exit status %d, want 130; terminal: %q", st, s.output())
	}
}

// TestTerminalHandBack: after each pipeline tubo takes the terminal back
// and hands it to the next; a second pipeline left in the background
// would be stopped by SIGTTIN (or get EIO) when it reads.
func TestTerminalHandBack(t *testing.T) {
	s := startOnTTY(t, `sh -c 'read x; echo "A:$x"'; sh -c 'read y; echo "B:$y"'`)
	s.master.Write([]byte("one\n"))
	s.expect(t, "A:one", 1)
	s.master.Write([]byte("two\n"))
	s.expect(t, "B:two", 1)
	if st := s.wait(t); st != 0 {
		t.Errorf("exit status %d, want 0; terminal: %q", st, s.output())
	}
}

// TestInteractive runs tubo with no arguments on a terminal: it prompts,
// runs each complete statement (asking for more after a trailing |),
// keeps variables and the directory from line to line, gives Ctrl-C to
// the running pipeline (status 130, tubo goes on) and ends at exit N.
func TestInteractive(t *testing.T) {
	s := startOnTTY(t)
	s.expect(t, "tubo$ ", 1)
	s.master.Write([]byte("echo hi | tr a-z A-Z\n"))
	s.expect(t, "HI", 1)
	s.master.Write([]byte("cd /tmp; X=five\n"))
	s.expect(t, "tubo$ ", 3)
	s.master.Write([]byte("echo \"$X $PWD\" |\n"))
	s.expect(t, "> ", 1)
	s.master.Write([]byte("cat\n"))
	s.expect(t, "five /tmp", 1)
	s.master.Write([]byte("sleep 300\n"))
	time.Sleep(300 * time.Millisecond)
	s.master.Write([]byte{3}) // Ctrl-C
	s.master.Write([]byte("echo status=$?\n"))
	s.expect(t, "status=130", 1)
	s.master.Write([]byte("exit 3\n"))
	if st := s.wait(t); st != 3 {
		t.Errorf("exit status %d, want 3; terminal: %q", st, s.output())
	}
}
