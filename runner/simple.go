package runner

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
)

// simple runs a simple command (POSIX 2.9.1): the words are expanded; with
// no command name, the assignments are made in the shell and the
// redirections made and undone; otherwise the name is looked up — a
// special builtin, a function, a builtin, then a program on PATH — and
// run with its prefix assignments and redirections.
func (r *Runner) simple(s *syntax.Stmt) int {
	s = ioNumberWords(s)
	ce, _ := s.Cmd.(*syntax.CallExpr)
	r.substStatus = -1
	var argv []string
	if ce != nil && len(ce.Args) > 0 {
		var err error
		if argv, err = r.fields(ce.Args); err != nil {
			return r.expandFailed(err)
		}
	}
	if len(argv) == 0 {
		return r.assignOnly(s, ce)
	}
	st := r.call(s, ce, argv, false)
	r.underscore = argv[len(argv)-1]
	return st
}

// assignOnly runs a command with no command name: its assignments stay
// in the shell; its redirections are made (so `>f` creates f) and undone.
// The status is that of the last command substitution, or 0.
func (r *Runner) assignOnly(s *syntax.Stmt, ce *syntax.CallExpr) int {
	if len(s.Redirs) > 0 && !r.static {
		// The redirections are in place while the assignments are
		// expanded: x=$(cat) <<EOF feeds the command substitution.
		redirs, err := r.redirs(s.Redirs)
		if err != nil {
			return r.expandFailed(err)
		}
		restore, err := r.applyRedirs(redirs)
		if err != nil {
			r.errorf("%v", err)
			return 1
		}
		defer restore()
	}
	if ce != nil {
		for _, as := range ce.Assigns {
			if err := r.doAssign(as); err != nil {
				return r.assignError(err)
			}
			if r.opts[optXtrace] {
				r.xtraceAssign(as)
			}
		}
	}
	return max(r.substStatus, 0)
}

// call runs an expanded simple command. noFunc skips functions (the
// command builtin).
func (r *Runner) call(s *syntax.Stmt, ce *syntax.CallExpr, argv []string, noFunc bool) int {
	name := argv[0]
	var assigns []*syntax.Assign
	if ce != nil {
		assigns = ce.Assigns
	}
	if b, ok := builtins[name]; ok && b.special {
		return r.runBuiltin(s, b, argv, assigns)
	}
	if !noFunc {
		if fn, ok := r.funcs[name]; ok {
			return r.callFunc(s, fn, argv, assigns)
		}
	}
	if b, ok := builtins[name]; ok {
		return r.runBuiltin(s, b, argv, assigns)
	}
	return r.external(s, argv, assigns)
}

// tempAssigns makes a command's prefix assignments in a scope of their
// own, exported to what the command runs; pop undoes them.
func (r *Runner) tempAssigns(assigns []*syntax.Assign) (pop func(), st int, ok bool) {
	if len(assigns) == 0 {
		return func() {}, 0, true
	}
	sc := r.vars.push(false, true)
	for _, as := range assigns {
		name := as.Name.Value
		if v := r.vars.lookup(name); v.has(aReadonly) {
			// An assignment error, which ends a non-interactive shell as
			// in dash and mksh (bash refuses the binding and runs the
			// command).
			r.vars.pop()
			return nil, r.assignError(&readonlyErr{name: name}), false
		}
		if as.Array != nil || as.Index != nil {
			// bash makes a[i]=x cmd a global assignment; keep it local.
			if err := r.doAssign(as); err != nil {
				r.vars.pop()
				return nil, r.assignError(err), false
			}
			continue
		}
		val, err := r.assignValue(as.Value)
		if err != nil {
			r.vars.pop()
			return nil, r.expandFailed(err), false
		}
		if as.Append {
			old, _ := r.vars.get(name)
			val = old + val
		}
		sc.vars[name] = &Var{str: val, set: true, attrs: aExport}
		r.vars.gen++
		if r.opts[optXtrace] {
			r.xtraceAssign(as)
		}
	}
	return r.vars.pop, 0, true
}

// runBuiltin runs a builtin in tubo with its redirections made here.
// Prefix assignments last for the command, except before a special
// builtin, where they stay (POSIX 2.14).
func (r *Runner) runBuiltin(s *syntax.Stmt, b builtinDef, argv []string, assigns []*syntax.Assign) int {
	if r.cfg.Sandbox > 0 && sandboxRefused[argv[0]] {
		r.errorf("%s: %v", argv[0], errSandbox)
		return 1
	}
	if b.special && argv[0] != "exec" {
		for _, as := range assigns {
			if err := r.doAssign(as); err != nil {
				st := r.assignError(err)
				if !r.interactive {
					r.exit(st)
				}
				return st
			}
			if r.opts[optXtrace] {
				r.xtraceAssign(as)
			}
		}
	} else {
		pop, st, ok := r.tempAssigns(assigns)
		if !ok {
			return st
		}
		defer pop()
	}
	if r.opts[optXtrace] {
		r.xtraceArgv(argv)
	}
	var redirs []graph.Redir
	if len(s.Redirs) > 0 {
		var err error
		if redirs, err = r.redirs(s.Redirs); err != nil {
			return r.expandFailed(err)
		}
	}
	if r.static {
		if argv[0] == "exit" || argv[0] == "exec" || argv[0] == "return" {
			return 0
		}
		if b.static == nil {
			return 0
		}
		return b.static(r, argv)
	}
	if argv[0] == "exec" {
		return r.execBuiltin(s, argv, redirs, assigns)
	}
	if len(redirs) > 0 {
		restore, err := r.applyRedirs(redirs)
		if err != nil {
			r.errorf("%v", err)
			if b.special && !r.interactive {
				// A redirection error of a special builtin ends the
				// shell (POSIX 2.8.1), with 2 as in dash.
				r.exit(2)
				return 2
			}
			return 1
		}
		defer restore()
	}
	st := r.runBuiltinFn(b, argv)
	if st < 0 {
		// A usage error of a special builtin ends a non-interactive
		// shell (POSIX 2.8.1); builtins report it as -status.
		st = -st
		if b.special && !r.interactive && !r.inTrap {
			r.exit(st)
		}
	}
	return st
}

// external runs a program as a one-stage graph.
func (r *Runner) external(s *syntax.Stmt, argv []string, assigns []*syntax.Assign) int {
	var env []string
	if len(assigns) > 0 {
		pop, st, ok := r.tempAssigns(assigns)
		if !ok {
			return st
		}
		for _, as := range assigns {
			if v, ok := r.vars.get(as.Name.Value); ok {
				env = append(env, as.Name.Value+"="+v)
			}
		}
		pop()
	}
	if r.opts[optXtrace] {
		r.xtraceArgv(argv)
	}
	return r.runStages([]stage{{stmt: s, argv: argv, env: env, expanded: true, program: true}})
}

// lookupKind says what a command name is, for command -v and type.
func (r *Runner) lookupKind(name string) string {
	if _, ok := r.aliases[name]; ok {
		return "alias"
	}
	if isKeyword(name) {
		return "keyword"
	}
	if b, ok := builtins[name]; ok && b.special {
		return "builtin"
	}
	if _, ok := r.funcs[name]; ok {
		return "function"
	}
	if _, ok := builtins[name]; ok {
		return "builtin"
	}
	if p := r.lookPath(name); p != "" {
		return "file"
	}
	return ""
}

var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true,
	"case": true, "esac": true, "for": true, "while": true, "until": true,
	"do": true, "done": true, "in": true, "function": true, "select": true,
	"time": true, "{": true, "}": true, "!": true, "[[": true, "]]": true,
	"coproc": true,
}

func isKeyword(s string) bool { return keywords[s] }

// hasSlash reports whether a command name is a path, not looked up.
func hasSlash(s string) bool { return strings.Contains(s, "/") }

// ioNumberWords returns s with every redirection whose descriptor number
// does not fit an int (`99999999999999999999>x`) read as bash and dash read
// it: the digits are a word of the command, in their place among its
// arguments, and the redirection has the operator's default descriptor.
// s itself is not changed (the tree may run again, or elsewhere).
func ioNumberWords(s *syntax.Stmt) *syntax.Stmt {
	big := func(rd *syntax.Redirect) bool {
		if rd.N == nil || rd.N.Value == "" || strings.Trim(rd.N.Value, "0123456789") != "" {
			return false
		}
		_, err := strconv.ParseInt(rd.N.Value, 10, 32)
		return err != nil
	}
	if !slices.ContainsFunc(s.Redirs, big) {
		return s
	}
	ce, _ := s.Cmd.(*syntax.CallExpr)
	if s.Cmd != nil && ce == nil {
		return s // a compound command's redirection: left as it is
	}
	ns, nce := *s, &syntax.CallExpr{}
	if ce != nil {
		*nce = *ce
	}
	nce.Args = slices.Clone(nce.Args)
	ns.Redirs = nil
	for _, rd := range s.Redirs {
		if !big(rd) {
			ns.Redirs = append(ns.Redirs, rd)
			continue
		}
		w := &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{ValuePos: rd.N.ValuePos, ValueEnd: rd.N.ValueEnd, Value: rd.N.Value}}}
		at, _ := slices.BinarySearchFunc(nce.Args, w, func(a, b *syntax.Word) int { return cmp.Compare(a.Pos().Offset(), b.Pos().Offset()) })
		nce.Args = slices.Insert(nce.Args, at, w)
		nrd := *rd
		nrd.N = nil
		ns.Redirs = append(ns.Redirs, &nrd)
	}
	ns.Cmd = nce
	return &ns
}
