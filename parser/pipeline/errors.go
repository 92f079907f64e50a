package pipeline

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
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

func (e *errs) n() int { return e.list.Len() }

// tooMany stops a load that keeps finding problems: past this, more
// messages help no one and a hostile file could make the list huge.
const maxErrors = validate.MaxErrors

func (e *errs) full() bool { return e.list.Len() >= maxErrors }

func (e *errs) err() error { return e.list.Err() }

// posAt is the position of byte offset off inside a scalar node's value,
// when the scalar sits on one source line (so columns can be counted).
func (e *errs) posAt(n *yaml.Node, off int) graph.Pos {
	p := e.at(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return p
	}
	switch n.Style {
	case 0, yaml.TaggedStyle:
		p.Col += off
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		p.Col += off + 1
	}
	return p
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
