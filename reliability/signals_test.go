package reliability

import (
	"encoding/json"
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

// TestIgnoredSignalStaysIgnored: a signal ignored when tubo starts
// (`nohup tubo …`, a background job of a non-interactive sh for SIGINT)
// stays ignored, for tubo and for its stages, as POSIX asks of a
// non-interactive shell: tubo sent that signal goes on (it used to die
// with 129 or 130), and a stage shows it in its SigIgn mask.
func TestIgnoredSignalStaysIgnored(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT} {
		name := unixSignalName(sig)
		t.Run(name, func(t *testing.T) {
			line := fmt.Sprintf(`grep SigIgn /proc/self/status; kill -%s $$; sleep 0.2; echo alive`, strings.TrimPrefix(name, "SIG"))
			cmd := exec.Command("sh", "-c", fmt.Sprintf(`trap '' %s; exec "$0" -c "$1"`, strings.TrimPrefix(name, "SIG")), tubo, line)
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			st, err := runBounded(cmd, 30*time.Second)
			if err != nil || st != 0 {
				t.Fatalf("status %d (%v); want 0: tubo must not die of an ignored %s\nstderr: %s", st, err, name, errb.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 || lines[1] != "alive" {
				t.Fatalf("stdout %q", out.String())
			}
			mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(lines[0], "SigIgn:")), 16, 64)
			if err != nil || mask&(1<<(uint(sig)-1)) == 0 {
				t.Errorf("the stage's %q does not have %s ignored", lines[0], name)
			}
		})
	}
}

// TestReportAgreesWithStatus: after SIGINT, with a stage skipped because
// its FIFO never opened, tubo exits 130 and the report says 130 too (it
// used to say 143, the status of the skipped stage).
func TestReportAgreesWithStatus(t *testing.T) {
	dir := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "f.yaml", fmt.Sprintf(`version: 1
fifos:
  f: {}
stages:
  w:
    run: [sleep, "%s"]
  r:
    run: [cat]
    stdin: f
`, m))
	out := filepath.Join(dir, "report.json")
	p := start(t, dir, nil, "--report-json", out, "run", f)
	waitProcs(t, m, 1, p.cmd.Process.Pid)
	p.cmd.Process.Signal(syscall.SIGINT)
	if st := p.wait(t, 30*time.Second); st != 130 {
		t.Errorf("exit status %d, want 130; stderr: %s", st, p.stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Status int    `json:"status"`
		Signal string `json:"signal"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if rep.Status != 130 || rep.Signal != "SIGINT" {
		t.Errorf("report: status %d, signal %q; want 130, SIGINT", rep.Status, rep.Signal)
	}
	assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
}

// TestTimeoutsSIGCONT: timeout(1) sends SIGCONT right after its SIGTERM
// (for a stopped child). The run is ended by the SIGTERM: status 143 and
// "interrupted by SIGTERM", never by SIGCONT (a tee's graph, whose end
// takes long enough for the SIGCONT to arrive while it ends, said
// "interrupted by SIGCONT").
func TestTimeoutsSIGCONT(t *testing.T) {
	dir := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "d.yaml", fmt.Sprintf(`version: 1
tees:
  t: {from: gen}
stages:
  gen: {run: [sh, -c, 'exec yes %s']}
  a: {run: [sh, -c, 'exec cat >/dev/null'], stdin: t}
  b: {run: [sh, -c, 'exec cat >/dev/null'], stdin: t}
`, m))
	for i := 0; i < 5; i++ {
		p := start(t, dir, nil, "run", f)
		waitProcs(t, m, 1, p.cmd.Process.Pid)
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Process.Signal(syscall.SIGCONT)
		st := p.wait(t, 30*time.Second)
		if st != 143 || strings.Contains(p.stderr.String(), "SIGCONT") || !strings.Contains(p.stderr.String(), "interrupted by SIGTERM") {
			t.Fatalf("run %d: status %d, stderr %q; want 143, interrupted by SIGTERM", i, st, p.stderr.String())
		}
		assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
	}
}
