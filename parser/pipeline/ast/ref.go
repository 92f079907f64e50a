package ast

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Ref is a reference as written: NAME, NAME[i], NAME.PORT or NAME[i].PORT
// (PORT is stdin, stdout, stderr or fdN). Package pipeline resolves it.
type Ref struct {
	Text string
	Node *yaml.Node // the scalar it is written in
	Off  int        // byte offset of Text inside Node's value
}

func refOf(s *Scalar) *Ref { return &Ref{Text: strings.TrimSpace(s.Text), Node: s.Node} }

func refsOf(list []*Scalar) []*Ref {
	var out []*Ref
	for _, s := range list {
		out = append(out, refOf(s))
	}
	return out
}

// Port is a stage's stdin:, stdout: or stderr: key and what it names:
// references to nodes, and files written in place ({file: PATH}), which
// each replica of the stage gets its own of (a foreach stage writes
// out/{{item.stem}}.txt). An output with several readers shares them
// through a tee.
type Port struct {
	Key   *yaml.Node
	Refs  []*Ref
	Files []*InlineFile
	// Data is the text of stdin: {data: TEXT}, which tubo writes into a
	// pipe on the stage's stdin (as sh does for a here-document); nil
	// means the port names no data.
	Data *Scalar
}

// InlineFile is a file named where a stage's descriptor goes: stdin:
// {file: PATH} or stdout: {file: PATH, append: true}. Its path may use the
// stage's own placeholders ({{item}}, {{replica}}).
type InlineFile struct {
	Node   *yaml.Node
	Path   *Scalar
	Append *Bool // nil: truncate when written
}

var inlineFileKeys = []string{"file", "append", "data"}

// decodePort reads a port's value: a reference, {file: PATH}, {data:
// TEXT} (stdin only), or (for an output) a list of them.
func decodePort(d *decoder, key, v *yaml.Node, what string, list bool) *Port {
	p := &Port{Key: key}
	v = deref(v)
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		if !list {
			d.add(v, "%s: want one source, got a list", what)
			return p
		}
		items = v.Content
	}
	for _, it := range items {
		it = deref(it)
		if it.Kind == yaml.MappingNode {
			f, _ := d.mapping(it, what, inlineFileKeys)
			if f.has("data") {
				switch {
				case list:
					d.add(f.key("data"), "%s: data: only stdin can be given data; write a file with a stage, or use {file: PATH}", what)
				case f.has("file") || f.has("append"):
					d.add(it, "%s: give {data: TEXT} or {file: PATH}, not both", what)
				default:
					p.Data = d.str(f.get("data"), what+": data")
				}
				continue
			}
			inl := &InlineFile{Node: it, Path: d.str(f.get("file"), what+": file")}
			if !f.has("file") {
				d.add(it, "%s: a mapping here names a file: {file: PATH}", what)
			}
			inl.Append = d.boolean(f.get("append"), what+": append")
			if inl.Path != nil {
				p.Files = append(p.Files, inl)
			}
			continue
		}
		if s := d.str(it, what); s != nil {
			p.Refs = append(p.Refs, refOf(s))
		}
	}
	return p
}
