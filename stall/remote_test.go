package stall

import "testing"

// A live remote stage is idle here, not stuck: its program works on its
// host, where no counter of this machine can see it (the test hosts of
// package remote share this machine's /proc, so this is checked here).
func TestRemoteStageIsNoStall(t *testing.T) {
	local := &Report{Stages: []Stage{{Node: "a", State: "blocked", Wait: Wait{Call: "poll", FD: -1}}}}
	if waitsOnTime(local) {
		t.Fatal("a local stage blocked in poll counts as waiting on time")
	}
	remote := &Report{Stages: []Stage{{Node: "a", Host: "n1", State: "blocked", Wait: Wait{Call: "poll", FD: -1}}}}
	if !waitsOnTime(remote) {
		t.Fatal("a remote stage blocked in its ssh client counts as stuck")
	}
	done := &Report{Stages: []Stage{{Node: "a", Host: "n1", State: "exited"}}}
	if waitsOnTime(done) {
		t.Fatal("an exited remote stage keeps a stall from being reported")
	}
	if got := StageText(remote.Stages[0]); got != "runs on n1 (its ssh client: blocked in poll(2))" {
		t.Errorf("StageText = %q", got)
	}
}
