package record_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// rerun plans and runs the fixture's pipeline in its directory.
func (f *fixture) rerun() record.Rerun {
	return record.Rerun{
		Plan: func() (*graph.Graph, *plan.Plan, error) {
			g := f.graph()
			p, err := plan.Build(g, plan.Options{})
			return g, p, err
		},
		Run: func(g *graph.Graph, p *plan.Plan) (*executor.Result, error) {
			null, err := os.Open(os.DevNull)
			if err != nil {
				return nil, err
			}
			defer null.Close()
			return executor.Run(context.Background(), p, executor.Options{Dir: f.dir, Stdin: null, Stdout: null, Stderr: null})
		},
	}
}

// run runs the fixture's pipeline once.
func (f *fixture) run() (*graph.Graph, *plan.Plan, *executor.Result, error) {
	rr := f.rerun()
	g, p, err := rr.Plan()
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := rr.Run(g, p)
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
	// Inside the project, relative to the pipeline's directory.
	if cp.Executable != "bin/prog" || m.Abs(cp.Executable) != f.prog || len(cp.SHA256) != 64 || cp.Status != 0 {
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
	d, err := record.Verify(m, f.rerun())
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
	d, err := record.Verify(m, f.rerun())
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
	d, err := record.Verify(m, f.rerun())
	if err != nil {
		t.Fatal(err)
	}
	ex := d.Of(record.KindExecutable)
	if len(ex) != 1 || ex[0].Subject != "bin/prog" || !strings.Contains(ex[0].Detail, "run by copy") {
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
	d, err := record.Verify(m, f.rerun())
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
	d, err := record.Verify(m, f.rerun())
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

// TestVerifyPipelineChanged: a pipeline file that is not the recorded one
// is refused before anything runs (it used to be re-run, and the change
// said afterwards), and the diff tells nothing of the file's content.
func TestVerifyPipelineChanged(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	f.write(t, "pipeline.yaml", "# edited\n")
	os.Remove(filepath.Join(f.dir, "out.txt"))
	rr := f.rerun()
	rr.Plan = func() (*graph.Graph, *plan.Plan, error) {
		t.Error("the pipeline was loaded")
		return nil, nil, errors.New("loaded")
	}
	d, err := record.Verify(m, rr)
	var refused *record.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Verify: %v, want a refusal", err)
	}
	if len(d.Changes) != 1 || d.Changes[0].Kind != record.KindPipeline || d.Changes[0].Subject != "pipeline.yaml" {
		t.Errorf("diff: %v", d.Lines())
	}
	if got := d.Lines()[0]; strings.Contains(got, "9 bytes") || !strings.HasSuffix(got, "the file is different") {
		t.Errorf("the diff describes the file now: %s", got)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "out.txt")); err == nil {
		t.Error("the pipeline ran")
	}
}

// TestVerifyReadsOnlyWhatTheRunUses: paths a record names but the pipeline
// does not use (an input, an output, an executable) are neither read nor
// hashed, so a record cannot make verify tell the hash or size of any file
// (it used to print them for /etc/shadow).
func TestVerifyReadsOnlyWhatTheRunUses(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("the secret\n"), 0o600)
	sum := sha256.Sum256([]byte("the secret\n"))
	m.Inputs = append(m.Inputs, &record.File{Path: secret, SHA256: "00", Size: 1})
	m.Outputs = append(m.Outputs, &record.File{Path: secret + "2", SHA256: "00", Size: 1})
	m.Processes[1].Executable = secret
	d, err := record.Verify(m, f.rerun())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(d.Lines(), "\n")
	for _, want := range []string{
		"input " + secret + ": not read by the pipeline: not checked",
		"output " + secret + "2: not written by the pipeline: not checked",
		"executable sort: " + secret + " now resolves to /",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, hex.EncodeToString(sum[:])[:12]) || strings.Contains(got, "11 bytes") {
		t.Errorf("the diff tells the secret's hash or size:\n%s", got)
	}
}

// TestVerifyTamperedOutput: an output whose content on disk is not what
// the record says the run wrote is reported before the re-run, which is
// refused (the file stays as it is) unless Force.
func TestVerifyTamperedOutput(t *testing.T) {
	f := newFixture(t)
	m := f.record(t)
	out := filepath.Join(f.dir, "out.txt")
	f.write(t, "out.txt", "edited by hand\n")
	d, err := record.Verify(m, f.rerun())
	var refused *record.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "out.txt") {
		t.Fatalf("Verify: %v, want a refusal naming out.txt", err)
	}
	if o := d.Of(record.KindOutput); len(o) != 1 || !strings.Contains(o[0].Detail, "on disk, not what the run wrote") {
		t.Errorf("output changes: %v", o)
	}
	if b, _ := os.ReadFile(out); string(b) != "edited by hand\n" {
		t.Errorf("out.txt overwritten: %q", b)
	}
	rr := f.rerun()
	rr.Force = true
	d, err = record.Verify(m, rr)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "one\ntwo\nthree\n" {
		t.Errorf("out.txt after the forced re-run: %q", b)
	}
	if o := d.Of(record.KindOutput); len(o) != 1 {
		t.Errorf("after --force, output changes: %v (want the one found on disk)", o)
	}
}

// TestHashBound: a file over MaxHashed is recorded and compared by size
// only, and never read to its end.
func TestHashBound(t *testing.T) {
	defer func(n int64) { record.MaxHashed = n }(record.MaxHashed)
	record.MaxHashed = 8
	f := newFixture(t)
	m := f.record(t)
	in := m.Inputs[0] // in.txt, 14 bytes
	if in.SHA256 != "" || in.Size != 14 || !strings.Contains(in.Note, "not hashed: over the bound of 8 bytes") {
		t.Errorf("in.txt: %+v", in)
	}
	if m.Inputs[1].SHA256 == "" {
		t.Errorf("in2.txt (4 bytes) not hashed: %+v", m.Inputs[1])
	}
	d, err := record.Verify(m, f.rerun())
	if err != nil || !d.Empty() {
		t.Errorf("verify of an unchanged run: %v %v", err, d.Lines())
	}
	f.write(t, "in.txt", "one\ntwo\nthree\nfour\n")
	d, err = record.Verify(m, f.rerun())
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Of(record.KindInput); len(c) != 1 || !strings.Contains(c[0].Detail, "(14 bytes) → not hashed") {
		t.Errorf("input changes: %v", c)
	}
}

func TestReadRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte(`{"format": 99}`), 0o644)
	if _, err := record.Read(path); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("Read: %v", err)
	}
}

// A record kept in the project survives moving the project: its paths
// are relative to the pipeline's directory, and an argv that named the
// old place (the fixture runs its program by absolute path) is read as
// naming the new one. Verify then finds nothing changed.
func TestRecordSurvivesAMove(t *testing.T) {
	f := newFixture(t)
	f.record(t)
	b, err := os.ReadFile(filepath.Join(f.dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{`"path": "pipeline.yaml"`, `"executable": "bin/prog"`, `"path": "in.txt"`, `"base": "."`} {
		if !strings.Contains(string(b), rel) {
			t.Errorf("the record lacks %s:\n%s", rel, b)
		}
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(f.dir, moved); err != nil {
		t.Fatal(err)
	}
	f.dir, f.prog = moved, filepath.Join(moved, "bin", "prog")
	m, err := record.Read(filepath.Join(moved, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Moved() || m.Dir != moved || m.Processes[0].Argv[0] != f.prog {
		t.Errorf("moved %v, dir %s, argv %q", m.Moved(), m.Dir, m.Processes[0].Argv)
	}
	d, err := record.Verify(m, f.rerun())
	if err != nil || !d.Empty() {
		t.Errorf("verify after a move: %v %v", err, d.Lines())
	}
}
