package runner

import (
	"fmt"
	"testing"
	"time"
)

// No input doubles its way out of memory in the sandbox, whichever builtin
// stores the value (TestEvalMutants found declare; the others are its
// kin): each loop ends within its 200 statements, refused at 4 KiB.
func TestSandboxBlowups(t *testing.T) {
	null := devNull(t)
	for _, src := range []string{
		`x=a4096; while :; do declare while x=$x$x; done`,
		`a=(1); while :; do a+=("${a[@]}"); done`,
		`a=(x); while :; do a[0]=${a[0]}${a[0]}; done`,
		`declare -A m; m[k]=x; while :; do m[k]=${m[k]}${m[k]}; done`,
		`x=a; while :; do printf -v x %s%s "$x" "$x"; done`,
		`x=a; while :; do x+=$x; done`,
		`x=a; while :; do declare x+=$x; done`,
		`x=a; while :; do export x=$x$x; done`,
		`x=a; while :; do local x=$x$x; done`,
		`f(){ x=a; while :; do local x=$x$x; done; }; f`,
		`x=a; while :; do set -- "$x$x" ; x=$1$1; done`,
		`set -- a; while :; do set -- "$@" "$@"; done`,
		`x=a; while :; do readonly y=$x$x; x=$y; unset y; done`,
		`x=a; while :; do eval "x=$x$x"; done`,
		`x=a; while :; do x=$(echo $x$x); done`,
		`x=a; while :; do : ${x:=$x$x}; x=$x$x; done`,
		`x=a; while :; do declare -n r=x; r=$x$x; done`,
		`x=a; while :; do echo $x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x$x >/dev/null; done`,
		`while :; do echo {1..9}{1..9}{1..9}{1..9}{1..9}{1..9}{1..9}; done`,
		`x=a; while :; do x=$x$x$x$x$x$x$x$x; alias a=$x; done`,
		`x=a; while :; do x="${x//?/$x}"; done`,
	} {
		done := make(chan bool)
		go func() { checkEval(t, null, src); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			// It would run on, out of memory: end the test binary.
			panic(fmt.Sprintf("%q: still running after 30s", src))
		}
	}
}
