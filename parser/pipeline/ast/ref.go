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

// Port is a stage's stdin:, stdout: or stderr: key and the references it
// names (one for stdin; one or several for an output, which several
// readers share through a tee).
type Port struct {
	Key  *yaml.Node
	Refs []*Ref
}
