// Package report says what a run did, stage by stage: how each process
// ended, how long it ran, the CPU and memory it used, the bytes it read and
// wrote, and, where that is knowable, the bytes that passed along each edge.
//
// A Report is built once from an executor.Result by New and then written
// as an aligned text table (Text), a one-to-three-line failure summary
// (Short), or JSON in the stable schema docs/report.schema.json (JSON).
package report

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// SchemaVersion is the version of the JSON schema that JSON writes. It
// changes only when a field changes meaning or disappears; new fields may
// be added (and the schema updated) without changing it.
const SchemaVersion = 1

// Report is what a whole run did.
type Report struct {
	Pipeline   string // the graph's name; "" for a shell line
	Start, End time.Time
	Wall       time.Duration
	// Status is the run's status (see executor.Result.Status).
	Status int
	// Signal is the last signal tubo forwarded to the stages (SIGINT on ^C),
	// or 0.
	Signal syscall.Signal
	// TimedOut is set when the run's own timeout ended it.
	TimedOut bool
	// FirstFailure is the ID of the first stage that failed on its own
	// terms (not one tubo ended); "" if none.
	FirstFailure string
	// User and System are the CPU times of all stages added up.
	User, System time.Duration
	Stages       []*Stage
	Builtins     []*Builtin
	// Edges is empty unless New was given the graph (WithGraph).
	Edges []*Edge
	// Params are the pipeline's resolved parameters, in declaration
	// order; nil for a shell line or without the graph.
	Params []graph.Param

	g *graph.Graph // the graph, when New was given it
}

// State says how a stage ended.
type State string

// The states of a stage.
const (
	Exited     State = "exited"      // it exited on its own with Status
	Signaled   State = "signaled"    // a signal ended it; Signal says which
	NotStarted State = "not_started" // it could not be started; Reason says why
	Skipped    State = "skipped"     // tubo did not start it; Reason says why
)

// Stage is what one process did.
type Stage struct {
	Node  string // node ID, e.g. "esclavo[1]"
	Group string // the declaration it came from; the ID when not replicated
	Argv  []string
	Path  string // the executable that was run; "" if none was found
	Pid   int    // 0 if it never started
	State State
	// Status is the sh-style status: exit code, 128+N for signal N, 126,
	// 127.
	Status int
	Signal syscall.Signal // the signal that ended it, or 0
	// Reason says why a stage did not start or was skipped.
	Reason string
	// Start and End are zero for a stage that never started.
	Start, End   time.Time
	Wall         time.Duration
	User, System time.Duration // CPU time from the rusage at reaping
	// MaxRSS is the peak resident set size in bytes; 0 when unknown.
	MaxRSS int64
	// IOKnown says whether Read and Written could be read from
	// /proc/PID/io (they are 0 otherwise).
	IOKnown bool
	// Read and Written are rchar and wchar: bytes passed to read(2) and
	// write(2) and friends, on any descriptor, including the dynamic
	// loader's reads of shared libraries.
	Read, Written int64
	// TimedOut is set when tubo ended the stage for its own timeout.
	TimedOut bool
	// KilledByTubo is set when tubo ended it (timeout, failure policy, the
	// run's timeout, cancel) rather than it ending on its own.
	KilledByTubo bool
	// FirstFailure marks the stage that made the run fail first.
	FirstFailure bool
	// OK is set when the stage ended as a success by its own rules
	// (status 0 or an ok_exit status, SIGPIPE where ignored, a failure
	// under on_failure: ignore, or not needed); Status stays the real one.
	OK bool
	// Accepted says why a non-zero status counts as success: "ok_exit"
	// or "failure ignored"; "" otherwise.
	Accepted string
	// NotNeeded is set for a stage skipped because it runs only after an
	// outcome that did not happen (after: {x: failure} when x succeeded).
	NotNeeded bool
	// Cached is set for a stage skipped because its outputs were up to
	// date (or it only fed such stages); it counts as a success.
	Cached bool
	// StderrTail is the end of what the stage wrote to tubo's stderr (its
	// last lines, a few KiB), when the run kept it
	// (executor.Options.StderrTail); "" otherwise.
	StderrTail string
	// Attempts are the earlier, failed runs of a retried stage, in order;
	// the fields above are its last run.
	Attempts []Attempt
	// Item is the foreach item the stage's copy was made for; "" if none.
	Item string
	// Host is where the stage ran: "" for this machine, else the name of
	// the host it ran on through ssh.
	Host string
	// Remote is what that host said about the stage; nil for a local
	// one. For a remote stage Wall, User and System are the program's as
	// its host measured them (when Remote.Known; else Wall is the local
	// ssh client's and User and System are unknown, 0), Pid is the local
	// ssh client's, and MaxRSS, Read and Written are not known: the
	// client's counters are not the program's.
	Remote *Remote
}

// Remote is how a stage's program ended on its host.
type Remote struct {
	// Known is false when the host could not say (the connection was
	// lost, or tubo's SIGKILL ended the stage's wrapper too).
	Known bool
	// Status is the program's status as the remote sh reported it.
	Status int
	// WallStep is how fine the host's clock for Wall was: 10ms from
	// /proc/uptime, 1s where only date(1) can tell.
	WallStep time.Duration
	// Lost is set when the connection to the host was lost while it ran.
	Lost bool
}

// Attempt is one earlier run of a retried stage.
type Attempt struct {
	Pid        int
	Status     int
	Signal     syscall.Signal
	TimedOut   bool
	Start, End time.Time
	Wall       time.Duration
}

// Builtin is what a tee or merge node did. Its byte counts are exact.
type Builtin struct {
	Node     string
	Kind     string // "tee" or "merge"
	BytesIn  int64  // all inputs added up
	BytesOut int64  // all outputs added up (a tee counts each copy)
	Err      string // "" if it succeeded
	// ReaderGone is set when it stopped because its output's reader went
	// away (as `| head` does); a failure only where SIGPIPE is one, and
	// then Err says so too.
	ReaderGone bool
	// perIn and perOut are the bytes of each input and output edge in
	// edge order, when the builtin counted them.
	perIn, perOut []int64
}

// New builds the report of a run from its result and the wall-clock times
// at which the run started and ended.
func New(res *executor.Result, start, end time.Time, opts ...Option) *Report {
	var o options
	for _, f := range opts {
		f(&o)
	}
	r := &Report{
		Start: start, End: end, Wall: end.Sub(start),
		Status:   int(res.Status),
		Signal:   res.Signal,
		TimedOut: res.TimedOut,
	}
	if o.graph != nil {
		r.Pipeline, r.Params, r.g = o.graph.Name, o.graph.Params, o.graph
	}
	if res.Failed != nil {
		r.FirstFailure = res.Failed.Node.ID
	}
	failed := map[string]bool{}
	for _, pr := range res.Procs {
		s := newStage(pr)
		s.FirstFailure = pr == res.Failed
		if !s.OK {
			failed[s.Node] = true
		}
		r.User += s.User
		r.System += s.System
		r.Stages = append(r.Stages, s)
	}
	for _, s := range r.Stages {
		switch {
		case s.Cached:
			s.Reason = "outputs up to date"
		case s.State == Skipped:
			s.Reason = skipReason(s, res, r, failed)
		}
	}
	for _, b := range res.Builtins {
		if b == nil || b.Node == nil {
			continue
		}
		rb := &Builtin{Node: b.Node.ID, Kind: b.Node.Kind.String(), BytesIn: b.BytesIn, BytesOut: b.BytesOut, perIn: b.PerInput, perOut: b.PerOutput, ReaderGone: b.ReaderGone}
		if b.Err != nil {
			rb.Err = b.Err.Error()
		}
		r.Builtins = append(r.Builtins, rb)
	}
	if o.graph != nil {
		r.Edges = edges(o.graph, r)
	}
	return r
}

// Option tunes New.
type Option func(*options)

type options struct {
	graph *graph.Graph
}

// WithGraph gives New the graph that was run, so that the report can name
// the pipeline and account for the bytes on each edge.
func WithGraph(g *graph.Graph) Option { return func(o *options) { o.graph = g } }

func newStage(pr *executor.ProcResult) *Stage {
	s := &Stage{
		Node:         pr.Node.ID,
		Group:        pr.Node.Name(),
		Argv:         pr.Argv,
		Path:         pr.Path,
		Pid:          pr.Pid,
		Status:       int(pr.Status),
		Signal:       pr.Signal,
		TimedOut:     pr.TimedOut,
		KilledByTubo: pr.Killed,
		OK:           pr.OK,
		NotNeeded:    pr.NotNeeded,
		Cached:       pr.Cached,
		StderrTail:   pr.StderrTail,
		Item:         pr.Node.Item,
	}
	if pr.OK && pr.Status != 0 && pr.Signal == 0 && !pr.Skipped {
		s.Accepted = "failure ignored"
		for _, x := range pr.Node.OKExit {
			if x == int(pr.Status) {
				s.Accepted = "ok_exit"
			}
		}
	}
	for _, a := range pr.Attempts {
		s.Attempts = append(s.Attempts, Attempt{Pid: a.Pid, Status: int(a.Status), Signal: a.Signal, TimedOut: a.TimedOut, Start: a.Start, End: a.End, Wall: a.End.Sub(a.Start)})
	}
	switch {
	case pr.Skipped:
		s.State = Skipped
	case pr.Pid == 0:
		s.State = NotStarted
		s.Reason = "never started"
		if pr.Err != nil {
			s.Reason = pr.Err.Error()
		}
	case pr.Signal != 0:
		s.State = Signaled
	default:
		s.State = Exited
		if pr.Err != nil {
			s.Reason = pr.Err.Error()
		}
	}
	if pr.Pid != 0 {
		s.Start, s.End = pr.Start, pr.End
		if !s.Start.IsZero() && !s.End.IsZero() {
			s.Wall = s.End.Sub(s.Start)
		}
	}
	if u := pr.Usage; u != nil {
		s.User = time.Duration(u.Utime.Nano())
		s.System = time.Duration(u.Stime.Nano())
		s.MaxRSS = u.Maxrss * 1024 // KiB on Linux
	}
	if pr.IO.Valid {
		s.IOKnown = true
		s.Read, s.Written = pr.IO.Rchar, pr.IO.Wchar
	}
	if rr := pr.Remote; rr != nil {
		s.Host = rr.Host
		s.IOKnown, s.Read, s.Written, s.MaxRSS = false, 0, 0, 0
		s.User, s.System = 0, 0
		if rr.Known {
			s.Wall, s.User, s.System = rr.Wall, rr.User, rr.System
		}
		s.Remote = &Remote{Known: rr.Known, Status: int(rr.Status), WallStep: rr.WallStep, Lost: rr.Lost}
	} else if pr.Node.Host != "" {
		s.Host = pr.Node.Host
	}
	return s
}

// skipReason says why tubo did not start a stage: an `after` dependency
// failed, it was not needed (it runs on an outcome that did not happen),
// or the run was being ended when its turn came.
func skipReason(s *Stage, res *executor.Result, r *Report, failed map[string]bool) string {
	for _, pr := range res.Procs {
		if pr.Node.ID != s.Node {
			continue
		}
		for _, dep := range pr.Node.After {
			if failed[dep] && pr.Node.AfterOutcome[dep] == graph.Success {
				return "after: " + dep + " failed"
			}
		}
		if pr.NotNeeded {
			for _, dep := range pr.Node.After {
				switch {
				case r.Stage(dep) != nil && r.Stage(dep).NotNeeded:
					return "not needed: after: " + dep + " was not needed"
				case pr.Node.AfterOutcome[dep] == graph.Failure && !failed[dep]:
					return "not needed: after: " + dep + " succeeded"
				}
			}
			return "not needed"
		}
	}
	return "the run was being ended"
}

// SignalName is the name of a signal, e.g. "SIGPIPE", or "" for 0.
func SignalName(sig syscall.Signal) string {
	if sig == 0 {
		return ""
	}
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "signal " + itoa(int(sig))
}

// Failed reports whether the run failed: a non-zero status, a stage that
// failed or timed out, a builtin error, or the run's timeout.
func (r *Report) Failed() bool {
	if r.Status != 0 || r.FirstFailure != "" || r.TimedOut {
		return true
	}
	for _, s := range r.Stages {
		if s.TimedOut {
			return true
		}
	}
	for _, b := range r.Builtins {
		if b.Err != "" {
			return true
		}
	}
	return false
}

// Stage returns the stage with the given node ID, or nil.
func (r *Report) Stage(id string) *Stage {
	for _, s := range r.Stages {
		if s.Node == id {
			return s
		}
	}
	return nil
}

var errNil = errors.New("report: nil report")
