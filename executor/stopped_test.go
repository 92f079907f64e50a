package executor_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// A stage that is stopped (SIGSTOP here; SIGTTIN for one that reads the
// terminal from the background) when tubo ends the run dies of the
// SIGTERM, not of the SIGKILL a grace period later: tubo sends SIGCONT
// after SIGTERM, as a shell's kill does for a stopped job. The grace is
// longer than the test's bound, so without SIGCONT the stage would be
// killed by SIGKILL only after the bound.
func TestEndingStoppedStage(t *testing.T) {
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "stops", Argv: []string{"sh", "-c", "kill -STOP $$; sleep 100"}, StdinNull: true})
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.OwnGroups = true
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const grace = time.Hour
	h, err := executor.Start(ctx, p, executor.Options{Stdin: null, Stdout: null, Stderr: null, Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	pid := h.Procs()[0].Pid
	bound := time.Now().Add(30 * time.Second)
	for procState(pid) != "T" {
		if time.Now().After(bound) {
			t.Fatalf("pid %d never stopped (state %q)", pid, procState(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // tubo ends the run: SIGTERM (and SIGCONT) to every group
	select {
	case <-h.Done():
	case <-time.After(30 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatal("the stopped stage was not ended by SIGTERM: it waits for the SIGKILL after the grace period")
	}
	res, err := h.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Procs[0].Signal; got != syscall.SIGTERM {
		t.Errorf("the stage ended by %v, want SIGTERM", got)
	}
}

// procState is the state letter of /proc/PID/stat ("S", "T", …), or "".
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}
