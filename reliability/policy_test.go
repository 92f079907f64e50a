package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKillRest: on the first real failure the other stages are ended, and
// the message names the stage that failed (not the ones tubo ended).
func TestKillRest(t *testing.T) {
	dir := t.TempDir()
	m := newMarker()
	f := writeFile(t, dir, "kr.yaml", fmt.Sprintf(`version: 1
on_failure: kill-rest
stages:
  long1:
    run: [sleep, "%s"]
  bad:
    run: [sh, -c, "sleep 0.2; exit 3"]
  long2:
    run: [sh, -c, "sleep %s"]
`, m, m))
	p := start(t, dir, nil, "--report", "run", f)
	st := p.wait(t, 30*time.Second)
	stderr := p.stderr.String()
	// The run's status is the real failure's, not the 143 of the stages
	// tubo ended because of it.
	if st != 3 {
		t.Errorf("exit status %d, want 3 (bad's); stderr: %s", st, stderr)
	}
	for _, w := range []string{"bad failed (exit 3); ending the other stages", "first failure bad"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "long1 failed") || strings.Contains(stderr, "long2 failed") {
		t.Errorf("a stage tubo ended is blamed:\n%s", stderr)
	}
	assertGone(t, m, 4*time.Second, p.cmd.Process.Pid)
}

// TestLetFinish: with let-finish, a failure does not end the others.
func TestLetFinish(t *testing.T) {
	dir := t.TempDir()
	done := filepath.Join(dir, "done")
	f := writeFile(t, dir, "lf.yaml", fmt.Sprintf(`version: 1
on_failure: let-finish
stages:
  bad:
    run: [sh, -c, "exit 3"]
  slow:
    run: [sh, -c, "sleep 0.5; echo ok > %s"]
`, done))
	st, _, stderr := runTubo(t, dir, "--report", "run", f)
	if st != 3 {
		t.Errorf("exit status %d, want 3; stderr: %s", st, stderr)
	}
	if b, err := os.ReadFile(done); err != nil || string(b) != "ok\n" {
		t.Errorf("slow did not finish: %q %v\n%s", b, err, stderr)
	}
	if !strings.Contains(stderr, "first failure bad") {
		t.Errorf("report does not name bad as the first failure:\n%s", stderr)
	}
}

// TestSIGPIPEIsNotFailure: `yes | head -n1` as YAML stages exits 0 by
// default (yes dies of SIGPIPE), and 141 with sigpipe_is_failure.
func TestSIGPIPEIsNotFailure(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  int
	}{{"", 0}, {"sigpipe_is_failure: true\n", 141}} {
		dir := t.TempDir()
		f := writeFile(t, dir, "yes.yaml", "version: 1\n"+c.extra+`stages:
  yes:
    run: [yes]
    stdout: head
  head:
    run: [head, -n1]
`)
		st, stdout, stderr := runTubo(t, dir, "run", f)
		if st != c.want {
			t.Errorf("%q: exit status %d, want %d; stderr: %s", c.extra, st, c.want, stderr)
		}
		// With sigpipe_is_failure, yes's death is a failure and kill-rest
		// may end head between its close(0) and its flush of "y": only
		// the default case promises the output.
		if c.extra == "" && stdout != "y\n" {
			t.Errorf("%q: stdout %q, want %q; stderr: %s", c.extra, stdout, "y\n", stderr)
		}
	}
}

// TestMergeReaderGoneIsQuiet: `tubo run primes.yaml | head -1` with tubo's
// own merge writing to the pipe: when head exits, the merge stops (EPIPE)
// and its writers die of SIGPIPE; none of that is a failure by default,
// so tubo says nothing and exits 0, as for `yes | head` stages. With
// sigpipe_is_failure the same run fails with 141. (tubo used to print
// "merge m failed: … broken pipe" and exit 0.)
func TestMergeReaderGoneIsQuiet(t *testing.T) {
	for _, mode := range []string{"interleave", "concat", "ordered"} {
		for _, c := range []struct {
			extra string
			want  int
		}{{"", 0}, {"sigpipe_is_failure: true\n", 141}} {
			dir := t.TempDir()
			f := writeFile(t, dir, "m.yaml", "version: 1\n"+c.extra+`stages:
  a:
    run: [seq, 100000000]
    stdout: m
  b:
    run: [seq, 100000000]
    stdout: m
merges:
  m: {mode: `+mode+`}
`)
			// sh's status is head's; tubo's is written to st.
			cmd := exec.Command("sh", "-c", `{ "$0" run "$1" 2>err; echo $? >st; } | head -n1 >first`, tubo, f)
			cmd.Dir = dir
			if st, err := runBounded(cmd, 60*time.Second); err != nil || st != 0 {
				t.Fatalf("%s %q: sh status %d, %v", mode, c.extra, st, err)
			}
			read := func(name string) string {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				return string(b)
			}
			if got := strings.TrimSpace(read("st")); got != itoa(c.want) {
				t.Errorf("%s %q: tubo exited %s, want %d; stderr: %s", mode, c.extra, got, c.want, read("err"))
			}
			if c.extra == "" && read("err") != "" {
				t.Errorf("%s: tubo's stderr %q, want nothing", mode, read("err"))
			}
			if read("first") != "1\n" {
				t.Errorf("%s %q: first line %q", mode, c.extra, read("first"))
			}
		}
	}
}

// TestMergePartialRecordNamesStage: a partial binary record is an error
// naming the input by its stage, in a concat merge too (which used to
// carry it into the next input and exit 0), and output: text is honoured
// by every mode (interleave and concat used to write binary).
func TestMergePartialRecordNamesStage(t *testing.T) {
	for _, mode := range []string{"concat", "interleave", "ordered"} {
		dir := t.TempDir()
		f := writeFile(t, dir, "m.yaml", `version: 1
stages:
  good:
    run: [printf, '\001\000\000\000']
    stdout: m
  short:
    run: [printf, '\002\000\000\000\003\000']
    stdout: m
merges:
  m: {mode: `+mode+`, record: int32, order: little, output: text}
`)
		st, stdout, stderr := runTubo(t, dir, "run", f)
		if st == 0 || !strings.Contains(stderr, "merge: short: its last 2 bytes do not make a whole 4-byte record") {
			t.Errorf("%s: status %d, stderr %q; want a failure naming stage short", mode, st, stderr)
		}
		if strings.ContainsAny(stdout, "\x00\x01\x02") {
			t.Errorf("%s: binary output %q despite output: text", mode, stdout)
		}
	}
}
