package runner

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
	"github.com/tubo-pipes/tubo/plan"
)

// call is a simple command after expansion.
type call struct {
	argv    []string
	assigns []string // NAME=VALUE prefix assignments, in order
}

// expandCall expands a simple command: the words first, then the prefix
// assignments left to right, each visible to the ones after it (`X=1 Y=$X
// cmd`) but not kept.
func (r *Runner) expandCall(ctx context.Context, ce *syntax.CallExpr) (call, error) {
	var c call
	if ce == nil {
		return c, nil
	}
	argv, err := r.fields(ctx, ce.Args)
	if err != nil {
		return c, err
	}
	c.argv = argv
	if len(ce.Assigns) == 0 {
		return c, nil
	}
	var names []string
	for _, a := range ce.Assigns {
		names = append(names, a.Name.Value)
	}
	keep := r.vars.save(names)
	defer r.vars.restore(keep)
	for _, a := range ce.Assigns {
		v, err := r.literal(ctx, a.Value)
		if err != nil {
			return c, err
		}
		r.vars.set(a.Name.Value, v)
		c.assigns = append(c.assigns, a.Name.Value+"="+v)
	}
	return c, nil
}

// simple runs a statement that is one simple command (or only
// redirections): a builtin or assignments in tubo, anything else as a
// one-stage graph.
func (r *Runner) simple(ctx context.Context, s *syntax.Stmt) int {
	ce, _ := s.Cmd.(*syntax.CallExpr)
	r.substStatus = -1
	c, err := r.expandCall(ctx, ce)
	if err != nil {
		return r.expandFailed(err)
	}
	if len(c.argv) > 0 && !shell.Builtins[c.argv[0]] {
		return r.runStages(ctx, []stage{{stmt: s, call: &c}})
	}
	redirs, err := r.redirs(ctx, s.Redirs)
	if err != nil {
		return r.expandFailed(err)
	}
	if len(c.argv) == 0 {
		// Assignments only: they stay. Redirections are still made (and
		// undone), so `>f` creates f.
		for _, kv := range c.assigns {
			name, v, _ := strings.Cut(kv, "=")
			r.vars.set(name, v)
		}
		if r.static {
			return 0
		}
		restore, err := r.applyRedirs(redirs)
		if err != nil {
			r.errorf("%v", err)
			return 1
		}
		restore()
		return max(r.substStatus, 0)
	}
	return r.builtin(c, redirs)
}

// stage is one command of a pipeline; call is set once a simple command's
// words were expanded.
type stage struct {
	stmt *syntax.Stmt
	call *call
	op   syntax.BinCmdOperator // how the previous stage feeds this one
	opAt syntax.Pos
}

// flatten lists the stages of `a | b |& c`, which parses left-nested.
func flatten(s *syntax.Stmt, op syntax.BinCmdOperator, at syntax.Pos) []stage {
	if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
		left := flatten(b.X, op, at)
		return append(left, flatten(b.Y, b.Op, b.OpPos)...)
	}
	return []stage{{stmt: s, op: op, opAt: at}}
}

// pipeline runs `a | b | …` or a subshell as one graph.
func (r *Runner) pipeline(ctx context.Context, s *syntax.Stmt) int {
	return r.runStages(ctx, flatten(s, 0, syntax.Pos{}))
}

// runStages builds the graph of a pipeline and runs it. In static mode it
// only collects the graph.
func (r *Runner) runStages(ctx context.Context, stages []stage) int {
	g, err := r.buildGraph(ctx, stages)
	if err != nil {
		return r.expandFailed(err)
	}
	if r.static {
		r.graphs = append(r.graphs, g)
		return 0
	}
	return r.runGraph(ctx, g)
}

// buildGraph turns expanded stages into one graph: a process node per
// stage, stdout → stdin edges, and each stage's redirections after the
// edges, as sh applies them in the child.
func (r *Runner) buildGraph(ctx context.Context, stages []stage) (*graph.Graph, error) {
	g := &graph.Graph{
		Name:          "line",
		OnFailure:     graph.LetFinish,
		Pipefail:      r.pipefail,
		IgnoreSIGPIPE: false, // sh: `set -o pipefail; yes | head -n1` is 141
	}
	seen := map[string]int{}
	var prev *graph.Node
	for i, st := range stages {
		n, err := r.stageNode(ctx, st)
		if err != nil {
			return nil, err
		}
		seen[n.Group]++
		n.ID = n.Group
		if k := seen[n.Group]; k > 1 {
			n.ID += "#" + strconv.Itoa(k)
		}
		redirs, err := r.redirs(ctx, st.stmt.Redirs)
		if err != nil {
			return nil, err
		}
		n.Redirs = append(r.inherit(i > 0, i < len(stages)-1), redirs...)
		g.Add(n)
		if prev != nil {
			at := shell.Pos(r.name, st.opAt)
			g.Connect(graph.Endpoint{Node: prev.ID, FD: graph.Stdout}, graph.Endpoint{Node: n.ID, FD: graph.Stdin}, at)
			if st.op == syntax.PipeAll {
				// |& is `2>&1 |` applied after the stage's own
				// redirections: stderr follows stdout into the pipe.
				prev.Redirs = append(prev.Redirs, graph.Redir{Kind: graph.Dup, FD: graph.Stderr, Src: graph.Stdout, Pos: at})
			}
		}
		prev = n
	}
	return g, nil
}

// trivialBuiltins are the builtins whose only effect is their status; as a
// pipeline stage each runs as the external program that does the same.
var trivialBuiltins = map[string]string{"true": "true", ":": "true", "false": "false"}

// stageNode makes the node of one stage: a program to exec, or a shell
// stage — a builtin, group or subshell — that tubo runs as `tubo -c SRC`.
func (r *Runner) stageNode(ctx context.Context, st stage) (*graph.Node, error) {
	n := &graph.Node{Kind: graph.Process, Pos: shell.Pos(r.name, st.stmt.Pos())}
	switch c := st.stmt.Cmd.(type) {
	case *syntax.CallExpr, nil:
		if st.call == nil {
			ce, _ := c.(*syntax.CallExpr)
			cl, err := r.expandCall(ctx, ce)
			if err != nil {
				return nil, err
			}
			st.call = &cl
		}
		argv := st.call.argv
		if len(argv) > 0 {
			if prog, ok := trivialBuiltins[argv[0]]; ok {
				// Nothing but a status: the program of that name does the
				// same without re-running tubo as a subshell. Arguments
				// are dropped, since the builtins ignore them (and
				// /bin/true --help would print).
				n.Group, n.Argv = argv[0], []string{prog}
				return n, nil
			}
		}
		if len(argv) > 0 && !shell.Builtins[argv[0]] {
			n.Group = filepath.Base(argv[0])
			n.Argv = argv
			n.Env = st.call.assigns
			return n, nil
		}
		n.Group = "sh"
		if len(argv) > 0 {
			n.Group = argv[0]
		}
		n.Shell = r.subshellSource(quoteCall(*st.call))
	case *syntax.Subshell:
		n.Group = "subshell"
		n.Shell = r.subshellSource(printStmts(c.Stmts))
	case *syntax.Block:
		n.Group = "group"
		n.Shell = r.subshellSource(printStmts(c.Stmts))
	default:
		n.Group = "sh"
		n.Shell = r.subshellSource(printNode(c))
	}
	return n, nil
}

// runGraph plans and runs one pipeline's graph with the runner's
// descriptors, environment and directory, and returns its sh status.
func (r *Runner) runGraph(ctx context.Context, g *graph.Graph) int {
	p, err := plan.Build(g, plan.Options{Self: r.self(), PipeSize: r.cfg.PipeSize})
	if err != nil {
		r.errorf("%v", err)
		return 1
	}
	if r.cfg.BeforeRun != nil {
		r.cfg.BeforeRun(p)
	}
	start := time.Now()
	res, err := executor.Run(ctx, p, executor.Options{
		Grace:      r.cfg.Grace,
		SkipProcIO: r.cfg.SkipProcIO,
		StderrTail: r.cfg.StderrTail,
		Stdin:      r.fds[0],
		Stdout:     r.fds[1],
		Stderr:     r.fds[2],
		ExtraFiles: r.extraFiles(),
		Env:        r.vars.environ(),
		Dir:        r.dir,
		Signals:    r.cfg.Signals,
		TTY:        r.cfg.TTY,
		Trace:      r.cfg.Trace,
	})
	if err != nil {
		r.errorf("%v", err)
		return 1
	}
	if r.cfg.AfterRun != nil {
		r.cfg.AfterRun(g, p, res, start, time.Now())
	}
	st := int(res.Status)
	if res.Signal != 0 && (res.Signal == syscall.SIGINT || res.Signal == syscall.SIGTERM || res.Signal == syscall.SIGHUP) && st > 128 {
		// tubo itself was signalled and the pipeline died of it: end the
		// script too, as sh does, instead of running what follows.
		r.exit(st)
	}
	return st
}
