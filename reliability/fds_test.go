package reliability

import (
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// leakedToChildren lists the descriptors above 2 of the test process that
// are not close-on-exec: every child (tubo, then its stages) inherits them.
func leakedToChildren(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// checkListing checks the output of `ls /proc/self/fd` run as a stage:
// exactly the allowed descriptors plus one, ls's own directory descriptor,
// which is the lowest one not allowed.
func checkListing(t *testing.T, out string, allowed []int) {
	t.Helper()
	var got []int
	for _, f := range strings.Fields(out) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("ls printed %q", out)
		}
		got = append(got, n)
	}
	sort.Ints(got)
	dirfd := 0
	for slices.Contains(allowed, dirfd) {
		dirfd++
	}
	want := slices.Clone(allowed)
	want = append(want, dirfd)
	sort.Ints(want)
	want = slices.Compact(want)
	if !slices.Equal(got, want) {
		t.Errorf("stage has fds %v, want %v (declared + inherited %v + ls's own %d)", got, want, allowed, dirfd)
	}
}

// TestStageFDs: a YAML stage has exactly its declared descriptors (0, 1,
// 2, 3, 4), even while other stages' pipes, FIFOs and files are open in
// tubo and the guardian's pipe exists.
func TestStageFDs(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "fds.yaml", `version: 1
fifos: {chan: {}}
files: {log: {path: log.txt}}
stages:
  a:
    run: [sh, -c, "sleep 0.3; echo a"]
  b:
    run: [sh, -c, "echo b"]
    stderr: log
  c:
    run: [sh, -c, "sleep 0.5; echo c"]
    stdout: chan
  d:
    run: [cat]
    stdin: chan
    stdout: e
  e:
    run: [cat]
    stdout: log2
  log2:
    run: [sh, -c, "cat >/dev/null"]
  ls:
    run: [ls, /proc/self/fd]
    fds:
      3: a
      4: b
`)
	st, stdout, stderr := runTubo(t, dir, "run", f)
	if st != 0 {
		t.Fatalf("exit status %d; stderr: %s", st, stderr)
	}
	allowed := append([]int{0, 1, 2, 3, 4}, leakedToChildren(t)...)
	checkListing(t, stdout, allowed)
}

// TestShellStageFDs: a shell-line stage has 0, 1, 2 and what tubo itself
// inherited without close-on-exec (here fd 3, as make's jobserver would
// pass it), nothing else.
func TestShellStageFDs(t *testing.T) {
	extra, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	for _, line := range []string{"ls /proc/self/fd", "true | ls /proc/self/fd | cat"} {
		cmd := exec.Command(tubo, line)
		cmd.ExtraFiles = []*os.File{extra} // fd 3 in tubo
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		err := cmd.Run()
		timer.Stop()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, errb.String())
		}
		allowed := append([]int{0, 1, 2, 3}, leakedToChildren(t)...)
		checkListing(t, out.String(), allowed)
	}
	// Inherited fds 3 and 4 (a make jobserver's pair) also survive a
	// stage whose fd table moves a low descriptor up (2>&1: the child's
	// dup pass parks it just above the table, which must not be where an
	// inherited descriptor is).
	cmd := exec.Command(tubo, `sh -c 'test -e /proc/self/fd/3 && test -e /proc/self/fd/4 && echo both' 2>&1`)
	cmd.ExtraFiles = []*os.File{extra, extra}
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "both\n" {
		t.Errorf("inherited fds 3, 4 lost with 2>&1: %q %v", out, err)
	}
}
