package ast

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func parse(t *testing.T, src string) (*Pipeline, string) {
	t.Helper()
	p, err := Parse([]byte(src))
	if err == nil {
		return p, ""
	}
	return p, err.Error()
}

func refTexts(rs []*Ref) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

// The short and long forms of a concept decode to the same thing.
func TestShortAndLongForms(t *testing.T) {
	p, errs := parse(t, `
stages:
  a: {run: [seq, 3], stdout: b}
  b: {run: [cat], stdout: [c, d], fds: {x: a.stderr, 9: {to: c}}}
  c: {shell: cat}
  d: {run: [cat], stdin: "-"}
files:
  short: in.txt
  long: {path: out.txt, append: true}
fifos: [f1, f2]
edges:
  - a.stderr -> c.fd3
  - {from: b.fd9, to: [d.fd4], pipe_size: 65536}
`)
	if errs != "" {
		t.Fatal(errs)
	}
	if got := refTexts(p.Stages[0].Stdout.Refs); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("stdout short form: %q", got)
	}
	if got := refTexts(p.Stages[1].Stdout.Refs); !reflect.DeepEqual(got, []string{"c", "d"}) {
		t.Errorf("stdout long form: %q", got)
	}
	fds := p.Stages[1].FDs
	if len(fds) != 2 || fds[0].Num != 3 || fds[0].Name != "x" || fds[0].From.Text != "a.stderr" || fds[1].Num != 9 || refTexts(fds[1].To)[0] != "c" {
		t.Errorf("fds: %+v %+v", fds[0], fds[1])
	}
	if p.Stages[2].Shell.Text != "cat" || p.Stages[2].Run != nil {
		t.Errorf("shell stage: %+v", p.Stages[2])
	}
	if !p.Stages[3].InheritStdin || p.Stages[3].Stdin != nil {
		t.Errorf("stdin \"-\": %+v", p.Stages[3])
	}
	if p.Files[0].Path.Text != "in.txt" || p.Files[0].Append != nil || p.Files[1].Path.Text != "out.txt" || !p.Files[1].Append.Value {
		t.Errorf("files: %+v %+v", p.Files[0], p.Files[1])
	}
	if len(p.FIFOs) != 2 || p.FIFOs[1].Name != "f2" {
		t.Errorf("fifos: %+v", p.FIFOs)
	}
	if len(p.Edges) != 2 || p.Edges[0].From.Text != "a.stderr" || p.Edges[0].To[0].Text != "c.fd3" || p.Edges[1].PipeSize != 65536 {
		t.Errorf("edges: %+v %+v", p.Edges[0], p.Edges[1])
	}
}

// A chain "a -> b -> c" is two edges, and each reference keeps the column
// it is written at, so an error can point at it.
func TestChainPositions(t *testing.T) {
	p, errs := parse(t, "stages: {a: {run: [x]}}\nedges: ['a ->  bb -> c.stdin']\n")
	if errs != "" {
		t.Fatal(errs)
	}
	if len(p.Edges) != 2 {
		t.Fatalf("%d edges", len(p.Edges))
	}
	var cols []int
	for _, r := range []*Ref{p.Edges[0].From, p.Edges[0].To[0], p.Edges[1].To[0]} {
		_, col := PosAt(r.Node, r.Off)
		cols = append(cols, col)
	}
	if !reflect.DeepEqual(cols, []int{10, 16, 22}) {
		t.Errorf("columns %v", cols)
	}
}

// Decoding goes on after a problem, so one pass reports them all, and a
// stage whose command cannot be read is marked broken.
func TestDecodingReportsEveryProblem(t *testing.T) {
	p, errs := parse(t, `stages:
  a: {run: echo, bogus: 1}
  b: {run: [x], timeout: [1]}
  c: {run: [x], fds: {1: a}}
merges:
  m: {mode: orderd}
`)
	want := []string{
		`2:12: stage a: run: want a list like [program, arg, …]; for a command line use shell:`,
		`2:18: stage a: unknown key "bogus"`,
		`3:26: stage b: timeout: want a value, got a list`,
		`4:23: stage c: fds: fd 1: extra descriptors are 3 to 1023 (use stdin:, stdout:, stderr: for 0–2)`,
		`6:13: merge m: mode: unknown value "orderd" (want concat, interleave, ordered or reassemble); did you mean "ordered"?`,
	}
	got := strings.Split(errs, "\n")
	if !reflect.DeepEqual(sortStrings(got), sortStrings(want)) {
		t.Errorf("got\n%s\nwant\n%s", errs, strings.Join(want, "\n"))
	}
	if p == nil || len(p.Stages) != 3 || !p.Stages[0].Broken || p.Stages[1].Broken || p.Stages[2].Broken {
		t.Errorf("stages: %+v", p.Stages)
	}
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Each concept decodes on its own through the YAML library too.
func TestUnmarshalThroughTheLibrary(t *testing.T) {
	var e Edge
	if err := yaml.Unmarshal([]byte("{from: a, to: [b, c]}"), &e); err != nil {
		t.Fatal(err)
	}
	if e.From.Text != "a" || len(e.To) != 2 {
		t.Errorf("edge %+v", e)
	}
	p := Param{Decl: Decl{Name: "n"}}
	if err := yaml.Unmarshal([]byte("{type: int, default: 5, min: 1}"), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != IntParam || p.Default.Int != 5 || *p.Min != 1 {
		t.Errorf("param %+v", p)
	}
	st := Stage{Decl: Decl{Name: "s"}}
	err := yaml.Unmarshal([]byte("{run: [x], replica: 2}"), &st)
	if err == nil || !strings.Contains(err.Error(), `stage s: unknown key "replica"; did you mean "replicas"?`) {
		t.Errorf("unknown key through the library: %v", err)
	}
}
