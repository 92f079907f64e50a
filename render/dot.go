package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

var dotShape = map[shape]string{
	process: `shape=box`,
	fifo:    `shape=cds, style=filled, fillcolor="#e8f0fe"`,
	file:    `shape=note`,
	tee:     `shape=triangle, style=filled, fillcolor="#fff4d6"`,
	merge:   `shape=invtriangle, style=filled, fillcolor="#e6f4ea"`,
	stdio:   `shape=plaintext`,
	heredoc: `shape=note, style=dashed`,
}

// DOT writes g as a Graphviz digraph, left to right. Replicas of a stage
// sit in a cluster named after it.
func DOT(w io.Writer, g *graph.Graph) error {
	return DOTPipelines(w, nameOf(g), []*graph.Graph{g})
}

// DOTPipelines writes the pipelines of a shell line (`a | b; c && d`) as
// one Graphviz digraph named name, each pipeline a cluster of its own in
// order ("pipeline 1", …) when there are several. tubo's stdin and stdout
// and the files that redirections open are drawn once, outside them.
func DOTPipelines(w io.Writer, name string, gs []*graph.Graph) error {
	d, err := drawGraphs(name, gs)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(d.name))
	b.WriteString("\trankdir=LR;\n")
	b.WriteString("\tnode [fontname=\"monospace\", fontsize=10];\n")
	b.WriteString("\tedge [fontname=\"monospace\", fontsize=9];\n")
	cluster := 0
	node := func(indent string, v *vertex) {
		fmt.Fprintf(b, "%s%s [%s, label=%s];\n", indent, dotQuote(v.id), dotShape[v.shape], dotQuote(strings.Join(v.lines, "\n")))
	}
	groups := func(indent string, pt *part) {
		for _, gr := range pt.groups {
			fmt.Fprintf(b, "%ssubgraph cluster_%d {\n", indent, cluster)
			cluster++
			fmt.Fprintf(b, "%s\tlabel=%s;\n%s\tstyle=dashed;\n", indent, dotQuote(gr.label), indent)
			for _, v := range gr.members {
				node(indent+"\t", v)
			}
			fmt.Fprintf(b, "%s}\n", indent)
		}
		for _, v := range pt.loose {
			node(indent, v)
		}
	}
	for _, pt := range d.parts {
		if pt.label == "" {
			groups("\t", pt)
			continue
		}
		fmt.Fprintf(b, "\tsubgraph cluster_%d {\n", cluster)
		cluster++
		fmt.Fprintf(b, "\t\tlabel=%s;\n", dotQuote(pt.label))
		groups("\t\t", pt)
		b.WriteString("\t}\n")
	}
	for _, v := range d.shared {
		node("\t", v)
	}
	for _, a := range d.arrows {
		var attrs []string
		switch a.style {
		case dashed:
			attrs = append(attrs, "style=dashed")
		case dotted:
			attrs = append(attrs, "style=dotted")
		}
		if a.nohead {
			attrs = append(attrs, "arrowhead=none")
		}
		if a.both {
			attrs = append(attrs, "dir=both")
		}
		attrs = append(attrs, "label="+dotQuote(a.label))
		fmt.Fprintf(b, "\t%s -> %s [%s];\n", dotQuote(a.from.id), dotQuote(a.to.id), strings.Join(attrs, ", "))
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
