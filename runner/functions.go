package runner

import (
	"fmt"
	"strconv"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// funcDef is a shell function: its body, and the source that a child
// stage is given to define it (printed once, when first needed).
type funcDef struct {
	name string
	body *syntax.Stmt
	src  string // `name() body`, "" until printed
	// file is where it was defined, for BASH_SOURCE.
	file string
	line int
	// base is the shell's lineBase while the body runs: the one where it
	// was defined, or for a body parsed from src, its line before.
	base int
}

// source is the function's definition as shell source.
func (f *funcDef) source() string {
	if f.src == "" {
		// At the body's position, so that the printer keeps its lines
		// (a child shell's $LINENO counts them from f.line).
		at := f.body.Pos()
		f.src = printNode(&syntax.FuncDecl{Position: at, Name: &syntax.Lit{ValuePos: at, Value: f.name}, Parens: true, Body: f.body})
	}
	return f.src
}

// defineFunc runs a function definition: the body is kept, not run.
func (r *Runner) defineFunc(d *syntax.FuncDecl) int {
	name := d.Name.Value
	if b, ok := builtins[name]; ok && b.special && r.opts[optPosix] {
		r.errorf("%s: is a special builtin", name)
		if !r.interactive {
			r.exit(2)
		}
		return 2
	}
	if v := r.readonlyFuncs[name]; v {
		r.errorf("%s: readonly function", name)
		return 1
	}
	r.funcs[name] = &funcDef{name: name, body: d.Body, file: r.name, line: r.lineBase + int(d.Pos().Line()), base: r.lineBase}
	return 0
}

// callFunc runs a function with its arguments as the positional
// parameters, its prefix assignments as temporary variables exported to
// what it runs, and its redirections around the whole body.
func (r *Runner) callFunc(s *syntax.Stmt, fn *funcDef, argv []string, assigns []*syntax.Assign) int {
	if r.depth >= maxDepth {
		// Runaway recursion ends the shell with 2, as in dash (bash has
		// no limit and crashes); at the prompt it ends the line.
		r.errorf("%s: maximum function nesting level exceeded (%d)", fn.name, maxDepth)
		if r.interactive && !r.subshell {
			r.abortLine = true
		} else {
			r.exit(2)
		}
		return 2
	}
	pop, st, ok := r.tempAssigns(assigns)
	if !ok {
		return st
	}
	defer pop()
	if r.opts[optXtrace] {
		r.xtraceArgv(argv)
	}
	if len(s.Redirs) > 0 {
		redirs, err := r.redirs(s.Redirs)
		if err != nil {
			return r.expandFailed(err)
		}
		if !r.static {
			restore, err := r.applyRedirs(redirs)
			if err != nil {
				r.errorf("%v", err)
				return 1
			}
			defer restore()
		}
	}
	return r.runFunc(fn, argv[1:])
}

// parse parses a function that a child stage got as source, when it is
// first called.
func (f *funcDef) parse() error {
	if f.body != nil {
		return nil
	}
	file, err := shell.Parse(f.name, f.src)
	if err != nil {
		return err
	}
	for _, s := range file.Stmts {
		if d, ok := s.Cmd.(*syntax.FuncDecl); ok {
			f.body = d.Body
			return nil
		}
	}
	return fmt.Errorf("%s: not a function definition", f.name)
}

// runFunc runs a function's body with args as $1….
func (r *Runner) runFunc(fn *funcDef, args []string) int {
	if err := fn.parse(); err != nil {
		r.errorf("%v", err)
		return 2
	}
	oldArgs, oldBase := r.args, r.lineBase
	r.args, r.lineBase = args, fn.base
	r.depth++
	r.funcDepth++
	r.funcNames = append(r.funcNames, fn.name)
	oldLoop := r.loopDepth
	r.loopDepth = 0
	r.vars.push(true, false)
	r.setFuncVars()
	defer func() {
		r.vars.pop()
		r.args, r.lineBase = oldArgs, oldBase
		r.depth--
		r.funcDepth--
		r.funcNames = r.funcNames[:len(r.funcNames)-1]
		r.loopDepth = oldLoop
		r.setFuncVars()
	}()
	r.stmt(fn.body)
	st := r.status
	if r.returning {
		r.returning = false
		st = r.returnStatus
		r.status = st
	}
	r.breakN, r.contN = 0, 0
	if st == 0 || r.exiting {
		return st
	}
	return st
}

// setFuncVars keeps FUNCNAME up to date: the functions being run,
// innermost first (unset outside any function).
func (r *Runner) setFuncVars() {
	g := r.vars.global()
	if len(r.funcNames) == 0 {
		delete(g.vars, "FUNCNAME")
		return
	}
	names := make([]string, len(r.funcNames))
	for i, n := range r.funcNames {
		names[len(names)-1-i] = n
	}
	g.vars["FUNCNAME"] = &Var{kind: kIndexed, arr: newIndexed(names), set: true}
}

// returnBuiltin is return [N]: leave the function (or the file being
// sourced) with status N, or $?.
func returnBuiltin(r *Runner, args []string) int {
	st := r.status
	if len(args) > 1 {
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			r.errorf("return: %s: numeric argument required", args[1])
			st = 2
		} else {
			st = int(uint8(n))
		}
	}
	if r.funcDepth == 0 && r.sourceDepth == 0 {
		if r.interactive {
			r.errorf("return: can only `return' from a function or sourced script")
			return 1
		}
		// At the top of a script, return ends it (as dash does).
		r.exit(st)
		return st
	}
	r.returning = true
	r.returnStatus = st
	return st
}
