package runner

import (
	"context"
	"os"
	"testing"

	"github.com/tubo-pipes/tubo/internal/mutants"
)

// FuzzEval runs any parseable input through the evaluator in its sandbox
// (sandbox.go): 200 statements at most, nothing outside the process. It
// must not panic, hang or exhaust memory; what it prints is not checked.
// CI runs it on fixed mutants (TestEvalMutants, make fuzz).
func FuzzEval(f *testing.F) {
	for _, seed := range evalSeeds {
		f.Add(seed)
	}
	null := devNull(f)
	f.Fuzz(func(t *testing.T, src string) { checkEval(t, null, src) })
}

// TestEvalMutants is FuzzEval on a fixed sequence of mutants
// (internal/mutants): the same inputs on every run.
func TestEvalMutants(t *testing.T) {
	null := devNull(t)
	mutants.Run(t, mutants.Count(t, 1000), mutants.Target{
		Name:  "FuzzEval",
		Seeds: mutants.OneArg(evalSeeds),
		Dict:  mutants.Shell,
		Check: func(t *testing.T, args []string) { checkEval(t, null, args[0]) },
	})
}

func devNull(t testing.TB) *os.File {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	return null
}

var evalSeeds = []string{
	`i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i`,
	`f() { local x=$1; echo ${x:-none} "$@"; return 3; }; f a b; echo $?`,
	`case $x in a*|b) echo ab;; *) echo other;; esac`,
	`x='a b  c'; set -- $x; echo $# "${@:2}" ${x// /_} ${x#* } ${#x}`,
	`a=(1 2 3); a+=(4); echo ${a[@]:1:2} ${#a[@]} ${!a[@]}`,
	`declare -A m=([k]=v); echo ${m[k]}; unset 'm[k]'`,
	`echo $(echo in; exit 4) $? "$(printf '%s-%d' x 5)"`,
	`set -e; false || echo ok; (false); echo no`,
	`[[ abc =~ ^a(.)c$ ]] && echo ${BASH_REMATCH[1]}`,
	`while :; do :; done`,
	`f() { f; }; f`,
	`x=a; while :; do x=$x$x; done`,
	`printf '%*s|%-5.2f|%q\n' 3 a 1.5 'a b'`,
	`eval 'echo $((1 << 70)) $((2**63)) $((-1/0))'`,
	`for ((i=0;i<3;i++)); do echo {1..3}$i; done | cat; cat < /etc/passwd`,
	`getopts ab: o -a; echo $o; shift; alias l=echo; l x; unalias l`,
}

func checkEval(t *testing.T, null *os.File, src string) {
	if len(src) > 4096 {
		return
	}
	r := New(Config{Sandbox: 200, Stdin: null, Stdout: null, Stderr: null, Env: []string{"PATH=/nonexistent", "HOME=/nonexistent"}})
	_ = r.RunScript(context.Background(), src)
}
