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
func DOT(w io.Writer, g *graph.Graph) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(nameOf(g)))
	b.WriteString("\trankdir=LR;\n")
	b.WriteString("\tnode [fontname=\"monospace\", fontsize=10];\n")
	b.WriteString("\tedge [fontname=\"monospace\", fontsize=9];\n")
	order, members := groups(g)
	inGroup := map[string]bool{}
	for i, grp := range order {
		fmt.Fprintf(b, "\tsubgraph cluster_%d {\n", i)
		fmt.Fprintf(b, "\t\tlabel=%s;\n\t\tstyle=dashed;\n", dotQuote(fmt.Sprintf("%s ×%d", grp, len(members[grp]))))
		for _, n := range members[grp] {
			inGroup[n.ID] = true
			fmt.Fprintf(b, "\t\t%s [%s, label=%s];\n", dotQuote(n.ID), dotShape[n.Kind], dotQuote(strings.Join(lines(g, n), "\n")))
		}
		b.WriteString("\t}\n")
	}
	for _, n := range g.Nodes {
		if inGroup[n.ID] {
			continue
		}
		fmt.Fprintf(b, "\t%s [%s, label=%s];\n", dotQuote(n.ID), dotShape[n.Kind], dotQuote(strings.Join(lines(g, n), "\n")))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(b, "\t%s -> %s [label=%s];\n", dotQuote(e.From.Node), dotQuote(e.To.Node), dotQuote(edgeLabel(g, e)))
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
