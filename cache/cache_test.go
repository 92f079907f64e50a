package cache_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/cache"
	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/parser/pipeline"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/stream"
)

func init() { executor.Builtins = stream.RunNode }

// project is a pipeline file in a directory of its own.
type project struct {
	t   *testing.T
	dir string
}

func newProject(t *testing.T, yaml string, files map[string]string) *project {
	p := &project{t: t, dir: t.TempDir()}
	p.write("p.yaml", yaml)
	for name, text := range files {
		p.write(name, text)
	}
	return p
}

func (p *project) write(name, text string) {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, name))
	return string(b)
}

// run loads, prepares the cache, runs and records; it returns which
// stages ran (sorted) and which were cached.
func (p *project) run(opt cache.Options, set ...string) (ran, cached []string) {
	p.t.Helper()
	g, err := pipeline.Load(filepath.Join(p.dir, "p.yaml"), pipeline.Options{Set: set})
	if err != nil {
		p.t.Fatal(err)
	}
	opt.Dir, opt.Name = p.dir, "p.yaml"
	c, err := cache.Prepare(g, opt)
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close()
	pl, err := plan.Build(g, plan.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	defer null.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := executor.Run(ctx, pl, executor.Options{Stdout: null, Stderr: null, Grace: time.Second})
	if err != nil {
		p.t.Fatal(err)
	}
	if err := c.Record(res); err != nil {
		p.t.Fatal(err)
	}
	for _, pr := range res.Procs {
		switch {
		case pr.Cached:
			cached = append(cached, pr.Node.ID)
		case pr.Pid != 0:
			ran = append(ran, pr.Node.ID)
		}
	}
	sort.Strings(ran)
	sort.Strings(cached)
	return ran, cached
}

func (p *project) expect(what string, opt cache.Options, wantRan, wantCached string, set ...string) {
	p.t.Helper()
	ran, cached := p.run(opt, set...)
	if strings.Join(ran, " ") != wantRan || strings.Join(cached, " ") != wantCached {
		p.t.Errorf("%s: ran [%s] cached [%s]; want ran [%s] cached [%s]", what, strings.Join(ran, " "), strings.Join(cached, " "), wantRan, wantCached)
	}
}

const build = `
params: {suffix: "!"}
path: [bin]
stages:
  sort:
    run: [sort, in.txt]
    cwd: .
    inputs: [in.txt]
    stdout: {file: sorted.txt}
    outputs: [sorted.txt]
  shout:
    run: [shout, "{{suffix}}"]
    cwd: .
    inputs: [sorted.txt]
    after: [sort]
    outputs: [shouted.txt]
  show:
    run: [cat, shouted.txt]
    cwd: .
    after: [shout]
`

const shoutScript = "#!/bin/sh\nsed \"s/\\$/$1/\" sorted.txt > shouted.txt\n"

// The make test suite's cases: a second run is all cached; touching an
// input changes nothing, editing it re-runs what depends on it; deleting
// an output re-runs its stage; a changed param or executable re-runs the
// stage it reaches; --force re-runs.
func TestUpToDate(t *testing.T) {
	p := newProject(t, build, map[string]string{"in.txt": "b\na\n", "bin/shout": shoutScript})
	none := cache.Options{}
	p.expect("first run", none, "shout show sort", "")
	if got := p.read("shouted.txt"); got != "a!\nb!\n" {
		t.Fatalf("shouted.txt = %q", got)
	}
	p.expect("second run", none, "show", "shout sort")

	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(p.dir, "in.txt"), old, old)
	p.expect("touched input (content decides)", none, "show", "shout sort")

	p.write("in.txt", "b\na\nc\n")
	p.expect("edited input", none, "shout show sort", "")
	if got := p.read("shouted.txt"); got != "a!\nb!\nc!\n" {
		t.Fatalf("shouted.txt = %q", got)
	}

	os.Remove(filepath.Join(p.dir, "shouted.txt"))
	p.expect("deleted output", none, "shout show", "sort")

	p.write("shouted.txt", "edited by hand\n")
	p.expect("output edited by hand", none, "shout show", "sort")

	p.expect("changed param", none, "shout show", "sort", "suffix=?")
	p.expect("same param again", none, "show", "shout sort", "suffix=?")

	p.write("bin/shout", shoutScript+"# a new version\n")
	p.expect("changed executable", none, "shout show", "sort", "suffix=?")

	p.expect("--force=sort", cache.Options{ForceStages: []string{"sort"}}, "show sort", "shout", "suffix=?")
	p.expect("--force", cache.Options{Force: true}, "shout show sort", "", "suffix=?")
	p.expect("after --force", none, "show", "shout sort", "suffix=?")

	// A state tubo cannot read costs a full run, nothing worse.
	p.write(".tubo/cache/p.yaml.json", "{not json")
	p.expect("corrupt state", none, "shout show sort", "", "suffix=?")
}

// A stage that fails keeps no record, and runs again next time; one that
// does not make an output it declares is not recorded either.
func TestFailureIsNotCached(t *testing.T) {
	p := newProject(t, `
on_failure: let-finish
stages:
  make:
    run: [sh, -c, 'echo x > out.txt; test -e ok']
    cwd: .
    outputs: [out.txt]
  lazy:
    run: [true]
    outputs: [never-made.txt]
`, nil)
	p.expect("failing", cache.Options{}, "lazy make", "")
	p.expect("failed before", cache.Options{}, "lazy make", "")
	p.write("ok", "")
	p.expect("succeeds", cache.Options{}, "lazy make", "")
	p.expect("then cached", cache.Options{}, "lazy", "make")
}

// Streams: a stage that only feeds cached stages is skipped with them;
// one that also feeds a stage that runs runs, and a cached stage it feeds
// stays cached (its key includes the producer's, which did not change).
func TestStreamsAndCache(t *testing.T) {
	p := newProject(t, `
stages:
  gen: {run: [seq, 5], stdout: sort}
  sort:
    run: [sort, -r]
    stdout: {file: sorted.txt}
    outputs: [sorted.txt]
`, nil)
	p.expect("first", cache.Options{}, "gen sort", "")
	p.expect("second: gen only feeds a cached stage", cache.Options{}, "", "gen sort")
	if got := p.read("sorted.txt"); got != "5\n4\n3\n2\n1\n" {
		t.Errorf("sorted.txt = %q", got)
	}
	q := newProject(t, `
stages:
  gen: {run: [seq, 5], stdout: [sort, count]}
  sort:
    run: [sort, -r]
    stdout: {file: sorted.txt}
    outputs: [sorted.txt]
  count: {run: [wc, -l]}
`, nil)
	q.expect("first", cache.Options{}, "count gen sort", "")
	q.expect("second: gen runs for count; sort stays cached", cache.Options{}, "count gen", "sort")
	// A fresh stage streaming into one that runs must run: the stream
	// cannot be replayed.
	r := newProject(t, `
stages:
  gen:
    run: [sh, -c, 'seq 5; touch gen.stamp']
    cwd: .
    stdout: show
    outputs: [gen.stamp]
  show: {run: [cat]}
`, nil)
	r.expect("first", cache.Options{}, "gen show", "")
	r.expect("second: show needs gen's stream", cache.Options{}, "gen show", "")
}

// foreach copies are cached one by one: editing one input re-runs its copy.
func TestForeachCache(t *testing.T) {
	p := newProject(t, `
stages:
  prep: {run: [mkdir, -p, out], cwd: .}
  count:
    foreach: {glob: "logs/*.log"}
    run: [wc, -l, "{{item}}"]
    stdout: {file: "out/{{item.stem}}.n"}
    inputs: ["{{item}}"]
    outputs: ["out/{{item.stem}}.n"]
    after: [prep]
`, map[string]string{"logs/a.log": "1\n", "logs/b.log": "1\n2\n"})
	p.expect("first", cache.Options{}, "count[0] count[1] prep", "")
	p.expect("second", cache.Options{}, "prep", "count[0] count[1]")
	p.write("logs/b.log", "1\n2\n3\n")
	p.expect("one edited", cache.Options{}, "count[1] prep", "count[0]")
}

// Two runs of one pipeline at once take turns: the slow stage runs once,
// and the second run finds it cached.
func TestConcurrentRuns(t *testing.T) {
	tubo, err := filepath.Abs("../bin/tubo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tubo); err != nil {
		t.Skip("bin/tubo not built (run make build)")
	}
	p := newProject(t, `
stages:
  slow:
    run: [sh, -c, 'echo run >> runs.log; sleep 0.3; echo done > out.txt']
    cwd: .
    outputs: [out.txt]
`, nil)
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(tubo, "run", filepath.Join(p.dir, "p.yaml"))
			cmd.WaitDelay = 5 * time.Second
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("run %d: %v: %s", i, err, b)
			}
			outs[i] = string(b)
		}(i)
	}
	wg.Wait()
	if got := p.read("runs.log"); got != "run\n" {
		t.Errorf("the stage ran %d times; want once", strings.Count(got, "run"))
	}
	if p.read("out.txt") != "done\n" {
		t.Errorf("out.txt = %q", p.read("out.txt"))
	}
}
