package runner

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// The words of one iteration of the loop benchmark (bench/shell.go's
// while row): `[ $i -lt 100000 ]` and `i=$((i+1))`, expanded by tubo's
// expansion and by mvdan.cc/sh/v3/expand, given the same variable. The
// library gets its Config made once, its best case; docs/shell.md gives
// the numbers.

func loopWords(b *testing.B) ([]*syntax.Word, *syntax.Word) {
	f, err := syntax.NewParser().Parse(strings.NewReader("[ $i -lt 100000 ]; i=$((i+1))"), "")
	if err != nil {
		b.Fatal(err)
	}
	test := f.Stmts[0].Cmd.(*syntax.CallExpr).Args
	incr := f.Stmts[1].Cmd.(*syntax.CallExpr).Assigns[0].Value
	return test, incr
}

func BenchmarkLoopWordsTubo(b *testing.B) {
	test, incr := loopWords(b)
	r := New(Config{})
	r.assign("i", "41")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.fields(test); err != nil {
			b.Fatal(err)
		}
		if _, err := r.assignValue(incr); err != nil {
			b.Fatal(err)
		}
	}
}

// loopEnv is the variable i for the library.
type loopEnv struct{ i expand.Variable }

func (e *loopEnv) Get(name string) expand.Variable {
	if name == "i" {
		return e.i
	}
	return expand.Variable{}
}

func (e *loopEnv) Each(f func(string, expand.Variable) bool) { f("i", e.i) }

func BenchmarkLoopWordsLibrary(b *testing.B) {
	test, incr := loopWords(b)
	cfg := &expand.Config{Env: &loopEnv{i: expand.Variable{Set: true, Kind: expand.String, Str: "41"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := expand.Fields(cfg, test...); err != nil {
			b.Fatal(err)
		}
		if _, err := expand.Literal(cfg, incr); err != nil {
			b.Fatal(err)
		}
	}
}
