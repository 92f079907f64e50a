package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/validate"
)

// cycles: allow runs a loop of pipes: pipelines/loop.yaml's driver asks
// the calculator 200 questions through two pipes and gets every answer,
// in order; check warns about the loop (once) and the run does not
// refuse it. Without the key the same file is refused (errors_test).
func TestDeclaredCycleRuns(t *testing.T) {
	g := loadFile(t, "../../pipelines/loop.yaml", "n=200")
	if !g.AllowCycles {
		t.Fatal("cycles: allow did not reach the graph")
	}
	ws := validate.CycleWarnings(g)
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), "pipe cycle driver → square → driver (cycles: allow)") {
		t.Errorf("warnings %v", ws)
	}
	for _, w := range validate.Warnings(g) {
		if strings.Contains(w.Error(), "cycle") {
			t.Errorf("a declared cycle is warned about at every run: %v", w)
		}
	}
	out, errs, res := runGraph(t, g)
	var want strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&want, "%d squared is %d\n", i, i*i)
	}
	if res.Status != 0 || out != want.String() {
		t.Fatalf("status %d, %d bytes of output (want %d), stderr %q", res.Status, len(out), want.Len(), errs)
	}
}

// cycles: takes allow or refuse; refuse is the default's refusal.
func TestCyclesKey(t *testing.T) {
	loop := "stages:\n  a: {run: [cat], stdin: b}\n  b: {run: [cat], stdin: a}\n"
	for _, tt := range []struct{ top, want string }{
		{"cycles: refuse\n", "pipe cycle a → b → a"},
		{"cycles: alow\n", `cycles: want allow or refuse, not "alow"; did you mean "allow"?`},
		{"cycles: allow\n", ""},
	} {
		_, err := load(t, tt.top+loop)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.top, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: got %v, want %q", tt.top, err, tt.want)
		}
	}
}
