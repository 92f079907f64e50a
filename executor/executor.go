// Package executor runs a plan: it creates the pipes and FIFOs, opens the
// files, starts every process with fork + dup2 + exec (os.StartProcess with
// the planned fd table), closes tubo's copies of the child ends, runs the
// builtin stream nodes, forwards signals, enforces timeouts and the failure
// policy, and reaps every child.
package executor

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// Options configure a run. The zero value runs with tubo's own stdio,
// environment and directory.
type Options struct {
	// Stdin, Stdout and Stderr are what children get for "inherited" 0, 1
	// and 2; nil means tubo's own.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles are what children get for "inherited" descriptors above 2
	// (a shell's `{ …; } 3>file`); a descriptor not in the map is tubo's
	// own, passed only if tubo inherited it.
	ExtraFiles map[int]*os.File
	// Env is the base environment of every process; nil means os.Environ().
	Env []string
	// Dir is the directory processes start in when their node names none,
	// and the base of relative paths; "" means tubo's own.
	Dir string
	// Signals, when non-nil, delivers signals that tubo caught; each one is
	// forwarded to every running process group.
	Signals <-chan os.Signal
	// Grace is the time between SIGTERM and SIGKILL when tubo ends a stage
	// (timeout, failure policy, cancel); 0 means 2 seconds.
	Grace time.Duration
	// TTY, when non-nil, is the controlling terminal: the run's process
	// group becomes its foreground group, and tubo takes it back after.
	TTY *os.File
	// Suspend, called once a job-control stop (^Z) has stopped the run's
	// stages, stops tubo itself and returns when tubo is continued; nil
	// means StopSelf. It reports whether the run goes on in the
	// foreground (it gets the terminal back) or in the background (a
	// shell's bg: only SIGCONT). Signals must deliver SIGTSTP, SIGCONT
	// and SIGCHLD for job control (see jobcontrol.go). tubo's own
	// prompt sets it: there ^Z makes the line a stopped job.
	Suspend func() (foreground bool)
	// SkipProcIO leaves ProcResult.IO empty instead of reading each
	// child's /proc/PID/io: one open and read less per stage, for runs
	// that report no byte counts.
	SkipProcIO bool
	// StderrTail, when > 0, keeps the last StderrTail bytes (whole lines)
	// that each process wrote to tubo's stderr, in ProcResult.StderrTail:
	// such a process gets a pipe for its stderr, which tubo copies to its
	// own as it comes. 0 passes tubo's stderr to the processes as is.
	StderrTail int
	// Tag prefixes every line a process writes to tubo's stderr with its
	// node's ID and a colon ("esclavo[1]: …"), writing whole lines only
	// (tag.go); false passes stderr through as it is.
	Tag bool
	// Trace, when non-nil, is called for every step as it happens, one
	// call at a time (steps happen on several goroutines; the executor
	// serializes the calls).
	Trace func(Event)
	// Errorf prefix: messages about processes that could not start are
	// written to Stderr as "PREFIX: message"; "" means "tubo".
	Prefix string
	// Remote signals and reads the end of stages that run on other hosts
	// (plan.Proc.Host set); nil for a plan without any.
	Remote Remote
}

// Event is one step of a run, for --trace and live views. A process's
// "start" event comes before its "exit" event, and both carry its Pid and
// Pgid; Handle.Procs gives the same state on demand.
type Event struct {
	Time   time.Time
	Kind   string // pipe, close, mkfifo, open, start, builtin, exit, signal, rmfifo, error
	Node   string
	Pid    int
	Pgid   int // start, exit: the process's group
	Detail string
	// Counts, on a "builtin" event (a tee, merge or scatter node starts
	// inside tubo), are its live byte counts per input and output, in the
	// order of its edges in the graph.
	Counts *Counts
}

// ProcResult is what became of one planned process.
type ProcResult struct {
	Node *graph.Node
	Argv []string
	Path string // the resolved executable
	Pid  int    // 0 if it never started
	Pgid int    // its process group; 0 if it never started
	// Err says why the process did not start; nil if it did.
	Err error
	// Status is the sh-style status: exit code, 128+N, 126, 127.
	Status Status
	// Signal is the signal that killed it, or 0.
	Signal syscall.Signal
	// TimedOut is set when tubo ended it for its timeout; Killed when tubo
	// ended it for any reason (timeout, failure policy, cancel).
	TimedOut, Killed bool
	// Skipped is set when tubo never started it: a stage it runs after
	// did not succeed, or (NotNeeded) it runs only on an outcome that did
	// not happen, which is no failure (its Status stays 0).
	Skipped, NotNeeded bool
	// Cached is set when tubo did not start it because its outputs are
	// up to date (graph.Node.Cached); it counts as a success.
	Cached bool
	// OK is set when it ended as a success by its node's rules: status 0
	// or one of OKExit, SIGPIPE where the graph ignores it, a failure
	// under on_failure: ignore, or not needed. Status stays the real one.
	OK bool
	// Attempts are the earlier runs of a stage that failed and was
	// retried, in order; the fields above are the last run. nil when it
	// ran once.
	Attempts   []Attempt
	Start, End time.Time
	Usage      *syscall.Rusage // nil if it never started
	IO         ProcIO
	// StderrTail is the end of what the process wrote to tubo's stderr,
	// when Options.StderrTail asked for it; "" otherwise.
	StderrTail string
	// Remote is what the host of a remote stage said about it; nil for a
	// local stage. Usage and IO are then those of the local ssh client.
	Remote *RemoteResult
}

// ProcIO holds the counters of /proc/PID/io, read after the process exited
// and before it was reaped. Valid is false when they could not be read.
type ProcIO struct {
	Valid      bool
	Rchar      int64 // bytes read by read(2) and friends
	Wchar      int64 // bytes written
	ReadBytes  int64 // bytes fetched from storage
	WriteBytes int64 // bytes sent to storage
}

// BuiltinResult is what a tee or merge node did.
type BuiltinResult struct {
	Node     *graph.Node
	BytesIn  int64
	BytesOut int64
	// PerInput and PerOutput count the bytes of each input and output,
	// in the order of the node's edges; nil when not known.
	PerInput, PerOutput []int64
	Err                 error
	// ReaderGone is set when the builtin stopped because a reader of its
	// output went away (EPIPE), as a process dies of SIGPIPE. Where the
	// graph does not count SIGPIPE as a failure (IgnoreSIGPIPE), Err is
	// then nil: `tubo run primes.yaml | head -1` ends quietly.
	ReaderGone bool
}

// Result is what a whole run did.
type Result struct {
	Procs    []*ProcResult
	Builtins []*BuiltinResult
	// Status is the run's status: the last process's, or with pipefail the
	// last non-zero one; a failed builtin makes it at least 1.
	Status Status
	// Failed is the first process that failed on its own terms (not one
	// that tubo ended, nor a SIGPIPE the graph ignores); nil if none.
	Failed *ProcResult
	// Signal is the last signal tubo forwarded, or 0.
	Signal syscall.Signal
	// TimedOut is set when the run's own timeout ended it.
	TimedOut bool
}

// BuiltinRunner runs a tee or merge node on the given files, closing them
// all when done, and adds the bytes it moves to live as they move (one
// counter per file, in order). The executor does not import the stream
// package, so the caller supplies it.
type BuiltinRunner func(n *graph.Node, in, out []*os.File, live *Counts) BuiltinResult

// Builtins runs the tee and merge nodes; a plan with builtins needs it set.
var Builtins BuiltinRunner

// Run executes a plan and waits for every process it started.
// The error is non-nil only when the run could not be set up at all, in
// which case nothing was started.
func Run(ctx context.Context, p *plan.Plan, opt Options) (*Result, error) {
	h, err := Start(ctx, p, opt)
	if err != nil {
		return nil, err
	}
	return h.Wait()
}

// Start sets a plan up and starts it: when it returns, every process that
// waits on nothing has been started (or has failed to start) and the
// builtins run; the rest of the run (processes that run after others,
// timeouts, signals, reaping, cleanup) goes on in the background until
// Wait. The error is non-nil only when the run could not be set up at all,
// in which case nothing was started. Canceling ctx ends the run as a
// failure policy would (SIGTERM, then SIGKILL after the grace period).
func Start(ctx context.Context, p *plan.Plan, opt Options) (*Handle, error) {
	if err := prepare(); err != nil {
		return nil, err
	}
	r := newRun(p, opt)
	if err := r.setup(); err != nil {
		r.cleanup()
		return nil, err
	}
	endWatch := r.watchStarts()
	r.begin()
	early := endWatch()
	h := &Handle{r: r, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		defer r.cleanup()
		r.supervise(ctx, early)
		r.wg.Wait()
		r.takeTerminal()
		r.readersGone()
		r.res.Status = r.status()
	}()
	return h, nil
}

type run struct {
	p   *plan.Plan
	opt Options
	res *Result
	env []string

	// pipes[i] holds tubo's copies of Plan.Pipes[i]: [read, write], once
	// made (made[i]). An end is closed (and set to nil) as soon as every
	// process or builtin that holds it has started, so readers see EOF and
	// writers get SIGPIPE.
	pipes      [][2]int // descriptors; noFD when not held
	made       []bool
	pipeBudget int // bytes of pipe buffer the run may still ask for
	// holders[i][end] counts who still has to be given that end of
	// Plan.Pipes[i] (0 read, 1 write): processes whose final descriptor
	// table holds it and have not started (or failed to start), builtins
	// not yet running, the here-document feeder. An end that a
	// redirection took away from its process (`echo hi >/dev/null | wc`)
	// has no holder and is closed before anything starts.
	holders  [][2]int
	released []bool // per Procs: release has run
	// files[i] is Plan.Files[i] once opened.
	files     []*os.File
	tmpDir    string   // created by tubo; removed after
	madeFIFOs []string // FIFOs tubo created (and so may remove)
	null      *os.File // /dev/null for stages with no input, once needed

	// stopPending: a ^Z stopped a stage before its exec while the run
	// started (prexec.go); the run is to stop for it.
	stopPending atomic.Bool
	// queued holds signals supervise took from Options.Signals ahead of
	// their turn; it acts on them next, in order. Supervise's only.
	queued []os.Signal

	mu      sync.Mutex
	traceMu sync.Mutex // serializes Options.Trace calls
	// pgid is the run's shared process group (plan.OwnGroups false); 0
	// until the first process starts.
	pgid   int
	groups map[int]int // live process groups → live members
	kids   []*child    // per Procs: the started process, or nil
	// reaper reaps the run's children (reaper.go); nil until the first
	// starts, and for good when noReaper (it could not be made: each
	// child is then waited for by a goroutine of its own).
	reaper   *reaper
	noReaper bool
	tails    map[int]*stderrTail // Options.StderrTail: by process index
	done     []bool              // per Procs: finished (exited, failed to start, skipped)
	claimed  []bool              // per Procs: chosen to start or to skip; never twice
	waiters  []int               // the Procs that run after others (Proc.After), in order
	// gates holds, by process, the gate that the leader of a batch of
	// stages sharing the run's group opens once the group exists
	// (startAll).
	gates map[int]*gate
	// looks holds the program lookups of the stages that start first,
	// while they start (lookPath); nil after.
	looks   map[lookKey]lookResult
	killing bool // tubo is ending the run; later failures are not "first"
	// canceled is set when the run's context ended it (a caught signal,
	// or the caller's cancel).
	canceled bool
	// policyEnd is set when the run is ended by a kill-rest failure:
	// stages that run on a failure (or any outcome) may still start
	// (see runsWhileEnding), and spared holds their process groups,
	// which the end's SIGKILL leaves alone.
	policyEnd bool
	spared    map[int]bool
	// fatalProc is the first process that could not start for lack of a
	// resource; it ended the run, and the run's status is its.
	fatalProc *ProcResult
	// started is closed once the first batch of processes has started.
	// In a run whose processes share a group, none is reaped before: the
	// group must keep a member for the others to join.
	started chan struct{}
	// turns bounds the copies of a stage that run at once (jobs.go).
	turns turns
	// tagMu keeps --tag's lines whole (tag.go).
	tagMu    sync.Mutex
	wg       sync.WaitGroup
	stop     chan struct{} // closed when every process has finished
	stopOnce sync.Once
	nleft    int // processes not finished yet
}

func newRun(p *plan.Plan, opt Options) *run {
	if opt.Stdin == nil {
		opt.Stdin = os.Stdin
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.Grace == 0 {
		opt.Grace = 2 * time.Second
	}
	if opt.Prefix == "" {
		opt.Prefix = "tubo"
	}
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	r := &run{
		p: p, opt: opt, env: env,
		res:      &Result{},
		pipes:    make([][2]int, len(p.Pipes)),
		files:    make([]*os.File, len(p.Files)),
		groups:   map[int]int{},
		kids:     make([]*child, len(p.Procs)),
		made:     make([]bool, len(p.Pipes)),
		started:  make(chan struct{}),
		tails:    map[int]*stderrTail{},
		gates:    map[int]*gate{},
		done:     make([]bool, len(p.Procs)),
		claimed:  make([]bool, len(p.Procs)),
		released: make([]bool, len(p.Procs)),
		holders:  countHolders(p),
		stop:     make(chan struct{}),
		nleft:    len(p.Procs),
	}
	for i := range r.pipes {
		r.pipes[i] = [2]int{noFD, noFD}
	}
	r.res.Procs = make([]*ProcResult, len(p.Procs))
	for i, pr := range p.Procs {
		r.res.Procs[i] = &ProcResult{Node: pr.Node, Argv: pr.Argv}
		if len(pr.After) > 0 {
			r.waiters = append(r.waiters, i)
		}
	}
	return r
}

func (r *run) trace(kind, node string, pid int, format string, args ...any) {
	if r.opt.Trace == nil {
		return
	}
	r.emit(Event{Time: time.Now(), Kind: kind, Node: node, Pid: pid, Detail: fmt.Sprintf(format, args...)})
}

// emit passes one event to Options.Trace, one call at a time.
func (r *run) emit(e Event) {
	if r.opt.Trace == nil {
		return
	}
	r.traceMu.Lock()
	defer r.traceMu.Unlock()
	// Stamped under the lock, so that events are printed in the order of
	// their times: each is emitted once its step has happened.
	e.Time = time.Now()
	r.opt.Trace(e)
}

func (r *run) errorf(format string, args ...any) {
	fmt.Fprintf(r.opt.Stderr, "%s: %s\n", r.opt.Prefix, fmt.Sprintf(format, args...))
}

// begin starts the builtins and every process that waits on nothing.
func (r *run) begin() {
	for i := range r.p.Builtins {
		r.startBuiltin(i)
	}
	var ready []int
	r.mu.Lock()
	for i, pr := range r.p.Procs {
		if len(pr.After) == 0 {
			ready = append(ready, i)
			r.claimed[i] = true
		}
	}
	r.looks = map[lookKey]lookResult{}
	r.mu.Unlock()
	r.startAll(ready)
	r.mu.Lock()
	r.looks = nil
	r.mu.Unlock()
	close(r.started)
	r.mu.Lock()
	if r.nleft == 0 {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	r.mu.Unlock()
}
