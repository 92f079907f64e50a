package ast

import "go.yaml.in/yaml/v3"

// Tee is one entry of tees:, a builtin that copies one input to every
// reader. An output with several readers gets one without being declared.
type Tee struct {
	Decl
	// From and To connect it; nil when written elsewhere (edges:, a
	// stage's stdout:).
	From, To *Port
	// FailOnReaderExit is nil for the default, false: a reader that exits
	// early is dropped.
	FailOnReaderExit *Bool
	// Spill is nil when tubo decides (it spills in a diamond).
	Spill       *Bool
	Description *Scalar
}

var teeKeys = []string{"from", "to", "fail_on_reader_exit", "spill", "description"}

// UnmarshalYAML reads a tee's settings (or null); t.Name must be set.
func (t *Tee) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	if isNull(v) {
		return nil
	}
	what := "tee " + t.Name
	f, _ := d.mapping(v, what, teeKeys)
	t.FailOnReaderExit = d.boolean(f.get("fail_on_reader_exit"), what+": fail_on_reader_exit")
	t.Spill = d.boolean(f.get("spill"), what+": spill")
	t.From, t.To = decodeFromTo(&d, f, what)
	t.Description = d.str(f.get("description"), what+": description")
	return d.err()
}

// decodeFromTo reads the from: and to: of a tee or merge.
func decodeFromTo(d *decoder, f fields, what string) (from, to *Port) {
	if v := f.get("from"); v != nil {
		list, _ := d.strList(v, what+": from")
		from = &Port{Key: f.key("from"), Refs: refsOf(list)}
	}
	if v := f.get("to"); v != nil {
		list, _ := d.strList(v, what+": to")
		to = &Port{Key: f.key("to"), Refs: refsOf(list)}
	}
	return from, to
}
