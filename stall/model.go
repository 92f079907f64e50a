// Package stall tells why a running graph is stuck. A watchdog samples the
// stages (and whatever they started) in /proc; when no process has used
// CPU or moved a byte for a while, it builds a diagnosis from
// /proc/PID/{stat,wchan,syscall,fd,fdinfo}: which call each process is
// blocked in, on which descriptor, which edge of the graph that is, and
// which processes — stages, or strays a stage left behind — hold the other
// end. It names the classic causes it recognises (a FIFO whose other side
// never opened, a write end kept open by a background child, a lock-step
// reader starved by a full pipe on its other input, a stage waiting on the
// terminal, a cycle of waits).
//
// The same picture is available at any moment (Snapshot, for SIGQUIT and
// SIGUSR1) and as data (Report) for the live views. Nothing here stops,
// traces or signals a process: every figure is read from /proc, and the
// bytes waiting in a pipe are read through a borrowed descriptor
// (pidfd_getfd), which is the same open file and so adds no reader or
// writer.
//
// Check finds, without running anything, graphs that are bound to
// deadlock.
package stall

import (
	"time"
)

// Report is a picture of a live run. The zero value of a field means
// "not known" where the field says so.
type Report struct {
	At      time.Time
	Elapsed time.Duration // since the first stage started
	// Quiet is how long no process has used CPU or moved a byte; 0 when
	// something moved since the last sample.
	Quiet time.Duration
	// Stalled is set when Quiet reached the watchdog's limit.
	Stalled bool
	Stages  []Stage
	Edges   []Edge
	// Causes are the classic deadlocks recognised, one sentence each.
	Causes []string
}

// Stage is the state of one stage of the plan.
type Stage struct {
	Node string
	// Host is the remote host the stage runs on ("" here): its program's
	// CPU and bytes are not visible from this machine.
	Host string
	// Pid is 0 for a stage that has not started.
	Pid int
	// State is one of "waiting" (not started), "running", "blocked",
	// "sleeping" (a timer wakes it), "stopped" (by a signal), "exited".
	State string
	// Exit says how an exited stage ended ("exit 0", "killed by SIGPIPE"),
	// and Ran for how long; both empty otherwise.
	Exit string
	Ran  time.Duration
	Wait // what it is blocked on; zero when it is not blocked
	// Procs are the processes a stage started that are still there:
	// descendants, and strays left behind in its process group or holding
	// one of the graph's pipes after it exited.
	Procs []Proc
}

// Wait is what a blocked process waits on.
type Wait struct {
	// Call is the system call it is blocked in: "read", "write", "open",
	// "wait4", "poll"… ; "" when it is not in one (running, or unknown).
	Call string
	// FD is the descriptor of the call; -1 when the call has none (open,
	// wait4) or it is not known.
	FD int
	// On says what that is: "pipe from gen:1", "FIFO chan", "the terminal
	// /dev/pts/3"; "" when not known.
	On string
	// Edge is the index in the graph's Edges of the edge it waits on; -1
	// when none.
	Edge int
	// Why explains who holds the other end, and what they are doing.
	Why string
}

// Proc is a process that is not itself a stage: a stage's descendant, or a
// stray left behind by one.
type Proc struct {
	Pid     int
	Command string // its argv, cut to a readable length
	// Of is the stage it belongs to; Orphan is set when that stage has
	// exited (the process was left behind).
	Of     string
	Orphan bool
	State  string // as Stage.State
	Wait
}

// Edge is the state of one edge of the graph.
type Edge struct {
	Index    int    // in the graph's Edges
	From, To string // NODE:FD for a process, the node's ID otherwise
	Via      string // "pipe", "fifo" or "file"
	// Bytes written into the edge so far, -1 when unknown; Basis says how
	// it is known: "writer_wchar" (the writer's wchar: its only output, so
	// an estimate that is exact unless it also wrote elsewhere) or
	// "unknown".
	Bytes int64
	Basis string
	// Rate is Bytes' growth per second over the last sample (an estimate).
	Rate float64
	// Buffered is the bytes waiting in the pipe now, Capacity its size;
	// -1 when unknown (no live process holds it, or it is not a pipe).
	Buffered, Capacity int64
	// Stalled is set on an edge that a blocked process waits on when the
	// run has stalled.
	Stalled bool
}

// settle clears the edges' Stalled flags unless the run has stalled: an
// edge is stalled only when nothing moves and a process waits on it.
func (r *Report) settle() {
	if r.Stalled {
		return
	}
	for i := range r.Edges {
		r.Edges[i].Stalled = false
	}
}
