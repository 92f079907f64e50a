package pipeline

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile file from costing much before it is refused.
const (
	// MaxFileSize is the largest pipeline file accepted, in bytes.
	MaxFileSize = 1 << 20
	// maxDepth is the deepest nesting of mappings and sequences; a real
	// pipeline needs about 5.
	maxDepth = 32
	// maxAliases is the most aliases (*name) a file may use. Each one is
	// followed where the format expects a value, so a few cannot expand
	// into a "billion laughs".
	maxAliases = 32
	// maxNodes bounds the YAML nodes of one file.
	maxNodes = 100_000
)

// parseDoc parses data as one YAML document whose top is a mapping, and
// refuses oversized, over-deep or alias-heavy input.
func (l *loader) parseDoc(data []byte) *yaml.Node {
	if len(data) > MaxFileSize {
		l.errs.add(nil, "file is %d bytes; pipeline files are limited to %d bytes", len(data), MaxFileSize)
		return nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		l.errs.add(nil, "file contains a NUL byte; pipeline files are text")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errs.add(nil, "empty pipeline file")
			return nil
		}
		l.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errs.add(&extra, "a pipeline file holds one YAML document; this is a second one")
		return nil
	} else if !errors.Is(err, io.EOF) {
		l.yamlError(err)
		return nil
	}
	if !l.checkTree(&doc) {
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			l.errs.add(nil, "empty pipeline file")
			return nil
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		l.errs.add(root, "a pipeline file is a mapping (stages:, params:, …), not a %s", kindName(root))
		return nil
	}
	return root
}

// yamlError turns a parser error ("yaml: line 3: …") into a positioned one.
func (l *loader) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			line = line*10 + int(rest[i]-'0')
			i++
		}
		if i > 0 && strings.HasPrefix(rest[i:], ": ") {
			msg = rest[i+2:]
		} else {
			line = 0
		}
	}
	p := l.errs.at(nil)
	if line > 0 {
		p.Line, p.Col = line, 1
	}
	l.errs.addPos(p, "YAML: %s", msg)
}

// checkTree walks the whole tree once, iteratively, and refuses too many
// nodes, too deep a nesting or too many aliases.
func (l *loader) checkTree(doc *yaml.Node) bool {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{doc, 0}}
	nodes, aliases := 0, 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes++
		if nodes > maxNodes {
			l.errs.add(it.n, "too many YAML nodes (more than %d)", maxNodes)
			return false
		}
		if it.depth > maxDepth {
			l.errs.add(it.n, "nesting deeper than %d levels", maxDepth)
			return false
		}
		if it.n.Kind == yaml.AliasNode {
			aliases++
			if aliases > maxAliases {
				l.errs.add(it.n, "too many aliases (more than %d); pipeline files use few, and many can expand exponentially", maxAliases)
				return false
			}
			continue // the anchor itself is walked where it is defined
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return true
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliases; i++ {
		n = n.Alias
	}
	return n
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
// them. When known is non-nil, other keys are errors (with a suggestion).
// what names the mapping in messages ("stage esclavo").
func (l *loader) mapping(n *yaml.Node, what string, known []string) (fields, bool) {
	f := fields{by: map[string]field{}}
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			l.errs.add(n, "%s: want a mapping, got a %s", what, kindName(n))
		}
		return f, false
	}
	ok := true
	var merged []field
	explicit := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			mf, mok := l.mergeKey(v, what, known)
			ok = ok && mok
			merged = append(merged, mf...)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			l.errs.add(k, "%s: keys must be plain names", what)
			ok = false
			continue
		}
		if prev, dup := explicit[k.Value]; dup {
			l.errs.add(k, "%s: duplicate key %s (first at line %d)", what, quote(k.Value), prev.Line)
			ok = false
			continue
		}
		explicit[k.Value] = k
		if what == "pipeline" && strings.HasPrefix(k.Value, "x-") {
			// Extension keys hold anchors to reuse (x-defaults: &d …).
			continue
		}
		if known != nil && !contains(known, k.Value) {
			l.errs.add(k, "%s: unknown key %s%s", what, quote(k.Value), didYouMean(k.Value, known))
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
func (l *loader) mergeKey(v *yaml.Node, what string, known []string) ([]field, bool) {
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
		l.errs.add(v, "%s: << wants a mapping or a list of mappings", what)
		return nil, false
	}
	var out []field
	seen := map[string]bool{}
	ok := true
	for _, m := range maps {
		f, mok := l.mapping(m, what, known)
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the text of a non-null scalar; anything else is an error
// naming what was expected.
func (l *loader) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errs.add(n, "%s: want a value, got a %s", what, kindName(n))
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool":
	default:
		l.errs.add(n, "%s: unsupported tag %s", what, n.Tag)
		return "", false
	}
	if strings.IndexByte(n.Value, 0) >= 0 {
		l.errs.add(n, "%s: contains a NUL byte", what)
		return "", false
	}
	return n.Value, true
}

// strList reads a list of scalars; a single scalar counts as a list of one.
func (l *loader) strList(n *yaml.Node, what string) ([]string, []*yaml.Node, bool) {
	n = deref(n)
	if n == nil {
		return nil, nil, true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		s, ok := l.scalar(n, what)
		return []string{s}, []*yaml.Node{n}, ok
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.add(n, "%s: want a list, got a %s", what, kindName(n))
		return nil, nil, false
	}
	var out []string
	var nodes []*yaml.Node
	ok := true
	for _, c := range n.Content {
		c = deref(c)
		s, sok := l.scalar(c, what)
		if !sok {
			ok = false
			continue
		}
		out = append(out, s)
		nodes = append(nodes, c)
	}
	return out, nodes, ok
}

// boolean reads a YAML boolean.
func (l *loader) boolean(n *yaml.Node, what string) (bool, bool) {
	n = deref(n)
	if n == nil {
		return false, true
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		l.errs.add(n, "%s: want true or false, got %s", what, describeNode(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		l.errs.add(n, "%s: %v", what, err)
		return false, false
	}
	return b, true
}

func describeNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return quote(n.Value)
	}
	return "a " + kindName(n)
}
