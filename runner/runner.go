// Package runner is tubo's shell: a POSIX sh with the bash extensions
// that scripts use every day. It walks the syntax tree that parser/shell
// produced. Builtins, assignments, functions and compound commands run
// inside tubo; every pipeline — and every command that is not a builtin —
// becomes one graph.Graph that plan and executor run as real processes.
// A compound command, function or builtin standing in a pipeline, a
// subshell `( … )` and a background job run in a child process that is
// tubo itself, re-executed with the shell's state carried in (bridge.go).
//
// The package is laid out by phase, as dash and mvdan/sh are:
//
//	source.go            reading and parsing scripts (stdin a line at a time)
//	eval.go, compound.go evaluation of statements and compound commands
//	simple.go            simple commands: assignments, lookup, running
//	functions.go         function definitions and calls
//	expand*.go, split.go, glob.go, match.go, brace.go, arith.go
//	                     word expansion, field splitting, pathname
//	                     expansion, patterns, arithmetic
//	cmdsubst.go          $(…) and <(…) >(…)
//	redirect.go          redirections in tubo and in graph form
//	pipeline.go          pipelines as graphs
//	bridge.go            the one place a command becomes a tubo child
//	state.go             the state a child is given
//	jobs.go, trap.go     background jobs, wait; traps and signals
//	builtin*.go          the builtins, one file per family
//	vars.go, arrays.go, special.go, options.go
//	                     variables, arrays, special parameters, options
package runner

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
	"github.com/tubo-pipes/tubo/plan"
)

// Config sets up a Runner. Every field may be left at its zero value.
type Config struct {
	Stdin, Stdout, Stderr *os.File // nil → os.Stdin, os.Stdout, os.Stderr
	Env                   []string // initial environment; nil → os.Environ()
	Dir                   string   // "" → the current directory
	// Signals, when non-nil, delivers signals the caller caught; they are
	// forwarded to the running stages. When nil and CatchSignals is set,
	// the runner catches signals itself, as a shell does (traps).
	Signals <-chan os.Signal
	// CatchSignals makes the runner own SIGINT, SIGTERM, SIGHUP and every
	// trapped signal: untrapped ones are forwarded to the running stages
	// and end the shell with 128+N; trapped ones run their trap.
	CatchSignals bool
	// TTY is the controlling terminal, or nil (see executor.Options.TTY).
	TTY *os.File
	// Trace, when non-nil, sees every executor step.
	Trace func(executor.Event)
	// Self is the tubo executable that child stages re-execute; "" →
	// os.Executable().
	Self string
	// Errexit and Pipefail are the initial `set -e` and `set -o pipefail`.
	Errexit, Pipefail bool
	// Name is the script's file name, used in positions and as $0; "" for
	// a line given with -c.
	Name string
	// Arg0 is $0 when it differs from Name (sh -c LINE ARG0); "" → Name,
	// or "tubo".
	Arg0 string
	// Args are the positional parameters $1, $2, …
	Args []string
	// FromStdin and Command say where commands come from, for $- (s, c).
	FromStdin, Command bool
	// Interactive marks a shell reading commands from a terminal.
	Interactive bool
	// PipeSize is the pipe buffer size for every pipe between stages
	// (F_SETPIPE_SZ); 0 keeps the kernel's default.
	PipeSize int
	// Grace is the time between SIGTERM and SIGKILL when tubo ends a
	// stage; 0 means the executor's default.
	Grace time.Duration
	// SkipProcIO is passed to the executor: no /proc/PID/io reads when
	// nothing reports byte counts.
	SkipProcIO bool
	// StderrTail is passed to the executor: with > 0 each stage's
	// inherited stderr goes through tubo, which keeps its last lines for
	// the report.
	StderrTail int
	// Sandbox, when > 0, is the fuzz target's evaluator (sandbox.go): at
	// most Sandbox statements run, and nothing reaches outside the
	// process — no process, file, signal or process-wide setting.
	Sandbox int
	// BeforeRun and AfterRun, when non-nil, see every pipeline: its plan
	// before it starts, and its result after (for reports and progress).
	BeforeRun func(p *plan.Plan)
	AfterRun  func(g *graph.Graph, p *plan.Plan, res *executor.Result, start, end time.Time)
}

// Runner holds a shell's state between statements. Its zero value is not
// usable; call New.
type Runner struct {
	cfg Config
	ctx context.Context

	// The state a child stage is given (state.go).
	vars     *varStack
	funcs    map[string]*funcDef
	aliases  map[string]string
	opts     options
	arg0     string
	args     []string
	dir      string // the logical working directory, as $PWD shows it
	umask    int
	traps    *traps
	shellPid int // $$: the pid of the top shell, also in its subshells
	status   int // $?
	lastBg   int // $!, 0 when no job was started
	// fgStop is the foreground run's meeting point for ^Z at the prompt
	// (jobstop.go), and fgText its source; nil and "" elsewhere.
	fgStop *stopper
	fgText string
	// sandboxSteps counts statements run under Config.Sandbox.
	sandboxSteps int
	fds          fdTable

	name   string // file name for positions and $LINENO's messages
	lineno int
	outW   trackedWriter // what stdout returns, kept here to need no allocation
	outErr error         // the first failed write to stdout of the builtin running
	// lineBase is added to a statement's line to give $LINENO: 0, or in
	// a child shell the line before the one its source came from.
	lineBase    int
	interactive bool

	// Control flow. exiting is set by exit, set -e and fatal errors, and
	// exitStatus is the status to end with; breakN/contN count the loops
	// that break and continue leave; returning is set by return.
	exiting    bool
	exitStatus int
	breakN     int
	contN      int
	returning  bool
	loopDepth  int
	funcDepth  int
	// funcNames is the stack of functions being run, for FUNCNAME.
	funcNames []string
	// noErrexit counts the enclosing contexts in which `set -e` does not
	// apply: conditions, the left side of && and ||, ! pipelines.
	noErrexit int
	// substStatus is the status of the last command substitution, the
	// status of a command that has no command name (`x=$(false)`); -1
	// when none ran.
	substStatus int
	// inTrap is set while a trap's action runs.
	inTrap bool
	// virtual marks a subshell run inside tubo on a copy of the state (a
	// command substitution): it must not touch what the process shares
	// (signal dispositions, the process's own fds).
	virtual bool
	// subshell marks a child or virtual subshell: exit ends it, not tubo.
	subshell bool

	jobs *jobs

	// static is set by Pipelines: nothing runs, command substitutions stay
	// as their source text, and each pipeline's graph is collected.
	static    bool
	graphs    []*graph.Graph
	staticErr error

	// envCache is the environment of commands for vars.gen envGen.
	envCache []string
	envGen   uint64
	// arith caches parsed arithmetic of dynamic expressions.
	arith map[string]syntax.ArithmExpr
	// sources is the stack of files being sourced, for BASH_SOURCE.
	sources []string
	// depth counts nested evaluations (eval, source, functions) to stop
	// runaway recursion with an error instead of a crash.
	depth int
	// sourceDepth counts the files being run by `.`; return leaves one.
	sourceDepth  int
	returnStatus int
	// parseErr is a syntax error met while running, for the caller.
	parseErr error
	// underscore is $_: the last argument of the previous command.
	underscore string
	// src is the source being run, for the raw text of here-documents.
	src string
	// abortLine is set by an error that ends the rest of the line being
	// run (failglob, as in bash).
	abortLine bool
	// expanded is set while a child stage runs the source it was given,
	// whose aliases the parent expanded already.
	expanded bool

	// Builtin state.
	getoptsPos int // the next character in the argument getopts reads
	getoptsInd int // the OPTIND that getoptsPos belongs to
	// getoptsRestart is set when set or shift replace the positional
	// parameters: the next getopts starts at the first (dash).
	getoptsRestart bool
	pendingArrays  []*syntax.Assign
	readonlyFuncs  map[string]bool
	hashed         map[string]string
	dirStack       []string
	// shellFiles are files exec opened for the shell's own descriptors.
	shellFiles []*os.File
	// umaskSaved is the parent's umask, restored when a virtual subshell
	// ends.
	umaskSaved int
	// procSubsts are the pipe ends of <(…) and >(…) of the command being
	// run; bgProcs their runs.
	procSubsts []procSubstEnd
	bgProcs    []*executor.Handle

	// Caches.
	ifsCache    *ifsSet
	ifsCacheStr string
	patCache    map[string]*pattern
	arithDyn    map[syntax.ArithmExpr]bool
	rng         *rand.Rand
	started     time.Time
}

// New returns a Runner with the environment, directory and options of cfg.
func New(cfg Config) *Runner {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	r := &Runner{
		cfg:           cfg,
		ctx:           context.Background(),
		vars:          newVarStack(),
		funcs:         map[string]*funcDef{},
		aliases:       map[string]string{},
		opts:          newOptions(),
		name:          cfg.Name,
		arg0:          cfg.Arg0,
		args:          append([]string(nil), cfg.Args...),
		shellPid:      os.Getpid(),
		substStatus:   -1,
		interactive:   cfg.Interactive,
		traps:         newTraps(),
		jobs:          newJobs(),
		readonlyFuncs: map[string]bool{},
		fds: fdTable{
			0: orFile(cfg.Stdin, os.Stdin),
			1: orFile(cfg.Stdout, os.Stdout),
			2: orFile(cfg.Stderr, os.Stderr),
		},
	}
	if r.arg0 == "" {
		r.arg0 = cfg.Name
	}
	if r.arg0 == "" {
		r.arg0 = "tubo"
	}
	r.opts[optErrexit] = cfg.Errexit
	r.opts[optPipefail] = cfg.Pipefail
	if cfg.Interactive {
		r.opts[optMonitor] = true
	}
	for _, kv := range env {
		name, value, ok := cutEnv(kv)
		if ok && shell.ValidName(name) {
			v := r.vars.setString(name, value)
			v.attrs |= aExport
		}
	}
	r.umask = currentUmask()
	r.dir = r.startDir()
	r.initVars()
	return r
}

func cutEnv(kv string) (name, value string, ok bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], i > 0
		}
	}
	return "", "", false
}

func orFile(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

// startDir is cfg.Dir or the current directory, spelled as $PWD spells it
// when $PWD names the same directory (a path through a symlink stays as
// the user wrote it, as in sh).
func (r *Runner) startDir() string {
	dir := r.cfg.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if pwd, ok := r.vars.get("PWD"); ok && filepath.IsAbs(pwd) && pwd != dir && !hasDotComponent(pwd) {
		a, errA := os.Stat(pwd)
		b, errB := os.Stat(dir)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return pwd
		}
	}
	return dir
}

// Check parses src and rejects what tubo refuses without running
// anything. The error, if any, is positioned: "LINE:COL: msg" or
// "FILE:LINE:COL: msg".
func Check(name, src string) error {
	_, err := shell.ParseChecked(name, src)
	return err
}

// CheckAt is Check for a shell source that sits inside another file (a
// YAML `shell:` stage): positions are given as places in that file. at is
// where the source's first byte is; lines after the first start at
// column at.Col too when the source is an indented block (indent > 0 is
// added to their columns).
func CheckAt(src string, at graph.Pos, indent int) error {
	return shell.CheckIn(src, func(line, col int) graph.Pos {
		if line == 1 {
			col += at.Col - 1
		} else {
			col += indent
		}
		return graph.Pos{File: at.File, Line: at.Line + line - 1, Col: col}
	})
}

// Run parses all of src, refuses it with status 2 (running nothing) on a
// syntax error or a refused construct, then runs it. nil means status 0;
// otherwise the error is an *executor.ExitError with the sh status. For
// bad input its Err is the positioned error, which Run does not print;
// every other message was already written to the runner's stderr.
func (r *Runner) Run(ctx context.Context, src string) error {
	f, err := shell.ParseChecked(r.name, src)
	if err != nil {
		return &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	r.begin(ctx)
	defer r.end()
	r.runFile(f, src)
	return r.result()
}

// RunScript runs a whole script (a -c line or a file) as sh does: parsed
// first, so a syntax error anywhere is reported before anything runs, then
// run; at the end the EXIT trap runs. It is Run plus the end of a shell.
func (r *Runner) RunScript(ctx context.Context, src string) error {
	f, err := shell.ParseChecked(r.name, src)
	if err != nil {
		return &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	r.begin(ctx)
	defer r.end()
	r.runFile(f, src)
	r.finish()
	return r.result()
}

// RunReader runs commands read from in a line at a time, as sh reads a
// script from its stdin: a command that reads the same stdin starts right
// after the line the shell has read, and a syntax error is reported when
// it is reached (after the earlier lines ran). At the end the EXIT trap
// runs.
func (r *Runner) RunReader(ctx context.Context, in *os.File) error {
	r.begin(ctx)
	defer r.end()
	r.runIncremental(in)
	r.finish()
	return r.result()
}

// begin and end bracket a Run: the context and signal catching.
func (r *Runner) begin(ctx context.Context) {
	r.ctx = ctx
	r.exiting = false
	if r.cfg.CatchSignals && !r.virtual {
		r.traps.catch(r)
	}
}

func (r *Runner) end() {}

// finish ends the shell: the EXIT trap, then the jobs still running are
// ended (nothing outlives tubo).
func (r *Runner) finish() {
	if !r.exiting {
		// A signal that came during the last command still has its trap
		// run.
		r.runPendingTraps()
	}
	r.runExitTrap()
	r.waitProcSubsts(true)
	r.jobs.endAll()
}

func (r *Runner) result() error {
	st := r.status
	if r.exiting {
		st = r.exitStatus
	}
	r.status = st
	if r.parseErr != nil {
		err := r.parseErr
		r.parseErr = nil
		return &executor.ExitError{Status: executor.Status(st), Err: err}
	}
	if st == 0 {
		return nil
	}
	return &executor.ExitError{Status: executor.Status(st)}
}

// TTY is the controlling terminal the runner gives its pipelines (Config.TTY).
func (r *Runner) TTY() *os.File { return r.cfg.TTY }

// SetSignals replaces the channel of caught signals that running stages
// are sent (Config.Signals), for a caller that catches them per line.
func (r *Runner) SetSignals(ch <-chan os.Signal) { r.cfg.Signals = ch }

// Exited reports whether the last Run ended with the exit builtin (or a
// signal, or set -e), so an interactive caller knows to stop reading.
func (r *Runner) Exited() bool { return r.exiting }

// Status is $?, the status of the last command.
func (r *Runner) Status() int { return r.status }

// SetOption turns a `set -o` option (or its letter) on or off, for the
// command line's flags. It reports whether the name is known.
func (r *Runner) SetOption(name string, on bool) bool {
	if len(name) == 1 {
		if o, ok := optLetters[name[0]]; ok {
			r.setOpt(o, on)
			return true
		}
		return false
	}
	o, ok := lookupOpt(name, false)
	if !ok {
		if o, ok = lookupOpt(name, true); !ok {
			return false
		}
	}
	r.setOpt(o, on)
	return true
}

// exit ends the script (or the subshell) with status st.
func (r *Runner) exit(st int) {
	r.exiting = true
	r.exitStatus = st
	r.status = st
}

// unwinding reports whether the statements being run must stop: exit,
// break, continue or return is under way.
func (r *Runner) unwinding() bool {
	return r.exiting || r.breakN > 0 || r.contN > 0 || r.returning || r.abortLine
}

// errorf writes "tubo: MSG" to the current stderr, as sh writes its own
// messages. In a script it names the line, as dash does: "tubo: 3: MSG".
func (r *Runner) errorf(format string, args ...any) {
	if r.static {
		return
	}
	msg := fmt.Sprintf(format, args...)
	w := r.stderr()
	if r.name != "" && r.lineno > 0 {
		fmt.Fprintf(w, "%s: line %d: %s\n", r.name, r.lineno, msg)
		return
	}
	fmt.Fprintf(w, "tubo: %s\n", msg)
}

// stdout and stderr are where builtins write: the current descriptors, or
// nowhere when one is closed (or for Pipelines).
// stdout is the shell's stdout as a builtin writes it: the first write
// that fails is kept (outErr), so that a builtin whose output was lost
// fails, as in sh (type echo >/dev/full is 1).
func (r *Runner) stdout() io.Writer {
	w := r.fdWriter(1)
	if w == io.Discard {
		return w
	}
	r.outW = trackedWriter{r: r, w: w}
	return &r.outW
}

// trackedWriter keeps the first error of its writes in its runner.
type trackedWriter struct {
	r *Runner
	w io.Writer
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.r.outErr == nil {
		t.r.outErr = err
	}
	return n, err
}

// runBuiltinFn runs a builtin; when it says 0 but a write of its output
// failed, it fails with 1 and says so. Each call keeps its own error, so
// eval or . is not blamed for a command inside it.
func (r *Runner) runBuiltinFn(b builtinDef, argv []string) int {
	outer := r.outErr
	r.outErr = nil
	st := b.fn(r, argv)
	if st == 0 && r.outErr != nil {
		r.errorf("%s: write error: %s", argv[0], errText(r.outErr))
		st = 1
	}
	r.outErr = outer
	return st
}

func (r *Runner) stderr() io.Writer { return r.fdWriter(2) }

func (r *Runner) fdWriter(fd int) io.Writer {
	if r.static {
		return io.Discard
	}
	f := r.fds[fd]
	if f == nil {
		return badFD{}
	}
	return f
}

// badFD is a closed descriptor: writes fail as they would with EBADF.
type badFD struct{}

func (badFD) Write([]byte) (int, error) { return 0, syscall.EBADF }

// self is the tubo executable that child stages run.
func (r *Runner) self() string {
	if r.cfg.Self != "" {
		return r.cfg.Self
	}
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}

// abs resolves a path against the runner's working directory.
func (r *Runner) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(r.dir, path)
}

// environ is the environment of the commands the shell starts.
func (r *Runner) environ() []string {
	if r.envCache == nil || r.envGen != r.vars.gen {
		r.envCache = r.vars.environ()
		r.envGen = r.vars.gen
	}
	return r.envCache
}

// SetShopt turns a bash shopt option on or off (-O NAME on the command
// line). It reports whether the name is known.
func (r *Runner) SetShopt(name string, on bool) bool {
	o, ok := lookupOpt(name, true)
	if ok {
		r.setOpt(o, on)
	}
	return ok
}

// Finish ends an interactive session as the shell ends: the EXIT trap
// runs and the jobs still running are ended.
func (r *Runner) Finish() { r.finish() }
