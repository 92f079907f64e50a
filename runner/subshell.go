package runner

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// subshellSource is the program a subshell runs as `tubo -c SRC`: body,
// preceded by the state a forked sh would have inherited but a new process
// does not get from its environment — non-exported variables that the body
// mentions (and IFS), the positional parameters, and the options. Exported variables
// travel in the environment already.
func (r *Runner) subshellSource(body string) string {
	var b strings.Builder
	for _, name := range r.vars.names() {
		v := r.vars[name]
		// IFS counts even unmentioned: it steers the child's field
		// splitting.
		if !v.set || v.exported || (name != "IFS" && !strings.Contains(body, name)) {
			continue
		}
		b.WriteString(name + "=" + quote(v.value) + "\n")
	}
	if len(r.args) > 0 {
		b.WriteString("set --")
		for _, a := range r.args {
			b.WriteString(" " + quote(a))
		}
		b.WriteString("\n")
	}
	if r.errexit {
		b.WriteString("set -e\n")
	}
	if r.nounset {
		b.WriteString("set -u\n")
	}
	if r.pipefail {
		b.WriteString("set -o pipefail\n")
	}
	b.WriteString(body)
	return b.String()
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

// quoteCall prints an expanded simple command back as source:
// `X='1' cd 'my dir'`. Printing the expanded words (not the original
// source) keeps the child from running command substitutions a second time.
func quoteCall(c call) string {
	var words []string
	for _, kv := range c.assigns {
		name, v, _ := strings.Cut(kv, "=")
		words = append(words, name+"="+quote(v))
	}
	for _, a := range c.argv {
		words = append(words, quote(a))
	}
	return strings.Join(words, " ")
}

// printStmts prints statements back as source, one per line.
func printStmts(stmts []*syntax.Stmt) string {
	var parts []string
	for _, s := range stmts {
		parts = append(parts, printNode(s))
	}
	return strings.Join(parts, "\n")
}

func printNode(n syntax.Node) string {
	var b strings.Builder
	syntax.NewPrinter().Print(&b, n)
	return strings.TrimRight(b.String(), "\n")
}
