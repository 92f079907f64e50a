package shell_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/internal/mutants"
	"github.com/tubo-pipes/tubo/parser/shell"
	"github.com/tubo-pipes/tubo/runner"
)

// FuzzParse feeds arbitrary lines to the shell front end. Whatever the
// input, it must not panic; a refusal must be a positioned *shell.Error;
// and a line it accepts must plan into graphs without running anything.
func FuzzParse(f *testing.F) {
	for _, seed := range parseSeeds {
		f.Add(seed)
	}
	f.Fuzz(checkParse)
}

// TestParseMutants is FuzzParse on a fixed sequence of mutants
// (internal/mutants): the same inputs on every run.
func TestParseMutants(t *testing.T) {
	mutants.Run(t, mutants.Count(t, 1000), mutants.Target{
		Name:  "FuzzParse",
		Seeds: mutants.OneArg(parseSeeds),
		Dict:  mutants.Shell,
		Check: func(t *testing.T, args []string) { checkParse(t, args[0]) },
	})
}

var parseSeeds = []string{
	"ls | sort | lp",
	`printf "b\na\n" | sort`,
	"echo $(echo hi | tr a-z A-Z) > out; cat < out",
	"a && b || ! c; (cd /tmp; pwd) | { cat; }",
	"cat <<-EOF\n\tx $y\n\tEOF\n",
	"x=1 y=${x:-2} env 2>&1 >/dev/null |& cat 3<&0 4>&-",
	"while true; do :; done",
	"ls |",
	"echo 'unterminated",
	"$((1/0))",
	"echo ${x?unset}",
}

func checkParse(t *testing.T, src string) {
	_, err := shell.ParseChecked("fuzz", src)
	if err != nil {
		var se *shell.Error
		if !errors.As(err, &se) {
			t.Fatalf("error %T %v is not a *shell.Error", err, err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz:") {
			t.Fatalf("error %q does not start with the file name", err)
		}
		return
	}
	// Pipelines expands words statically and never runs anything.
	runner.New(runner.Config{Env: []string{"PATH=/nonexistent"}}).Pipelines(src)
}
