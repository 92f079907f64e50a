package record_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/record"
)

// fixture is a directory with a program (a copy of cat), two inputs, and a
// pipeline that writes two outputs from them:
//
//	in.txt → prog → out.txt        (file nodes)
//	sort <in2.txt >out2.txt        (redirections, LC_ALL=C)
type fixture struct {
	dir, prog string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	bin := filepath.Join(f.dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	f.prog = filepath.Join(bin, "prog")
	copyFile(t, "/bin/cat", f.prog)
	f.write(t, "in.txt", "one\ntwo\nthree\n")
	f.write(t, "in2.txt", "b\na\n")
	f.write(t, "pipeline.yaml", "# stands in for the pipeline file\n")
	return f
}

func (f *fixture) write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Write a new file and rename it into place, as an upgrade would.
	tmp := to + ".new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) graph() *graph.Graph {
	g := &graph.Graph{Name: "copy"}
	g.Add(&graph.Node{ID: "in", Kind: graph.File, Path: "in.txt"})
	g.Add(&graph.Node{ID: "copy", Argv: []string{f.prog}})
	g.Add(&graph.Node{ID: "out", Kind: graph.File, Path: "out.txt"})
	g.Connect(graph.Endpoint{Node: "in"}, graph.Endpoint{Node: "copy", FD: 0}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "copy", FD: 1}, graph.Endpoint{Node: "out"}, graph.Pos{})
	g.Add(&graph.Node{ID: "sort", Argv: []string{"sort"}, Env: []string{"LC_ALL=C"}, Redirs: []graph.Redir{
		{Kind: graph.Open, FD: 0, Path: "in2.txt", Flag: os.O_RDONLY},
		{Kind: graph.Open, FD: 1, Path: "out2.txt", Flag: os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
	}})
	return g
}

// run runs the fixture's pipeline in its directory.
func (f *fixture) run() (*graph.Graph, *plan.Plan, *executor.Result, error) {
	g := f.graph()
	p, err := plan.Build(g, plan.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, nil, err
	}
	defer null.Close()
	res, err := executor.Run(context.Background(), p, executor.Options{Dir: f.dir, Stdin: null, Stdout: null, Stderr: null})
	return g, p, res, err
}

// record runs the pipeline, records it, and reads the record back.
func (f *fixture) record(t *testing.T) *record.Manifest {
	t.Helper()
	g, p, res, err := f.run()
	if err != nil {
		t.Fatal(err)
	}
	m, err := record.FromRun(g, p, res, record.Source{
		Version: "test", PipelineFile: filepath.Join(f.dir, "pipeline.yaml"),
		Params: map[string]string{"n": "3"}, Dir: f.dir, Time: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "run.json")
	if err := record.Write(path, m); err != nil {
		t.Fatal(err)
	}
	m, err = record.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRecord(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	if m.Format != record.Format || m.TuboVersion != "test" || m.Dir != f.dir || m.Params["n"] != "3" || m.Name != "copy" {
		t.Errorf("manifest header: %+v", m)
	}
	if len(m.Processes) != 2 {
		t.Fatalf("processes: %+v", m.Processes)
	}
	cp, sort := m.Processes[0], m.Processes[1]
	if cp.Executable != f.prog || len(cp.SHA256) != 64 || cp.Status != 0 {
		t.Errorf("copy: %+v", cp)
	}
	if !filepath.IsAbs(sort.Executable) || !strings.HasSuffix(sort.Executable, "/sort") || len(sort.SHA256) != 64 {
		t.Errorf("sort: %+v", sort)
	}
	if len(sort.Env) != 1 || sort.Env[0] != "LC_ALL=C" {
		t.Errorf("sort env: %q", sort.Env)
	}
	paths := func(fs []*record.File) (out []string) {
		for _, f := range fs {
			if len(f.SHA256) != 64 {
				t.Errorf("%s not hashed: %+v", f.Path, f)
			}
			out = append(out, f.Path)
		}
		return out
	}
	if got := strings.Join(paths(m.Inputs), " "); got != "in.txt in2.txt" {
		t.Errorf("inputs: %s", got)
	}
	if got := strings.Join(paths(m.Outputs), " "); got != "out.txt out2.txt" {
		t.Errorf("outputs: %s", got)
	}
	if m.Outputs[0].Size != 14 || m.Outputs[1].Size != 4 {
		t.Errorf("output sizes: %d %d", m.Outputs[0].Size, m.Outputs[1].Size)
	}
}

func TestVerifySame(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() {
		t.Errorf("verify of an unchanged run:\n%s", strings.Join(d.Lines(), "\n"))
	}
}

func TestVerifyInputChanged(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	f.write(t, "in.txt", "four\n")
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	in, out := d.Of(record.KindInput), d.Of(record.KindOutput)
	if len(in) != 1 || in[0].Subject != "in.txt" {
		t.Errorf("input changes: %v", in)
	}
	if len(out) != 1 || out[0].Subject != "out.txt" || !strings.Contains(out[0].Detail, "(14 bytes) → sha256") {
		t.Errorf("output changes: %v", out)
	}
	if ex := d.Of(record.KindExecutable); len(ex) != 0 {
		t.Errorf("executable changes: %v", ex)
	}
	t.Logf("diff:\n%s", strings.Join(d.Lines(), "\n"))
}

func TestVerifyExecutableChanged(t *testing.T) {
	f := newFixture(t)
	if _, err := os.Stat("/usr/bin/tac"); err != nil {
		t.Skip("no /usr/bin/tac to stand in for a changed program")
	}
	m := f.record(t)
	copyFile(t, "/usr/bin/tac", f.prog)
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	ex := d.Of(record.KindExecutable)
	if len(ex) != 1 || ex[0].Subject != f.prog || !strings.Contains(ex[0].Detail, "run by copy") {
		t.Errorf("executable changes: %v", ex)
	}
	if out := d.Of(record.KindOutput); len(out) != 1 || out[0].Subject != "out.txt" {
		t.Errorf("output changes: %v", out) // tac reverses the lines
	}
	if in := d.Of(record.KindInput); len(in) != 0 {
		t.Errorf("input changes: %v", in)
	}
	t.Logf("diff:\n%s", strings.Join(d.Lines(), "\n"))
}

func TestVerifyScriptReplacesProgram(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	f.write(t, "bin/prog.new", "#!/bin/sh\nexec cat\n")
	os.Chmod(filepath.Join(f.dir, "bin/prog.new"), 0o755)
	os.Rename(filepath.Join(f.dir, "bin/prog.new"), f.prog)
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	// Same output, different program: only the executable is named.
	if len(d.Changes) != 1 || d.Changes[0].Kind != record.KindExecutable {
		t.Errorf("diff: %v", d.Lines())
	}
}

func TestVerifyMissingOutputAndStatus(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	os.Remove(filepath.Join(f.dir, "in2.txt"))
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(d.Lines(), "\n")
	for _, want := range []string{
		"input in2.txt: changed: sha256 ",
		"→ missing",
		"process sort status: exit 0 → not started (in2.txt: No such file or directory)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
}

func TestVerifyPipelineChanged(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	f.write(t, "pipeline.yaml", "# edited\n")
	d, err := record.Verify(m, f.run)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 1 || d.Changes[0].Kind != record.KindPipeline || d.Changes[0].Subject != filepath.Join(f.dir, "pipeline.yaml") {
		t.Errorf("diff: %v", d.Lines())
	}
}

func TestReadRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte(`{"format": 99}`), 0o644)
	if _, err := record.Read(path); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("Read: %v", err)
	}
}
