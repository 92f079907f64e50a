package pipeline

import (
	"io/fs"
	"os"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
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
	// named is set when a stage's value names the file ({{file.NAME}}):
	// the stage may write it by itself, without an edge.
	named bool
}

// builtinDecl is a tee or merge node.
type builtinDecl struct {
	name string
	node *graph.Node
	// spillSet records that the file chose spill: true or false for this
	// tee; otherwise tubo decides (see spillDiamonds).
	spillSet bool
}

// declareFIFOs turns fifos: into FIFO nodes.
func (l *loader) declareFIFOs(list []*ast.FIFO) {
	onlyArgs := &scope{onlyArgs: true}
	for _, f := range list {
		if !l.declare(f.Key, f.Name, "fifo") {
			continue
		}
		what := "fifo " + f.Name
		d := &fifoDecl{name: f.Name}
		node := &graph.Node{ID: f.Name, Kind: graph.FIFO, Pos: l.errs.at(f.Key)}
		if f.Path != nil {
			if s, ok := l.expand(f.Path.Node, f.Path.Text, onlyArgs); ok {
				d.path = l.resolve(s)
				l.checkFIFOPath(f.Path, what, d.path)
			}
		}
		if f.Keep != nil {
			node.Keep = f.Keep.Value
		}
		if d.path == "" {
			d.path = l.tempDir() + "/" + f.Name
		}
		node.Path = d.path
		d.node = l.g.Add(node)
		l.fifos[f.Name] = d
	}
}

// checkFIFOPath refuses a FIFO path that exists as something else.
func (l *loader) checkFIFOPath(s *ast.Scalar, what, path string) {
	st, err := os.Lstat(path)
	if err != nil {
		return
	}
	if st.Mode()&fs.ModeNamedPipe == 0 {
		l.errs.add(s.Node, "%s: %s exists and is not a FIFO (it is a %s); remove it or choose another path", what, path, typeName(st.Mode()))
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

// declareFiles turns files: into file nodes.
func (l *loader) declareFiles(list []*ast.File) {
	onlyArgs := &scope{onlyArgs: true}
	for _, f := range list {
		if !l.declare(f.Key, f.Name, "file") {
			continue
		}
		what := "file " + f.Name
		if f.Path == nil {
			l.broken[f.Name] = true
			continue
		}
		s, ok := l.expand(f.Path.Node, f.Path.Text, onlyArgs)
		if !ok {
			l.broken[f.Name] = true
			continue
		}
		if s == "" {
			l.errs.add(f.Path.Node, "%s: empty path", what)
			l.broken[f.Name] = true
			continue
		}
		node := &graph.Node{ID: f.Name, Kind: graph.File, Pos: l.errs.at(f.Key), Path: l.resolve(s)}
		if f.Append != nil {
			node.Append = f.Append.Value
		}
		l.files[f.Name] = &fileDecl{name: f.Name, path: node.Path, node: l.g.Add(node)}
	}
}

// declareTees turns tees: into tee nodes and their from:/to: into edges.
func (l *loader) declareTees(list []*ast.Tee) {
	for _, t := range list {
		if !l.declare(t.Key, t.Name, "tee") {
			continue
		}
		node := &graph.Node{ID: t.Name, Kind: graph.Tee, Pos: l.errs.at(t.Key)}
		if t.FailOnReaderExit != nil {
			node.FailOnReaderExit = t.FailOnReaderExit.Value
		}
		if t.Spill != nil {
			node.Spill = t.Spill.Value
		}
		l.builtinEdges(t.Name, t.From, t.To)
		l.builts[t.Name] = &builtinDecl{name: t.Name, node: l.g.Add(node), spillSet: t.Spill != nil}
	}
}

// declareMerges turns merges: into merge nodes and their from:/to: into
// edges.
func (l *loader) declareMerges(list []*ast.Merge) {
	for _, m := range list {
		if !l.declare(m.Key, m.Name, "merge") {
			continue
		}
		node := &graph.Node{ID: m.Name, Kind: graph.Merge, Pos: l.errs.at(m.Key), Merge: m.Spec}
		l.builtinEdges(m.Name, m.From, m.To)
		l.builts[m.Name] = &builtinDecl{name: m.Name, node: l.g.Add(node)}
	}
}

// builtinEdges records the edges a tee or merge names itself.
func (l *loader) builtinEdges(name string, from, to *ast.Port) {
	if from != nil {
		for _, r := range from.Refs {
			l.edges = append(l.edges, edgeSpec{from: refOf(r), to: refSpec{text: name, node: from.Key, implicit: true}})
		}
	}
	if to != nil {
		for _, r := range to.Refs {
			l.edges = append(l.edges, edgeSpec{from: refSpec{text: name, node: to.Key, implicit: true}, to: refOf(r)})
		}
	}
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
