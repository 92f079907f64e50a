package runner

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// set -x: each command is printed on stderr after expansion, prefixed by
// the expansion of $PS4 ("+ "), with words quoted so they could be read
// back, as sh prints them.

func (r *Runner) xtracePrefix() string {
	ps4, ok := r.vars.get("PS4")
	if !ok {
		return "+ "
	}
	if !strings.ContainsAny(ps4, "$`\\") {
		return ps4
	}
	old := r.opts[optXtrace]
	r.opts[optXtrace] = false
	defer func() { r.opts[optXtrace] = old }()
	w, err := parseDocument(ps4)
	if err != nil {
		return ps4
	}
	s, err := r.document(w)
	if err != nil {
		return ps4
	}
	return s
}

func (r *Runner) xtraceLine(s string) {
	if r.static {
		return
	}
	r.stderr().Write([]byte(r.xtracePrefix() + s + "\n"))
}

// xtraceArgv prints a command's words.
func (r *Runner) xtraceArgv(argv []string) {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = xtraceQuote(a)
	}
	r.xtraceLine(strings.Join(parts, " "))
}

// xtraceAssign prints an assignment.
func (r *Runner) xtraceAssign(as *syntax.Assign) {
	name := as.Name.Value
	if as.Array != nil {
		r.xtraceLine(name + "=(" + printNode(as.Array)[1:])
		return
	}
	v, _ := r.vars.get(name)
	op := "="
	if as.Append {
		op = "+="
		if as.Value != nil {
			v, _ = r.literal(as.Value)
		}
	}
	r.xtraceLine(name + op + xtraceQuote(v))
}

// xtraceQuote quotes a word as bash's xtrace does: as it is when it has
// nothing special, in single quotes otherwise.
func xtraceQuote(s string) string {
	if s == "" {
		return "''"
	}
	if s == "'" {
		return `\'`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return shellQuote(s)
		}
		switch c {
		case ' ', '\t', '\n', '\'', '"', '\\', '$', '`', '|', '&', ';', '(', ')', '<', '>', '*', '?', '[', ']', '{', '}', '~', '#', '!', '^', '=':
			if c == '=' || c == '^' {
				continue
			}
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// parseDocument parses text as the body of an unquoted here-document.
func parseDocument(src string) (*syntax.Word, error) {
	return newParser().Document(strings.NewReader(src))
}
