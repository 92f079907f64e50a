package pipeline

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
)

// foreach makes one copy per item, from a list param, a written list or
// a glob, with {{item…}} in run, env, cwd and in-place files.
func TestForeachForms(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.log", "a.log", "c.txt"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644)
	}
	src := `params: {files: [x/one.tar.gz, two]}
stages:
  p:
    foreach: "{{files}}"
    run: [echo, "{{item}}", "{{item.index}}", "{{item.base}}", "{{item.stem}}", "{{item.dir}}", "{{item.ext}}", "{{replica}}/{{replicas}}"]
    env: {ITEM: "{{item.stem}}"}
  q:
    foreach: [first, "{{files...}}"]
    shell: "echo {{item}}"
  g:
    foreach: {glob: "*.log"}
    run: [cat, "{{item}}"]
    stdout: {file: "out/{{item.stem}}.copy"}
`
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	g, err := Load(path, Options{SkipLookup: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Node("p[0]").Argv, []string{"echo", "x/one.tar.gz", "0", "one.tar.gz", "one.tar", "x", ".gz", "0/2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("p[0] argv %q\nwant %q", got, want)
	}
	if got, want := g.Node("p[1]").Argv, []string{"echo", "two", "1", "two", "two", ".", "", "1/2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("p[1] argv %q\nwant %q", got, want)
	}
	if !contains(g.Node("p[1]").Env, "ITEM=two") || g.Node("p[1]").Item != "two" {
		t.Errorf("p[1] env %q item %q", g.Node("p[1]").Env, g.Node("p[1]").Item)
	}
	if g.Node("q[0]").Shell != "echo first" || g.Node("q[2]").Shell != "echo two" || g.Node("q[3]") != nil {
		t.Errorf("q: %q %q", g.Node("q[0]").Shell, g.Node("q[2]").Shell)
	}
	// The glob's matches, sorted and absolute; each copy writes its file.
	if g.Node("g[0]").Argv[1] != filepath.Join(dir, "a.log") || g.Node("g[1]").Argv[1] != filepath.Join(dir, "b.log") || g.Node("g[2]") != nil {
		t.Errorf("g: %q %q", g.Node("g[0]").Argv, g.Node("g[1]").Argv)
	}
	if f := g.Node("g[1].stdout.file"); f == nil || f.Path != filepath.Join(dir, "out", "b.copy") {
		t.Errorf("g[1]'s file: %+v", f)
	}
}

func TestForeachErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"stages:\n  a: {foreach: {glob: 'nothing-*.x'}, run: [x]}\n",
			`p.yaml:2:23: stage a: foreach: glob "nothing-*.x" matches nothing in `},
		{"params: {s: x}\nstages:\n  a: {foreach: '{{s}}', run: [x]}\n",
			`p.yaml:3:16: stage a: foreach: {{s}} is not a list param; write a list, or {glob: PATTERN}`},
		{"stages:\n  a: {foreach: 'a b', run: [x]}\n",
			`p.yaml:2:16: stage a: foreach: want a list param as "{{name}}", a list like [a, b], or {glob: PATTERN}`},
		{"stages:\n  a: {foreach: [], run: [x]}\n",
			`p.yaml:2:16: stage a: foreach: the list is empty (allow_empty: true runs no copies instead)`},
		{"stages:\n  a: {foreach: [x], replicas: 2, run: [x]}\n",
			`p.yaml:2:7: stage a: give foreach: (one copy per item) or replicas: (N copies), not both`},
		{"stages:\n  a: {run: [echo, '{{item}}']}\n",
			`p.yaml:2:20: {{item}} is only known in a stage with foreach: (its run, shell, env, cwd, timeout and files)`},
		{"stages:\n  a: {foreach: [x], run: [echo, '{{item.name}}']}\n",
			`p.yaml:2:34: unknown placeholder {{item.name}}`},
		{"stages:\n  a: {foreach: [x, y], run: [echo], stdout: {file: out.txt}}\n",
			`p.yaml:2:45: a[0] and a[1] both write /tmp/out.txt, and each open truncates it; give each its own file (out/{{item.stem}}.txt) or append: true`},
		{"stages:\n  a: {run: [echo], allow_empty: true}\n",
			`p.yaml:2:20: stage a: allow_empty applies only with foreach:`},
		{"stages:\n  a: {foreach: {glob: x, globs: y}, run: [echo]}\n",
			`p.yaml:2:26: stage a: foreach: unknown key "globs"; did you mean "glob"?`},
		{"stages:\n  g: {run: [seq, 3], stdout: w}\n  w: {foreach: [a, b, c], run: [cat], max_parallel: 2}\n",
			`p.yaml:3:3: stage w: max_parallel: its copies are joined to tee g.stdout.tee by a live stream, so all must run at once (one waiting for its turn would hold the stream up, and the run would hang); drop max_parallel, or go through files`},
		{"stages:\n  w: {foreach: [a, b], run: [cat], max_parallel: 0}\n",
			`p.yaml:2:50: stage w: max_parallel: 0 is not a number of processes ≥ 1`},
	}
	for _, tt := range tests {
		_, err := LoadBytes("/tmp/p.yaml", []byte(tt.src), Options{SkipLookup: true, TempDir: "/tmp/tubo-test"})
		got := ""
		if err != nil {
			got = strings.ReplaceAll(err.Error(), "/tmp/p.yaml", "p.yaml")
		}
		if err == nil || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// An empty glob with allow_empty: true runs no copies, and what waits for
// the stage (after:, a merge it feeds) goes on without it.
func TestForeachAllowEmpty(t *testing.T) {
	_, out, errs, res := runFile(t, `
merges: {m: {}}
stages:
  none:
    foreach: {glob: "no-such-*.log"}
    allow_empty: true
    run: [cat, "{{item}}"]
    stdout: m
  other: {run: [echo, other], stdout: m}
  after_none: {run: [echo, after], after: [none]}
`)
	if res.Status != 0 || sortLines(out) != "after\nother\n" {
		t.Errorf("status %d, out %q, stderr %q", res.Status, out, errs)
	}
}

// max_parallel: at most N copies run at once, the others wait their turn;
// --jobs (Options.Jobs) replaces the file's bound.
func TestMaxParallel(t *testing.T) {
	src := `
max_parallel: 2
stages:
  job:
    foreach: [a, b, c, d, e, f]
    run: [sh, -c, 'sleep 0.05; echo {{item}}']
`
	_, out, errs, res := runFile(t, src)
	if res.Status != 0 || sortLines(out) != "a\nb\nc\nd\ne\nf\n" {
		t.Fatalf("status %d, out %q, stderr %q", res.Status, out, errs)
	}
	if n := maxOverlap(res, "job"); n > 2 {
		t.Errorf("%d copies ran at once; max_parallel is 2", n)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	g, err := Load(path, Options{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _, res = runGraph(t, g)
	if n := maxOverlap(res, "job"); res.Status != 0 || n != 1 {
		t.Errorf("--jobs 1: status %d, %d copies at once", res.Status, n)
	}
}

// maxOverlap is the most copies of a stage that were running at once, by
// their start and end times.
func maxOverlap(res *executor.Result, group string) int {
	type ev struct {
		t     time.Time
		delta int
	}
	var evs []ev
	for _, pr := range res.Procs {
		if pr.Node.Name() == group && pr.Pid != 0 {
			evs = append(evs, ev{pr.Start, 1}, ev{pr.End, -1})
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].t.Equal(evs[j].t) {
			return evs[i].delta < evs[j].delta
		}
		return evs[i].t.Before(evs[j].t)
	})
	n, most := 0, 0
	for _, e := range evs {
		n += e.delta
		most = max(most, n)
	}
	return most
}

// pipelines/perfile.yaml counts the errors of each log into a file of its
// own, two files at a time, and adds them up.
func TestRunPerfilePipeline(t *testing.T) {
	out := t.TempDir()
	g := loadFile(t, "../../pipelines/perfile.yaml", "out="+out)
	stdout, errs, res := runGraph(t, g)
	if res.Status != 0 || stdout != "app.errors:2\ndb.errors:0\nweb.errors:1\n3 errors\n" {
		t.Fatalf("status %d, stdout %q, stderr %q", res.Status, stdout, errs)
	}
	if n := maxOverlap(res, "count"); n > 2 {
		t.Errorf("%d counts at once", n)
	}
	for _, f := range []string{"app", "db", "web"} {
		if _, err := os.Stat(filepath.Join(out, f+".errors")); err != nil {
			t.Error(err)
		}
	}
}
