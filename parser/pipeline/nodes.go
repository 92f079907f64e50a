package pipeline

import (
	"io/fs"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/validate"
)

// fifoDecl is a named pipe from fifos:.
type fifoDecl struct {
	name string
	path string
	node *graph.Node
}

// fileDecl is a regular file from files:.
type fileDecl struct {
	name string
	path string
	node *graph.Node
}

// builtinDecl is a tee or merge node.
type builtinDecl struct {
	name string
	node *graph.Node
	// spillSet records that the file chose spill: true or false for this
	// tee; otherwise tubo decides (see spillDiamonds).
	spillSet bool
}

var (
	fifoKeys  = []string{"path", "keep", "description"}
	fileKeys  = []string{"path", "append", "description"}
	teeKeys   = []string{"from", "to", "fail_on_reader_exit", "spill", "description"}
	mergeKeys = []string{"from", "to", "mode", "record", "order", "key", "output", "description"}
)

// declareFIFOs reads fifos: — a mapping of name → {path, keep} (or null),
// or a list of names.
func (l *loader) declareFIFOs(n *yaml.Node) {
	if n = deref(n); n == nil {
		return
	}
	onlyArgs := &scope{onlyArgs: true}
	var items []field
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if s, ok := l.scalar(c, "fifos"); ok {
				items = append(items, field{name: s, key: deref(c)})
			}
		}
	} else {
		f, _ := l.mapping(n, "fifos", nil)
		items = f.list
	}
	for _, it := range items {
		if !l.declare(it.key, it.name, "fifo") {
			continue
		}
		d := &fifoDecl{name: it.name}
		node := &graph.Node{ID: it.name, Kind: graph.FIFO, Pos: l.errs.at(it.key)}
		if it.val != nil && !(it.val.Kind == yaml.ScalarNode && it.val.ShortTag() == "!!null") {
			what := "fifo " + it.name
			f, _ := l.mapping(it.val, what, fifoKeys)
			if p := f.get("path"); p != nil {
				if s, ok := l.scalar(p, what+": path"); ok {
					if s, ok = l.expand(p, s, onlyArgs); ok {
						d.path = l.resolve(s)
						l.checkFIFOPath(p, what, d.path)
					}
				}
			}
			if k := f.get("keep"); k != nil {
				node.Keep, _ = l.boolean(k, what+": keep")
				if node.Keep && d.path == "" {
					l.errs.add(k, "%s: keep needs a path (a FIFO in tubo's private directory is removed with it)", what)
				}
			}
		}
		if d.path == "" {
			d.path = l.tempDir() + "/" + it.name
		}
		node.Path = d.path
		d.node = l.g.Add(node)
		l.fifos[it.name] = d
	}
}

// checkFIFOPath refuses a FIFO path that exists as something else.
func (l *loader) checkFIFOPath(n *yaml.Node, what, path string) {
	st, err := os.Lstat(path)
	if err != nil {
		return
	}
	if st.Mode()&fs.ModeNamedPipe == 0 {
		l.errs.add(n, "%s: %s exists and is not a FIFO (it is a %s); remove it or choose another path", what, path, typeName(st.Mode()))
	}
}

func typeName(m fs.FileMode) string {
	switch m.Type() {
	case 0:
		return "regular file"
	case fs.ModeDir:
		return "directory"
	case fs.ModeSymlink:
		return "symbolic link"
	case fs.ModeSocket:
		return "socket"
	case fs.ModeDevice:
		return "block device"
	case fs.ModeDevice | fs.ModeCharDevice:
		return "character device"
	}
	return "special file"
}

// declareFiles reads files: — name → path, or name → {path, append}.
func (l *loader) declareFiles(n *yaml.Node) {
	if n == nil {
		return
	}
	onlyArgs := &scope{onlyArgs: true}
	f, _ := l.mapping(n, "files", nil)
	for _, it := range f.list {
		if !l.declare(it.key, it.name, "file") {
			continue
		}
		what := "file " + it.name
		node := &graph.Node{ID: it.name, Kind: graph.File, Pos: l.errs.at(it.key)}
		pathNode := it.val
		if it.val.Kind == yaml.MappingNode {
			ff, _ := l.mapping(it.val, what, fileKeys)
			pathNode = ff.get("path")
			if a := ff.get("append"); a != nil {
				node.Append, _ = l.boolean(a, what+": append")
			}
			if pathNode == nil {
				l.errs.add(it.val, "%s: path is required", what)
				continue
			}
		}
		s, ok := l.scalar(pathNode, what+": path")
		if !ok {
			continue
		}
		if s, ok = l.expand(pathNode, s, onlyArgs); !ok {
			continue
		}
		if s == "" {
			l.errs.add(pathNode, "%s: empty path", what)
			continue
		}
		node.Path = l.resolve(s)
		d := &fileDecl{name: it.name, path: node.Path, node: l.g.Add(node)}
		l.files[it.name] = d
	}
}

// declareBuiltins reads tees: or merges:.
func (l *loader) declareBuiltins(n *yaml.Node, kind graph.Kind) {
	if n == nil {
		return
	}
	section, keys := "tees", teeKeys
	if kind == graph.Merge {
		section, keys = "merges", mergeKeys
	}
	f, _ := l.mapping(n, section, nil)
	for _, it := range f.list {
		if !l.declare(it.key, it.name, kind.String()) {
			continue
		}
		what := kind.String() + " " + it.name
		node := &graph.Node{ID: it.name, Kind: kind, Pos: l.errs.at(it.key)}
		var ff fields
		if it.val != nil && !(it.val.Kind == yaml.ScalarNode && it.val.ShortTag() == "!!null") {
			ff, _ = l.mapping(it.val, what, keys)
		}
		spillSet := false
		if kind == graph.Tee {
			if v := ff.get("fail_on_reader_exit"); v != nil {
				node.FailOnReaderExit, _ = l.boolean(v, what+": fail_on_reader_exit")
			}
			if v := ff.get("spill"); v != nil {
				node.Spill, _ = l.boolean(v, what+": spill")
				spillSet = true
			}
		} else {
			node.Merge = l.mergeSpec(ff, what)
		}
		if v := ff.get("from"); v != nil {
			_, nodes, _ := l.strList(v, what+": from")
			for _, r := range nodes {
				l.edges = append(l.edges, edgeSpec{from: ref(r), to: refSpec{text: it.name, node: ff.key("from"), implicit: true}})
			}
		}
		if v := ff.get("to"); v != nil {
			_, nodes, _ := l.strList(v, what+": to")
			for _, r := range nodes {
				l.edges = append(l.edges, edgeSpec{from: refSpec{text: it.name, node: ff.key("to"), implicit: true}, to: ref(r)})
			}
		}
		l.builts[it.name] = &builtinDecl{name: it.name, node: l.g.Add(node), spillSet: spillSet}
	}
}

// mergeSpec reads a merge's mode, record format, byte order, key and
// output form, refusing combinations that mean nothing.
func (l *loader) mergeSpec(f fields, what string) graph.MergeSpec {
	var m graph.MergeSpec
	pick := func(key string, allowed []string) (int, bool) {
		v := f.get(key)
		if v == nil {
			return 0, false
		}
		s, ok := l.scalar(v, what+": "+key)
		if !ok {
			return 0, false
		}
		i := indexOf(allowed, s)
		if i < 0 {
			l.errs.add(v, "%s: %s: unknown value %s (want %s)%s", what, key, quote(s), joinOr(allowed), didYouMean(s, allowed))
			return 0, false
		}
		return i, true
	}
	if i, ok := pick("mode", []string{"concat", "interleave", "ordered"}); ok {
		m.Mode = graph.MergeMode(i)
	}
	if i, ok := pick("record", []string{"lines", "int32", "int64"}); ok {
		m.Record = graph.RecordFormat(i)
	}
	binary := m.Record != graph.Lines
	if i, ok := pick("order", []string{"host", "little", "big"}); ok {
		if !binary {
			l.errs.add(f.get("order"), "%s: order applies to int32 and int64 records, not lines", what)
		}
		m.Order = graph.ByteOrder(i)
	}
	if i, ok := pick("key", []string{"lexical", "numeric"}); ok {
		switch {
		case binary:
			l.errs.add(f.get("key"), "%s: key applies to lines; binary records always compare as numbers", what)
		case m.Mode != graph.Ordered:
			l.errs.add(f.get("key"), "%s: key applies only to mode: ordered", what)
		}
		m.Numeric = i == 1
	}
	if i, ok := pick("output", []string{"binary", "text"}); ok {
		if !binary && i == 0 {
			l.errs.add(f.get("output"), "%s: output: binary applies to int32 and int64 records", what)
		}
		m.Text = i == 1 && binary
	}
	return m
}

func joinOr(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	s := ""
	for i, x := range list[:len(list)-1] {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s + " or " + list[len(list)-1]
}

// spillDiamonds lets every tee whose branches meet again spill, unless the
// file said spill: false: such a tee would otherwise deadlock against the
// join (validation then refuses it with an explanation).
func (l *loader) spillDiamonds() {
	for _, n := range validate.Diamonds(l.g) {
		if d := l.builts[n.ID]; d != nil && d.spillSet {
			continue
		}
		n.Spill = true
	}
}
