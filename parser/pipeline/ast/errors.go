package ast

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem at a place in a pipeline file. Line and Col are
// 1-based; a zero Line means the problem is with the file as a whole.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
}

// ErrorList is every problem one decode found, in the order found.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Errors returns the problems in err: those of an ErrorList, or err itself
// as a problem of the whole file.
func Errors(err error) ErrorList {
	switch e := err.(type) {
	case nil:
		return nil
	case ErrorList:
		return e
	case *Error:
		return ErrorList{e}
	}
	return ErrorList{{Msg: err.Error()}}
}

// decoder collects the problems of one UnmarshalYAML.
type decoder struct {
	errs ErrorList
}

// add records a problem at node n (nil: the whole file).
func (d *decoder) add(n *yaml.Node, format string, args ...any) {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// addAt records a problem at byte offset off inside scalar n's value.
func (d *decoder) addAt(n *yaml.Node, off int, format string, args ...any) {
	line, col := PosAt(n, off)
	d.errs = append(d.errs, &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// sub takes the problems of a nested UnmarshalYAML and says whether there
// were none.
func (d *decoder) sub(err error) bool {
	l := Errors(err)
	d.errs = append(d.errs, l...)
	return len(l) == 0
}

func (d *decoder) n() int { return len(d.errs) }

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return d.errs
}

// PosAt is the line and column of byte offset off inside a scalar node's
// value, when the scalar sits on one source line (plain or quoted), so
// that an error can point into the value; otherwise the node's own place.
func PosAt(n *yaml.Node, off int) (line, col int) {
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Column
	if n.Kind != yaml.ScalarNode {
		return
	}
	switch n.Style {
	case 0, yaml.TaggedStyle:
		col += off
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		col += off + 1
	}
	return
}

// Quote is how messages show a value: a Go-quoted string.
func Quote(s string) string { return strconv.Quote(s) }
