package ast

import "go.yaml.in/yaml/v3"

// Foreach is a stage's foreach:, the items it makes one copy of itself
// for, each seeing its item as {{item}}. Three forms: a list param as a
// placeholder (foreach: "{{files}}"), a list written in place (foreach:
// [a.txt, b.txt]), or a glob (foreach: {glob: "logs/*.log"}).
type Foreach struct {
	Node *yaml.Node
	// Param is the placeholder form's text; nil for the other forms.
	Param *Scalar
	// Items is the written list (each may use params); nil otherwise.
	Items []*Scalar
	// Glob is the pattern, relative to the pipeline file; nil otherwise.
	Glob   *Scalar
	Broken bool
}

func decodeForeach(d *decoder, n *yaml.Node, what string) *Foreach {
	if n = deref(n); n == nil {
		return nil
	}
	fe := &Foreach{}
	if !d.sub(fe.decode(n, what)) {
		fe.Broken = true
	}
	return fe
}

// UnmarshalYAML reads one of foreach:'s three forms.
func (fe *Foreach) UnmarshalYAML(n *yaml.Node) error { return fe.decode(n, "foreach") }

func (fe *Foreach) decode(n *yaml.Node, what string) error {
	var d decoder
	fe.Node = n
	what += ": foreach"
	switch n.Kind {
	case yaml.MappingNode:
		f, ok := d.mapping(n, what, []string{"glob"})
		if ok && !f.has("glob") {
			d.add(n, "%s: want {glob: PATTERN}, a list, or a list param as \"{{name}}\"", what)
		}
		fe.Glob = d.str(f.get("glob"), what+": glob")
		if fe.Glob == nil && d.err() == nil {
			d.add(n, "%s: glob: want a pattern", what)
		}
	case yaml.SequenceNode:
		fe.Items = []*Scalar{}
		for _, c := range n.Content {
			if s := d.str(c, what); s != nil {
				fe.Items = append(fe.Items, s)
			}
		}
	default:
		fe.Param = d.str(n, what)
	}
	return d.err()
}
