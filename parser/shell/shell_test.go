package shell_test

import (
	"testing"

	"github.com/tubo-pipes/tubo/parser/shell"
)

func TestParseChecked(t *testing.T) {
	cases := []struct{ name, src, err string }{
		{"", `a | b |& c && d || ! e; (f) > x 2>&1; { g; } <<< w`, ""},
		{"", `X=1 Y=$(z) cmd "$@" ${A:-b} ${#A} ${A%%.*} $((1+2)) ~/x *.go`, ""},
		{"", `export A=1 B; unset A; cd -; set -eu -o pipefail; exit 3`, ""},
		{"", "cat <<-'EOF'\n\tfor while if\n\tEOF", ""},
		{"", `echo (`, "1:1: `foo(` must be followed by `)`"},
		{"s.sh", "echo\n  if true; then :; fi", "s.sh:2:3: if statements are not supported"},
		{"", `echo $(x; (y | while :; do :; done))`, "1:16: while loops are not supported"},
		{"", `a; b & c`, "1:6: background jobs (&) are not supported"},
		{"", `echo ${x,,}`, "1:6: case conversions ${x^…} are not supported"},
		{"", `echo ${x@Q}`, "1:6: ${x@…} transformations are not supported"},
		{"", `a 2>&x`, "1:3: >&FILE redirections (write >FILE 2>&1) are not supported"},
		{"", `exec {fd}>f`, "1:1: the exec builtin is not supported"},
		{"", `cat {fd}>f`, "1:5: named file descriptors ({var}>) are not supported"},
		// The first problem in source order wins.
		{"", `for a in b; do :; done; while :; do :; done`, "1:1: for loops are not supported"},
	}
	for _, c := range cases {
		_, err := shell.ParseChecked(c.name, c.src)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("%q:\ngot  %q\nwant %q", c.src, got, c.err)
		}
	}
}

func TestQuotedDelim(t *testing.T) {
	for src, want := range map[string]bool{
		"cat <<EOF\nx\nEOF":     false,
		"cat <<'EOF'\nx\nEOF":   true,
		"cat <<\"EOF\"\nx\nEOF": true,
		"cat <<\\EOF\nx\nEOF":   true,
		"cat <<E'O'F\nx\nEOF":   true,
	} {
		f, err := shell.Parse("", src)
		if err != nil {
			t.Fatal(err)
		}
		if got := shell.QuotedDelim(f.Stmts[0].Redirs[0].Word); got != want {
			t.Errorf("%q: %v", src, got)
		}
	}
}
