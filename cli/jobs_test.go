package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const keyCtrlZ = "\x1a"

// TestPromptJobControl types, at tubo's prompt on a pseudo-terminal, what
// a person does with jobs: a background job, ^Z of a foreground line,
// jobs, fg (the job reads the terminal again), ^Z and bg, ^C of a
// foreground line, kill %N, wait. Every step waits for what the terminal
// shows, and a stage that must be stopped waits on a file or the terminal
// (no timing decides what the test sees). (^Z used to leave the prompt
// waiting for ever on the stopped line.)
func TestPromptJobControl(t *testing.T) {
	dir := t.TempDir()
	s := startSession(t, dir, promptEnv(dir, "/usr/bin"))
	s.keys("sleep 30 &" + keyEnter)
	s.expect(`\[1\] \d+`, 1)
	s.keys("sh -c 'echo o-reading; read x; echo o-got-$x'" + keyEnter)
	s.expect(`(?m)^o-reading`, 1)
	s.lineHasTerminal()
	s.keys(keyCtrlZ)
	s.expect(`\[2\]\+  Stopped +sh -c 'echo o-reading`, 1)
	s.keys("echo o-stopped-$?" + keyEnter)
	s.expect(`o-stopped-148`, 1)
	s.keys("jobs" + keyEnter)
	s.expect(`\[1\]-  Running +sleep 30`, 1)
	s.expect(`\[2\]\+  Stopped +sh -c`, 2)
	s.keys("fg; echo o-fg-$?" + keyEnter)
	s.expect(`(?m)^sh -c 'echo o-reading`, 1)
	s.keys("abc" + keyEnter)
	s.expect(`o-got-abc`, 1)
	s.expect(`o-fg-0`, 1)

	// ^Z, then bg: the job goes on without the terminal, to its end.
	s.keys("sh -c 'echo o-waiting; until [ -e go ]; do sleep 0.05; done; echo o-bg-done'" + keyEnter)
	s.expect(`(?m)^o-waiting`, 1)
	s.lineHasTerminal()
	s.keys(keyCtrlZ)
	s.expect(`\[2\]\+  Stopped +sh -c 'echo o-waiting`, 1)
	s.keys("bg %2" + keyEnter)
	s.expect(`\[2\]\+ sh -c 'echo o-waiting.* &`, 1)
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s.keys("wait %2; echo o-bg-$?" + keyEnter)
	s.expect(`o-bg-done`, 1)
	s.expect(`o-bg-0`, 1)

	// ^C ends a foreground line, not the prompt.
	s.keys("sh -c 'echo o-sleeping; sleep 30'; echo o-not-reached" + keyEnter)
	s.expect(`(?m)^o-sleeping`, 1)
	s.lineHasTerminal()
	s.keys(keyCtrlC)
	s.keys("echo o-int-$?" + keyEnter)
	s.expect(`o-int-130`, 1)

	// A stopped job that is killed ends (it is continued to take the
	// signal), and the background one too.
	s.keys("sh -c 'echo o-again; read x'" + keyEnter)
	s.expect(`(?m)^o-again`, 1)
	s.lineHasTerminal()
	s.keys(keyCtrlZ)
	s.expect(`Stopped +sh -c 'echo o-again`, 1)
	s.keys("kill %1 %2; wait; echo o-none-$?" + keyEnter)
	s.expect(`o-none-0`, 1)
	s.exit()
}

// lineHasTerminal waits until the running line's process group, not
// tubo's, is the terminal's foreground group, so that a ^Z or ^C typed
// next reaches the line (as it does for a person, who types it later).
func (s *session) lineHasTerminal() {
	s.t.Helper()
	pid := s.cmd.Process.Pid
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			s.t.Fatal(err)
		}
		// Fields after the command's ")": state ppid pgrp session tty tpgid.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 5 && f[5] != f[2] && f[5] != "-1" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the line never got the terminal; the screen:\n%s", s.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
