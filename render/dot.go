package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

var dotShape = map[graph.Kind]string{
	graph.Process: `shape=box`,
	graph.FIFO:    `shape=cds, style=filled, fillcolor="#e8f0fe"`,
	graph.File:    `shape=note`,
	graph.Tee:     `shape=triangle, style=filled, fillcolor="#fff4d6"`,
	graph.Merge:   `shape=invtriangle, style=filled, fillcolor="#e6f4ea"`,
}

// DOT writes g as a Graphviz digraph, left to right. Replicas of a stage
// sit in a cluster named after it.
func DOT(w io.Writer, g *graph.Graph) error { return DOTWith(w, g, DOTOptions{}) }

// DOTOptions change what DOTWith draws; the zero value draws what DOT
// (and so `tubo graph`) prints.
type DOTOptions struct {
	// ProcRoom and EdgeRoom add that many blank lines, RoomWidth characters
	// wide, under the label of every process node and of every edge of the
	// graph: room that the layout keeps for figures a live view writes
	// there later. Zero adds none.
	ProcRoom, EdgeRoom, RoomWidth int
	// Font names the font of node and edge labels; "" means monospace.
	// A layout engine without fonts (Graphviz compiled to WebAssembly)
	// measures "Courier" as a fixed-width font but "monospace" as Times.
	Font string
}

// room is a label's blank lines. They are no-break spaces, which
// Graphviz measures like any character (it would drop plain ones).
func (o DOTOptions) room(n int) string {
	if n <= 0 || o.RoomWidth <= 0 {
		return ""
	}
	return strings.Repeat(`\n`+strings.Repeat("\u00a0", o.RoomWidth), n)
}

// DOTWith writes g as DOT like DOT, with the changes opt asks for.
func DOTWith(w io.Writer, g *graph.Graph, opt DOTOptions) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(nameOf(g)))
	b.WriteString("\trankdir=LR;\n")
	font := opt.Font
	if font == "" {
		font = "monospace"
	}
	fmt.Fprintf(b, "\tnode [fontname=%s, fontsize=10];\n", dotQuote(font))
	fmt.Fprintf(b, "\tedge [fontname=%s, fontsize=9];\n", dotQuote(font))
	order, members := groups(g)
	inGroup := map[string]bool{}
	for i, grp := range order {
		fmt.Fprintf(b, "\tsubgraph cluster_%d {\n", i)
		fmt.Fprintf(b, "\t\tlabel=%s;\n\t\tstyle=dashed;\n", dotQuote(fmt.Sprintf("%s ×%d", grp, len(members[grp]))))
		for _, n := range members[grp] {
			inGroup[n.ID] = true
			fmt.Fprintf(b, "\t\t%s [%s, label=%s];\n", dotQuote(n.ID), dotShape[n.Kind], nodeLabel(g, n, opt))
		}
		b.WriteString("\t}\n")
	}
	for _, n := range g.Nodes {
		if inGroup[n.ID] {
			continue
		}
		fmt.Fprintf(b, "\t%s [%s, label=%s];\n", dotQuote(n.ID), dotShape[n.Kind], nodeLabel(g, n, opt))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(b, "\t%s -> %s [label=%s];\n", dotQuote(e.From.Node), dotQuote(e.To.Node), dotRoom(dotQuote(edgeLabel(g, e)), opt.room(opt.EdgeRoom)))
	}
	if ms := toStdout(g); len(ms) > 0 {
		b.WriteString("\t\"(stdout)\" [shape=plaintext, label=\"tubo's stdout\"];\n")
		for _, m := range ms {
			fmt.Fprintf(b, "\t%s -> \"(stdout)\" [label=\"→1\"];\n", dotQuote(m.ID))
		}
	}
	for _, n := range g.Nodes {
		for _, d := range n.After {
			fmt.Fprintf(b, "\t%s -> %s [style=dashed, label=\"%s\"];\n", dotQuote(d), dotQuote(n.ID), afterLabel(n, d))
		}
	}
	for _, u := range pathUses(g) {
		fmt.Fprintf(b, "\t%s -> %s [style=dotted, arrowhead=none, label=\"opens\"];\n", dotQuote(u[0].ID), dotQuote(u[1].ID))
	}
	b.WriteString("}\n")
	return b.Flush()
}

// nodeLabel is a node's quoted label, with the room opt asks for under a
// process's.
func nodeLabel(g *graph.Graph, n *graph.Node, opt DOTOptions) string {
	l := dotQuote(strings.Join(lines(g, n), "\n"))
	if n.Kind == graph.Process {
		l = dotRoom(l, opt.room(opt.ProcRoom))
	}
	return l
}

// dotRoom adds blank lines inside a quoted label.
func dotRoom(quoted, room string) string {
	if room == "" {
		return quoted
	}
	return quoted[:len(quoted)-1] + room + `"`
}

func nameOf(g *graph.Graph) string {
	if g.Name == "" {
		return "tubo"
	}
	return g.Name
}

// dotQuote makes a DOT double-quoted string; a newline becomes a line break
// in the label.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
