package ast

import "go.yaml.in/yaml/v3"

// File is one entry of files:, a regular file used as a source or a
// sink: name: PATH (short form) or name: {path, append}.
type File struct {
	Decl
	Path *Scalar // nil when it could not be read
	// Append opens it with O_APPEND; nil means truncate when written.
	Append      *Bool
	Description *Scalar
}

var fileKeys = []string{"path", "append", "description"}

// UnmarshalYAML reads a file's path or settings; f.Name must be set.
func (f *File) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	what := "file " + f.Name
	pathNode := v
	if v.Kind == yaml.MappingNode {
		m, _ := d.mapping(v, what, fileKeys)
		pathNode = m.get("path")
		f.Append = d.boolean(m.get("append"), what+": append")
		f.Description = d.str(m.get("description"), what+": description")
		if pathNode == nil {
			d.add(v, "%s: path is required", what)
			f.Broken = true
			return d.err()
		}
	}
	f.Path = d.str(pathNode, what+": path")
	f.Broken = f.Path == nil
	return d.err()
}
