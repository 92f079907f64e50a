package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/cli"
)

// runCLI runs tubo in-process with stdout captured.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	// tubo runs in this process, so a hang cannot be killed: it ends the
	// test binary with every goroutine's stack, within a bound of its own
	// rather than go test's 10 minutes.
	hung := time.AfterFunc(3*time.Minute, func() {
		panic(fmt.Sprintf("tubo %q did not end within 3 minutes", args))
	})
	defer hung.Stop()
	code := cli.Main(args, null, out, os.Stderr)
	b, _ := os.ReadFile(out.Name())
	return string(b), code
}

// TestThousandStages runs a 1000-stage shell pipeline: 999 pipes, every
// stage started before any is reaped, data through all of them.
func TestThousandStages(t *testing.T) {
	line := "printf 'through 1000 stages\\n'" + strings.Repeat(" | cat", 999)
	out, code := runCLI(t, "-c", line)
	if code != 0 || out != "through 1000 stages\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestFanIn256 joins 256 replicas into one merge node: 256 pipes read at
// once by one builtin.
func TestFanIn256(t *testing.T) {
	yaml := filepath.Join(t.TempDir(), "fanin.yaml")
	os.WriteFile(yaml, []byte(`version: 1
stages:
  gen:
    run: [seq, "{{replica}}", "256", "2559"]
    replicas: 256
    stdout: all
merges:
  all: {mode: interleave}
`), 0o600)
	out, code := runCLI(t, "run", yaml)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := strings.Fields(out)
	sort.Slice(got, func(i, j int) bool { return len(got[i]) < len(got[j]) || len(got[i]) == len(got[j]) && got[i] < got[j] })
	if len(got) != 2560 {
		t.Fatalf("%d numbers, want 2560", len(got))
	}
	for i, s := range got {
		if s != fmt.Sprint(i) {
			t.Fatalf("number %d is %s: lost or duplicated records", i, s)
		}
	}
}

// TestDiamondSpills runs a tee whose two branches meet again at an
// ordered merge. One branch is sort, which writes nothing until it has
// read everything, so the merge waits on it while the other branch's pipes
// fill and the tee blocks on them: a deadlock with bounded pipes (checked
// by hand: it hangs with the tee's spilling turned off). tubo lets such a
// tee spill (buffer the backlog of a full output, then a temp file), so the
// run ends with every line twice, in order. Told spill: false, tubo refuses
// the graph instead.
func TestDiamondSpills(t *testing.T) {
	dir := t.TempDir()
	yaml := filepath.Join(dir, "diamond.yaml")
	text := `version: 1
tees:
  t: {from: gen%s}
merges:
  m: {mode: ordered, key: numeric}
stages:
  gen: {run: [seq, "3000000"]}
  cat: {run: [cat], stdin: t, stdout: m}
  sort: {run: [sort, -n], stdin: t, stdout: m}
`
	os.WriteFile(yaml, []byte(fmt.Sprintf(text, "")), 0o600)
	// A diamond that deadlocks (a tee that stops feeding sort while cat's
	// merge input is full) is ended by the watchdog, not left to hang.
	out, code := runCLI(t, "run", "--stall-after", "20s", "--on-stall", "fail", yaml)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6000000 || lines[0] != "1" || lines[1] != "1" || lines[5999999] != "3000000" {
		t.Fatalf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	os.WriteFile(yaml, []byte(fmt.Sprintf(text, ", spill: false")), 0o600)
	if _, code := runCLI(t, "run", yaml); code != 2 {
		t.Errorf("spill: false: exit %d, want 2 (a refused diamond)", code)
	}
}
