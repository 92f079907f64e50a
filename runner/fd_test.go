package runner_test

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/executor"
)

// TestStageSeesOnlyDeclaredFDs lists /proc/self/fd from a stage: it must
// see 0, 1, 2 and the descriptors its line declares, plus the one that ls
// opens for the directory it lists (the lowest free number), and nothing
// that tubo opened for itself (pipes, pidfds, the Go runtime's epoll).
// Descriptors that the test itself inherited without close-on-exec pass
// through, as in sh, and are expected too.
func TestStageSeesOnlyDeclaredFDs(t *testing.T) {
	cases := []struct {
		line     string
		declared []int // what the stage should have besides ls's own
	}{
		{`ls /proc/self/fd`, []int{0, 1, 2}},
		{`ls /proc/self/fd 3>f`, []int{0, 1, 2, 3}},
		{`: >f; ls /proc/self/fd 5<f`, []int{0, 1, 2, 5}},
		{`ls /proc/self/fd 2>&-`, []int{0, 1}},
		{`{ ls /proc/self/fd; } 4>f`, []int{0, 1, 2, 4}},
		{`{ ls /proc/self/fd 4>&-; } 4>f`, []int{0, 1, 2}},
		{`echo x | ls /proc/self/fd | cat`, []int{0, 1, 2}},
		{"ls /proc/self/fd <<EOF\nbody\nEOF", []int{0, 1, 2}},
		{`ls /proc/self/fd <<< word`, []int{0, 1, 2}},
		{`(ls /proc/self/fd)`, []int{0, 1, 2}},
		{`ls /proc/self/fd |& cat`, []int{0, 1, 2}},
		{`echo $(ls /proc/self/fd) | tr ' ' '\n'`, []int{0, 1, 2}},
		{`x=$(ls /proc/self/fd 3>&1); echo "$x"`, []int{0, 1, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			t.Parallel()
			got := runShell(t, t.TempDir(), tubo, c.line)
			if got.code != 0 {
				t.Fatalf("status %d, stderr %q", got.code, got.stderr)
			}
			// Descriptors this test process inherited without
			// close-on-exec pass through tubo to every stage, as in sh.
			want := append(executor.InheritedFDs(), c.declared...)
			want = append(want, lowestFree(want))
			slices.Sort(want)
			if fds := parseFDs(t, got.stdout); !slices.Equal(fds, want) {
				t.Errorf("fds %v, want %v", fds, want)
			}
		})
	}
}

func lowestFree(used []int) int {
	for n := 0; ; n++ {
		if !slices.Contains(used, n) {
			return n
		}
	}
}

func parseFDs(t *testing.T, out string) []int {
	t.Helper()
	var fds []int
	for _, f := range strings.Fields(out) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("unexpected ls output %q", out)
		}
		fds = append(fds, n)
	}
	slices.Sort(fds)
	return fds
}

// TestInheritedFDSurvivesGC: a descriptor tubo inherited (here 3, as
// make's jobserver would pass it) reaches every stage of a long script,
// even after garbage collections. (The executor once wrapped it in a fresh
// *os.File per start, whose finalizer closed it.)
func TestInheritedFDSurvivesGC(t *testing.T) {
	var line strings.Builder
	for i := 0; i < 60; i++ {
		line.WriteString("ls /proc/self/fd | grep -qx 3 || echo lost\n")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(tubo, "-c", line.String())
	cmd.Env = []string{"PATH=" + fixedPath, "GOGC=1"}
	cmd.ExtraFiles = []*os.File{f} // fd 3 in tubo, without close-on-exec
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("err %v, output %q", err, out)
	}
}
