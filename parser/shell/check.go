package shell

import (
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Check walks the whole syntax tree and reports the first construct (in
// source order) that tubo refuses, as an *Error. What stays refused:
//
//   - coprocesses (`coproc`), whose two-way pipe to the shell is not a
//     graph edge tubo can show;
//   - `select` loops, an interactive menu;
//   - mksh's `${ cmd;}` and `${|cmd;}` substitutions and `$((# x))`;
//   - zsh-only syntax (the parser refuses it as another language).
//
// Everything else of POSIX sh and bash that the parser accepts runs.
func Check(f *syntax.File) error {
	c := &checker{}
	for _, s := range f.Stmts {
		syntax.Walk(s, c.visit)
	}
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].at.Offset() < c.errs[j].at.Offset() })
	e := c.errs[0]
	return &Error{Pos: Pos(f.Name, e.at), Msg: e.msg}
}

type checker struct {
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
		switch {
		case n.Coprocess:
			c.reject(n.Semicolon, "coprocesses")
		case n.Disown:
			c.reject(n.Semicolon, "disowned jobs (&| and &!)")
		}
	case *syntax.CoprocClause:
		c.reject(n.Pos(), "the coproc keyword")
	case *syntax.ForClause:
		if n.Select {
			c.reject(n.Pos(), "select loops")
		}
		if wi, ok := n.Loop.(*syntax.WordIter); ok && !ValidName(wi.Name.Value) {
			c.errs = append(c.errs, found{wi.Name.Pos(), "`" + wi.Name.Value + "': not a valid identifier"})
		}
	case *syntax.FuncDecl:
		if n.Name == nil {
			// `()00`: the parser takes it for a function without a name
			// (zsh's anonymous functions); sh has none.
			c.errs = append(c.errs, found{n.Pos(), "syntax error near unexpected token `('"})
			return false
		}
	case *syntax.TestDecl:
		c.reject(n.Pos(), "test declarations")
	case *syntax.CmdSubst:
		if n.TempFile || n.ReplyVar {
			c.reject(n.Pos(), "mksh's ${ …;} substitutions")
		}
	case *syntax.ArithmExp:
		if n.Unsigned {
			c.reject(n.Pos(), "mksh's unsigned arithmetic")
		}
	case *syntax.ArithmCmd:
		if n.Unsigned {
			c.reject(n.Pos(), "mksh's unsigned arithmetic")
		}
	case *syntax.Redirect:
		return c.redirect(n)
	}
	return true
}

// redirect walks the here-document body only when it will be expanded: a
// quoted delimiter makes the body plain text, whatever it looks like.
func (c *checker) redirect(r *syntax.Redirect) bool {
	switch r.Op {
	case syntax.AppClob, syntax.RdrAllClob, syntax.AppAllClob:
		c.reject(r.Pos(), r.Op.String()+" redirections")
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

// ValidName reports whether s is a shell variable name: a letter or _,
// then letters, digits and _ (POSIX's "name").
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
