package runner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tubo is the path of a real tubo-like binary built from
// testdata/tubotest: `tubo -c LINE` runs LINE with this package's runner,
// and subshells re-execute it. Built once in TestMain.
var tubo string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tubo-runner-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tubo = filepath.Join(dir, "tubo")
	// go test puts its own GOROOT/bin first on PATH.
	build := exec.Command("go", "build", "-o", tubo, "./testdata/tubotest")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the test binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixedPath is the PATH every test run gets, so that tubo and the
// reference shell find the same programs.
const fixedPath = "/usr/local/bin:/usr/bin:/bin"

// fixture makes a fresh directory with a few files to glob, redirect and
// cd into.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"a.txt", "b.txt", "c.log", ".hidden", "sub/x"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// result is what one shell run produced.
type result struct {
	stdout, stderr string
	code           int
}

// runShell runs `prog -c line` in dir with a fixed environment. A run that
// outlives its bound is killed, with every process of its group, and
// fails the test.
func runShell(t *testing.T, dir string, prog, line string) result {
	t.Helper()
	return runShellArgs(t, dir, prog, "", "-c", line)
}

// runShellArgs runs prog with args (and stdin, when not empty) in dir.
func runShellArgs(t *testing.T, dir, prog, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = []string{"LC_ALL=C", "PATH=" + fixedPath, "HOME=" + dir, "PWD=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q: still running after %v: killed", prog, args, 60*time.Second)
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal()) // the sh convention
		}
	case err != nil:
		t.Fatalf("%s %q: %v", prog, args, err)
	}
	return result{out.String(), errb.String(), code}
}
