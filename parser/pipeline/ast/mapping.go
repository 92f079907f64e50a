package ast

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// field is one key of a mapping, after merge keys (<<) are applied.
type field struct {
	name string
	key  *yaml.Node
	val  *yaml.Node // aliases already followed
}

// fields is a decoded mapping: its keys in order, unknown ones refused.
type fields struct {
	list []field
	by   map[string]field
}

func (f fields) get(name string) *yaml.Node {
	if fl, ok := f.by[name]; ok {
		return fl.val
	}
	return nil
}

func (f fields) has(name string) bool { _, ok := f.by[name]; return ok }

func (f fields) key(name string) *yaml.Node { return f.by[name].key }

// mapping decodes n as a mapping of string keys. Duplicate keys are errors;
// keys from merge keys (<<: *base) come first and explicit keys override
// them. When known is non-nil, other keys are errors (with a suggestion):
// rejected rather than dropped, since a misspelt key silently ignored is a
// setting silently lost. what names the mapping in messages ("stage a").
func (d *decoder) mapping(n *yaml.Node, what string, known []string) (fields, bool) {
	f := fields{by: map[string]field{}}
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			d.add(n, "%s: want a mapping, got a %s", what, kindName(n))
		}
		return f, false
	}
	ok := true
	var merged []field
	explicit := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			mf, mok := d.mergeKey(v, what, known)
			ok = ok && mok
			merged = append(merged, mf...)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.add(k, "%s: keys must be plain names", what)
			ok = false
			continue
		}
		if prev, dup := explicit[k.Value]; dup {
			d.add(k, "%s: duplicate key %s (first at line %d)", what, Quote(k.Value), prev.Line)
			ok = false
			continue
		}
		explicit[k.Value] = k
		if what == "pipeline" && strings.HasPrefix(k.Value, "x-") {
			// Extension keys hold anchors to reuse (x-defaults: &d …).
			continue
		}
		if known != nil && !contains(known, k.Value) {
			d.add(k, "%s: unknown key %s%s", what, Quote(k.Value), DidYouMean(k.Value, known))
			ok = false
			continue
		}
		fl := field{name: k.Value, key: k, val: deref(v)}
		f.list = append(f.list, fl)
		f.by[k.Value] = fl
	}
	if len(merged) > 0 {
		var list []field
		for _, m := range merged {
			if _, over := f.by[m.name]; over {
				continue
			}
			f.by[m.name] = m
			list = append(list, m)
		}
		f.list = append(list, f.list...)
	}
	return f, ok
}

// mergeKey reads the value of a << key: a mapping or a list of mappings.
func (d *decoder) mergeKey(v *yaml.Node, what string, known []string) ([]field, bool) {
	v = deref(v)
	var maps []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		maps = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, m := range v.Content {
			maps = append(maps, deref(m))
		}
	default:
		d.add(v, "%s: << wants a mapping or a list of mappings", what)
		return nil, false
	}
	var out []field
	seen := map[string]bool{}
	ok := true
	for _, m := range maps {
		f, mok := d.mapping(m, what, known)
		ok = ok && mok
		for _, fl := range f.list {
			if !seen[fl.name] {
				seen[fl.name] = true
				out = append(out, fl)
			}
		}
	}
	return out, ok
}

// isNull says whether n is absent or an explicit null (`a:`, `a: ~`).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliases; i++ {
		n = n.Alias
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
