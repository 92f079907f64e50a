package ast

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

// Parse reads data as one pipeline file. It returns the pipeline as far
// as it could be read (nil when the file is not even a YAML mapping) and
// every problem found, as an ErrorList.
func Parse(data []byte) (*Pipeline, error) {
	var d decoder
	root := d.document(data)
	if root == nil {
		return nil, d.err()
	}
	p := &Pipeline{}
	d.sub(p.UnmarshalYAML(root))
	return p, d.err()
}

// document parses data as one YAML document whose top is a mapping, and
// refuses oversized, over-deep or alias-heavy input.
func (d *decoder) document(data []byte) *yaml.Node {
	if len(data) > MaxFileSize {
		d.add(nil, "file is %d bytes; pipeline files are limited to %d bytes", len(data), MaxFileSize)
		return nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		d.add(nil, "file contains a NUL byte; pipeline files are text")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(nil, "empty pipeline file")
			return nil
		}
		d.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.add(&extra, "a pipeline file holds one YAML document; this is a second one")
		return nil
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err)
		return nil
	}
	if !d.checkTree(&doc) {
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			d.add(nil, "empty pipeline file")
			return nil
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		d.add(root, "a pipeline file is a mapping (stages:, params:, …), not a %s", kindName(root))
		return nil
	}
	return root
}

// yamlError turns a parser error ("yaml: line 3: …") into a positioned one.
func (d *decoder) yamlError(err error) {
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
	e := &Error{Msg: "YAML: " + msg}
	if line > 0 {
		e.Line, e.Col = line, 1
	}
	d.errs = append(d.errs, e)
}

// checkTree walks the whole tree once, iteratively, and refuses too many
// nodes, too deep a nesting or too many aliases.
func (d *decoder) checkTree(doc *yaml.Node) bool {
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
			d.add(it.n, "too many YAML nodes (more than %d)", maxNodes)
			return false
		}
		if it.depth > maxDepth {
			d.add(it.n, "nesting deeper than %d levels", maxDepth)
			return false
		}
		if it.n.Kind == yaml.AliasNode {
			aliases++
			if aliases > maxAliases {
				d.add(it.n, "too many aliases (more than %d); pipeline files use few, and many can expand exponentially", maxAliases)
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
