package runner

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	mpattern "mvdan.cc/sh/v3/pattern"
)

// patternCases are shell patterns (in the runner's form: a backslash
// quotes the next character) and strings, matched by tubo as `case` does
// and by bash (extglob on). Each row also records whether
// mvdan.cc/sh/v3/pattern refuses the pattern: tubo's own matcher takes
// exactly those, and the strings that are not UTF-8.
var patternCases = []struct {
	pat, s  string
	refused bool // the library returns an error where sh has an answer
}{
	{pat: "*", s: ""},
	{pat: "*.txt", s: "a.txt"},
	{pat: "*.txt", s: "a.txt.gz"},
	{pat: "a?c", s: "abc"},
	{pat: "a?c", s: "ac"},
	{pat: "a*b", s: "a\nb"},
	{pat: "[a", s: "[a"},
	{pat: "a[", s: "a["},
	{pat: "[]a]", s: "]"},
	{pat: "[!]a]", s: "b"},
	{pat: "[!a]", s: "a"},
	{pat: "[^a]", s: "b"},
	{pat: "[a-]", s: "-"},
	{pat: "[]-a]", s: "_"},
	{pat: "[]", s: "]"},
	{pat: "[[]", s: "["},
	{pat: `[\]]`, s: "]"},
	{pat: `[a\-z]`, s: "m"},
	{pat: "[a-z]", s: "B"},
	{pat: "[.]", s: "."},
	{pat: "[*]", s: "*"},
	{pat: `\*`, s: "*"},
	{pat: `\*`, s: "x"},
	{pat: "[[:alpha:]]", s: "x"},
	{pat: "[[:digit:]][[:space:]]", s: "1 "},
	{pat: "[![:alnum:]]", s: "_"},
	{pat: "?", s: "é"},
	{pat: "[é]", s: "é"},
	{pat: "x{a,b}", s: "x{a,b}"},
	{pat: "(a)", s: "(a)"},
	{pat: "a|b", s: "a|b"},
	{pat: "$x", s: "$x"},
	{pat: "a.b", s: "axb"},
	{pat: "^a$", s: "^a$"},
	{pat: "*(a)", s: "aa"},
	{pat: "*(a)", s: ""},
	{pat: "+(ab|c)", s: "abc"},
	{pat: "+(ab|c)", s: ""},
	{pat: "@(a|b)", s: "b"},
	{pat: "?(b)", s: ""},
	{pat: "a?(b)c", s: "ac"},
	{pat: "*.@(c|h)", s: "x.h"},
	// The library refuses these; sh answers them.
	{pat: "!(a)", s: "b", refused: true},
	{pat: "!(a)", s: "a", refused: true},
	{pat: "*.!(txt)", s: "a.log", refused: true},
	{pat: `a\`, s: `a\`, refused: true},
	{pat: "[z-a]", s: "m", refused: true},
	{pat: "[[:foo:]]", s: "f", refused: true},
	{pat: "[[.a.]]", s: "a", refused: true},
	{pat: "[[=a=]]", s: "a", refused: true},
	// Not UTF-8: Go's regexp reads every invalid byte as U+FFFD.
	{pat: "[\xfe]", s: "\xff"},
	{pat: "a\xfe*", s: "a\xff"},
	{pat: "?", s: "\xff"},
}

// TestPatternsAsBash matches every row with the runner and with bash, and
// checks which rows mvdan.cc/sh/v3/pattern refuses (when an upgrade of
// the library accepts one, this test says so: that row can then leave
// tubo's own matcher).
func TestPatternsAsBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed (CI installs it)")
	}
	args := []string{"-c", `shopt -s extglob
while [ $# -gt 0 ]; do
	case $2 in $1) echo 1;; *) echo 0;; esac
	shift 2
done`, "bash"}
	for _, c := range patternCases {
		args = append(args, c.pat, c.s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, args...)
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(patternCases) {
		t.Fatalf("bash printed %d answers for %d rows", len(want), len(patternCases))
	}
	r := New(Config{})
	r.SetShopt("extglob", true)
	for i, c := range patternCases {
		got := r.match(c.pat, c.s)
		if got != (want[i] == "1") {
			t.Errorf("case %q in %q: tubo %v, bash %s", c.s, c.pat, got, want[i])
		}
		_, err := mpattern.Regexp(c.pat, mpattern.EntireString|mpattern.NoGlobStar|mpattern.ExtendedOperators)
		if refused := err != nil; refused != c.refused {
			t.Errorf("%q: mvdan.cc/sh/v3/pattern refuses it: %v, the table says %v", c.pat, refused, c.refused)
		}
		if p := r.compilePattern(c.pat, patCase); !c.refused && !p.isLit && utf8.ValidString(c.pat) && p.re == nil {
			t.Errorf("%q: the library accepts it but tubo does not use it", c.pat)
		}
	}
}
