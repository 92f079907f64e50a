package runner

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// printNode prints a node back as shell source (for child stages, type,
// declare -f and error messages).
func printNode(n syntax.Node) string {
	if x, ok := n.(syntax.ArithmExpr); ok {
		if _, isWord := n.(*syntax.Word); !isWord {
			// The printer prints arithmetic only inside $(( )).
			s := printNode(&syntax.Word{Parts: []syntax.WordPart{&syntax.ArithmExp{X: x}}})
			return strings.TrimSuffix(strings.TrimPrefix(s, "$(("), "))")
		}
	}
	if c, ok := n.(syntax.Command); ok {
		// The printer keeps a compound command's lines only when it
		// prints it as a statement; alone, it joins the first to the
		// opening line.
		n = &syntax.Stmt{Position: c.Pos(), Cmd: c}
	}
	var b strings.Builder
	syntax.NewPrinter(syntax.Minify(false)).Print(&b, n)
	return strings.TrimRight(b.String(), "\n")
}

// printStmts prints statements back as source, each on its line as
// counted from the first in the source (joined by ; when they shared
// one), so that a child shell running the text gives the source's line
// numbers (childNode passes the first's line).
func printStmts(stmts []*syntax.Stmt) string {
	var b strings.Builder
	line := uint(0) // b's current line, from the first statement's
	for i, s := range stmts {
		text := printNode(s)
		if i > 0 {
			want := uint(0)
			if p, first := s.Pos(), stmts[0].Pos(); p.IsValid() && first.IsValid() && p.Line() >= first.Line() {
				want = p.Line() - first.Line()
			}
			prev := stmts[i-1]
			switch {
			case want > line:
				b.WriteString(strings.Repeat("\n", int(want-line)))
				line = want
			case hasHeredoc(prev) || want < line:
				b.WriteString("\n") // a here-document's body ends its line
				line++
			case prev.Background:
				b.WriteString(" ")
			default:
				b.WriteString("; ")
			}
		}
		b.WriteString(text)
		line += uint(strings.Count(text, "\n"))
	}
	return b.String()
}

// firstLine is the source line of the first statement, 0 for none.
func firstLine(stmts []*syntax.Stmt) uint {
	if len(stmts) == 0 {
		return 0
	}
	return stmts[0].Pos().Line()
}

// hasHeredoc reports whether a statement has a here-document, whose body
// the printer puts on the lines after it.
func hasHeredoc(s *syntax.Stmt) bool {
	found := false
	syntax.Walk(s, func(n syntax.Node) bool {
		if rd, ok := n.(*syntax.Redirect); ok && (rd.Op == syntax.Hdoc || rd.Op == syntax.DashHdoc) {
			found = true
		}
		return !found
	})
	return found
}

// quote quotes one word for the shell; the bash variant can quote any
// string, using $'…' for control characters.
func quote(s string) string {
	q, err := syntax.Quote(s, shell.Lang)
	if err != nil {
		// Only invalid UTF-8 and NUL get here; NUL cannot be in an
		// argument anyway.
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return q
}

// parseWord parses one word of source text.
func parseWord(src string) (*syntax.Word, error) {
	var w *syntax.Word
	for word, err := range shell.NewParser().WordsSeq(strings.NewReader(src)) {
		if err != nil {
			return nil, err
		}
		if w == nil {
			w = word
		}
	}
	return w, nil
}
