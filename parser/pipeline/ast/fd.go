package ast

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// MaxFD is the highest descriptor number a pipeline may name.
const MaxFD = 1023

// FD is one entry of a stage's fds:, an extra descriptor from 3 up. The
// key is a number (that descriptor) or a name (the next free descriptor
// from 3, in order). The short form is a source reference (the stage
// reads it); the long form says the direction: {from: REF} or {to: REF}.
type FD struct {
	Num  int
	Name string // "" when the key is a number
	Key  *yaml.Node
	// From is what the stage reads on the descriptor; nil when it writes.
	From *Ref
	// To is where the stage's writes on the descriptor go.
	To []*Ref
}

// decodeFDs reads a stage's fds: mapping, numbering named descriptors.
func decodeFDs(d *decoder, v *yaml.Node, stage string) []*FD {
	what := "stage " + stage + ": fds"
	m, _ := d.mapping(v, what, nil)
	used := map[int]bool{}
	for _, it := range m.list {
		if fd, err := strconv.Atoi(it.name); err == nil {
			if fd < 3 || fd > MaxFD {
				d.add(it.key, "%s: fd %d: extra descriptors are 3 to %d (use stdin:, stdout:, stderr: for 0–2)", what, fd, MaxFD)
				continue
			}
			used[fd] = true
		}
	}
	var out []*FD
	next := 3
	for _, it := range m.list {
		fd, err := strconv.Atoi(it.name)
		name := ""
		if err != nil {
			if !ValidName(it.name) {
				d.add(it.key, "%s: %s is neither a number nor a name", what, Quote(it.name))
				continue
			}
			for used[next] {
				next++
			}
			fd, name = next, it.name
			used[fd] = true
		} else if fd < 3 || fd > MaxFD {
			continue
		}
		f := &FD{Num: fd, Name: name, Key: it.key}
		d.sub(f.decodeValue(it.val, what, it.name))
		out = append(out, f)
	}
	return out
}

// UnmarshalYAML reads the value of an fds: entry; f.Num and f.Key must be
// set.
func (f *FD) UnmarshalYAML(v *yaml.Node) error {
	return f.decodeValue(v, "fds", strconv.Itoa(f.Num))
}

func (f *FD) decodeValue(val *yaml.Node, what, key string) error {
	var d decoder
	if val.Kind == yaml.MappingNode {
		ff, _ := d.mapping(val, what+": "+key, []string{"from", "to"})
		switch {
		case ff.has("from") == ff.has("to"):
			d.add(val, "%s: %s: give from: (the stage reads) or to: (the stage writes)", what, key)
		case ff.has("from"):
			if s := d.str(ff.get("from"), what+": from"); s != nil {
				f.From = refOf(s)
			}
		default:
			to, _ := d.strList(ff.get("to"), what+": to")
			f.To = refsOf(to)
		}
		return d.err()
	}
	if s := d.str(val, what+": "+key); s != nil {
		f.From = refOf(s)
	}
	return d.err()
}
