package pipeline

import (
	"path/filepath"

	"github.com/tubo-pipes/tubo/graph"
)

// logs gives every stage whose stderr is tubo's own a log file of its
// own in the file's logs: directory, DIR/STAGE.err (DIR/STAGE[i].err for
// a copy), appended to (the run starts each one empty), so that a
// retried stage keeps every attempt's messages.
func (l *loader) logs() {
	s := l.file.Logs
	if s == nil {
		return
	}
	dir, ok := l.expand(s.Node, s.Text, &scope{onlyArgs: true})
	if !ok {
		return
	}
	if dir == "" {
		l.errs.add(s.Node, "logs: empty directory")
		return
	}
	l.g.LogDir = l.resolve(dir)
	has := map[string]bool{}
	for _, e := range l.g.Edges {
		if e.From.FD == graph.Stderr {
			has[e.From.Node] = true
		}
	}
	var nodes []*graph.Node
	for _, n := range l.g.Nodes {
		if n.Kind != graph.Process || has[n.ID] || n.Cached {
			continue
		}
		f := &graph.Node{ID: n.ID + ".log", Kind: graph.File, Pos: n.Pos, Path: filepath.Join(l.g.LogDir, n.ID+".err"), Append: true, Log: true}
		nodes = append(nodes, f)
		l.g.Edges = append(l.g.Edges, &graph.Edge{From: graph.Endpoint{Node: n.ID, FD: graph.Stderr}, To: graph.Endpoint{Node: f.ID}, Pos: n.Pos})
	}
	for _, f := range nodes {
		l.g.Add(f)
	}
}
