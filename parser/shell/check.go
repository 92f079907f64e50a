package shell

import (
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Builtins lists the builtins that tubo runs itself. Every other command
// name is a program looked up on PATH.
var Builtins = map[string]bool{
	"cd": true, "exit": true, "export": true, "unset": true, "set": true,
	"true": true, "false": true, ":": true,
}

// unsupportedBuiltins are sh builtins that tubo does not run. Left alone
// they would be looked up on PATH and fail with a confusing "not found" after
// earlier commands already ran, so they are rejected up front instead.
var unsupportedBuiltins = map[string]bool{
	".": true, "source": true, "eval": true, "exec": true, "read": true,
	"shift": true, "trap": true, "wait": true, "return": true, "break": true,
	"continue": true, "alias": true, "unalias": true, "getopts": true,
	"umask": true, "ulimit": true, "jobs": true, "fg": true, "bg": true,
	"command": true, "type": true, "hash": true, "times": true,
	"builtin": true, "enable": true, "mapfile": true, "readarray": true,
	"shopt": true, "pushd": true, "popd": true, "dirs": true, "disown": true,
	"suspend": true, "caller": true, "complete": true, "compgen": true,
}

// Check walks the whole syntax tree and reports the first construct (in
// source order) that tubo does not run, as an *Error.
func Check(f *syntax.File) error {
	c := &checker{name: f.Name}
	syntax.Walk(f, c.visit)
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].at.Offset() < c.errs[j].at.Offset() })
	e := c.errs[0]
	return &Error{Pos: Pos(f.Name, e.at), Msg: e.msg}
}

type checker struct {
	name string
	errs []found
}

type found struct {
	at  syntax.Pos
	msg string
}

func (c *checker) reject(at syntax.Pos, what string) {
	c.errs = append(c.errs, found{at, notSupported(what)})
}

func (c *checker) visit(n syntax.Node) bool {
	switch n := n.(type) {
	case *syntax.Stmt:
		c.stmt(n)
	case *syntax.CallExpr:
		c.call(n)
	case *syntax.Redirect:
		return c.redirect(n)
	case *syntax.ParamExp:
		c.param(n)
	case *syntax.Assign:
		c.assign(n)
	case *syntax.DeclClause:
		if v := n.Variant.Value; v != "export" {
			c.reject(n.Pos(), "the "+v+" builtin")
		}
	case *syntax.ArithmExp:
		if n.Bracket {
			c.reject(n.Pos(), "$[ ] arithmetic expansions")
		}
	default:
		if what := compound(n); what != "" {
			c.reject(n.Pos(), what)
		}
	}
	return true
}

// compound names the commands and word parts that tubo rejects outright.
func compound(n syntax.Node) string {
	switch n := n.(type) {
	case *syntax.IfClause:
		return "if statements"
	case *syntax.WhileClause:
		if n.Until {
			return "until loops"
		}
		return "while loops"
	case *syntax.ForClause:
		if n.Select {
			return "select loops"
		}
		return "for loops"
	case *syntax.CaseClause:
		return "case statements"
	case *syntax.FuncDecl:
		return "function definitions"
	case *syntax.ArithmCmd:
		return "(( )) arithmetic commands"
	case *syntax.TestClause:
		return "[[ ]] tests"
	case *syntax.LetClause:
		return "the let builtin"
	case *syntax.TimeClause:
		return "time commands"
	case *syntax.CoprocClause:
		return "coprocesses"
	case *syntax.TestDecl:
		return "test declarations"
	case *syntax.ProcSubst:
		return "process substitutions"
	case *syntax.ExtGlob:
		return "extended globs"
	case *syntax.ArrayExpr:
		return "arrays"
	}
	return ""
}

func (c *checker) stmt(s *syntax.Stmt) {
	switch {
	case s.Background:
		c.reject(s.Semicolon, "background jobs (&)")
	case s.Coprocess:
		c.reject(s.Semicolon, "coprocesses")
	case s.Disown:
		c.reject(s.Semicolon, "disowned jobs")
	}
}

func (c *checker) call(ce *syntax.CallExpr) {
	if len(ce.Args) == 0 {
		return
	}
	if name := ce.Args[0].Lit(); unsupportedBuiltins[name] {
		c.reject(ce.Args[0].Pos(), "the "+name+" builtin")
	}
}

// redirect checks an operator and its file descriptor, and walks the
// here-document body only when it will be expanded: a quoted delimiter
// makes the body plain text, whatever it looks like.
func (c *checker) redirect(r *syntax.Redirect) bool {
	switch r.Op {
	case syntax.AppClob, syntax.RdrAllClob, syntax.AppAllClob:
		c.reject(r.Pos(), r.Op.String()+" redirections")
	}
	if r.N != nil && !isNumber(r.N.Value) {
		c.reject(r.N.Pos(), "named file descriptors ({var}>)")
	}
	if (r.Op == syntax.DplIn || r.Op == syntax.DplOut) && r.Word != nil {
		if lit := r.Word.Lit(); lit != "" && lit != "-" && !isNumber(lit) {
			c.reject(r.Pos(), r.Op.String()+"FILE redirections (write >FILE 2>&1)")
		}
	}
	if r.N != nil {
		syntax.Walk(r.N, c.visit)
	}
	if r.Word != nil {
		syntax.Walk(r.Word, c.visit)
	}
	if r.Hdoc != nil && !QuotedDelim(r.Word) {
		syntax.Walk(r.Hdoc, c.visit)
	}
	return false
}

func (c *checker) param(pe *syntax.ParamExp) {
	at := pe.Pos()
	switch {
	case pe.Excl || pe.Names != 0:
		c.reject(at, "indirect expansions ${!…}")
	case pe.Index != nil:
		c.reject(at, "arrays")
	case pe.Slice != nil:
		c.reject(at, "substring expansions ${x:offset:length}")
	case pe.Repl != nil:
		c.reject(at, "pattern substitutions ${x/pattern/string}")
	case pe.Width || pe.IsSet || pe.Flags != nil || pe.NestedParam != nil || len(pe.Modifiers) > 0:
		c.reject(at, "this form of parameter expansion")
	case pe.Exp != nil:
		switch pe.Exp.Op {
		case syntax.UpperFirst, syntax.UpperAll, syntax.LowerFirst, syntax.LowerAll:
			c.reject(at, "case conversions ${x^…}")
		case syntax.OtherParamOps:
			c.reject(at, "${x@…} transformations")
		case syntax.MatchEmpty, syntax.ArrayExclude, syntax.ArrayIntersect:
			c.reject(at, "this form of parameter expansion")
		}
	}
}

func (c *checker) assign(a *syntax.Assign) {
	switch {
	case a.Array != nil || a.Index != nil:
		c.reject(a.Pos(), "arrays")
	case a.Append:
		c.reject(a.Pos(), "+= assignments")
	}
}

// QuotedDelim reports whether a here-document delimiter is quoted in whole
// or in part (<<'EOF', <<"EOF", <<\EOF, <<'E'OF), which makes the body
// plain text: no expansion at all.
func QuotedDelim(w *syntax.Word) bool {
	if w == nil {
		return false
	}
	for _, wp := range w.Parts {
		switch wp := wp.(type) {
		case *syntax.Lit:
			if strings.Contains(wp.Value, `\`) {
				return true
			}
		case *syntax.SglQuoted, *syntax.DblQuoted:
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
