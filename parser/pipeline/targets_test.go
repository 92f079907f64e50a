package pipeline

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// Targets keep what they need: what feeds them (through tees, merges,
// files and the stages that write them) and what they run after; a kept
// stage's output into a dropped reader goes to /dev/null, and a file it
// writes is kept.
func TestTargets(t *testing.T) {
	src := `
files: {mid: mid.txt, log: log.txt}
merges: {m: {}}
stages:
  a: {run: [seq, 3], stdout: [b, c]}
  b: {run: [cat], stdout: mid}
  c: {run: [cat], stdout: m}
  d: {run: [cat], stdin: mid, after: [b], stdout: m}
  e: {run: [echo, e], stderr: log}
  f: {run: [cat], stdin: m}
`
	ids := func(targets ...string) (string, error) {
		g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true, TempDir: "/tmp/tubo-test", Targets: targets})
		if err != nil {
			return "", err
		}
		var out []string
		for _, n := range g.Nodes {
			out = append(out, n.ID)
		}
		sort.Strings(out)
		return strings.Join(out, " "), nil
	}
	for _, tt := range []struct {
		targets []string
		want    string
	}{
		{[]string{"b"}, "a a.stdout.tee b mid"},
		{[]string{"d"}, "a a.stdout.tee b d mid"},
		{[]string{"e"}, "e log"},
		{[]string{"f"}, "a a.stdout.tee b c d f m mid"},
		{[]string{"b", "e"}, "a a.stdout.tee b e log mid"},
	} {
		got, err := ids(tt.targets...)
		if err != nil || got != tt.want {
			t.Errorf("%v: %q, %v; want %q", tt.targets, got, err, tt.want)
		}
	}
	g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true, TempDir: "/tmp/tubo-test", Targets: []string{"d"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Node("d").Redirs; len(r) != 1 || r[0].FD != 1 || r[0].Path != os.DevNull {
		t.Errorf("d's stdout into the dropped merge: %+v", r)
	}
	if _, err := ids("x"); err == nil || err.Error() != `target "x": no stage named "x"` {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := ids("m"); err == nil || err.Error() != `target "m": m is a merge, not a stage` {
		t.Errorf("a merge as a target: %v", err)
	}
}
