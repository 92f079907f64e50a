// Package runner runs shell lines as process graphs. It walks the syntax
// tree that parser/shell produced: lists, `&&`, `||`, `!`, groups and the
// builtins run inside tubo, and every pipeline becomes one graph.Graph that
// plan and executor run as real processes. Subshells (`( … )`, and builtins
// or groups standing in a pipeline) are tubo itself, re-executed as
// `tubo -c SRC`, so nothing they change reaches the parent.
package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	// Signals, when non-nil, delivers signals tubo caught; they are
	// forwarded to the running stages.
	Signals <-chan os.Signal
	// TTY is the controlling terminal, or nil (see executor.Options.TTY).
	TTY *os.File
	// Trace, when non-nil, sees every executor step.
	Trace func(executor.Event)
	// Self is the tubo executable that runs subshells as `Self -c SRC`;
	// "" → os.Executable().
	Self string
	// Errexit and Pipefail are the initial `set -e` and `set -o pipefail`.
	Errexit, Pipefail bool
	// Name is the script's file name, used in positions and as $0; "" for
	// a line given with -c.
	Name string
	// Args are the positional parameters $1, $2, …
	Args []string
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
	// BeforeRun and AfterRun, when non-nil, see every pipeline: its plan
	// before it starts, and its result after (for reports and progress).
	BeforeRun func(p *plan.Plan)
	AfterRun  func(g *graph.Graph, p *plan.Plan, res *executor.Result, start, end time.Time)
}

// Runner holds a shell's state between statements: variables, the working
// directory, options, the last status and the current descriptors. Its zero
// value is not usable; call New.
type Runner struct {
	cfg  Config
	name string // file name for positions
	arg0 string
	args []string
	vars vars
	dir  string // the logical working directory, as $PWD shows it
	fds  fdTable

	errexit, pipefail, nounset bool

	status int // $?
	// substStatus is the status of the last command substitution, the
	// status of a command that has no command name (`x=$(false)`); -1 when
	// none ran.
	substStatus int
	// noErrexit counts the enclosing contexts in which `set -e` does not
	// apply: the left side of && and ||, and ! pipelines.
	noErrexit int
	// exiting is set by `exit`, by `set -e`, and by fatal expansion errors;
	// exitStatus is then the status to end with.
	exiting    bool
	exitStatus int

	src string // the source being run, for the raw text of here-documents

	// static is set by Pipelines: nothing runs, command substitutions stay
	// as their source text, and each pipeline's graph is collected.
	static    bool
	graphs    []*graph.Graph
	staticErr error
}

// New returns a Runner with the environment, directory and options of cfg.
func New(cfg Config) *Runner {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	r := &Runner{
		cfg:         cfg,
		name:        cfg.Name,
		arg0:        cfg.Name,
		args:        append([]string(nil), cfg.Args...),
		vars:        newVars(env),
		errexit:     cfg.Errexit,
		pipefail:    cfg.Pipefail,
		substStatus: -1,
		fds: fdTable{
			0: orFile(cfg.Stdin, os.Stdin),
			1: orFile(cfg.Stdout, os.Stdout),
			2: orFile(cfg.Stderr, os.Stderr),
		},
	}
	if r.arg0 == "" {
		r.arg0 = "tubo"
	}
	r.dir = r.startDir()
	r.vars.set("PWD", r.dir)
	r.vars.export("PWD")
	return r
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
	if pwd, ok := r.vars.get("PWD"); ok && filepath.IsAbs(pwd) && pwd != dir {
		a, errA := os.Stat(pwd)
		b, errB := os.Stat(dir)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return filepath.Clean(pwd)
		}
	}
	return dir
}

// Check parses src and rejects unsupported syntax without running anything.
// The error, if any, is positioned: "LINE:COL: msg" or "FILE:LINE:COL: msg".
func Check(name, src string) error {
	_, err := shell.ParseChecked(name, src)
	return err
}

// Run parses all of src, rejects unsupported syntax (status 2, nothing run),
// then runs it. nil means status 0; otherwise the error is an
// *executor.ExitError with the sh status. For bad input its Err is the
// positioned error, which Run does not print; every other message was
// already written to the runner's stderr, and Err is nil.
func (r *Runner) Run(ctx context.Context, src string) error {
	f, err := shell.ParseChecked(r.name, src)
	if err != nil {
		return &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	r.src = src
	r.exiting = false
	r.stmts(ctx, f.Stmts)
	st := r.status
	if r.exiting {
		st = r.exitStatus
	}
	r.status = st
	if st == 0 {
		return nil
	}
	return &executor.ExitError{Status: executor.Status(st)}
}

// stmts runs a statement list until it ends or something exits.
func (r *Runner) stmts(ctx context.Context, list []*syntax.Stmt) {
	for _, s := range list {
		if r.exiting {
			return
		}
		if ctx.Err() != nil {
			// Canceled: end as a shell killed by SIGINT would.
			r.exit(int(executor.SignalStatus(syscall.SIGINT)))
			return
		}
		r.stmt(ctx, s)
	}
}

// stmt runs one statement, negates its status under `!`, and applies
// `set -e` to the simple commands, pipelines and subshells it ran.
func (r *Runner) stmt(ctx context.Context, s *syntax.Stmt) {
	if s.Negated {
		r.noErrexit++
	}
	st, leaf := r.command(ctx, s)
	if s.Negated {
		r.noErrexit--
		if st == 0 {
			st = 1
		} else {
			st = 0
		}
	}
	if r.exiting {
		return
	}
	r.status = st
	if leaf && st != 0 && r.errexit && r.noErrexit == 0 && !s.Negated {
		r.exit(st)
	}
}

// command runs a statement's command. leaf reports whether it was a
// command that `set -e` judges by its own status (not a list or group,
// whose parts were judged already).
func (r *Runner) command(ctx context.Context, s *syntax.Stmt) (status int, leaf bool) {
	switch c := s.Cmd.(type) {
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt, syntax.OrStmt:
			return r.andOr(ctx, c), false
		}
		return r.pipeline(ctx, s), true
	case *syntax.Block:
		return r.group(ctx, s)
	case *syntax.CallExpr, nil:
		return r.simple(ctx, s), true
	case *syntax.DeclClause:
		return r.declare(ctx, s, c), true
	case *syntax.Subshell:
		return r.pipeline(ctx, s), true
	}
	// Check rejected everything else before anything ran.
	panic(fmt.Sprintf("runner: unexpected %T", s.Cmd))
}

// andOr runs `X && Y` or `X || Y`. X is exempt from `set -e`: its failure
// only decides whether Y runs.
func (r *Runner) andOr(ctx context.Context, c *syntax.BinaryCmd) int {
	r.noErrexit++
	r.stmt(ctx, c.X)
	r.noErrexit--
	if r.exiting {
		return r.status
	}
	if (c.Op == syntax.AndStmt) == (r.status == 0) {
		r.stmt(ctx, c.Y)
	}
	return r.status
}

// group runs `{ …; }` in tubo itself, with its redirections as the
// descriptors of everything inside.
func (r *Runner) group(ctx context.Context, s *syntax.Stmt) (status int, leaf bool) {
	block := s.Cmd.(*syntax.Block)
	redirs, err := r.redirs(ctx, s.Redirs)
	if err != nil {
		return r.expandFailed(err), true
	}
	restore, err := r.applyRedirs(redirs)
	if err != nil {
		r.errorf("%v", err)
		return 1, true
	}
	defer restore()
	r.stmts(ctx, block.Stmts)
	return r.status, false
}

// SetSignals replaces the channel of caught signals that running stages
// are sent (Config.Signals), for a caller that catches them per line.
func (r *Runner) SetSignals(ch <-chan os.Signal) { r.cfg.Signals = ch }

// Exited reports whether the last Run ended with the exit builtin (or a
// signal, or set -e), so an interactive caller knows to stop reading.
func (r *Runner) Exited() bool { return r.exiting }

// exit ends the script (or the subshell) with status st.
func (r *Runner) exit(st int) {
	r.exiting = true
	r.exitStatus = st
	r.status = st
}

// errorf writes "tubo: MSG" to the current stderr, as sh writes its own
// messages.
func (r *Runner) errorf(format string, args ...any) {
	if r.static {
		return
	}
	if f := r.fds[2]; f != nil {
		fmt.Fprintf(f, "tubo: %s\n", fmt.Sprintf(format, args...))
	}
}

// subshell returns a copy of the runner's state for a command
// substitution: what it changes stays in the copy.
func (r *Runner) subshell() *Runner {
	c := *r
	c.vars = r.vars.clone()
	c.args = append([]string(nil), r.args...)
	c.fds = r.fds.clone()
	c.noErrexit = 0
	c.exiting = false
	c.substStatus = -1
	return &c
}

// self is the tubo executable used for subshells.
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

// flags is $-: the single-letter options that are on.
func (r *Runner) flags() string {
	var b strings.Builder
	if r.errexit {
		b.WriteByte('e')
	}
	if r.nounset {
		b.WriteByte('u')
	}
	return b.String()
}

// abs resolves a path against the runner's working directory.
func (r *Runner) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(r.dir, path)
}
