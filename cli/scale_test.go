package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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
