package ast

import "go.yaml.in/yaml/v3"

// FIFO is one entry of fifos:, a named pipe that tubo creates: a name in
// a list (short form), or name: {path, keep} (or null).
type FIFO struct {
	Decl
	// Path is where to create it; nil means tubo's private directory.
	Path *Scalar
	// Keep leaves it in place after the run; nil means remove it.
	Keep        *Bool
	Description *Scalar
}

var fifoKeys = []string{"path", "keep", "description"}

func decodeFIFOs(d *decoder, n *yaml.Node) []*FIFO {
	if n = deref(n); n == nil {
		return nil
	}
	var out []*FIFO
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if s := d.str(c, "fifos"); s != nil {
				out = append(out, &FIFO{Decl: Decl{Name: s.Text, Key: s.Node}})
			}
		}
		return out
	}
	return section[FIFO](d, n, "fifos")
}

// UnmarshalYAML reads a FIFO's settings; f.Name must be set.
func (f *FIFO) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	if isNull(v) {
		return nil
	}
	what := "fifo " + f.Name
	m, _ := d.mapping(v, what, fifoKeys)
	f.Path = d.str(m.get("path"), what+": path")
	f.Keep = d.boolean(m.get("keep"), what+": keep")
	if f.Keep != nil && f.Keep.Value && !m.has("path") {
		d.add(f.Keep.Node, "%s: keep needs a path (a FIFO in tubo's private directory is removed with it)", what)
	}
	f.Description = d.str(m.get("description"), what+": description")
	return d.err()
}
