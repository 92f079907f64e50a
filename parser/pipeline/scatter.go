package pipeline

import (
	"github.com/tubo-pipes/tubo/graph"
)

// MaxChunk bounds a scatter's chunk size, in lines, bytes or records.
const MaxChunk = 1 << 30

// scatter makes the scatter node of a stage with scatter: and its edges
// to the copies' stdins, in copy order. The stage's stdin: then feeds the
// scatter instead of every copy.
func (l *loader) scatter(d *stageDecl) bool {
	s := d.decl
	sc := s.Scatter
	what := "stage " + d.name + ": scatter"
	switch {
	case s.Replicas == nil:
		l.errs.add(sc.Node, "%s: needs replicas: N, the copies the chunks are dealt to", what)
		return false
	case s.Stdin == nil || len(s.Stdin.Refs) == 0:
		l.errs.add(sc.Node, "%s: cuts the stage's stdin; give stdin: SOURCE (a stage, file or fifo)", what)
		return false
	case len(s.Stdin.Files) > 0:
		l.errs.add(s.Stdin.Files[0].Node, "%s: stdin: name a declared file (files:), not {file:}: the copies share one input", what)
		return false
	case sc.Size == nil:
		return false
	}
	size, ok := l.expandInt(sc.Size, &scope{onlyArgs: true}, what+": size")
	if !ok {
		return false
	}
	if size < 1 || size > MaxChunk {
		l.errs.add(sc.Size.Node, "%s: size: %d is outside 1–%d", what, size, MaxChunk)
		return false
	}
	id := d.name + ".scatter"
	node := &graph.Node{ID: id, Kind: graph.Scatter, Pos: l.errs.at(sc.Node),
		Chunk: graph.ChunkSpec{By: sc.By, Size: int(size), Width: sc.Width, Stage: d.name}}
	d.scatter = node
	l.g.Add(node)
	for _, n := range d.nodes {
		l.direct = append(l.direct, &graph.Edge{From: graph.Endpoint{Node: id}, To: graph.Endpoint{Node: n.ID, FD: graph.Stdin}, Pos: node.Pos})
	}
	return true
}

// reassembles gives each merge with mode: reassemble the chunking of the
// scatter whose copies feed it, and refuses one whose inputs are not
// those copies, each once, in copy order: the merge reads chunk k from
// input k mod n.
func (l *loader) reassembles() {
	for _, n := range l.g.Nodes {
		if n.Kind != graph.Merge || n.Merge.Mode != graph.Reassemble || l.incomplete[n.ID] {
			continue
		}
		ins := l.g.Inputs(n.ID)
		if len(ins) == 0 {
			continue // validation says it has no inputs
		}
		var d *stageDecl
		if len(ins) > 0 {
			if from := l.g.Node(ins[0].From.Node); from != nil && from.Kind == graph.Process {
				d = l.stages[from.Name()]
			}
		}
		ok := d != nil && d.scatter != nil && len(ins) == len(d.nodes)
		for i := 0; ok && i < len(ins); i++ {
			ok = ins[i].From.Node == d.nodes[i].ID && ins[i].From.FD == graph.Stdout
		}
		if !ok {
			l.errs.addPos(n.Pos, "merge %s: mode: reassemble reads back the chunks of a stage with scatter:; its inputs must be that stage's copies' stdouts, each once, in order (write stdout: %s on the stage, or from: [STAGE])", n.ID, n.ID)
			continue
		}
		n.Merge.Chunk = d.scatter.Chunk
	}
}
