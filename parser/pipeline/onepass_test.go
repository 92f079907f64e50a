package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One load reports the problems of every phase: unknown keys,
// placeholders, dangling references, cycles, missing programs and missing
// inputs, without echoes of one mistake in another (issue 12 item 7).
func TestOnePassReportsEveryPhase(t *testing.T) {
	dir := t.TempDir()
	src := `params: {n: 3}
files:
  log: missing.log
merges:
  m: {from: [gen, broken]}
stages:
  gen: {run: [seq, "{{n}}"], bogus: 1}
  broken: {run: [echo, "{{nn}}"]}
  a: {run: [cat], stdin: b}
  b: {run: [cat], stdin: a}
  c: {run: [no-such-program-tubo], stdin: nothere}
  d: {run: [cat], after: [c], timeout: 10, stdin: log}
`
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, Options{Env: []string{"PATH=/usr/bin:/bin"}})
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		path + `:3:8: file log: ` + filepath.Join(dir, "missing.log") + ` does not exist, and no stage writes it`,
		path + `:7:30: stage gen: unknown key "bogus"`,
		path + `:8:25: unknown placeholder {{nn}}; did you mean "n"?`,
		path + `:9:3: pipe cycle a → b → a: each stage would wait for the next once a pipe fills (deadlock); break the loop, e.g. through a file, or declare it with cycles: allow if each stage answers what it reads before reading more`,
		path + `:11:13: stage c: no-such-program-tubo: command not found`,
		path + `:11:43: no stage, fifo, file, tee or merge named "nothere"`,
		path + `:12:40: stage d: timeout: "10" is not a positive duration like 30s or 1m30s`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// A path written where a reference goes gets the way to declare it; an
// input file that nothing writes must exist.
func TestFileHints(t *testing.T) {
	tests := []struct{ src, want string }{
		{"stages:\n  a: {run: [cat], stdin: access.log}\n",
			`p.yaml:2:26: no stage, fifo, file, tee or merge named "access.log"; to read a file, declare it under files: (files: {access: access.log}) and refer to it as access`},
		{"stages:\n  a: {run: [echo], stdout: out/result.txt}\n",
			`p.yaml:2:28: no stage, fifo, file, tee or merge named "out/result.txt"; to write into a file, declare it under files: (files: {result: out/result.txt}) and refer to it as result`},
		{"stages:\n  a: {run: [seq, 3], stdout: b.stdot}\n  b: {run: [cat]}\n",
			`p.yaml:2:30: "b.stdot": unknown port "stdot" (want stdin, stdout, stderr or fdN); did you mean "stdout"?`},
		{"stages:\n  access: {run: [echo]}\n  a: {run: [cat], stdin: access.log}\n",
			`p.yaml:3:26: "access.log": unknown port "log" (want stdin, stdout, stderr or fdN)`},
	}
	for _, tt := range tests {
		if got, err := load(t, tt.src); err == nil || got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestMissingInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	os.WriteFile(filepath.Join(dir, "present.txt"), []byte("x\n"), 0o644)
	env := Options{Env: []string{"PATH=/usr/bin:/bin"}}
	// Read and never written: refused.
	p := write("a.yaml", "files: {in: absent.txt}\nstages:\n  a: {run: [cat], stdin: in}\n")
	if _, err := Load(p, env); err == nil || !strings.Contains(err.Error(), "a.yaml:1:13: file in: "+filepath.Join(dir, "absent.txt")+" does not exist, and no stage writes it") {
		t.Errorf("absent input: %v", err)
	}
	for name, src := range map[string]string{
		// Present.
		"b.yaml": "files: {in: present.txt}\nstages:\n  a: {run: [cat], stdin: in}\n",
		// Written by a stage that runs first.
		"c.yaml": "files: {f: made.txt}\nstages:\n  w: {run: [echo, hi], stdout: f}\n  r: {run: [cat], stdin: f, after: [w]}\n",
		// Named by a stage that may write it itself.
		"d.yaml": "files: {f: made.txt}\nstages:\n  w: {run: [touch, '{{file.f}}']}\n  r: {run: [cat], stdin: f, after: [w]}\n",
	} {
		if _, err := Load(write(name, src), env); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// SkipLookup (tubo graph) does not look at the world.
	if _, err := Load(p, Options{SkipLookup: true}); err != nil {
		t.Errorf("SkipLookup: %v", err)
	}
}

// A declared input must exist or be another stage's output.
func TestDeclaredInputs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "have.txt"), nil, 0o644)
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte(`stages:
  a: {run: [cat], inputs: [have.txt, absent.txt, "*.log"]}
  b: {run: [touch, made.txt], cwd: ., outputs: [made.txt]}
  c: {run: [cat, made.txt], cwd: ., inputs: [made.txt], after: [b]}
`), 0o644)
	_, err := Load(path, Options{Env: []string{"PATH=/usr/bin:/bin"}})
	want := path + ":2:3: stage a: inputs: " + filepath.Join(dir, "absent.txt") + " does not exist, and no stage makes it (outputs:)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
