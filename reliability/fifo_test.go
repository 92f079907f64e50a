package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSIGINTWithFIFO interrupts a pipeline whose stages talk through a
// FIFO in tubo's private directory: status 130, no stage left, and the
// directory (found under a test-owned TMPDIR) is gone with its FIFO.
func TestSIGINTWithFIFO(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(unixSignalName(sig), func(t *testing.T) { testSignalWithFIFO(t, sig) })
	}
}

// testSignalWithFIFO: after SIGKILL, tubo cannot clean up; its guardian
// removes the private directory once it has killed the stages.
func testSignalWithFIFO(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	tmp := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "fifo.yaml", fmt.Sprintf(`version: 1
fifos:
  chan: {}
stages:
  writer:
    run: [sh, -c, "echo hello; sleep %s"]
    stdout: chan
  reader:
    run: [sh, -c, "read line; sleep %s"]
    stdin: chan
  named:
    run: [sh, -c, "test -p {{fifo.chan}} && sleep %s"]
`, m, m, m))
	p := start(t, dir, []string{"TMPDIR=" + tmp}, "run", f)
	waitProcs(t, m, 3, p.cmd.Process.Pid)

	// While it runs: one private 0700 directory holding one 0600 FIFO.
	ents, err := os.ReadDir(tmp)
	if err != nil || len(ents) != 1 {
		t.Fatalf("TMPDIR holds %v (%v), want one private directory", ents, err)
	}
	priv := filepath.Join(tmp, ents[0].Name())
	if st, err := os.Lstat(priv); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Errorf("private dir %s: %v %v, want a 0700 directory", priv, st.Mode(), err)
	}
	fifos, _ := os.ReadDir(priv)
	if len(fifos) != 1 {
		t.Fatalf("private dir holds %v, want one FIFO", fifos)
	}
	if st, err := os.Lstat(filepath.Join(priv, fifos[0].Name())); err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("FIFO %s: %v %v, want a 0600 named pipe", fifos[0].Name(), st.Mode(), err)
	}

	p.cmd.Process.Signal(sig)
	if st := p.wait(t, 30*time.Second); st != 128+int(sig) {
		t.Errorf("exit status %d, want %d; stderr: %s", st, 128+int(sig), p.stderr.String())
	}
	deadline := time.Now().Add(4 * time.Second)
	left, _ := os.ReadDir(tmp)
	for len(left) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left, _ = os.ReadDir(tmp)
	}
	if len(left) != 0 {
		t.Errorf("TMPDIR not empty after %v: %v", sig, left)
	}
	assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
}

// TestFIFOOpenNeverHangs: a FIFO that tubo opens for a stage whose other
// side never opens cannot block the run past its timeout, and a FIFO a
// stage opens itself ends with that stage's timeout. Each run ends with a
// message that names the timeout (and the stage), a non-zero status, and
// no private directory left behind.
func TestFIFOOpenNeverHangs(t *testing.T) {
	cases := []struct {
		name   string
		stages string
		want   []string
	}{
		{"writer-without-reader", `
  w:
    run: [sh, -c, "echo hello"]
    stdout: f
`, []string{"run timed out after 2s", "w "}},
		{"reader-without-writer", `
  r:
    run: [cat]
    stdin: f
`, []string{"run timed out after 2s", "r "}},
		{"stage-opens-itself", `
  w:
    run: [sh, -c, "echo hello > {{fifo.f}}"]
    timeout: 1s
`, []string{"w: timed out after 1s"}},
		{"two-fifos-one-stage", `
  r:
    run: [cat]
    stdin: f
    fds: {3: {to: g}}
  g2:
    run: [cat]
    stdin: g
`, []string{"run timed out after 2s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			f := writeFile(t, dir, "p.yaml", "version: 1\ntimeout: 2s\nfifos: {f: {}, g: {}}\nstages:"+c.stages)
			p := start(t, dir, []string{"TMPDIR=" + tmp}, "--grace", "500ms", "run", f)
			st := p.wait(t, 30*time.Second)
			if st == 0 {
				t.Errorf("exit status 0, want non-zero")
			}
			for _, w := range c.want {
				if !strings.Contains(p.stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, p.stderr.String())
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("TMPDIR not empty: %v", left)
			}
		})
	}
}

func unixSignalName(sig syscall.Signal) string { return unix.SignalName(sig) }

// TestForeignFIFORefused: a FIFO that already exists at a pipeline's
// path: is used only if tubo's user owns it and others cannot write it.
// One planted by another user, or with mode o+w, could be read or fed by
// a stranger: tubo refuses it before any stage starts, naming the path.
// (tubo used to use whatever FIFO it found.)
func TestForeignFIFORefused(t *testing.T) {
	cases := []struct {
		name string
		uid  int // -1: tubo's own
		mode uint32
		ok   bool
		want string
	}{
		{"own 0600", -1, 0o600, true, ""},
		{"own 0622", -1, 0o622, false, "anyone may write it"},
		{"other user's 0600", 65534, 0o600, false, "belongs to uid 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.uid >= 0 && os.Geteuid() != 0 {
				t.Skip("making a FIFO of another user needs root")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "chan")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, os.FileMode(c.mode)); err != nil {
				t.Fatal(err)
			}
			if c.uid >= 0 {
				if err := os.Chown(path, c.uid, c.uid); err != nil {
					t.Fatal(err)
				}
			}
			f := writeFile(t, dir, "f.yaml", `version: 1
fifos:
  chan: {path: `+path+`}
stages:
  w:
    run: [sh, -c, "touch started; echo hi"]
    stdout: chan
  r:
    run: [cat]
    stdin: chan
`)
			st, stdout, stderr := runTubo(t, dir, "run", f)
			_, err := os.Stat(filepath.Join(dir, "started"))
			if c.ok {
				if st != 0 || stdout != "hi\n" {
					t.Fatalf("status %d, stdout %q; stderr: %s", st, stdout, stderr)
				}
				return
			}
			if st == 0 || err == nil || !strings.Contains(stderr, path) || !strings.Contains(stderr, c.want) {
				t.Errorf("status %d, stage started: %v, stderr %q; want a refusal naming %s (%q) before anything starts", st, err == nil, stderr, path, c.want)
			}
		})
	}
}
