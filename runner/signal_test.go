package runner_test

import (
	"bufio"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSignalEndsScript: a signal sent to tubo reaches the running stage,
// and the script ends with that stage's status instead of going on.
func TestSignalEndsScript(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(tubo, "-c", `echo ready; sleep 10 | cat; echo after`)
			cmd.Env = []string{"PATH=" + fixedPath}
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
			time.Sleep(100 * time.Millisecond) // let sleep start
			start := time.Now()
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(rd)
			cmd.Wait()
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v to end", d)
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
