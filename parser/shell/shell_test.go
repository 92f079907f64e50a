package shell_test

import (
	"testing"

	"github.com/tubo-pipes/tubo/parser/shell"
)

func TestParseChecked(t *testing.T) {
	cases := []struct{ name, src, err string }{
		// The whole language parses and is accepted.
		{"", `a | b |& c && d || ! e; (f) > x 2>&1; { g; } <<< w`, ""},
		{"", `X=1 Y=$(z) cmd "$@" ${A:-b} ${#A} ${A%%.*} $((1+2)) ~/x *.go`, ""},
		{"", "if a; then b; elif c; then d; else e; fi; while f; do g; done; until h; do :; done", ""},
		{"", "for i in 1 2; do :; done; for ((i=0; i<3; i++)); do :; done; case x in a|b) ;; c) ;& d) ;;& esac", ""},
		{"", "f() { local x=1; return 2; }; function g { :; }; sleep 1 & wait $!", ""},
		{"", `a=(1 2) a[3]=x; echo "${a[@]}" ${#a[@]} ${x//a/b} ${x:1:2} ${!x} ${x^^} ${x@Q}; [[ -n $x ]]; (( x++ ))`, ""},
		{"", `diff <(sort a) <(sort b); tee >(gzip > x.gz); exec {fd}>f; x+=1; echo $[1+1] @(a|b) >&out`, ""},
		{"", "cat <<-'EOF'\n\tfor while if\n\tEOF", ""},
		// What stays refused, with its position.
		{"", `echo (`, "1:1: `foo(` must be followed by `)`"},
		{"s.sh", "echo\n  select x in a; do :; done", "s.sh:2:3: select loops are not supported"},
		{"", `coproc cat`, "1:1: the coproc keyword is not supported"},
		{"", `echo $(x; (coproc y))`, "1:12: the coproc keyword is not supported"},
		{"", `for i.j in a; do :; done`, "1:5: `i.j': not a valid identifier"},
		// The first problem in source order wins.
		{"", `select a in b; do :; done; coproc x`, "1:1: select loops are not supported"},
		// A pair of subshells that starts like arithmetic parses as bash
		// parses it.
		{"", `if ! ((test a = b) || (test c = d)); then :; fi`, ""},
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
