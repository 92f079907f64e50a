package pipeline

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// checkShell parses a shell: stage's line with tubo's shell front end when
// the file is loaded (tubo check, tubo run), so that a syntax error or a
// construct tubo refuses is reported at its place in the YAML file before
// anything starts, not by the stage at run time. The text checked is the
// stage's own, before {{…}} placeholders are filled: a placeholder is
// one shell word (values are quoted for the shell), so the syntax is the
// same, and the positions are those of the file.
func (l *loader) checkShell(s *ast.Scalar, what string) bool {
	err := shell.CheckIn(s.Text, l.shellPlace(s.Node, s.Text))
	if err == nil {
		return true
	}
	if e, ok := err.(*shell.Error); ok {
		l.errs.addPos(e.Pos, "%s: shell: %s", what, e.Msg)
	} else {
		l.errs.add(s.Node, "%s: shell: %v", what, err)
	}
	return false
}

// shellPlace maps LINE:COL inside a shell: value to the YAML file: exact
// for a value on one line (plain or quoted) and for a literal block
// (`shell: |`, whose lines are the file's lines below the key, at the
// block's indentation); a folded or multi-line flow value, whose lines
// the YAML parser joined, gives the value's own place.
func (l *loader) shellPlace(n *yaml.Node, text string) func(line, col int) graph.Pos {
	switch {
	case n.Style == yaml.LiteralStyle:
		indent := blockIndent(l.data, n.Line)
		return func(line, col int) graph.Pos {
			return graph.Pos{File: l.errs.file, Line: n.Line + line, Col: indent + col}
		}
	case !strings.Contains(strings.TrimRight(text, "\n"), "\n") && n.Style != yaml.FoldedStyle:
		return func(line, col int) graph.Pos { return l.errs.posAt(n, col-1) }
	}
	return func(int, int) graph.Pos { return l.errs.at(n) }
}

// blockIndent is the indentation of a block scalar whose indicator (|)
// is on line: that of its first line that is not blank.
func blockIndent(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	for i := line; i < len(lines); i++ { // lines[line] is the line after the indicator
		l := lines[i]
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		return len(l) - len(bytes.TrimLeft(l, " "))
	}
	return 0
}
