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
	var b strings.Builder
	syntax.NewPrinter(syntax.Minify(false)).Print(&b, n)
	return strings.TrimRight(b.String(), "\n")
}

// printStmts prints statements back as source, one per line.
func printStmts(stmts []*syntax.Stmt) string {
	var parts []string
	for _, s := range stmts {
		parts = append(parts, printNode(s))
	}
	return strings.Join(parts, "\n")
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
