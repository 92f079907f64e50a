package shell

import (
	"reflect"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// NegateSubshells rewrites each command that is nothing but `!(list)` as
// `! (list)`, a negated subshell, in place.
//
// The parser reads `!(` as the start of an extended glob whatever the
// shell's options, but bash, with extglob off (its default in a script),
// reads `if !($a && $b); then` as the negation of a subshell, and scripts
// rely on it. A pattern as a command name with nothing after it would be
// a glob run as a program, which no script means, so the rewrite is made
// whatever extglob says. A list that does not parse is left as it was.
func NegateSubshells(stmts []*syntax.Stmt) {
	for _, s := range stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			if st, ok := n.(*syntax.Stmt); ok {
				negateSubshell(st)
			}
			return true
		})
	}
}

func negateSubshell(st *syntax.Stmt) {
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Assigns) != 0 || len(ce.Args) != 1 || len(ce.Args[0].Parts) != 1 {
		return
	}
	eg, ok := ce.Args[0].Parts[0].(*syntax.ExtGlob)
	if !ok || eg.Op != syntax.GlobExcept || eg.Pattern == nil {
		return
	}
	f, err := NewParser().Parse(strings.NewReader(eg.Pattern.Value), "")
	if err != nil || len(f.Stmts) == 0 {
		return
	}
	// The list's positions are from its own start: move them to where it
	// stands in the file.
	at := eg.Pattern.ValuePos
	for _, s := range f.Stmts {
		movePos(reflect.ValueOf(s).Elem(), at)
	}
	st.Negated = !st.Negated
	st.Cmd = &syntax.Subshell{Lparen: posAdd(eg.OpPos, 1), Rparen: eg.Pattern.End(), Stmts: f.Stmts}
}

// posAdd is p moved n bytes to the right on its line.
func posAdd(p syntax.Pos, n uint) syntax.Pos {
	return syntax.NewPos(p.Offset()+n, p.Line(), p.Col()+n)
}

var posType = reflect.TypeFor[syntax.Pos]()

// movePos moves every position in the syntax tree v, parsed from text that
// starts at at, to where it is in the file: line 1's columns shift by
// at's, later lines' lines by at's line. The tree is walked by reflection
// because positions sit in many fields of many node types.
func movePos(v reflect.Value, at syntax.Pos) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			movePos(v.Elem(), at)
		}
	case reflect.Slice:
		for i := range v.Len() {
			movePos(v.Index(i), at)
		}
	case reflect.Struct:
		if v.Type() == posType {
			p := v.Interface().(syntax.Pos)
			if !p.IsValid() || !v.CanSet() {
				return
			}
			line, col := p.Line(), p.Col()
			if line == 1 {
				col += at.Col() - 1
			}
			v.Set(reflect.ValueOf(syntax.NewPos(p.Offset()+at.Offset(), line+at.Line()-1, col)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				movePos(v.Field(i), at)
			}
		}
	}
}
