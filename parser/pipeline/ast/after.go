package ast

import (
	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// After is one entry of a stage's after:, a stage to wait for and the
// outcome it must end with. Short form: a name (it must succeed). Long
// form: name: success | failure | any, in a mapping or as a list item, so
// `after: [build, {probe: failure}]` and `after: {probe: any}` work.
type After struct {
	Ref  *Ref
	When graph.Outcome
	// WhenNode is where the outcome is written; nil for the short form.
	WhenNode *yaml.Node
}

var outcomes = []string{"success", "failure", "any"}

// decodeAfter reads after: — a name, a list of names and mappings, or a
// mapping of name → outcome.
func decodeAfter(d *decoder, n *yaml.Node, what string) []*After {
	n = deref(n)
	var out []*After
	switch {
	case n.Kind == yaml.MappingNode:
		out = append(out, decodeAfterMap(d, n, what)...)
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if c = deref(c); c.Kind == yaml.MappingNode {
				out = append(out, decodeAfterMap(d, c, what)...)
				continue
			}
			if s := d.str(c, what); s != nil {
				out = append(out, &After{Ref: refOf(s)})
			}
		}
	default:
		if s := d.str(n, what); s != nil {
			out = append(out, &After{Ref: refOf(s)})
		}
	}
	return out
}

func decodeAfterMap(d *decoder, n *yaml.Node, what string) []*After {
	f, _ := d.mapping(n, what, nil)
	var out []*After
	for _, it := range f.list {
		i := d.enum(it.val, what+": "+it.name, outcomes)
		if i < 0 {
			continue
		}
		out = append(out, &After{Ref: &Ref{Text: it.name, Node: it.key}, When: graph.Outcome(i), WhenNode: it.val})
	}
	return out
}
