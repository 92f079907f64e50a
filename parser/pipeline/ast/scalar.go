package ast

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Scalar is one value as written: its text (placeholders not yet
// substituted) and its node, so that an error can point into it.
type Scalar struct {
	Text string
	Node *yaml.Node
}

// Bool is a YAML boolean and where it is written.
type Bool struct {
	Value bool
	Node  *yaml.Node
}

// scalar returns the text of a non-null scalar; anything else is an error
// naming what was expected.
func (d *decoder) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.add(n, "%s: want a value, got a %s", what, kindName(n))
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool":
	default:
		d.add(n, "%s: unsupported tag %s", what, n.Tag)
		return "", false
	}
	if strings.IndexByte(n.Value, 0) >= 0 {
		d.add(n, "%s: contains a NUL byte", what)
		return "", false
	}
	return n.Value, true
}

// str reads a scalar into a *Scalar; nil when n is absent or not a value.
func (d *decoder) str(n *yaml.Node, what string) *Scalar {
	if n = deref(n); n == nil {
		return nil
	}
	s, ok := d.scalar(n, what)
	if !ok {
		return nil
	}
	return &Scalar{Text: s, Node: n}
}

// strList reads a list of scalars; a single scalar counts as a list of
// one (the short form: `stdout: sort` for `stdout: [sort]`).
func (d *decoder) strList(n *yaml.Node, what string) ([]*Scalar, bool) {
	n = deref(n)
	if n == nil {
		return nil, true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		s, ok := d.scalar(n, what)
		if !ok {
			return nil, false
		}
		return []*Scalar{{Text: s, Node: n}}, true
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, "%s: want a list, got a %s", what, kindName(n))
		return nil, false
	}
	var out []*Scalar
	ok := true
	for _, c := range n.Content {
		c = deref(c)
		s, sok := d.scalar(c, what)
		if !sok {
			ok = false
			continue
		}
		out = append(out, &Scalar{Text: s, Node: c})
	}
	return out, ok
}

// boolean reads a YAML boolean; nil when n is absent or not a boolean.
func (d *decoder) boolean(n *yaml.Node, what string) *Bool {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.add(n, "%s: want true or false, got %s", what, describeNode(n))
		return nil
	}
	b := &Bool{Node: n}
	if err := n.Decode(&b.Value); err != nil {
		d.add(n, "%s: %v", what, err)
		return nil
	}
	return b
}

// enum reads a scalar that must be one of allowed, and returns its index
// (-1 when absent or refused).
func (d *decoder) enum(n *yaml.Node, what string, allowed []string) int {
	if n = deref(n); n == nil {
		return -1
	}
	s, ok := d.scalar(n, what)
	if !ok {
		return -1
	}
	i := indexOf(allowed, s)
	if i < 0 {
		d.add(n, "%s: unknown value %s (want %s)%s", what, Quote(s), joinOr(allowed), DidYouMean(s, allowed))
	}
	return i
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return "scalar"
	}
	return "node"
}

func describeNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return Quote(n.Value)
	}
	return "a " + kindName(n)
}

// joinOr is "a, b or c".
func joinOr(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}

// ValidName says whether s can name a param, stage, fifo, file, tee or
// merge: a letter or _, then letters, digits, _ and -.
func ValidName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}
