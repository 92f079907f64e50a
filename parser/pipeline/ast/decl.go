package ast

import "go.yaml.in/yaml/v3"

// Decl is what every named entry of a section (params:, stages:, fifos:,
// files:, tees:, merges:) has: its name and where it is declared.
type Decl struct {
	Name string
	Key  *yaml.Node
	// Broken is set when the entry cannot be built at all; package
	// pipeline then leaves it out, and references to it are not reported
	// again.
	Broken bool
}

func (d *Decl) decl() *Decl { return d }

// entry is a pointer to a concept that a section declares by name.
type entry[T any] interface {
	*T
	decl() *Decl
	UnmarshalYAML(*yaml.Node) error
}

// section reads a mapping of name → entry, in order, each entry with its
// own UnmarshalYAML (which sees its name already set).
func section[T any, P entry[T]](d *decoder, n *yaml.Node, what string) []P {
	if n == nil {
		return nil
	}
	f, _ := d.mapping(n, what, nil)
	var out []P
	for _, it := range f.list {
		x := P(new(T))
		x.decl().Name, x.decl().Key = it.name, it.key
		d.sub(x.UnmarshalYAML(it.val))
		out = append(out, x)
	}
	return out
}
