package runner_test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSignalEndsScript: a signal sent to tubo reaches the running stage,
// and the script ends with that stage's status instead of going on (the
// sleep is 30 s: a bound of 60 s only catches a signal that was lost).
func TestSignalEndsScript(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tubo, "-c", `echo ready; sleep 30 | cat; echo after`)
			cmd.Env = []string{"PATH=" + fixedPath}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			cmd.WaitDelay = 5 * time.Second
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rd := bufio.NewReader(stdout)
			if line, err := rd.ReadString('\n'); line != "ready\n" {
				t.Fatalf("read %q, %v", line, err)
			}
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(rd)
			cmd.Wait()
			if ctx.Err() != nil {
				t.Fatal("still running after 60 s: the signal did not end it")
			}
			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
				t.Errorf("status %d, want %d", code, 128+int(sig))
			}
			if len(rest) > 0 {
				t.Errorf("script went on: %q", rest)
			}
		})
	}
}
