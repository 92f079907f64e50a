package pipeline

import (
	"strings"
	"testing"
)

// load is LoadBytes on an inline file named p.yaml, without program lookup.
func load(t *testing.T, src string, set ...string) (string, error) {
	t.Helper()
	_, err := LoadBytes("p.yaml", []byte(src), Options{Set: set, SkipLookup: true, TempDir: "/tmp/tubo-test"})
	if err == nil {
		return "", nil
	}
	return err.Error(), err
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		set       []string
		want      string
	}{
		{"unknown top key", "stage:\n  a: {run: [true]}\n", nil,
			`p.yaml:1:1: pipeline: unknown key "stage"; did you mean "stages"?`},
		{"unknown stage key", "stages:\n  a:\n    run: [true]\n    replica: 2\n", nil,
			`p.yaml:4:5: stage a: unknown key "replica"; did you mean "replicas"?`},
		{"duplicate key", "stages:\n  a: {run: [true]}\n  a: {run: [false]}\n", nil,
			`p.yaml:3:3: stages: duplicate key "a" (first at line 2)`},
		{"no stages", "name: x\n", nil,
			`p.yaml: no stages: a pipeline needs at least one stage`},
		{"run and shell", "stages:\n  a: {run: [true], shell: 'true'}\n", nil,
			`p.yaml:2:20: stage a: give either run: or shell:, not both`},
		{"run string", "stages:\n  a: {run: echo hi}\n", nil,
			`p.yaml:2:12: stage a: run: want a list like [program, arg, …]; for a command line use shell:`},
		{"unknown placeholder", "stages:\n  a: {run: [echo, 'x{{nope}}']}\n", nil,
			`p.yaml:2:21: unknown placeholder {{nope}}`},
		{"placeholder suggestion", "params: {lo: 1}\nstages:\n  a: {run: [echo, '{{l0}}']}\n", nil,
			`p.yaml:3:20: unknown placeholder {{l0}}; did you mean "lo"?`},
		{"unclosed placeholder", "stages:\n  a: {run: [echo, '{{x']}\n", nil,
			`p.yaml:2:20: unclosed {{ (write {{{{ for a literal {{)`},
		{"part without split", "stages:\n  a: {run: [echo, '{{part.lo}}']}\n", nil,
			`p.yaml:2:20: {{part.lo}} is only known in a stage with split:`},
		{"replica outside stage", "params: {x: 1}\nstages:\n  a: {run: [echo], replicas: '{{replica}}'}\n", nil,
			`p.yaml:3:31: {{replica}} is only known inside a stage's run, shell, env and cwd`},
		{"dangling stdin", "stages:\n  a: {run: [cat], stdin: b}\n", nil,
			`p.yaml:2:26: no stage, fifo, file, tee or merge named "b"`},
		{"dangling suggestion", "stages:\n  gen: {run: [seq, 3]}\n  a: {run: [cat], stdin: gne}\n", nil,
			`p.yaml:3:26: no stage, fifo, file, tee or merge named "gne"; did you mean "gen"?`},
		{"bad port", "stages:\n  gen: {run: [seq, 3]}\n  a: {run: [cat], stdin: gen.stdot}\n", nil,
			`p.yaml:3:26: "gen.stdot": unknown port "stdot" (want stdin, stdout, stderr or fdN); did you mean "stdout"?`},
		{"two writers", "stages:\n  a: {run: [echo, a], stdout: c}\n  b: {run: [echo, b], stdout: c}\n  c: {run: [cat]}\n", nil,
			`p.yaml:3:31: 2 writers into c's stdin: a's stdout (p.yaml:2:31), b's stdout (p.yaml:3:31); join them with a merge node, or give each its own fd`},
		{"stdin as source", "stages:\n  a: {run: [echo]}\n  b: {run: [cat], stdin: a.stdin}\n", nil,
			`p.yaml:3:26: edge from a: fd 0 is its stdin, an input; did you mean stdout?`},
		{"stdout as dest", "stages:\n  a: {run: [echo], stdout: b.stdout}\n  b: {run: [cat]}\n", nil,
			`p.yaml:2:28: edge to b: fd 1 is its stdout, an output; did you mean stdin?`},
		{"fd collision", "stages:\n  a: {run: [echo]}\n  b: {run: [echo]}\n  c: {run: [cat], fds: {3: a, x: b}}\n  d: {run: [echo], stdout: c.fd3}\n", nil,
			`p.yaml:5:28: 2 writers into c's fd 3: a's stdout (p.yaml:4:28), d's stdout (p.yaml:5:28); join them with a merge node, or give each its own fd`},
		{"fd too low", "stages:\n  a: {run: [echo]}\n  c: {run: [cat], fds: {1: a}}\n", nil,
			`p.yaml:3:25: stage c: fds: fd 1: extra descriptors are 3 to 1023 (use stdin:, stdout:, stderr: for 0–2)`},
		{"pipe cycle", "stages:\n  a: {run: [cat], stdin: b}\n  b: {run: [cat], stdin: a}\n", nil,
			`p.yaml:2:3: pipe cycle a → b → a: each stage would wait for the next once a pipe fills (deadlock); break the loop, e.g. through a file, or declare it with cycles: allow if each stage answers what it reads before reading more`},
		{"after cycle", "stages:\n  a: {run: [true], after: [b]}\n  b: {run: [true], after: [a]}\n", nil,
			`p.yaml:2:3: after cycle a → b → a: none of these stages can start`},
		{"after unknown", "stages:\n  a: {run: [true], after: [bb]}\n  b: {run: [true]}\n", nil,
			`p.yaml:2:28: no stage, fifo, file, tee or merge named "bb"; did you mean "b"?`},
		{"after with pipe", "stages:\n  a: {run: [seq, 9]}\n  b: {run: [cat], stdin: a, after: [a]}\n", nil,
			`p.yaml:3:3: stage b runs after a exits but reads its output through pipes; a blocks once the pipe fills and never exits (deadlock); drop the after, or go through a file`},
		{"diamond without spill", "tees: {t: {from: g, spill: false}}\nmerges: {m: {mode: ordered, to: p}}\nstages:\n  g: {run: [seq, 9]}\n  a: {run: [cat], stdin: t, stdout: m}\n  b: {run: [cat], stdin: t, stdout: m}\n  p: {run: [cat]}\n", nil,
			`p.yaml:1:8: diamond: tee t feeds a and b, which meet again at merge m; with bounded pipes m waits on one branch while t blocks writing the other (deadlock). Let the tee spill (spill: true), use an interleave or concat merge, or send one branch through a file`},
		{"diamond at a stage's fds", "stages:\n  g: {run: [seq, 9], stdout: a, stderr: b}\n  a: {run: [cat], stdout: p}\n  b: {run: [cat], stdout: p.fd3}\n  p: {run: [cat]}\n", nil,
			`p.yaml:2:3: diamond: stage g feeds a and b, which meet again at stage p; with bounded pipes p waits on one branch while g blocks writing the other (deadlock). Use an interleave or concat merge, or send one branch through a file`},
		{"merge bad mode", "merges: {m: {mode: orderd}}\nstages:\n  a: {run: [echo], stdout: m}\n", nil,
			`p.yaml:1:20: merge m: mode: unknown value "orderd" (want concat, interleave, ordered or reassemble); did you mean "ordered"?`},
		{"merge key on binary", "merges: {m: {mode: ordered, record: int32, key: numeric}}\nstages:\n  a: {run: [echo], stdout: m}\n", nil,
			`p.yaml:1:49: merge m: key applies to lines; binary records always compare as numbers`},
		{"name clash", "fifos: {x: {}}\nstages:\n  x: {run: [echo]}\n", nil,
			`p.yaml:3:3: stage x: the name is already used by a fifo`},
		{"bad name", "stages:\n  a.b: {run: [echo]}\n", nil,
			`p.yaml:2:3: stage "a.b": names are letters, digits, _ and -, starting with a letter or _`},
		{"fifo keep without path", "fifos: {c: {keep: true}}\nstages:\n  a: {run: [echo]}\n", nil,
			`p.yaml:1:19: fifo c: keep needs a path (a FIFO in tubo's private directory is removed with it)`},
		{"file two writers", "files: {o: /tmp/x}\nstages:\n  a: {run: [echo], stdout: o}\n  b: {run: [echo], stdout: o}\n", nil,
			`p.yaml:4:28: file o has 2 writers, a's stdout, b's stdout; each would truncate it and overwrite the others (set append: true)`},
		{"file to fifo", "files: {o: /tmp/x}\nfifos: [f]\nedges: [o -> f]\nstages:\n  a: {run: [echo]}\n", nil,
			`p.yaml:3:14: edge from file o to fifo f: nothing moves the bytes between two paths; put a stage (such as cat) between them`},
		{"data on stdout", "stages:\n  a: {run: [echo], stdout: {data: x}}\n", nil,
			`p.yaml:2:29: stage a: stdout: data: only stdin can be given data; write a file with a stage, or use {file: PATH}`},
		{"data and file", "stages:\n  a: {run: [cat], stdin: {data: x, file: y}}\n", nil,
			`p.yaml:2:26: stage a: stdin: give {data: TEXT} or {file: PATH}, not both`},
		{"bad timeout", "stages:\n  a: {run: [echo], timeout: 10}\n", nil,
			`p.yaml:2:29: stage a: timeout: "10" is not a positive duration like 30s or 1m30s`},
		{"on_failure", "on_failure: kill\nstages:\n  a: {run: [echo]}\n", nil,
			`p.yaml:1:13: on_failure: want kill-rest or let-finish, not "kill"`},
		{"version", "version: 2\nstages:\n  a: {run: [echo]}\n", nil,
			`p.yaml:1:10: version: this tubo reads version 1 pipeline files, not "2"`},
		{"env name", "stages:\n  a: {run: [echo], env: {1X: y}}\n", nil,
			`p.yaml:2:26: stage a: env: "1X" is not a valid environment variable name`},
		{"edge chain", "stages:\n  a: {run: [echo]}\n  b: {run: [cat]}\nedges:\n  - a -> c\n", nil,
			`p.yaml:5:10: no stage, fifo, file, tee or merge named "c"`},
		{"replica pairing", "stages:\n  a: {run: [echo], replicas: 2}\n  b: {run: [cat], replicas: 3}\nedges: [a -> b]\n", nil,
			`p.yaml:4:14: cannot connect the 2 replicas of a to the 3 replicas of b; name one replica, e.g. b[0]`},
		{"replica index", "stages:\n  a: {run: [echo], replicas: 2}\n  b: {run: [cat], stdin: 'a[2]'}\n", nil,
			`p.yaml:3:27: "a[2]": stage a has 2 replicas (0–1)`},
		{"spread not list", "params: {x: 1}\nstages:\n  a: {run: [echo, '{{x...}}']}\n", nil,
			`p.yaml:3:20: {{x...}}: x is not a list`},
		{"spread inside", "params: {x: [a, b]}\nstages:\n  a: {run: [echo, 'y{{x...}}']}\n", nil,
			`p.yaml:3:21: {{x...}} must be a whole argv element`},
		{"multiple documents", "stages:\n  a: {run: [echo]}\n---\nx: 1\n", nil,
			`p.yaml:3:1: a pipeline file holds one YAML document; this is a second one`},
		{"not a mapping", "- a\n- b\n", nil,
			`p.yaml:1:1: a pipeline file is a mapping (stages:, params:, …), not a list`},
		{"yaml syntax", "stages:\n  a: {run: [echo]\n", nil,
			`p.yaml:1:1: YAML: did not find expected ',' or '}'`},
		{"empty", "", nil, `p.yaml: empty pipeline file`},
		{"retries on a stream", "stages:\n  a: {run: [seq, 3]}\n  b: {run: [cat], stdin: a, retries: 2}\n", nil,
			`p.yaml:3:3: stage b: retries: it reads a live stream from a's stdout, and a failed run cannot read those bytes again; read a file instead, or drop retries`},
		{"retries into a stream", "stages:\n  a: {run: [seq, 3], retries: 2, stdout: b}\n  b: {run: [cat]}\n", nil,
			`p.yaml:2:3: stage a: retries: it writes a live stream into b's stdin, which would get a failed run's output too; write a file and read it in a stage that runs after this one`},
		{"retries on tubo's stdin", "stages:\n  a: {run: [cat], stdin: '-', retries: 1}\n", nil,
			`p.yaml:2:3: stage a: retries: it reads tubo's own stdin, a live stream that a failed run cannot read again; read a file instead`},
		{"retries range", "stages:\n  a: {run: [x], retries: 101}\n", nil,
			`p.yaml:2:26: stage a: retries: 101 is outside 0–100`},
		{"retry_delay without retries", "stages:\n  a: {run: [x], retry_delay: 1s}\n", nil,
			`p.yaml:2:30: stage a: retry_delay applies only with retries:`},
		{"backoff", "stages:\n  a: {run: [x], retries: 1, backoff: 0.5}\n", nil,
			`p.yaml:2:38: stage a: backoff: "0.5" is not a factor from 1 to 100 (2 doubles each delay)`},
		{"ok_exit", "stages:\n  a: {run: [x], ok_exit: [0, 256, x]}\n", nil,
			"p.yaml:2:30: stage a: ok_exit: \"256\" is not an exit status (0–255)\np.yaml:2:35: stage a: ok_exit: \"x\" is not an exit status (0–255)"},
		{"stage on_failure", "stages:\n  a: {run: [x], on_failure: ignor}\n", nil,
			`p.yaml:2:29: stage a: on_failure: unknown value "ignor" (want let-finish, kill-rest or ignore); did you mean "ignore"?`},
		{"after outcome", "stages:\n  a: {run: [x]}\n  b: {run: [y], after: {a: failed}}\n", nil,
			`p.yaml:3:28: stage b: after: a: unknown value "failed" (want success, failure or any)`},
		{"after outcome unknown stage", "stages:\n  a: {run: [x]}\n  b: {run: [y], after: [{aa: any}]}\n", nil,
			`p.yaml:3:26: no stage, fifo, file, tee or merge named "aa"; did you mean "a"?`},
		{"errors collected", "stages:\n  a: {run: [true], bogus: 1}\n  b: {run: [true], replicas: 0}\n", nil,
			"p.yaml:2:20: stage a: unknown key \"bogus\"\np.yaml:3:30: stage b: replicas: 0 is outside 1–4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load(t, tt.src, tt.set...)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
			if _, ok := err.(*ErrorList); !ok {
				t.Errorf("error is %T, want *ErrorList", err)
			}
		})
	}
}

func TestErrorsHaveNoPanicsOnManyMistakes(t *testing.T) {
	var b strings.Builder
	b.WriteString("stages:\n")
	for i := 0; i < 200; i++ {
		b.WriteString("  s" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + ": {run: [echo], bogus: 1}\n")
	}
	got, err := load(t, b.String())
	if err == nil {
		t.Fatal("no error")
	}
	if n := strings.Count(got, "\n") + 1; n > maxErrors {
		t.Errorf("%d errors reported; want at most %d", n, maxErrors)
	}
}
