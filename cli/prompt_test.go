package cli_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The interactive prompt, tried as a person would: bin/tubo (make build)
// on a pseudo-terminal, keys typed into it, and what the commands print
// read back. Commands print something other than what was typed
// (printf 'o-%s\n' x prints o-x), so that the echo of the line is not
// taken for its output.

const (
	keyUp    = "\x1b[A"
	keyLeft  = "\x1b[D"
	keyRight = "\x1b[C"
	keyTab   = "\t"
	keyEnter = "\r"
	keyCtrlR = "\x12"
	keyCtrlD = "\x04"
	keyCtrlC = "\x03"
)

// session is one tubo prompt on a pseudo-terminal.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// promptEnv is a fixed environment: a fresh HOME, the history in dir,
// no inputrc of the user's, and PATH with bin (for a command to complete).
func promptEnv(dir, bin string) []string {
	return []string{
		"HOME=" + dir, "HISTFILE=" + filepath.Join(dir, "history"), "INPUTRC=/dev/null",
		"TERM=xterm", "LC_ALL=C", "PATH=" + bin + ":/usr/bin:/bin",
	}
}

func startSession(t *testing.T, dir string, env []string) *session {
	t.Helper()
	root, _ := filepath.Abs("..")
	tubo := filepath.Join(root, "bin", "tubo")
	if _, err := os.Stat(tubo); err != nil {
		t.Skip("bin/tubo not built (run make build)")
	}
	cmd := exec.Command(tubo)
	cmd.Dir, cmd.Env = dir, env
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s := &session{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		ptmx.Close()
	})
	s.expect(`tubo\$ `, 1)
	return s
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>78]|\r`)

// screen is everything the terminal received, without escape sequences.
func (s *session) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.ReplaceAllString(s.out.String(), "")
}

// expect waits until pattern has matched n times on the screen (a bound
// that only catches hangs).
func (s *session) expect(pattern string, n int) {
	s.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(60 * time.Second)
	for len(re.FindAllStringIndex(s.screen(), -1)) < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("%q did not show %d times; the screen:\n%s", pattern, n, s.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keys types, a little at a time as a person does.
func (s *session) keys(ks ...string) {
	s.t.Helper()
	for _, k := range ks {
		if _, err := io.WriteString(s.ptmx, k); err != nil {
			s.t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// exit ends the session with ^D and waits for tubo to exit.
func (s *session) exit() {
	s.t.Helper()
	s.keys(keyCtrlD)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("tubo did not exit at ^D; the screen:\n%s", s.screen())
	}
	s.cmd.Wait()
}

func TestPromptEditing(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "tubozzcmd"), []byte("#!/bin/sh\necho ran-zz\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "uniqfile-q.txt"), []byte("content-q\n"), 0o644)
	s := startSession(t, dir, promptEnv(dir, bin))

	// Up recalls the last line.
	s.keys(`printf 'o-%s\n' one`, keyEnter)
	s.expect(`(?m)^o-one$`, 1)
	s.keys(keyUp, keyEnter)
	s.expect(`(?m)^o-one$`, 2)

	// Left and Right move in the line: "abd", Left, "c", Right, "e".
	s.keys(`printf 'o-%s\n' abd`, keyLeft, "c", keyRight, "e", keyEnter)
	s.expect(`(?m)^o-abcde$`, 1)

	// Tab completes a command on $PATH and a file name.
	s.keys("tubozz", keyTab)
	s.keys(keyEnter)
	s.expect(`(?m)^ran-zz$`, 1)
	s.keys("cat uniqf", keyTab)
	s.keys(keyEnter)
	s.expect(`(?m)^content-q$`, 1)

	// And a variable.
	s.keys("ZZVAR=val", keyEnter)
	s.keys(`printf 'o-%s\n' $ZZV`, keyTab)
	s.keys(keyEnter)
	s.expect(`(?m)^o-val$`, 1)

	// ^R searches the history backwards.
	s.keys(`printf 'o-%s\n' beta`, keyEnter)
	s.expect(`(?m)^o-beta$`, 1)
	s.keys(keyCtrlR, "abc")
	s.keys(keyEnter)
	s.expect(`(?m)^o-abcde$`, 2)

	// A statement goes on over lines until it is complete.
	s.keys(`printf 'o-%s\n' 'x`, keyEnter, `y'`, keyEnter)
	s.expect(`(?m)^o-x\ny$`, 1)

	// ^C drops the line being typed, and the prompt goes on.
	s.keys(`printf 'o-%s\n' dropped`, keyCtrlC)
	s.keys(`printf 'o-%s\n' after`, keyEnter)
	s.expect(`(?m)^o-after$`, 1)
	if strings.Contains(s.screen(), "o-dropped") {
		t.Errorf("the line dropped with ^C ran:\n%s", s.screen())
	}
	s.exit()
}

// The history is kept in $HISTFILE, so a new session recalls the lines
// of the last one.
func TestPromptHistorySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	env := promptEnv(dir, dir)
	s := startSession(t, dir, env)
	s.keys(`printf 'o-%s\n' kept`, keyEnter)
	s.expect(`(?m)^o-kept$`, 1)
	s.exit()
	b, err := os.ReadFile(filepath.Join(dir, "history"))
	if err != nil || !strings.Contains(string(b), `printf 'o-%s\n' kept`) {
		t.Fatalf("history file: %v %q", err, b)
	}
	s2 := startSession(t, dir, env)
	s2.keys(keyUp, keyEnter)
	s2.expect(`(?m)^o-kept$`, 1)
	s2.exit()

	// Without $HISTFILE it goes in ~/.local/state/tubo/history.
	var noHist []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HISTFILE=") {
			noHist = append(noHist, kv)
		}
	}
	s3 := startSession(t, dir, noHist)
	s3.keys(`printf 'o-%s\n' state`, keyEnter)
	s3.expect(`(?m)^o-state$`, 1)
	s3.exit()
	if b, err := os.ReadFile(filepath.Join(dir, ".local", "state", "tubo", "history")); err != nil || !strings.Contains(string(b), "state") {
		t.Errorf("~/.local/state/tubo/history: %v %q", err, b)
	}
}
