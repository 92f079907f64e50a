// Package mutants runs a fuzz target's check on inputs made from its seeds
// by a fixed sequence of mutations: the same inputs, in the same order, on
// every run and every machine.
//
// Go's coverage-guided fuzzer (go test -fuzz) cannot do that even with an
// execution count: its mutator is seeded from the clock and its workers
// fuzz in 100 ms time slices, so two runs try different inputs and one of
// them can find a bug the other does not. That is what it is for, and
// `make fuzz-explore` runs it; what it finds is kept in testdata/fuzz as a
// seed. CI runs this package's mutants instead (`make fuzz`), so that a CI
// result depends only on the commit.
//
// Only tests import this package.
package mutants

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Count is how many mutants Run makes: $TUBO_MUTANTS when set (make fuzz
// sets 20000), else def.
func Count(t testing.TB, def int) int {
	s := os.Getenv("TUBO_MUTANTS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("TUBO_MUTANTS=%q: want a count of inputs, such as 20000", s)
	}
	return n
}

// hangAfter is how long one input may take before Run calls it a hang and
// ends the test binary, naming the input. The checks take well under a
// second; this bound is for a genuine hang, race detector and a loaded
// machine included.
const hangAfter = 60 * time.Second

// Target says what to mutate and how to check it.
type Target struct {
	// Name is the fuzz target's name, such as "FuzzConvert": its corpus
	// is testdata/fuzz/<Name>, and a failing input is written there.
	Name string
	// Seeds are the target's f.Add seeds, one []string per call, one
	// string per argument (a []byte argument as a string).
	Seeds [][]string
	// Dict holds the tokens that mean something to the input's language
	// ("|", "$(", "{{"…); mutations insert them. Nil uses bytes only.
	Dict []string
	// Types are the arguments' Go types, "string" or "[]byte", for the
	// corpus file written on failure; nil means all strings.
	Types []string
	// Check is the fuzz function's body: it fails t for a bad input.
	Check func(t *testing.T, args []string)
}

// OneArg gives the seeds of a target with one string argument in the
// form Target.Seeds takes.
func OneArg(seeds []string) [][]string {
	out := make([][]string, len(seeds))
	for i, s := range seeds {
		out[i] = []string{s}
	}
	return out
}

// Run checks every corpus entry in testdata/fuzz/<Name>, then n mutants.
// A failing mutant is written to the corpus, so that plain `go test`
// (which runs the corpus) repeats it from then on.
func Run(t *testing.T, n int, tg Target) {
	t.Helper()
	pool := append([][]string(nil), tg.Seeds...)
	pool = append(pool, readCorpus(t, tg.Name)...)
	base := len(pool) // seeds and corpus: never dropped from the pool
	if base == 0 {
		t.Fatalf("%s: no seeds to mutate", tg.Name)
	}
	// The generator's seed is the target's name: the same sequence on
	// every run, a different one per target.
	h := fnv.New64a()
	h.Write([]byte(tg.Name))
	m := &mutator{rng: rand.New(rand.NewPCG(h.Sum64(), 0x7475626f)), dict: tg.Dict}

	for i := 0; i < n; i++ {
		var args []string
		// Half the time build on an earlier mutant, so that mutations
		// stack; otherwise start again from a seed.
		if i > 0 && m.rng.IntN(2) == 0 {
			args = pool[len(pool)-1-m.rng.IntN(min(len(pool), 64))]
		} else {
			args = pool[m.rng.IntN(base)]
		}
		args = m.mutate(args, pool)
		if !check(t, tg, i, args) {
			return
		}
		pool = append(pool, args)
		if len(pool) > base+4096 {
			pool = append(pool[:base], pool[len(pool)-1024:]...)
		}
	}
}

// check runs one input in a subtest of its own, so that a t.Fatal ends
// only it, and reports the input when it fails or panics.
func check(t *testing.T, tg Target, i int, args []string) bool {
	hang := time.AfterFunc(hangAfter, func() {
		panic(fmt.Sprintf("%s: mutant %d still running after %s: %s", tg.Name, i, hangAfter, quote(args)))
	})
	defer hang.Stop()
	var panicked string
	ok := t.Run(strconv.Itoa(i), func(t *testing.T) {
		defer func() {
			if v := recover(); v != nil {
				panicked = fmt.Sprintf("panic: %v\n%s", v, debug.Stack())
				t.Fail()
			}
		}()
		tg.Check(t, args)
	})
	if ok {
		return true
	}
	path := writeCorpus(t, tg, args)
	t.Errorf("%s fails on mutant %d: %s\n%s\nwritten to %s; `go test -run=%s/%s` repeats it",
		tg.Name, i, quote(args), panicked, path, tg.Name, filepath.Base(path))
	return false
}

func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, ", ")
}

// readCorpus reads testdata/fuzz/<name>/*, the files go test -fuzz writes:
// a "go test fuzz v1" line, then one Go literal per argument.
func readCorpus(t *testing.T, name string) [][]string {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	var out [][]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		args, err := parseCorpus(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, args)
	}
	return out
}

func parseCorpus(data []byte) ([]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, fmt.Errorf(`does not start with "go test fuzz v1"`)
	}
	var args []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		open := strings.IndexByte(line, '(')
		if open < 0 || !strings.HasSuffix(line, ")") {
			return nil, fmt.Errorf("%q: want string(\"…\") or []byte(\"…\")", line)
		}
		switch typ := line[:open]; typ {
		case "string", "[]byte":
		default:
			return nil, fmt.Errorf("%q: type %s: only string and []byte arguments are read", line, typ)
		}
		s, err := strconv.Unquote(line[open+1 : len(line)-1])
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		args = append(args, s)
	}
	return args, sc.Err()
}

// writeCorpus writes args as go test -fuzz would, named by their hash.
func writeCorpus(t *testing.T, tg Target, args []string) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for i, a := range args {
		typ := "string"
		if i < len(tg.Types) {
			typ = tg.Types[i]
		}
		fmt.Fprintf(&b, "%s(%s)\n", typ, strconv.Quote(a))
	}
	sum := sha256.Sum256([]byte(b.String()))
	dir := filepath.Join("testdata", "fuzz", tg.Name)
	path := filepath.Join(dir, fmt.Sprintf("%x", sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
	} else if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Log(err)
	}
	return path
}
