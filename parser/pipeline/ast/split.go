package ast

import "go.yaml.in/yaml/v3"

// Split is a stage's split: {lo, hi, cost}: the inclusive integer range
// its replicas share, one contiguous part each.
type Split struct {
	Node   *yaml.Node
	Lo, Hi *Scalar
	// Cost says how the cost of one number grows with it (even, sqrt,
	// linear or an exponent); nil means even: parts of equal size.
	Cost *Scalar
	// Stage is the stage it belongs to, for messages.
	Stage string
}

// UnmarshalYAML reads split: {lo: …, hi: …, cost: …}; s.Stage must be set.
func (s *Split) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	what := "stage " + s.Stage
	s.Node = v
	f, ok := d.mapping(v, what+": split", []string{"lo", "hi", "cost"})
	if !ok {
		return d.err()
	}
	if c := f.get("cost"); c != nil {
		s.Cost = d.str(c, what+": split: cost")
	}
	for _, k := range []string{"lo", "hi"} {
		b := f.get(k)
		if b == nil {
			d.add(v, "%s: split: %s is required", what, k)
			return d.err()
		}
		sc := d.str(b, what+": split: "+k)
		if sc == nil {
			return d.err()
		}
		if k == "lo" {
			s.Lo = sc
		} else {
			s.Hi = sc
		}
	}
	return d.err()
}
