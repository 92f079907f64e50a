package cli

import (
	"fmt"

	"golang.org/x/term"

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

// warnTerminal warns, before `tubo run`, about the stages that read
// tubo's stdin when it is a terminal: each stage of a pipeline file runs
// in a process group of its own, outside the terminal's foreground, so
// its read stops it (SIGTTIN) or fails (EIO).
func (a *app) warnTerminal(g *graph.Graph) {
	if a.stdin == nil || !term.IsTerminal(int(a.stdin.Fd())) {
		return
	}
	for _, n := range g.Nodes {
		if n.Kind != graph.Process || n.StdinNull || readsOther(g, n) {
			continue
		}
		fmt.Fprintf(a.stderr, "tubo: warning: %s: stage %s reads tubo's stdin, which is a terminal, from a process group of its own: reading it stops the stage (SIGTTIN) or fails (EIO). Pipe its input into tubo (… | tubo run), or give it a file (stdin: FILE)\n", n.Pos, n.ID)
	}
}

// readsOther says whether something other than tubo's stdin is on a
// stage's fd 0: an edge or a redirection.
func readsOther(g *graph.Graph, n *graph.Node) bool {
	for _, e := range g.Inputs(n.ID) {
		if e.To.FD == graph.Stdin {
			return true
		}
	}
	for _, r := range n.Redirs {
		if r.FD == graph.Stdin {
			return true
		}
	}
	return false
}
