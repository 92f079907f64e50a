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

// DOTWith writes g as DOT like DOT, with the changes opt asks for. The
// graph's edges are the first edges of the DOT, in the graph's order.
func DOTWith(w io.Writer, g *graph.Graph, opt DOTOptions) error {
	return dotPipelines(w, nameOf(g), []*graph.Graph{g}, opt)
}

// DOTPipelines writes the pipelines of a shell line (`a | b; c && d`) as
// one Graphviz digraph named name, each pipeline a cluster of its own in
// order ("pipeline 1", …) when there are several. tubo's stdin and stdout
// and the files that redirections open are drawn once, outside them.
func DOTPipelines(w io.Writer, name string, gs []*graph.Graph) error {
	return dotPipelines(w, name, gs, DOTOptions{})
}

func dotPipelines(w io.Writer, name string, gs []*graph.Graph, opt DOTOptions) error {
	d, err := drawGraphs(name, gs)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(d.name))
	b.WriteString("\trankdir=LR;\n")
	font := opt.Font
	if font == "" {
		font = "monospace"
	}
	fmt.Fprintf(b, "\tnode [fontname=%s, fontsize=10];\n", dotQuote(font))
	fmt.Fprintf(b, "\tedge [fontname=%s, fontsize=9];\n", dotQuote(font))
	cluster := 0
	node := func(indent string, v *vertex) {
		label := dotQuote(strings.Join(v.lines, "\n"))
		if v.shape == process {
			label = dotRoom(label, opt.room(opt.ProcRoom))
		}
		fmt.Fprintf(b, "%s%s [%s, label=%s];\n", indent, dotQuote(v.id), dotShape[v.shape], label)
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
		label := dotQuote(a.label)
		if a.edge {
			label = dotRoom(label, opt.room(opt.EdgeRoom))
		}
		attrs = append(attrs, "label="+label)
		fmt.Fprintf(b, "\t%s -> %s [%s];\n", dotQuote(a.from.id), dotQuote(a.to.id), strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.Flush()
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
