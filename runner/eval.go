package runner

import (
	"syscall"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
)

// maxDepth bounds nested function calls, eval and . so that runaway
// recursion ends with an error instead of exhausting memory.
const maxDepth = 1000

// stmts runs a statement list until it ends or something unwinds it
// (exit, break, continue, return).
func (r *Runner) stmts(list []*syntax.Stmt) {
	for _, s := range list {
		if r.unwinding() {
			return
		}
		r.stmt(s)
	}
}

// stmt runs one statement: a background job, or a command whose status
// becomes $?, negated under `!`, with `set -e` and the ERR trap applied
// to the commands that are judged by their own status.
func (r *Runner) stmt(s *syntax.Stmt) {
	if !r.sandboxStep() {
		return
	}
	if r.ctx.Err() != nil && !r.exiting {
		// Canceled: end as a shell killed by SIGINT would.
		r.exit(int(executor.SignalStatus(syscall.SIGINT)))
		return
	}
	r.runPendingTraps()
	if r.unwinding() {
		return
	}
	if r.opts[optNoexec] && !r.interactive {
		return
	}
	r.lineno = r.lineBase + int(s.Pos().Line())
	if s.Background {
		r.background(s)
		return
	}
	if s.Negated {
		r.noErrexit++
	}
	nps := len(r.procSubsts)
	st, leaf := r.command(s)
	r.closeProcSubsts(nps)
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
	if leaf && st != 0 && !s.Negated && r.noErrexit == 0 && !r.returning {
		r.runErrTrap()
		if r.opts[optErrexit] && !r.exiting {
			r.exit(st)
		}
	}
}

// command runs a statement's command. leaf reports whether it was a
// command that `set -e` judges by its own status (a simple command, a
// pipeline, a subshell, [[ ]] or (( ))), not a list or compound command
// whose parts were judged already.
func (r *Runner) command(s *syntax.Stmt) (status int, leaf bool) {
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr, nil:
		return r.simple(s), true
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt, syntax.OrStmt:
			return r.andOr(c), false
		}
		return r.pipeline(s), true
	case *syntax.Subshell:
		return r.subshellStmt(s), true
	case *syntax.FuncDecl:
		if b, ok := c.Body.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			// f() { …; } | cmd is a pipeline (see flatten).
			return r.pipeline(s), true
		}
		return r.defineFunc(c), false
	case *syntax.DeclClause:
		if v := c.Variant.Value; v == "export" || v == "readonly" {
			// Special builtins: a redirection error ends the shell.
			return r.specialRedirs(s, func() int { return r.declClause(c) }), true
		}
		return r.withRedirs(s, func() int { return r.declClause(c) }), true
	case *syntax.ArithmCmd:
		return r.withRedirs(s, func() int { return r.arithCmd(c) }), true
	case *syntax.TestClause:
		return r.withRedirs(s, func() int { return r.testClause(c) }), true
	case *syntax.LetClause:
		return r.withRedirs(s, func() int { return r.letClause(c) }), true
	case *syntax.TimeClause:
		return r.timeClause(s, c), true
	}
	return r.withRedirs(s, func() int { return r.compound(s.Cmd) }), false
}

// specialRedirs is withRedirs for a special builtin: a redirection that
// cannot be made ends a non-interactive shell with 2 (POSIX 2.8.1, dash),
// as runBuiltin does for the special builtins that are plain commands.
func (r *Runner) specialRedirs(s *syntax.Stmt, fn func() int) int {
	ran := false
	st := r.withRedirs(s, func() int {
		ran = true // reached only once the redirections are made
		return fn()
	})
	if !ran && st != 0 && len(s.Redirs) > 0 && !r.interactive && !r.exiting {
		r.exit(2)
		return 2
	}
	return st
}

// withRedirs runs fn with the statement's redirections made in tubo, for
// the commands that run inside the shell: a group `{ …; } >f`, a loop
// `while …; done <f`, an if, a case. They are undone after.
func (r *Runner) withRedirs(s *syntax.Stmt, fn func() int) int {
	if len(s.Redirs) == 0 {
		return fn()
	}
	redirs, err := r.redirs(s.Redirs)
	if err != nil {
		return r.expandFailed(err)
	}
	if r.static {
		return fn()
	}
	restore, err := r.applyRedirs(redirs)
	if err != nil {
		r.errorf("%v", err)
		return 1
	}
	defer restore()
	return fn()
}

// andOr runs `X && Y` or `X || Y`. X is exempt from `set -e`: its failure
// only decides whether Y runs.
func (r *Runner) andOr(c *syntax.BinaryCmd) int {
	r.noErrexit++
	r.stmt(c.X)
	r.noErrexit--
	if r.unwinding() {
		return r.status
	}
	if (c.Op == syntax.AndStmt) == (r.status == 0) {
		r.stmt(c.Y)
	}
	return r.status
}

// cond runs the condition of an if, while or until: exempt from set -e.
func (r *Runner) cond(list []*syntax.Stmt) bool {
	r.noErrexit++
	r.stmts(list)
	r.noErrexit--
	return r.status == 0
}
