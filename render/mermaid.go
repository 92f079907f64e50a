package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Mermaid shapes: [ ] process, [( )] FIFO, [/ /] file, {{ }} tee, [\\ /]
// merge, ([ ]) tubo's own descriptors, >  ] a here-document.
var mermaidShape = map[shape][2]string{
	process: {`[`, `]`},
	fifo:    {`[(`, `)]`},
	file:    {`[/`, `/]`},
	tee:     {`{{`, `}}`},
	merge:   {`[\`, `/]`},
	stdio:   {`([`, `])`},
	heredoc: {`>`, `]`},
}

// Mermaid writes g as a Mermaid flowchart, left to right. Node IDs are n0,
// n1, … in graph order (labels carry the real names), so any name is safe.
// Replicas of a stage sit in a subgraph named after it.
func Mermaid(w io.Writer, g *graph.Graph) error {
	return MermaidPipelines(w, nameOf(g), []*graph.Graph{g})
}

// MermaidPipelines writes the pipelines of a shell line as one flowchart,
// each pipeline a subgraph of its own in order when there are several, as
// DOTPipelines does.
func MermaidPipelines(w io.Writer, name string, gs []*graph.Graph) error {
	d, err := drawGraphs(name, gs)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	b.WriteString("flowchart LR\n")
	node := func(indent string, v *vertex) {
		sh := mermaidShape[v.shape]
		fmt.Fprintf(b, "%s%s%s\"%s\"%s\n", indent, v.short, sh[0], mermaidEscape(strings.Join(v.lines, "\n")), sh[1])
	}
	sub := 0
	groups := func(indent string, pt *part) {
		for _, gr := range pt.groups {
			fmt.Fprintf(b, "%ssubgraph g%d [\"%s\"]\n", indent, sub, mermaidEscape(gr.label))
			sub++
			for _, v := range gr.members {
				node(indent+"  ", v)
			}
			fmt.Fprintf(b, "%send\n", indent)
		}
		for _, v := range pt.loose {
			node(indent, v)
		}
	}
	for _, pt := range d.parts {
		if pt.label == "" {
			groups("  ", pt)
			continue
		}
		fmt.Fprintf(b, "  subgraph g%d [\"%s\"]\n", sub, mermaidEscape(pt.label))
		sub++
		groups("    ", pt)
		b.WriteString("  end\n")
	}
	for _, v := range d.shared {
		node("  ", v)
	}
	for _, a := range d.arrows {
		link := "-->"
		switch {
		case a.nohead:
			link = "-.-"
		case a.both:
			link = "<-->"
		case a.style != solid:
			link = "-.->"
		}
		fmt.Fprintf(b, "  %s %s|\"%s\"| %s\n", a.from.short, link, mermaidEscape(a.label), a.to.short)
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
