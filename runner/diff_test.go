package runner_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// diffCase is one line run by tubo and by a reference shell.
type diffCase struct {
	line string
	// ref, when set, is what the reference shell runs instead: the POSIX
	// spelling of a bash form that dash lacks (`a |& b` → `a 2>&1 | b`).
	ref string
	// bash compares with bash instead of dash, for what dash 0.5 cannot
	// express at all (set -o pipefail).
	bash bool
	// statusOnly compares the exit status and not stdout; the reason is
	// a "differs:" comment on the case.
	statusOnly bool
	// stderr, when set, is a pattern tubo's stderr must match.
	stderr string
	// status, when not zero, is tubo's status where it differs on
	// purpose from the reference's (the reason is a "differs:" comment).
	status int
}

var diffCases = []diffCase{
	// Quoting and escapes.
	{line: `echo hello   world`},
	{line: `echo 'single  quoted' "double  quoted"`},
	{line: `echo a\ b c\\d`},
	{line: `printf '%s\n' "a'b" 'c"d' "e\"f" 'g\h'`},
	{line: `printf '[%s]' one "two three" '' four; echo`},
	{line: `for f in %u %d %x; do for a in 18446744073709551615 18446744073709551616 -18446744073709551616 9223372036854775808 -9223372036854775809 -1 12abc 0x1f 017; do printf "$f " "$a" 2>/dev/null; echo "st=$?"; done; done`},
	{line: `printf '[%#o][%#o][%#x][%#x][%#X][%#X][%#5x]\n' 0 42 0 42 0 42 0`},
	{line: `echo "a"'b'c"$HOME"x | sed "s#$HOME#H#"`},
	{line: "echo \"\\$HOME \\` \\\\ \\\"q\\\"\""},
	{line: `echo #comment`},
	{line: `echo a#b`},
	{line: `echo {a,b} x{1,2}y`, bash: true},
	{line: `printf '%s\n' '\n' "\n"`},
	{line: "echo a \\\nb"},

	// Parameters.
	{line: `X=1; echo $X ${X} "${X}x" $Xx`},
	{line: `X='a  b'; printf '[%s]' $X "$X"; echo`},
	{line: `echo ${UNSET:-default} ${UNSET-d2} "${UNSET:-two words}"`},
	{line: `X=; echo "[${X:-empty}]" "[${X-notused}]"`},
	{line: `echo ${Y:=assigned}; echo $Y`},
	{line: `X=val; echo "[${X:+alt}]" "[${UNSET:+alt}]"`},
	{line: `X=hello.tar.gz; echo ${X%.*} ${X%%.*} ${X#*.} ${X##*.}`},
	{line: `X=hello; echo ${#X} ${#UNSET}`},
	{line: `(echo ${NOPE?missing}); echo st=$?`, bash: true},
	// differs: an unset variable under set -u ends the shell with 1, as
	// bash does reading a script (bash -c says 127, dash 2).
	{line: `set -u; echo $NOPE; echo after`, status: 1},
	{line: `set -u; echo ${NOPE:-ok}`},
	{line: `set -- a b c; echo $# $1 $3 "$@"`},
	{line: `set -- 'x y' z; printf '[%s]' "$@"; printf '[%s]' $*; printf '[%s]' "$*"; echo`},
	{line: `false; echo $?; true; echo $?`},
	{line: `IFS=:; X=a:b:c; printf '[%s]' $X; echo`},
	{line: `IFS=:; X=a:b::c; printf '[%s]' $X; echo`},
	{line: `echo ~ ~/x "~" | sed "s#$HOME#H#g"`},
	{line: `X=~/y; echo $X | sed "s#$HOME#H#"`},

	// Arithmetic.
	{line: `echo $((1+2*3)) $((10/3)) $((10%3)) $((-5+2)) $(( (1+2)*3 ))`},
	{line: `X=5; echo $((X*2)) $(($X+1)) $((X>3)) $((X==5?7:8))`},
	{line: `X=1; : $((X+=4)); echo $X $((Y=3)) $Y`},
	{line: `echo $((0x10 + 010)) $((1<<4)) $((7&3)) $((!0))`},
	{line: `echo $((1/0)); echo after`, stderr: `division by 0`, bash: true},

	// Command substitution.
	{line: `echo $(echo hi) "$(echo a   b)" $(echo a   b)`},
	{line: `echo "[$(printf 'a\nb\n\n\n')]"`},
	{line: `echo $(echo $(echo nested) $(echo twice))`},
	{line: "echo `echo backquoted` \"`echo in quotes`\""},
	{line: `X=$(echo inner; exit 3); echo $? $X`},
	{line: `X=1; Y=$(X=2; echo $X); echo $X $Y`},
	{line: `echo $(cd sub && ls); test "$PWD" = "$HOME" && echo unchanged`},
	{line: `echo $(echo hi | tr a-z A-Z) > out; cat < out`},
	{line: `echo $(printf 'x\ny') | wc -w`},
	{line: `s=$(printf '.\000.'); echo ${#s}; s=$(printf '\000\nx\000'); echo "[$s]" ${#s}`},
	{line: `s=$(< a.txt); echo "[$s]" $?; s=$(<nope); echo "st=$? [$s]"; f=sub/x; echo "$(< "$f" )"`, bash: true, stderr: `nope: No such file or directory`},
	{line: "printf 'a\\000b\\n' > n; s=`< n`; echo ${#s}; s=$(<n); echo ${#s}", bash: true},

	// Globbing, on the fixture's files.
	{line: `echo *.txt`},
	{line: `echo *.none`},
	{line: `echo '*.txt' "*.txt" \*.txt`},
	{line: `echo ?.log [ab].txt [!a].txt`},
	{line: `echo sub/* */x`},
	{line: `echo *`},
	{line: `echo .h*`},
	{line: `X='*.txt'; echo $X "$X"`},

	// Pipelines.
	{line: `printf "b\na\n" | sort`},
	{line: `printf 'b\na\nc\n' | sort | head -n 1`},
	{line: `echo hi | cat | cat | tr a-z A-Z`},
	{line: `yes | head -n 3`},
	{line: `ls nope 2>&1 | wc -l`},
	{line: "abc=def > /nope/1\necho abc=$abc\nexport abc=def > /nope/2\necho never"},
	{line: ": > /nope/1\necho never"},
	{line: "true > /nope/1; { echo in; } > /nope/2; echo after"},
	{line: `: 3>&3; echo a=$?; exec 3>/dev/null; echo x 3>&3 >&3; echo b=$?; cat /dev/null 4>&4; echo c=$?; echo y 1>&1`},
	{line: `sh -c 'echo err >&2' |& tr a-z A-Z`, ref: `sh -c 'echo err >&2' 2>&1 | tr a-z A-Z`},
	{line: `sh -c 'echo out; echo err >&2' 2>/dev/null |& sort`, ref: `sh -c 'echo out; echo err >&2' 2>/dev/null 2>&1 | sort`},
	{line: `false | true; echo $?`},
	{line: `true | false; echo $?`},
	{line: `set -o pipefail; false | true; echo $?`, bash: true},
	{line: `set -o pipefail; yes | head -n1; echo $?`, bash: true},
	{line: `set -o pipefail; set +o pipefail; false | true; echo $?`, bash: true},
	{line: `! true; echo $?; ! false; echo $?`},
	{line: `! false | false; echo $?`},
	{line: `sh -c 'kill -TERM $$' | cat; echo $?`},

	// Lists.
	{line: `true && echo yes; false && echo no; false || echo or`},
	{line: `false || true && echo chain`},
	{line: "echo a; echo b\necho c\n\necho d"},
	{line: `true || false && echo x`},

	// Subshells and groups.
	{line: `(cd sub; ls); test "$PWD" = "$HOME" && echo same`},
	{line: `X=1; (X=2; echo $X); echo $X`},
	{line: `(exit 3); echo $?`},
	{line: `x=outer; (echo $x); echo $x | (cat; echo $x)`},
	{line: `{ echo a; echo b; } | sort -r`},
	{line: `{ echo a; echo b; } > f; cat f`},
	{line: `{ echo out; sh -c 'echo err >&2'; } 2>&1 | sort`},
	{line: `cd sub | true; test "$PWD" = "$HOME" && echo unchanged`},
	{line: `X=1; { X=2; }; echo $X`},
	{line: `IFS=:; X=a:b; (printf '[%s]' $X); echo x | { printf '[%s]' $X; }; echo`},
	{line: `(echo a; echo b) | wc -l`},
	{line: `x=1; echo a | { cat; echo $x; }`},
	{line: `set -e; (false; echo no); echo notreached`},
	{line: `(cd sub && pwd) | sed "s#$HOME#H#"`},
	{line: `{ echo a; echo b >&3; } 3>f3; cat f3`},

	// Redirections.
	{line: `echo a > f; echo b >> f; cat f`},
	// A redirection that fails makes the command fail with status 1 (as
	// bash; dash gives 2), so these lines do not print the status.
	{line: `cat < missing || echo failed`, stderr: `^tubo: missing: No such file or directory\n$`},
	{line: `ls missing 2> err; wc -l < err`},
	{line: `sh -c 'echo o; echo e >&2' 2>&1 >/dev/null`},
	{line: `echo x >&2 2>/dev/null`},
	{line: `echo hello >f; cat 0<f`},
	{line: `echo data > f; cat <> f`},
	{line: `echo x 3>f >&3; cat f`},
	{line: `sh -c 'echo three >&3' 3>&1`},
	{line: `/usr/bin/echo gone >&-; echo st=$?`},
	{line: `cat <&-; echo st=$?`},
	{line: `echo clob >| f; cat f`},
	// A descriptor number too big for an int is a word, in its place.
	{line: `echo a 99999999999999999999>f b; cat f`},
	{line: `99999999999999999999>f; echo st=$?`},
	{line: `for i in 1 2; do echo $i 4294967296>>f; done; cat f`},
	{line: `echo both &> f; cat f`, ref: `echo both > f 2>&1; cat f`},
	{line: `sh -c 'echo o; echo e >&2' &> f; sort f`, ref: `sh -c 'echo o; echo e >&2' > f 2>&1; sort f`},
	{line: `true > created; ls created`},
	{line: `> empty; ls empty; wc -c < empty`},
	{line: `X=1 > g; ls g; echo $X`},
	{line: `{ cat; } < sub/x`},
	{line: `{ echo in; } > missingdir/f || echo failed`, stderr: `^tubo: missingdir/f: No such file or directory\n$`},
	{line: `cd sub 2>/dev/null; test "$PWD" = "$HOME/sub" && echo in`},
	// differs: dash gives status 2 for a failed cd; tubo gives 1, as bash.
	{line: `cd nope 2>/dev/null; echo st=$?`, statusOnly: true},
	{line: `echo in > sub/out; cat sub/out; echo 2>&1 x 1>/dev/null`},

	// Here-documents and here-strings.
	{line: "X=val; cat <<EOF\nv=$X $(echo sub) $((1+1)) ${X}s\nEOF"},
	{line: "X=val; cat <<'EOF'\n$X `cmd` $(no) \\\\ \\$\nEOF"},
	{line: "X=val; cat <<\"EOF\"\n$X\nEOF"},
	{line: "X=val; cat <<\\EOF\n$X\nEOF"},
	{line: "X=val; cat <<'E'OF\n$X `x`\nEOF"},
	{line: "X=val; cat <<-EOF\n\t\tindented $X\n\t  spaces\n\tEOF"},
	{line: "X=val; cat <<-'EOF'\n\tliteral $X\n\tEOF"},
	{line: "cat <<EOF\nback\\\\slash \\$dollar \\`tick\\` line\\\ncont \\\"q\nEOF"},
	{line: "cat <<A; cat <<B\na\nA\nb\nB"},
	{line: "cat <<EOF | tr a-z A-Z\nupper\nEOF"},
	{line: "cat <<EOF\nEOF"},
	{line: "X=val; tr a-z A-Z <<< \"here $X\"", ref: "X=val; printf '%s\\n' \"here $X\" | tr a-z A-Z"},
	{line: "cat <<< 'a  b'", ref: "printf '%s\\n' 'a  b'"},

	// Builtins.
	{line: `cd sub; ls; cd ..; test "$PWD" = "$HOME" && echo back`},
	{line: `cd sub; cd - >/dev/null; test "$PWD" = "$HOME" && echo back; test "$OLDPWD" = "$HOME/sub" && echo old`},
	{line: `cd sub; cd; test "$PWD" = "$HOME" && echo home`},
	{line: `cd sub; sh -c 'echo $PWD' | sed "s#$HOME#H#"`},
	{line: `false; exit`},
	{line: `exit 300`},
	{line: `echo a; exit 5; echo b`},
	{line: `X=1; export X; sh -c 'echo $X'`},
	{line: `X=1; sh -c 'echo x$X'`},
	{line: `export Y=2 Z; Z=3; sh -c 'echo $Y $Z'`},
	{line: `X=1 sh -c 'echo $X'; echo "[$X]"`},
	{line: `X=1; unset X; echo "[$X]"`},
	{line: `export Z=1; unset Z; sh -c 'echo "[$Z]"'`},
	{line: `X=1 Y=$X sh -c 'echo $Y'`},
	{line: `X=1 :; echo $X`},
	{line: `X=1 true; echo "[$X]"`},
	{line: `true; echo $?; false; echo $?; :; echo $?`},
	{line: `set -e; false; echo no`},
	{line: `set -e; false || echo ok; echo after`},
	{line: `set -e; ! true; echo still`},
	{line: `set -e; true && false; echo no`},
	{line: `set -e; x=$(false); echo no`},
	{line: `set -e; set +e; false; echo continued`},
	{line: `set -e; { false; echo no; }; echo no`},
	{line: `export | grep -c "^export PATH='"`},

	// Exit statuses.
	// differs: dash says "dash: 1: nonexistent_xyz: not found".
	{line: `nonexistent_xyz; echo $?`, stderr: `^tubo: nonexistent_xyz: command not found\n$`},
	{line: `touch ne; ./ne; echo $?`, stderr: `ne: Permission denied`},
	{line: `./sub; echo $?`},
	{line: `sh -c 'kill -9 $$'; echo $?`},
	{line: `sh -c 'exit 42'; echo $?`},
	// Runaway recursion ends the shell (a subshell: itself) with 2.
	{line: `f() { f; }; f; echo after`, stderr: `maximum function nesting level exceeded \(1000\)\n$`},
	{line: `(f() { f; }; f; echo in); echo st=$?`, stderr: `maximum function nesting level exceeded`},
	{line: `ls | sort | nonexistent_lp; echo $?`, stderr: `^tubo: nonexistent_lp: command not found\n$`},
	{line: `/nonexistent/cmd; echo $?`},
}

func TestDiffAgainstSh(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal("dash is needed (CI installs it)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed (CI installs it)")
	}
	for _, c := range append(diffCases, langCases...) {
		t.Run(c.line, func(t *testing.T) {
			t.Parallel()
			ref, refLine := dash, c.line
			if c.bash {
				ref = bash
			}
			if c.ref != "" {
				refLine = c.ref
			}
			got := runShell(t, fixture(t), tubo, c.line)
			want := runShell(t, fixture(t), ref, refLine)
			if c.status != 0 {
				want.code = c.status
			}
			if got.code != want.code {
				t.Errorf("status: tubo %d, %s %d\ntubo stderr: %s\n%s stderr: %s", got.code, filepath.Base(ref), want.code, got.stderr, filepath.Base(ref), want.stderr)
			}
			if !c.statusOnly && got.stdout != want.stdout {
				t.Errorf("stdout:\ntubo: %q\n%s:  %q\ntubo stderr: %s", got.stdout, filepath.Base(ref), want.stdout, got.stderr)
			}
			if c.stderr != "" && !regexp.MustCompile(c.stderr).MatchString(got.stderr) {
				t.Errorf("tubo stderr %q does not match %q", got.stderr, c.stderr)
			}
		})
	}
}

// refusedCases each start by creating a marker file, then use a
// construct tubo refuses (docs/shell.md lists them) or a syntax error: the
// whole input must be refused, with its position, before the marker is
// created.
var refusedCases = []struct{ line, msg string }{
	{`touch marker; select x in a; do :; done`, `^tubo: 1:15: select loops are not supported\n$`},
	{`touch marker; coproc cat`, `^tubo: 1:15: the coproc keyword is not supported\n$`},
	// ((…)) closed by one )) is arithmetic (bash's reading): a bad
	// expression is its syntax error, not a subshell running x.
	{`touch marker; ((x = 1 +))`, "^tubo: 1:23: `\\+` must be followed by an expression\n$"},
	{`touch marker; echo $(coproc cat)`, `^tubo: 1:22: the coproc keyword is not supported\n$`},
	{"touch marker\necho ok | cat\nselect x in a; do :; done", `^tubo: 3:1: select loops are not supported\n$`},
	{"touch marker; cat <<EOF\n$(coproc x)\nEOF", `^tubo: 2:3: the coproc keyword is not supported\n$`},
	{`touch marker; for i.j in a; do :; done`, `^tubo: 1:19: .i\.j.: not a valid identifier\n$`},
	// Parse errors: positioned, status 2, nothing run either.
	{`touch marker; echo (`, `^tubo: 1:\d+: `},
	{`touch marker; echo 'open`, `^tubo: 1:20: reached EOF without closing quote`},
	{`touch marker; | cat`, `^tubo: 1:15: `},
	{"touch marker\nif true; then\n  echo x\n", `^tubo: 2:1: `},
	{"touch marker; while :; do echo x; od", `^tubo: 1:15: `},
	{"touch marker; ()00", "^tubo: 1:15: syntax error near unexpected token `\\('\n$"}, // crashed (FuzzEval)
}

func TestRefusedRunsNothing(t *testing.T) {
	for _, c := range refusedCases {
		t.Run(c.line, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			got := runShell(t, dir, tubo, c.line)
			if got.code != 2 {
				t.Errorf("status %d, want 2", got.code)
			}
			if !regexp.MustCompile(c.msg).MatchString(got.stderr) {
				t.Errorf("stderr %q does not match %q", got.stderr, c.msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
				t.Errorf("marker was created: something ran")
			}
		})
	}
}

// A quoted here-document body is plain text: nothing in it is checked.
func TestQuotedHeredocNotChecked(t *testing.T) {
	got := runShell(t, t.TempDir(), tubo, "cat <<'EOF'\n$(coproc x)\nEOF")
	if got.code != 0 || got.stdout != "$(coproc x)\n" {
		t.Errorf("got %+v", got)
	}
}
