package convert_test

import (
	"errors"
	"testing"

	"github.com/tubo-pipes/tubo/convert"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/internal/mutants"
	"github.com/tubo-pipes/tubo/parser/pipeline"
)

// FuzzConvert feeds arbitrary lines to tubo convert. Whatever the input,
// it must not panic; a refusal is a positioned *graph.Error; a file it
// writes loads as a pipeline file (programs not looked up); and a file
// that loads converts back to a line, or says why not, without panicking.
func FuzzConvert(f *testing.F) {
	for _, seed := range convertSeeds {
		f.Add(seed)
	}
	f.Fuzz(checkConvert)
}

// TestConvertMutants is FuzzConvert on a fixed sequence of mutants
// (internal/mutants): the same inputs on every run.
func TestConvertMutants(t *testing.T) {
	mutants.Run(t, mutants.Count(t, 1000), mutants.Target{
		Name:  "FuzzConvert",
		Seeds: mutants.OneArg(convertSeeds),
		Dict:  mutants.Shell,
		Check: func(t *testing.T, args []string) { checkConvert(t, args[0]) },
	})
}

var convertSeeds = []string{
	"sort < in.txt | uniq -c > out.txt && echo done",
	"cat <<EOF | wc -l\none {{x}} $HOME\nEOF\n",
	"cat <<'EOF'\nkept $HOME\nEOF\n",
	"tr a-z A-Z <<< 'here' 2>>err.log",
	"seq 3 | while read x; do echo $((x*2)); done |& cat; false; echo yes",
	"LC_ALL=C sort -r 'a b' \"c\\\"d\" e\\ f",
	"x=1",
	"cd /tmp && ls",
	"a || b",
	"sleep 1 & echo",
	"! true",
	"echo \xff\xfe | cat",
	"f() { echo; }; f",
	"{ echo a; } > o | cat",
	"",
}

func checkConvert(t *testing.T, src string) {
	out, err := convert.FromLine("", src)
	if err != nil {
		var ge *graph.Error
		if !errors.As(err, &ge) {
			t.Fatalf("error %T %v is not a *graph.Error", err, err)
		}
		return
	}
	g, err := pipeline.LoadBytes("c.yaml", []byte(out), pipeline.Options{SkipLookup: true, TempDir: "/tmp/tubo-fuzz"})
	if err != nil {
		t.Fatalf("%q converts to a file that does not load: %v\n%s", src, err, out)
	}
	convert.ToLine(g)
}
