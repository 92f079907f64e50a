package ast

import (
	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// Scatter is a stage's scatter: {by, size, record}: its stdin is cut into
// consecutive chunks of size lines, bytes or records, dealt round-robin
// to its replicas (as parallel --pipe does), to be read back in order by a
// merge with mode: reassemble.
type Scatter struct {
	Node *yaml.Node
	By   graph.ChunkUnit
	// Size is the chunk size (an int or a placeholder); nil when it could
	// not be read.
	Size *Scalar
	// Width is 4 or 8 with by: records (record: int32 or int64).
	Width int
}

var (
	scatterKeys  = []string{"by", "size", "record"}
	chunkUnits   = []string{"lines", "bytes", "records"}
	recordWidths = []string{"int32", "int64"}
)

// UnmarshalYAML reads scatter: {by: lines|bytes|records, size: N,
// record: int32|int64}.
func (s *Scatter) UnmarshalYAML(n *yaml.Node) error { return s.decode(n, "scatter") }

func (s *Scatter) decode(n *yaml.Node, what string) error {
	var d decoder
	s.Node = n
	f, ok := d.mapping(n, what, scatterKeys)
	if !ok {
		return d.err()
	}
	if i := d.enum(f.get("by"), what+": by", chunkUnits); i >= 0 {
		s.By = graph.ChunkUnit(i)
	} else if !f.has("by") {
		d.add(n, "%s: by is required: lines, bytes or records", what)
	}
	if !f.has("size") {
		d.add(n, "%s: size is required: how many %s in a chunk", what, s.By)
	}
	s.Size = d.str(f.get("size"), what+": size")
	switch r := f.get("record"); {
	case s.By == graph.ChunkRecords && r == nil:
		d.add(n, "%s: by: records needs record: int32 or int64", what)
	case s.By != graph.ChunkRecords && r != nil:
		d.add(f.key("record"), "%s: record applies only to by: records", what)
	case r != nil:
		if i := d.enum(r, what+": record", recordWidths); i >= 0 {
			s.Width = 4 << i
		}
	}
	return d.err()
}
