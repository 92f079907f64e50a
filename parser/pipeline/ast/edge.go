package ast

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Edge is one connection of edges:: from one endpoint to one or several.
// The short form is a chain, "a -> b -> c", read as a → b and b → c; the
// long form is {from: REF, to: REF or [REF…], pipe_size: BYTES}.
type Edge struct {
	Node *yaml.Node
	From *Ref
	To   []*Ref
	// PipeSize is the pipe's buffer size in bytes; 0 means the run's.
	PipeSize int
}

var edgeKeys = []string{"from", "to", "pipe_size", "description"}

func decodeEdges(d *decoder, n *yaml.Node) []*Edge {
	if n = deref(n); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, "edges: want a list of \"a -> b\" strings or {from:, to:} mappings")
		return nil
	}
	var out []*Edge
	for _, it := range n.Content {
		it = deref(it)
		if it.Kind == yaml.MappingNode {
			e := &Edge{}
			if d.sub(e.UnmarshalYAML(it)) {
				out = append(out, e)
			}
			continue
		}
		s, ok := d.scalar(it, "edges")
		if !ok {
			continue
		}
		out = append(out, chain(d, it, s)...)
	}
	return out
}

// UnmarshalYAML reads the long form of an edge.
func (e *Edge) UnmarshalYAML(it *yaml.Node) error {
	var d decoder
	e.Node = it
	f, ok := d.mapping(it, "edge", edgeKeys)
	if !ok {
		return d.err()
	}
	from, to := f.get("from"), f.get("to")
	if from == nil || to == nil {
		d.add(it, "edge: give both from: and to:")
		return d.err()
	}
	fs := d.str(from, "edge: from")
	if fs == nil {
		return d.err()
	}
	e.From = refOf(fs)
	if ps := f.get("pipe_size"); ps != nil {
		if ps.ShortTag() != "!!int" {
			d.add(ps, "edge: pipe_size: want a number of bytes, got %s", describeNode(ps))
			return d.err()
		}
		x, err := strconv.Atoi(ps.Value)
		if err != nil || x < 4096 || x > 1<<30 {
			d.add(ps, "edge: pipe_size: %s is outside 4096–%d bytes", ps.Value, 1<<30)
			return d.err()
		}
		e.PipeSize = x
	}
	tos, _ := d.strList(to, "edge: to")
	e.To = refsOf(tos)
	return d.err()
}

// chain reads "a -> b -> c": a's output into b, b's output into c.
func chain(d *decoder, n *yaml.Node, s string) []*Edge {
	var parts []*Ref
	off := 0
	for _, p := range strings.Split(s, "->") {
		lead := len(p) - len(strings.TrimLeft(p, " \t"))
		parts = append(parts, &Ref{Text: strings.TrimSpace(p), Node: n, Off: off + lead})
		off += len(p) + 2
	}
	if len(parts) < 2 {
		d.add(n, "edges: %s: want \"from -> to\"", Quote(s))
		return nil
	}
	for i, p := range parts {
		if p.Text == "" {
			d.addAt(n, p.Off, "edges: %s: empty reference", Quote(s))
			return nil
		}
		if i > 0 && i < len(parts)-1 && strings.Contains(p.Text, ".") {
			d.addAt(n, p.Off, "edges: %s: a stage in the middle of a chain reads stdin and writes stdout; write its ports in separate edges", p.Text)
			return nil
		}
	}
	var out []*Edge
	for i := 0; i+1 < len(parts); i++ {
		out = append(out, &Edge{Node: n, From: parts[i], To: []*Ref{parts[i+1]}})
	}
	return out
}
