package cli

import (
	"fmt"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/validate"
)

// warn prints what in g may deadlock though it is valid (a FIFO nothing
// writes, a lock-step reader fed through FIFOs by a tee that may not
// spill), one line each, "tubo: warning: FILE:LINE:COL: …", and returns
// how many. `tubo check` and `tubo run` call it; the run goes ahead.
func (a *app) warn(g *graph.Graph) int {
	ws := validate.Warnings(g)
	for _, w := range ws {
		fmt.Fprintf(a.stderr, "tubo: warning: %s\n", w)
	}
	return len(ws)
}

// warnings is ", 1 warning" or ", 3 warnings" for the check's ok line;
// "" for none.
func warnings(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", 1 warning"
	}
	return fmt.Sprintf(", %d warnings", n)
}
