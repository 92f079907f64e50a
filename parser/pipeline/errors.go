package pipeline

import (
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/validate"
)

// Error is one problem at a place in a pipeline file; it prints as
// FILE:LINE:COL: message. It is the same type that package validate
// returns, so callers handle both front ends and validation alike.
type Error = validate.Error

// ErrorList is every problem found in one load, sorted by position.
type ErrorList = validate.ErrorList

// errs collects errors during a load.
type errs struct {
	file string
	list validate.ErrorList
}

// at is the position of a YAML node; a nil node gives the file alone.
func (e *errs) at(n *yaml.Node) graph.Pos {
	if n == nil {
		return graph.Pos{File: e.file}
	}
	return graph.Pos{File: e.file, Line: n.Line, Col: n.Column}
}

func (e *errs) add(n *yaml.Node, format string, args ...any) {
	e.list.Add(e.at(n), format, args...)
}

func (e *errs) addPos(p graph.Pos, format string, args ...any) {
	e.list.Add(p, format, args...)
}

// addAST takes the problems the syntax pass found.
func (e *errs) addAST(err error) {
	for _, a := range ast.Errors(err) {
		e.list.Errors = append(e.list.Errors, &Error{Pos: graph.Pos{File: e.file, Line: a.Line, Col: a.Col}, Msg: a.Msg})
	}
}

// addList takes the problems of a later phase (validation).
func (e *errs) addList(err error) {
	if el, ok := err.(*validate.ErrorList); ok {
		e.list.Errors = append(e.list.Errors, el.Errors...)
	} else if err != nil {
		e.add(nil, "%v", err)
	}
}

// maxErrors stops a load that keeps finding problems: past this, more
// messages help no one and a hostile file could make the list huge.
const maxErrors = validate.MaxErrors

func (e *errs) full() bool { return e.list.Len() >= maxErrors }

func (e *errs) err() error { return e.list.Err() }

// posAt is the position of byte offset off inside a scalar node's value,
// when the scalar sits on one source line (so columns can be counted).
func (e *errs) posAt(n *yaml.Node, off int) graph.Pos {
	if n == nil {
		return graph.Pos{File: e.file}
	}
	line, col := ast.PosAt(n, off)
	return graph.Pos{File: e.file, Line: line, Col: col}
}

// quote shows a value in a message: Go-quoted, and cut short when long
// (an expanded value can be megabytes).
func quote(s string) string {
	const max = 100
	if len(s) <= max {
		return ast.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return ast.Quote(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

func didYouMean(word string, candidates []string) string { return ast.DidYouMean(word, candidates) }
