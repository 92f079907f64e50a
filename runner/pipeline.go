package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/lookup"
	"github.com/tubo-pipes/tubo/parser/shell"
	"github.com/tubo-pipes/tubo/plan"
)

// stage is one command of a pipeline. For a simple command that was
// already expanded (a lone external command), argv and env hold the
// result.
type stage struct {
	stmt     *syntax.Stmt
	argv     []string
	env      []string
	expanded bool
	// program is set when argv names a program even if a function or
	// builtin has its name (command, exec).
	program bool
	op      syntax.BinCmdOperator // how the previous stage feeds this one
	opAt    syntax.Pos
}

// flatten lists the stages of `a | b |& c`, which parses left-nested.
func flatten(s *syntax.Stmt, op syntax.BinCmdOperator, at syntax.Pos) []stage {
	if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(s.Redirs) == 0 && !s.Negated {
		left := flatten(b.X, op, at)
		return append(left, flatten(b.Y, b.Op, b.OpPos)...)
	}
	if fd, ok := s.Cmd.(*syntax.FuncDecl); ok {
		// `f() { …; } | cmd` parses with the pipe inside the body; in sh
		// the definition is one stage and cmd the next.
		if b, ok := fd.Body.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			def := *fd
			def.Body = b.X
			first := *s
			first.Cmd = &def
			return append([]stage{{stmt: &first, op: op, opAt: at}}, flatten(b.Y, b.Op, b.OpPos)...)
		}
	}
	return []stage{{stmt: s, op: op, opAt: at}}
}

// pipeline runs `a | b | …` as one graph.
func (r *Runner) pipeline(s *syntax.Stmt) int {
	return r.runStages(flatten(s, 0, syntax.Pos{}))
}

// runStages builds the graph of a pipeline and runs it. In static mode it
// only collects the graph.
func (r *Runner) runStages(stages []stage) int {
	g, err := r.buildGraph(stages)
	if err != nil {
		return r.expandFailed(err)
	}
	if r.static {
		r.graphs = append(r.graphs, g)
		return 0
	}
	if r.interactive {
		r.fgText = stagesText(stages)
	}
	st, res := r.runGraph(g)
	r.setPipestatus(res, len(stages), st)
	return st
}

// stagesText is a pipeline's source, for the job table.
func stagesText(stages []stage) string {
	var parts []string
	for _, st := range stages {
		parts = append(parts, printNode(st.stmt))
	}
	return strings.Join(parts, " | ")
}

// setPipestatus fills PIPESTATUS with every stage's status.
func (r *Runner) setPipestatus(res *executor.Result, n, st int) {
	vals := make([]string, 0, n)
	if res != nil {
		for _, p := range res.Procs {
			vals = append(vals, strconv.Itoa(int(p.Status)))
		}
	}
	for len(vals) < n {
		vals = append(vals, strconv.Itoa(st))
	}
	r.setPipestatusList(vals)
}

func (r *Runner) setPipestatusList(vals []string) {
	r.vars.global().vars["PIPESTATUS"] = &Var{kind: kIndexed, arr: newIndexed(vals), set: true}
}

// buildGraph turns stages into one graph: a process node per stage,
// stdout → stdin edges, and each stage's redirections after the edges,
// as sh applies them in the child.
func (r *Runner) buildGraph(stages []stage) (*graph.Graph, error) {
	g := &graph.Graph{
		Name:          "line",
		OnFailure:     graph.LetFinish,
		Pipefail:      r.opts[optPipefail],
		IgnoreSIGPIPE: false, // sh: `set -o pipefail; yes | head -n1` is 141
		StallAfter:    -1,
	}
	seen := map[string]int{}
	var prev *graph.Node
	for i, st := range stages {
		n, err := r.pipeStageNode(st, i, len(stages))
		if err != nil {
			return nil, err
		}
		seen[n.Group]++
		n.ID = n.Group
		if k := seen[n.Group]; k > 1 {
			n.ID += "#" + strconv.Itoa(k)
		}
		g.Add(n)
		if prev != nil {
			at := shell.Pos(r.name, st.opAt)
			g.Connect(graph.Endpoint{Node: prev.ID, FD: graph.Stdout}, graph.Endpoint{Node: n.ID, FD: graph.Stdin}, at)
			if st.op == syntax.PipeAll {
				// |& is `2>&1 |` applied after the stage's own
				// redirections: stderr follows stdout into the pipe.
				prev.Redirs = insertBeforeState(prev.Redirs, graph.Redir{Kind: graph.Dup, FD: graph.Stderr, Src: graph.Stdout, Pos: at})
			}
		}
		prev = n
	}
	return g, nil
}

// pipeStageNode makes the node of stage i of a pipeline of n: its
// redirections, the pipe ends it inherits, and its words expanded.
func (r *Runner) pipeStageNode(st stage, i, n int) (*graph.Node, error) {
	if n > 1 && mayAssign(st.stmt) {
		// Each command of a pipeline runs in a subshell: what its words
		// assign (${x=1}, $((i++))) is not the shell's, nor the next
		// stage's. They are expanded here, so on a copy of the variables.
		saved := r.vars
		r.vars = saved.clone()
		defer func() { r.vars = saved }()
	}
	redirs, err := r.redirs(st.stmt.Redirs)
	if err != nil {
		return nil, err
	}
	inherit := r.inherit(i > 0, i < n-1)
	nps := len(r.procSubsts)
	node, err := r.stageNode(st, append(inherit, redirs...))
	if err != nil {
		return nil, err
	}
	for _, e := range r.procSubsts[nps:] {
		// A <(…) or >(…) among the stage's words: its pipe end came to
		// be as the words were expanded, after inherit looked.
		node.Redirs = insertBeforeState(node.Redirs, graph.Redir{Kind: graph.Dup, FD: e.fd, Src: e.fd})
	}
	return node, nil
}

// mayAssign reports whether expanding a stage's words or redirections
// can assign a variable: ${x=word}, ${x:=word}, or any arithmetic, which
// is assumed to. A compound stage expands its words in its own child.
func mayAssign(s *syntax.Stmt) bool {
	if _, ok := s.Cmd.(*syntax.CallExpr); !ok && s.Cmd != nil {
		return false
	}
	found := false
	syntax.Walk(s, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Exp != nil && (n.Exp.Op == syntax.AssignUnset || n.Exp.Op == syntax.AssignUnsetOrNull) {
				found = true
			}
		case *syntax.ArithmExp:
			found = true
		case *syntax.CmdSubst, *syntax.ProcSubst:
			return false // a subshell of its own already
		}
		return !found
	})
	return found
}

// insertBeforeState adds a redirection before a shell stage's state pipe
// (which must stay last), or at the end.
func insertBeforeState(list []graph.Redir, rd graph.Redir) []graph.Redir {
	if n := len(list); n > 0 && list[n-1].Kind == graph.Data && len(list[n-1].Data) >= len(stateMagic) && string(list[n-1].Data[:len(stateMagic)]) == stateMagic {
		out := append([]graph.Redir(nil), list[:n-1]...)
		return append(append(out, rd), list[n-1])
	}
	return append(list, rd)
}

// trivialBuiltins are the builtins whose only effect is their status; as a
// pipeline stage each runs as the program that does the same.
var trivialBuiltins = map[string]string{"true": "true", ":": "true", "false": "false"}

// stageNode makes the node of one stage: a program to exec, or a shell
// stage that tubo runs as a child of its own (bridge.go).
func (r *Runner) stageNode(st stage, redirs []graph.Redir) (*graph.Node, error) {
	pos := shell.Pos(r.name, st.stmt.Pos())
	ce, isCall := st.stmt.Cmd.(*syntax.CallExpr)
	if st.stmt.Cmd == nil {
		isCall = true
	}
	if !isCall {
		src, line := printNode(st.stmt.Cmd), st.stmt.Cmd.Pos().Line()
		if sub, ok := st.stmt.Cmd.(*syntax.Subshell); ok {
			src, line = printStmts(sub.Stmts), firstLine(sub.Stmts)
		}
		return r.childNode(stageLabel(st.stmt.Cmd), src, line, pos, redirs), nil
	}
	argv, env := st.argv, st.env
	if !st.expanded {
		if ce != nil && len(ce.Args) > 0 {
			if name := ce.Args[0].Lit(); name != "" && !strings.ContainsAny(name, `\*?[{~`) {
				if _, ok := trivialBuiltins[name]; !ok && r.isShellCommand(name) {
					// Expanded in the child, as sh does in its subshell.
					return r.childNode(name, printNode(ce), ce.Pos().Line(), pos, redirs), nil
				}
			}
		}
		var err error
		if ce != nil {
			if argv, err = r.fields(ce.Args); err != nil {
				return nil, err
			}
		}
		if len(argv) > 0 && !r.isShellCommand(argv[0]) {
			if ce != nil {
				for _, as := range ce.Assigns {
					v, err := r.assignValue(as.Value)
					if err != nil {
						return nil, err
					}
					env = append(env, as.Name.Value+"="+v)
				}
			}
		}
	}
	if len(argv) > 0 {
		if prog, ok := trivialBuiltins[argv[0]]; ok && !st.program && (ce == nil || len(ce.Assigns) == 0) {
			// Nothing but a status: the program of that name does the
			// same without re-running tubo. Arguments are dropped, since
			// the builtins ignore them (and /bin/true --help would print).
			return &graph.Node{Kind: graph.Process, Pos: pos, Group: argv[0], Argv: []string{prog}, Redirs: redirs}, nil
		}
	}
	if len(argv) == 0 || !st.program && r.isShellCommand(argv[0]) {
		src := ""
		if ce != nil {
			src = quoteCall(ce, argv, r)
		}
		label := "sh"
		if len(argv) > 0 {
			label = argv[0]
		}
		return r.childNode(label, src, st.stmt.Pos().Line(), pos, redirs), nil
	}
	return &graph.Node{Kind: graph.Process, Pos: pos, Group: filepath.Base(argv[0]), Argv: r.programArgv(argv), Env: env, Redirs: redirs}, nil
}

// programArgv is a program's argv for the executor, which looks the name
// up on the PATH of the environment. When the shell's PATH is not
// exported (PATH=/x without export), sh still looks commands up on it:
// the program is then found here. Names are remembered for hash.
func (r *Runner) programArgv(argv []string) []string {
	name := argv[0]
	if hasSlash(name) {
		return argv
	}
	if r.hashed == nil {
		r.hashed = map[string]string{}
	}
	if _, ok := r.hashed[name]; !ok {
		r.hashed[name] = ""
	}
	v := r.vars.lookup("PATH")
	if v == nil || v.has(aExport) {
		return argv
	}
	path, err := lookup.Program(name, v.str, r.dir)
	if err != nil {
		return argv
	}
	out := append([]string{path}, argv[1:]...)
	return out
}

// isShellCommand reports whether a command name is run by the shell
// itself (a function or builtin), not a program.
func (r *Runner) isShellCommand(name string) bool {
	if _, ok := r.funcs[name]; ok {
		return true
	}
	_, ok := builtins[name]
	return ok
}

// quoteCall prints an expanded simple command back as source: its prefix
// assignments (unexpanded: the child expands them) and the expanded
// words, quoted.
func quoteCall(ce *syntax.CallExpr, argv []string, r *Runner) string {
	var words []string
	for _, as := range ce.Assigns {
		words = append(words, printNode(as))
	}
	for _, a := range argv {
		words = append(words, quote(a))
	}
	return strings.Join(words, " ")
}

// runGraph plans and runs one pipeline's graph with the runner's
// descriptors, environment and directory, and returns its sh status.
func (r *Runner) runGraph(g *graph.Graph) (int, *executor.Result) {
	if hb := theHub.h; hb != nil && r.cfg.CatchSignals {
		// Counted from before the start: a ^Z can stop the stages as
		// soon as they exist, and their SIGCHLD must reach the run.
		hb.foreground.Add(1)
		defer hb.foreground.Add(-1)
	}
	h, p, start, err := r.startGraph(g, false, false)
	if err != nil {
		r.errorf("%v", err)
		return 1, nil
	}
	if sp := r.fgStop; sp != nil {
		r.fgStop = nil
		select {
		case <-h.Done():
		case <-sp.stopped:
			return r.stoppedJob(g, p, h, start, sp, r.fgText), nil
		}
	}
	res, _ := r.waitForeground(h)
	if r.cfg.AfterRun != nil {
		r.cfg.AfterRun(g, p, res, start, time.Now())
	}
	st := int(res.Status)
	if r.interactive && diedOf(res, syscall.SIGINT) {
		// ^C at the prompt reaches the line's group, not tubo: as sh,
		// the rest of the line does not run.
		r.abortLine = true
	}
	if r.cfg.Signals != nil && res.Signal != 0 && (res.Signal == syscall.SIGINT || res.Signal == syscall.SIGTERM || res.Signal == syscall.SIGHUP) && st > 128 {
		// tubo itself was signalled and the pipeline died of it: end the
		// script too, as sh does, instead of running what follows.
		r.exit(st)
	}
	return st, res
}

// diedOf reports whether a process of the run was killed by sig.
func diedOf(res *executor.Result, sig syscall.Signal) bool {
	for _, p := range res.Procs {
		if p.Signal == sig {
			return true
		}
	}
	return false
}

// startGraph plans a graph and starts it. A background job gets
// /dev/null as stdin unless it redirects its own (POSIX 2.9.3).
func (r *Runner) startGraph(g *graph.Graph, background, nullStdin bool) (*executor.Handle, *plan.Plan, time.Time, error) {
	if r.cfg.Sandbox > 0 {
		return nil, nil, time.Time{}, errSandbox
	}
	p, err := plan.Build(g, plan.Options{Self: r.self(), PipeSize: r.cfg.PipeSize})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if r.cfg.BeforeRun != nil {
		r.cfg.BeforeRun(p)
	}
	stdin := r.fds[0]
	if nullStdin && !r.opts[optMonitor] {
		if devnull, err := os.Open(os.DevNull); err == nil {
			defer devnull.Close()
			stdin = devnull
		}
	}
	opt := executor.Options{
		Grace:      r.cfg.Grace,
		SkipProcIO: r.cfg.SkipProcIO,
		StderrTail: r.cfg.StderrTail,
		Stdin:      stdin,
		Stdout:     r.fds[1],
		Stderr:     r.fds[2],
		ExtraFiles: r.extraFiles(),
		Env:        r.environ(),
		Dir:        r.dir,
		Trace:      r.cfg.Trace,
	}
	if !background {
		r.fgStop = nil
		opt.TTY = r.cfg.TTY
		opt.Signals = r.cfg.Signals
		if opt.Signals == nil {
			opt.Signals = r.traps.forward
		}
		if r.interactive && r.cfg.TTY != nil {
			// At the prompt, ^Z makes the line a stopped job that outlives
			// the line (jobstop.go): the run gets the job table's context
			// and signals relayed from whichever line has it in front.
			r.fgStop = newStopper()
			opt.Suspend = r.fgStop.suspend
			opt.Signals = r.fgStop.signals
		}
	}
	start := time.Now()
	ctx := r.ctx
	if background || r.fgStop != nil {
		ctx = r.jobs.ctx
	}
	h, err := executor.Start(ctx, p, opt)
	if err != nil {
		r.fgStop = nil
		return nil, nil, start, err
	}
	if r.fgStop != nil {
		r.relay(r.fgStop, h)
	}
	return h, p, start, nil
}
