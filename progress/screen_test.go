package progress_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/tubo-pipes/tubo/cli"
)

// The test binary is also tubo: with TUBO_TEST_AS_TUBO set it runs
// cli.Main, so that a whole `tubo run` draws on a pseudo-terminal.
func TestMain(m *testing.M) {
	if os.Getenv("TUBO_TEST_AS_TUBO") != "" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// bound only catches hangs.
const bound = 60 * time.Second

// screen is a terminal: a pseudo-terminal whose output a terminal
// emulator (charmbracelet/x/vt) turns into the screen a user would see.
type screen struct {
	t    *testing.T
	ptmx *os.File
	tty  *os.File

	mu     sync.Mutex
	emu    *vt.Emulator
	raw    bytes.Buffer // every byte tubo wrote
	closed chan struct{}
}

const rows, cols = 16, 80

func newScreen(t *testing.T) *screen {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	s := &screen{t: t, ptmx: ptmx, tty: tty, emu: vt.NewEmulator(cols, rows), closed: make(chan struct{})}
	go func() {
		// What the emulator answers (cursor reports, …) goes nowhere.
		b := make([]byte, 256)
		for {
			if _, err := s.emu.Read(b); err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(s.closed)
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			if n > 0 {
				s.mu.Lock()
				s.raw.Write(b[:n])
				s.emu.Write(b[:n])
				s.mu.Unlock()
			}
			if err != nil { // EIO once every tty side is closed
				return
			}
		}
	}()
	t.Cleanup(func() {
		ptmx.Close()
		tty.Close()
	})
	return s
}

// text is the screen's rows, trailing blanks cut.
func (s *screen) text() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s.emu.String(), "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// frameCount is how many frames of the live area tubo has written: each
// starts with the area's header, "tubo 1.25s  …".
func (s *screen) frameCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(header.FindAllIndex(s.raw.Bytes(), -1))
}

var header = regexp.MustCompile(`tubo [0-9.]+s  [0-9]+ running`)

// waitFor waits until cond holds for the screen.
func (s *screen) waitFor(what string, cond func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(bound); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("never saw %s; the screen:\n%s", what, strings.Join(s.text(), "\n"))
		}
	}
}

// waitFrames waits until the area has been drawn n more times.
func (s *screen) waitFrames(n int) {
	s.t.Helper()
	from := s.frameCount()
	s.waitFor("the live area redrawn", func() bool { return s.frameCount() >= from+n })
}

// shows says whether a row of the screen is exactly line.
func (s *screen) shows(line string) bool {
	for _, l := range s.text() {
		if l == line {
			return true
		}
	}
	return false
}

// tubo starts the test binary as tubo on the terminal: stdin, stdout and
// stderr, in a session of its own whose controlling terminal it is.
func (s *screen) tubo(dir string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUBO_TEST_AS_TUBO=1", "LC_ALL=C", "TERM=xterm", "NO_COLOR=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.tty, s.tty, s.tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		// Only a tubo not reaped yet: once it is, its pid may be another
		// test's process group (pids wrap at pid_max, 32768 here).
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return cmd
}

// end waits for tubo to exit and for its last bytes to reach the screen.
func (s *screen) end(cmd *exec.Cmd) {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("tubo: %v", err)
		}
	case <-time.After(bound):
		s.t.Fatalf("tubo still running after %s:\n%s", bound, strings.Join(s.text(), "\n"))
	}
	s.tty.Close() // the last tty side: the reader sees EIO after the rest
	select {
	case <-s.closed:
	case <-time.After(bound):
		s.t.Fatal("the terminal's output did not end")
	}
}

// gate is a FIFO a stage waits on (`read x <gate`) until the test opens it.
type gate string

func newGate(t *testing.T, dir, name string) gate {
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return gate(p)
}

func (g gate) open(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(string(g), os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("nobody waits on %s", g)
	}
}

// The case: the last stage's output (wc -c's count) is on the
// final screen, and no trace of the live area (its header) is left.
func TestOutputSurvivesTheArea(t *testing.T) {
	dir := t.TempDir()
	g := newGate(t, dir, "gate")
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(`version: 1
stages:
  gen: {run: [sh, -c, 'read x <gate; head -c 1308647 /dev/zero']}
  count: {run: [wc, -c], stdin: gen}
`), 0o644)
	s := newScreen(t)
	cmd := s.tubo(dir, "run", "--progress=auto", "p.yaml")
	s.waitFor("the live area", func() bool { return strings.Contains(strings.Join(s.text(), "\n"), "gen ") && s.frameCount() > 1 })
	g.open(t)
	s.end(cmd)
	screen := s.text()
	if !s.shows("1308647") {
		t.Errorf("wc -c's count is not on the final screen:\n%s", strings.Join(screen, "\n"))
	}
	for _, l := range screen {
		if strings.HasPrefix(l, "tubo ") || strings.HasPrefix(l, "  gen") || strings.HasPrefix(l, "  count") {
			t.Errorf("the live area is left on the screen (%q):\n%s", l, strings.Join(screen, "\n"))
		}
	}
	// The count is where a shell would have put it: on the first row.
	if screen[0] != "1308647" {
		t.Errorf("first row %q, want the count:\n%s", screen[0], strings.Join(screen, "\n"))
	}
}

// Output written while the area is live — whole lines, a partial line,
// more lines than the screen has rows — is never written over nor split
// by a redraw, and the summary starts a line of its own after it.
func TestOutputDuringTheRun(t *testing.T) {
	dir := t.TempDir()
	g1, g2, g3 := newGate(t, dir, "g1"), newGate(t, dir, "g2"), newGate(t, dir, "g3")
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(`version: 1
stages:
  talk:
    run:
      - sh
      - -c
      - |
        printf 'partial'
        read x <g1
        echo ' line'
        i=1; while [ $i -le 30 ]; do echo "out $i"; i=$((i+1)); done
        read x <g2
        printf 'no newline'
        read x <g3
        sleep 1
  other: {run: [sleep, "0"]}
`), 0o644)
	s := newScreen(t)
	cmd := s.tubo(dir, "run", "--progress=auto", "p.yaml")
	s.waitFor("partial", func() bool { return strings.Contains(strings.Join(s.text(), "\n"), "partial") })
	s.waitFrames(2) // redrawn after the partial line
	g1.open(t)
	s.waitFor("out 30", func() bool { return s.shows("out 30") })
	s.waitFrames(2)
	g2.open(t)
	s.waitFor("no newline", func() bool { return strings.Contains(strings.Join(s.text(), "\n"), "no newline") })
	s.waitFrames(2)
	// While the area is up, the output scrolls above it: the area's
	// header is on the screen, below "out 30".
	screen := s.text()
	at := func(prefix string) int {
		for i, l := range screen {
			if strings.HasPrefix(l, prefix) {
				return i
			}
		}
		return -1
	}
	if h, o := at("tubo "), at("out 30"); h < 0 || o < 0 || h < o {
		t.Errorf("the area (row %d) is not below the output (row %d):\n%s", h, o, strings.Join(screen, "\n"))
	}
	g3.open(t)
	s.end(cmd)
	screen = s.text()
	text := strings.Join(screen, "\n")
	// 31 lines of output scrolled through 16 rows: the last ones are on
	// the screen, each whole.
	for _, want := range []string{"out 27", "out 28", "out 29", "out 30"} {
		if !s.shows(want) {
			t.Errorf("%q is not a row of the final screen:\n%s", want, text)
		}
	}
	if at("out 30") < 0 || at("no newline") != at("out 30")+1 {
		t.Errorf("the partial last line is not right after the output:\n%s", text)
	}
	// The run lasted over a second: its summary is on a row of its own,
	// after the partial line, and nothing of the area is left.
	sum := at("tubo: 2 stages in ")
	if sum < 0 || sum != at("no newline")+1 {
		t.Errorf("the summary is not on the row after the output:\n%s", text)
	}
	for _, l := range screen {
		if strings.HasPrefix(l, "tubo ") || strings.HasPrefix(l, "  talk") {
			t.Errorf("the live area is left on the screen (%q):\n%s", l, text)
		}
	}
	// What scrolled off the top is in the scrollback, whole: the first
	// row is "partial line", written in two halves with frames between.
	var gone []string
	s.mu.Lock()
	for _, l := range s.emu.Scrollback().Lines() {
		gone = append(gone, strings.TrimRight(l.String(), " "))
	}
	s.mu.Unlock()
	if len(gone) == 0 || gone[0] != "partial line" || !slices.Contains(gone, "out 1") {
		t.Errorf("the rows that scrolled off are not the output's first ones:\n%s", strings.Join(gone, "\n"))
	}
}

// A stall report printed while the area is up goes above it, on rows of
// its own, and stays when the area goes.
func TestStallReportAboveTheArea(t *testing.T) {
	dir := t.TempDir()
	g := newGate(t, dir, "gate")
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(`version: 1
fifos:
  chan: {}
stages:
  r: {run: [cat], stdin: chan}
  w: {run: [sh, -c, 'printf waiting; read x <gate; echo hi >"$1"', sh, "{{fifo.chan}}"]}
`), 0o644)
	s := newScreen(t)
	cmd := s.tubo(dir, "run", "--progress=auto", "--stall-after", "300ms", "p.yaml")
	report := regexp.MustCompile(`(?m)^tubo: stalled for [0-9.]+s: nothing moved on any edge$`)
	s.waitFor("the stall report", func() bool { return report.MatchString(strings.Join(s.text(), "\n")) })
	s.waitFrames(2)
	g.open(t)
	s.end(cmd)
	screen := s.text()
	text := strings.Join(screen, "\n")
	for i, l := range screen {
		if strings.HasPrefix(l, "tubo: stalled for") {
			if i == 0 || screen[i-1] != "waiting" {
				t.Errorf("the report does not start on the row after the partial line:\n%s", text)
			}
		}
		if strings.HasPrefix(l, "tubo 0") || strings.HasPrefix(l, "tubo 1") {
			t.Errorf("the live area is left on the screen (%q):\n%s", l, text)
		}
	}
	if !s.shows("hi") || !regexp.MustCompile(`(?m)^  r +not started +tubo is blocked in open\(2\) on FIFO chan`).MatchString(text) {
		t.Errorf("the final screen lacks the report or the output:\n%s", text)
	}
}
