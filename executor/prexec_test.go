package executor

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// With TUBO_TEST_STOP_SELF set, the test binary stands for a stage
// stopped before its exec: a child still running tubo's executable.
func TestMain(m *testing.M) {
	if os.Getenv("TUBO_TEST_STOP_SELF") != "" {
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestContinueForksFindsStoppedChild: a child of a thread that is
// starting a stage, stopped while it still runs tubo's executable, is
// continued by continueForks, which waits for that start to end.
func TestContinueForksFindsStoppedChild(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan int)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := enterFork()
		pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{
			Env:   append(os.Environ(), "TUBO_TEST_STOP_SELF=1"),
			Files: []uintptr{0, 1, 2},
		})
		if err != nil {
			leaveFork(tid)
			started <- 0
			done <- err
			return
		}
		started <- pid
		// The start is over once the child has been continued and has
		// exited.
		var ws syscall.WaitStatus
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		leaveFork(tid)
		if err == nil && !(ws.Exited() && ws.ExitStatus() == 0) {
			err = fmt.Errorf("child: %v", ws)
		}
		done <- err
	}()
	pid := <-started
	if pid == 0 {
		t.Fatal(<-done)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	deadline := time.Now().Add(10 * time.Second)
	for procState(pid) != 'T' {
		if time.Now().After(deadline) {
			t.Fatalf("the child never stopped (state %q)", procState(pid))
		}
		time.Sleep(time.Millisecond)
	}
	if !continueForks(0) {
		t.Fatal("continueForks found no stopped child")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stopped child was not continued")
	}
	if continueForks(0) {
		t.Error("continueForks found a stopped child after the start ended")
	}
}
