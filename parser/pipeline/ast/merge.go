package ast

import (
	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// Merge is one entry of merges:, a builtin that joins several inputs into
// one output: how (mode), what a record is, and how to write it.
type Merge struct {
	Decl
	// From and To connect it; nil when written elsewhere.
	From, To *Port
	// Spec is the zero MergeSpec (concat lines) for keys not written.
	Spec        graph.MergeSpec
	Description *Scalar
}

var mergeKeys = []string{"from", "to", "mode", "record", "order", "key", "output", "description"}

// UnmarshalYAML reads a merge's settings (or null); m.Name must be set.
func (m *Merge) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	if isNull(v) {
		return nil
	}
	what := "merge " + m.Name
	f, _ := d.mapping(v, what, mergeKeys)
	m.Spec = decodeMergeSpec(&d, f, what)
	m.From, m.To = decodeFromTo(&d, f, what)
	m.Description = d.str(f.get("description"), what+": description")
	return d.err()
}

// decodeMergeSpec reads a merge's mode, record format, byte order, key and
// output form, refusing combinations that mean nothing.
func decodeMergeSpec(d *decoder, f fields, what string) graph.MergeSpec {
	var m graph.MergeSpec
	pick := func(key string, allowed []string) (int, bool) {
		i := d.enum(f.get(key), what+": "+key, allowed)
		return i, i >= 0
	}
	if i, ok := pick("mode", []string{"concat", "interleave", "ordered", "reassemble"}); ok {
		m.Mode = graph.MergeMode(i)
	}
	if m.Mode == graph.Reassemble {
		for _, k := range []string{"record", "order", "output"} {
			if f.has(k) {
				d.add(f.key(k), "%s: %s: reassemble writes back what the scatter's copies wrote, in their own form", what, k)
			}
		}
	}
	if i, ok := pick("record", []string{"lines", "int32", "int64"}); ok {
		m.Record = graph.RecordFormat(i)
	}
	binary := m.Record != graph.Lines
	if i, ok := pick("order", []string{"host", "little", "big"}); ok {
		if !binary {
			d.add(f.get("order"), "%s: order applies to int32 and int64 records, not lines", what)
		}
		m.Order = graph.ByteOrder(i)
	}
	if i, ok := pick("key", []string{"lexical", "numeric"}); ok {
		switch {
		case binary:
			d.add(f.get("key"), "%s: key applies to lines; binary records always compare as numbers", what)
		case m.Mode != graph.Ordered:
			d.add(f.get("key"), "%s: key applies only to mode: ordered", what)
		}
		m.Numeric = i == 1
	}
	if i, ok := pick("output", []string{"binary", "text"}); ok {
		if !binary && i == 0 {
			d.add(f.get("output"), "%s: output: binary applies to int32 and int64 records", what)
		}
		m.Text = i == 1 && binary
	}
	return m
}
