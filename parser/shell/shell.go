// Package shell is the parsing half of tubo's shell front end. It parses a
// shell line or script with mvdan.cc/sh (the bash variant: POSIX sh
// parses the same, and `[[ ]]`, arrays, `|&`, `&>`, here-strings and
// process substitution parse too), and refuses, before anything runs, the
// few constructs that tubo does not run (check.go lists them). Running
// what remains is the runner package's job.
package shell

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
)

// Lang is the language variant tubo parses, prints and quotes with.
const Lang = syntax.LangBash

// Error is a problem at a place in the source: a parse error or a refused
// construct. It prints as FILE:LINE:COL: MSG, or LINE:COL: MSG for a line
// given on the command line.
type Error = graph.Error

// Pos converts a syntax position into a graph position in file name ("" for
// a line given on the command line).
func Pos(name string, p syntax.Pos) graph.Pos {
	if !p.IsValid() {
		return graph.Pos{File: name}
	}
	return graph.Pos{File: name, Line: int(p.Line()), Col: int(p.Col())}
}

// NewParser returns a parser for tubo's language.
func NewParser() *syntax.Parser {
	return syntax.NewParser(syntax.Variant(Lang))
}

// Parse parses src. Syntax errors come back as *Error with the position the
// parser reports.
func Parse(name, src string) (*syntax.File, error) {
	f, err := NewParser().Parse(strings.NewReader(src), name)
	if err == nil {
		NegateSubshells(f.Stmts)
		return f, nil
	}
	// `((cmd) || (cmd))` is two subshells, not arithmetic: the parser
	// commits to (( and fails; bash backtracks. Try again with ( ( at the
	// (( before the error.
	first := err
	text := src
	for range 16 {
		var pe syntax.ParseError
		if !errors.As(err, &pe) {
			break
		}
		fixed, ok := SplitDoubleParen(text, int(pe.Pos.Offset()))
		if !ok {
			break
		}
		text = fixed
		if f, err = NewParser().Parse(strings.NewReader(text), name); err == nil {
			NegateSubshells(f.Stmts)
			return f, nil
		}
	}
	return nil, ParseError(name, first)
}

// SplitDoubleParen rewrites the last `((` that opens a command before
// offset as `( (`, for a second parse of a nested subshell that the
// parser took for arithmetic. ok is false when there is none.
func SplitDoubleParen(src string, offset int) (string, bool) {
	if offset > len(src) || offset < 0 {
		offset = len(src)
	}
	for i := min(offset, len(src)-2); i >= 0; i-- {
		if src[i] != '(' || i+1 >= len(src) || src[i+1] != '(' {
			continue
		}
		if i > 0 && (src[i-1] == '$' || src[i-1] == '(') {
			continue
		}
		if closesTogether(src, i) {
			// ((…)) whose parentheses close as one )): arithmetic, as
			// bash reads it, with an expression the parser refused; its
			// error is the one to report, not a command named x.
			return "", false
		}
		return src[:i+1] + " " + src[i+1:], true
	}
	return "", false
}

// closesTogether reports whether the (( at src[i] is closed by one )),
// its two parentheses ending side by side: ((x = 1 +)) is arithmetic,
// ((a) || (b)) two subshells. Quoted text is skipped.
func closesTogether(src string, i int) bool {
	depth := 2
	for j := i + 2; j < len(src); j++ {
		switch c := src[j]; c {
		case '\\':
			j++
		case '\'', '"':
			k := strings.IndexByte(src[j+1:], c)
			if k < 0 {
				return false
			}
			j += k + 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 1 {
				return j+1 < len(src) && src[j+1] == ')'
			}
		}
	}
	return false
}

// ParseError turns an error of the syntax package into an *Error.
func ParseError(name string, err error) error {
	var pe syntax.ParseError
	var le syntax.LangError
	switch {
	case errors.As(err, &pe):
		return &Error{Pos: Pos(name, pe.Pos), Msg: pe.Text}
	case errors.As(err, &le):
		return &Error{Pos: Pos(name, le.Pos), Msg: langFeature(le.Feature)}
	}
	if name == "" {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ParseChecked parses src and refuses what tubo does not run anywhere in
// it: the whole input is checked before any of it may run.
func ParseChecked(name, src string) (*syntax.File, error) {
	f, err := Parse(name, src)
	if err != nil {
		return nil, err
	}
	if err := Check(f); err != nil {
		return nil, err
	}
	return f, nil
}

// notSupported words the message for a construct: "select loops are not
// supported", "the coproc keyword is not supported".
func notSupported(what string) string {
	if strings.HasPrefix(what, "the ") || strings.HasPrefix(what, "this ") {
		return what + " is not supported"
	}
	return what + " are not supported"
}

// langFeature words a feature of another shell that the parser met.
func langFeature(feature string) string {
	if strings.HasSuffix(feature, "s") {
		return feature + " are not supported"
	}
	return feature + " is not supported"
}

// Incomplete reports whether src ends in the middle of a construct (an open
// quote, a here-document, a trailing | or &&), so that an interactive
// reader should ask for another line before running it.
func Incomplete(src string) bool {
	_, err := NewParser().Parse(strings.NewReader(src), "")
	return err != nil && syntax.IsIncomplete(err)
}

// CheckIn is ParseChecked for a shell source that sits inside another
// file (a YAML `shell:` stage): a problem comes back as an *Error at the
// place in that file that place gives for the source's own LINE:COL (both
// from 1).
func CheckIn(src string, place func(line, col int) graph.Pos) error {
	_, err := ParseChecked("", src)
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	return &Error{Pos: place(e.Pos.Line, e.Pos.Col), Msg: e.Msg}
}
