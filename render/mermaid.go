package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Mermaid shapes: [ ] process, [( )] FIFO, [/ /] file, {{ }} tee, [\\ /] merge.
var mermaidShape = map[graph.Kind][2]string{
	graph.Process: {`[`, `]`},
	graph.FIFO:    {`[(`, `)]`},
	graph.File:    {`[/`, `/]`},
	graph.Tee:     {`{{`, `}}`},
	graph.Merge:   {`[\`, `/]`},
}

// Mermaid writes g as a Mermaid flowchart, left to right. Node IDs are n0,
// n1, … in graph order (labels carry the real names), so any name is safe.
// Replicas of a stage sit in a subgraph named after it.
func Mermaid(w io.Writer, g *graph.Graph) error {
	b := bufio.NewWriter(w)
	b.WriteString("flowchart LR\n")
	id := map[string]string{}
	for i, n := range g.Nodes {
		id[n.ID] = fmt.Sprintf("n%d", i)
	}
	node := func(indent string, n *graph.Node) {
		sh := mermaidShape[n.Kind]
		fmt.Fprintf(b, "%s%s%s\"%s\"%s\n", indent, id[n.ID], sh[0], mermaidEscape(strings.Join(lines(g, n), "\n")), sh[1])
	}
	order, members := groups(g)
	inGroup := map[string]bool{}
	for i, grp := range order {
		fmt.Fprintf(b, "  subgraph g%d [\"%s\"]\n", i, mermaidEscape(fmt.Sprintf("%s ×%d", grp, len(members[grp]))))
		for _, n := range members[grp] {
			inGroup[n.ID] = true
			node("    ", n)
		}
		b.WriteString("  end\n")
	}
	for _, n := range g.Nodes {
		if !inGroup[n.ID] {
			node("  ", n)
		}
	}
	ref := func(s string) string {
		if v, ok := id[s]; ok {
			return v
		}
		return "missing_" + fmt.Sprint(len(s))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(b, "  %s -->|\"%s\"| %s\n", ref(e.From.Node), mermaidEscape(edgeLabel(g, e)), ref(e.To.Node))
	}
	if ms := toStdout(g); len(ms) > 0 {
		b.WriteString("  stdout([\"tubo's stdout\"])\n")
		for _, m := range ms {
			fmt.Fprintf(b, "  %s -->|\"→1\"| stdout\n", ref(m.ID))
		}
	}
	for _, n := range g.Nodes {
		for _, d := range n.After {
			fmt.Fprintf(b, "  %s -.->|%s| %s\n", ref(d), afterLabel(n, d), ref(n.ID))
		}
	}
	for _, u := range pathUses(g) {
		fmt.Fprintf(b, "  %s -.-|opens| %s\n", ref(u[0].ID), ref(u[1].ID))
	}
	return b.Flush()
}

// mermaidEscape makes text safe inside a quoted Mermaid label: entities for
// the characters Mermaid would read as markup, <br/> for line breaks.
func mermaidEscape(s string) string {
	r := strings.NewReplacer(
		"#", "#35;",
		`"`, "#quot;",
		"<", "#lt;",
		">", "#gt;",
		"`", "#96;",
		"\r", "",
	)
	s = r.Replace(s)
	return strings.ReplaceAll(s, "\n", "<br/>")
}
