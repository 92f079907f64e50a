package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/parser/pipeline"
)

// hostile is a parameter value that would do harm if any shell saw it
// unquoted, or if it were split into several arguments.
const hostile = "a; touch pwned1 $(touch pwned2) `touch pwned3` \"q\" 'q' *\nline2 | touch pwned4 & \\ {x,y} ~ $HOME"

// TestHostileParams: a hostile --set value reaches the program as one
// argv element, and inside a shell: stage as one quoted word; no command
// in it is ever run.
func TestHostileParams(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "h.yaml", `version: 1
params: {x: ""}
stages:
  argv:
    run: [printf, "%s|", "{{x}}"]
  sh:
    shell: "printf '%s|' {{x}} >&2"
`)
	st, stdout, stderr := runTubo(t, dir, "run", f, "--set", "x="+hostile)
	if st != 0 {
		t.Fatalf("exit status %d; stderr: %s", st, stderr)
	}
	if stdout != hostile+"|" {
		t.Errorf("run: argv got %q, want %q", stdout, hostile+"|")
	}
	if stderr != hostile+"|" {
		t.Errorf("shell: stage got %q, want %q", stderr, hostile+"|")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "pwned") {
			t.Errorf("%s was created: a parameter reached a shell unquoted", e.Name())
		}
	}
}

// TestNULRefused: a NUL byte cannot pass through argv (the kernel ends the
// string there), so --set is checked through the loader, and a NUL in a
// YAML default is refused by tubo with status 2.
func TestNULRefused(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "nul.yaml", "version: 1\nparams: {x: \"\"}\nstages:\n  a: {run: [echo, \"{{x}}\"]}\n")
	if _, err := pipeline.Load(f, pipeline.Options{Set: []string{"x=a\x00b"}}); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("--set with a NUL: err = %v, want a NUL error", err)
	}
	g := writeFile(t, dir, "nul2.yaml", "version: 1\nparams: {x: \"a\\0b\"}\nstages:\n  a: {run: [echo, \"{{x}}\"]}\n")
	st, stdout, stderr := runTubo(t, dir, "run", g)
	if st != 2 || !strings.Contains(stderr, "NUL") || stdout != "" {
		t.Errorf("NUL default: status %d stdout %q stderr %q, want 2 and a NUL message", st, stdout, stderr)
	}
}

// TestBadPipelineFiles: hostile or broken pipeline files are refused
// quickly with status 2 and a message saying what is wrong; nothing runs.
func TestBadPipelineFiles(t *testing.T) {
	dir := t.TempDir()
	bomb := "version: 1\nx-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += "x-" + n + ": &" + n + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n"
		prev = n
	}
	bomb += "stages:\n  a: {run: [touch, ran]}\n"
	big := "version: 1\nstages:\n  a: {run: [touch, ran]}\n# " + strings.Repeat("x", 2<<20) + "\n"
	deep := "version: 1\nx-deep: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\nstages:\n  a: {run: [touch, ran]}\n"
	dup := "version: 1\nstages:\n  a: {run: [touch, ran]}\n  a: {run: [touch, ran]}\n"
	os.Mkdir(filepath.Join(dir, "adir.yaml"), 0o755)
	for _, c := range []struct {
		name, text, file, want string
	}{
		{"alias-bomb", bomb, "bomb.yaml", "alias"},
		{"2MiB", big, "big.yaml", "limited to 1048576 bytes"},
		{"deep", deep, "deep.yaml", "nest"},
		{"duplicate-keys", dup, "dup.yaml", "duplicate key"},
		{"directory", "", "adir.yaml", "is a directory"},
		{"missing-parent", "", "no/such/dir/p.yaml", "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			if c.text != "" {
				writeFile(t, dir, c.file, c.text)
			}
			begin := time.Now()
			st, _, stderr := runTubo(t, dir, "run", path)
			if st != 2 {
				t.Errorf("exit status %d, want 2; stderr: %s", st, stderr)
			}
			if !strings.Contains(strings.ToLower(stderr), c.want) {
				t.Errorf("stderr lacks %q: %s", c.want, stderr)
			}
			if strings.Count(stderr, "\n") > 60 || len(stderr) > 16<<10 {
				t.Errorf("stderr is %d bytes: a refusal should be short", len(stderr))
			}
			// Not a performance assert: only a guard against runaway work
			// (an expanded bomb or a stack-deep parse takes far longer).
			if d := time.Since(begin); d > 20*time.Second {
				t.Errorf("refusal took %s", d)
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
				t.Errorf("a stage ran")
			}
		})
	}
}

// TestMissingPrograms: a missing or non-executable program is named, with
// status 127/126 in a shell line and 2 (refused before anything starts) in
// a pipeline file.
func TestMissingPrograms(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "noexec", "echo hi\n") // 0644: not executable, even for root
	writeFile(t, dir, "missing.yaml", "version: 1\nstages:\n  a: {run: [no-such-program-xyz]}\n")
	writeFile(t, dir, "noexec.yaml", "version: 1\nstages:\n  a: {run: [./noexec]}\n")
	for _, c := range []struct {
		args []string
		st   int
		want string
	}{
		{[]string{"no-such-program-xyz"}, 127, "no-such-program-xyz: command not found"},
		{[]string{"./no-such-file"}, 127, "./no-such-file: No such file or directory"},
		// A lone file argument is a script, as for sh; run as a command
		// it must be executable.
		{[]string{"-c", "./noexec"}, 126, "./noexec: Permission denied"},
		{[]string{"/"}, 126, "/: Is a directory"},
		{[]string{"echo a | no-such-program-xyz"}, 127, "no-such-program-xyz: command not found"},
		{[]string{"run", "missing.yaml"}, 2, "missing.yaml:3:13: stage a: no-such-program-xyz: command not found"},
		{[]string{"run", "noexec.yaml"}, 2, "stage a: ./noexec: Permission denied"},
	} {
		st, _, stderr := runTubo(t, dir, c.args...)
		if st != c.st || !strings.Contains(stderr, c.want) {
			t.Errorf("tubo %q: status %d stderr %q, want %d and %q", c.args, st, stderr, c.st, c.want)
		}
	}
}
