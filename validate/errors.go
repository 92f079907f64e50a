package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Error is one problem at a place in a pipeline's source. It prints as
// FILE:LINE:COL: message, or just the message when the place is unknown.
type Error = graph.Error

// ErrorList is several errors found in one pass, sorted by position. A
// front end collects as many as it can so one run of `tubo check` shows
// them all.
type ErrorList struct {
	Errors []*Error
}

// Error prints one error per line.
func (l *ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l.Errors {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives the errors to errors.Is and errors.As.
func (l *ErrorList) Unwrap() []error {
	out := make([]error, len(l.Errors))
	for i, e := range l.Errors {
		out[i] = e
	}
	return out
}

// Add records an error at pos.
func (l *ErrorList) Add(pos graph.Pos, format string, args ...any) {
	l.Errors = append(l.Errors, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Len is the number of errors.
func (l *ErrorList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.Errors)
}

// Err sorts the list by position and returns it, or nil when it is empty.
// Identical errors (same place, same text) are reported once.
func (l *ErrorList) Err() error {
	if l.Len() == 0 {
		return nil
	}
	sort.SliceStable(l.Errors, func(i, j int) bool { return posLess(l.Errors[i].Pos, l.Errors[j].Pos) })
	out := l.Errors[:0]
	for _, e := range l.Errors {
		if len(out) > 0 && *e == *out[len(out)-1] {
			continue
		}
		out = append(out, e)
	}
	l.Errors = out
	if len(l.Errors) > MaxErrors {
		more := len(l.Errors) - MaxErrors + 1
		l.Errors = append(l.Errors[:MaxErrors-1], &Error{Msg: fmt.Sprintf("… and %d more errors", more)})
	}
	return l
}

// MaxErrors is the most errors a list reports; past it the last entry says
// how many more there were.
const MaxErrors = 50

func posLess(a, b graph.Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}
