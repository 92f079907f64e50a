package render

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// A drawing is what DOT and Mermaid both write: the vertices and arrows of
// one or more graphs, laid out by neither (Graphviz and Mermaid do that).
// Building it once keeps the two formats saying the same thing.
type drawing struct {
	name  string
	parts []*part
	// shared are the vertices outside every pipeline: tubo's own stdin,
	// stdout and stderr, and the files that redirections open, which
	// several pipelines of a line may use.
	shared []*vertex
	arrows []*arrow

	byKey map[string]*vertex
}

// part is one pipeline: a cluster of its own when a line has several.
type part struct {
	label string // "pipeline 2 at 1:9"; "" when the drawing has one part
	// groups are the replicated stages, each a cluster named after them.
	groups []*group
	loose  []*vertex // the other nodes, in graph order
}

type group struct {
	label   string // "esclavo ×2"
	members []*vertex
}

type shape int

const (
	process shape = iota
	fifo
	file
	tee
	merge
	stdio   // tubo's stdin, stdout, stderr or another of its descriptors
	heredoc // the body of a here-document, which tubo writes into a pipe
)

type vertex struct {
	id    string // unique in the drawing; DOT uses it as the node's name
	short string // Mermaid's name for it: n0, n1, … in the order written
	shape shape
	lines []string
}

type style int

const (
	solid  style = iota
	dashed       // an after: wait, or a pipe whose end a redirection replaced
	dotted       // a FIFO or file that a stage opens by path
)

type arrow struct {
	from, to *vertex
	label    string
	style    style
	both     bool // read and written (<>)
	nohead   bool // "opens": no direction
	// edge marks the arrows of the graph's own edges. They come first,
	// in the graph's order (the live page finds edge I as the I+1th).
	edge bool
}

// drawGraphs plans each graph (the plan knows every child's descriptor
// table after its redirections) and lays the graphs out as parts of one
// drawing. Redirections show as files, here-documents as sources, and a
// descriptor a stage inherits from tubo as tubo's stdin, stdout, … .
func drawGraphs(name string, gs []*graph.Graph) (*drawing, error) {
	d := &drawing{name: name, byKey: map[string]*vertex{}}
	for i, g := range gs {
		// A remote stage is drawn as what it runs, with the host in its
		// label; the ssh client that would carry its fds 0–2 is not drawn.
		p, err := plan.Build(g, plan.Options{Self: "tubo", Remote: plan.AsWritten})
		if err != nil {
			return nil, err
		}
		pt := &part{}
		prefix := ""
		if len(gs) > 1 {
			prefix = fmt.Sprintf("%d/", i+1)
			pt.label = fmt.Sprintf("pipeline %d", i+1)
			if len(g.Nodes) > 0 && g.Nodes[0].Pos.IsValid() {
				pt.label += " at " + g.Nodes[0].Pos.String()
			}
		}
		d.parts = append(d.parts, pt)
		d.drawPlan(pt, prefix, p)
	}
	d.number()
	return d, nil
}

// number gives the vertices their short names in the order they are
// written: the pipelines' (groups first), then the shared ones.
func (d *drawing) number() {
	i := 0
	name := func(v *vertex) {
		v.short = fmt.Sprintf("n%d", i)
		i++
	}
	for _, pt := range d.parts {
		for _, gr := range pt.groups {
			for _, v := range gr.members {
				name(v)
			}
		}
		for _, v := range pt.loose {
			name(v)
		}
	}
	for _, v := range d.shared {
		name(v)
	}
}

// vertex returns the vertex named key, making it with shape and lines the
// first time; shared vertices go outside the pipelines.
func (d *drawing) vertex(key string, sh shape, lines []string, shared bool) *vertex {
	if v := d.byKey[key]; v != nil {
		return v
	}
	v := &vertex{id: key, shape: sh, lines: lines}
	d.byKey[key] = v
	if shared {
		d.shared = append(d.shared, v)
	}
	return v
}

func (d *drawing) arrow(a *arrow) { d.arrows = append(d.arrows, a) }

var shapeOf = map[graph.Kind]shape{
	graph.Process: process, graph.FIFO: fifo, graph.File: file, graph.Tee: tee, graph.Merge: merge, graph.Scatter: tee,
}

func (d *drawing) drawPlan(pt *part, prefix string, p *plan.Plan) {
	g := p.Graph
	of := map[string]*vertex{}
	order, members := groups(g)
	inGroup := map[string]bool{}
	for _, grp := range order {
		gr := &group{label: fmt.Sprintf("%s ×%d", grp, len(members[grp]))}
		for _, n := range members[grp] {
			inGroup[n.ID] = true
			v := d.vertex(prefix+n.ID, shapeOf[n.Kind], lines(g, n), false)
			of[n.ID] = v
			gr.members = append(gr.members, v)
		}
		pt.groups = append(pt.groups, gr)
	}
	for _, n := range g.Nodes {
		if inGroup[n.ID] {
			continue
		}
		v := d.vertex(prefix+n.ID, shapeOf[n.Kind], lines(g, n), false)
		of[n.ID] = v
		pt.loose = append(pt.loose, v)
	}

	// Which descriptors of each process hold each edge's end, once its
	// redirections have run: "2>&1" puts fd 2 on fd 1's pipe too, and
	// ">/dev/null" takes fd 1 off it.
	procOf := map[string]*plan.Proc{}
	for _, pr := range p.Procs {
		procOf[pr.Node.ID] = pr
	}
	holds := func(ep graph.Endpoint, e *graph.Edge) (fds []int, declared bool) {
		pr := procOf[ep.Node]
		if pr == nil {
			return nil, false
		}
		for _, fd := range pr.FDs {
			if carries(p, fd.Src, e) {
				fds = append(fds, fd.Num)
			}
		}
		return fds, true
	}
	for _, e := range g.Edges {
		wfds, wproc := holds(e.From, e)
		rfds, rproc := holds(e.To, e)
		a := &arrow{from: of[e.From.Node], to: of[e.To.Node], edge: true}
		var gone []string
		if wproc && len(wfds) == 0 {
			gone = append(gone, fmt.Sprintf("%s's fd %d", e.From.Node, e.From.FD))
		}
		if rproc && len(rfds) == 0 {
			gone = append(gone, fmt.Sprintf("%s's fd %d", e.To.Node, e.To.FD))
		}
		if len(gone) > 0 {
			// The pipe is made all the same; its reader sees end-of-file
			// at once, or its writer SIGPIPE.
			a.style = dashed
			a.label = edgeLabel(g, e) + " (" + strings.Join(gone, ", ") + " redirected)"
		} else {
			a.label = fdList(wfds) + "→" + fdList(rfds)
		}
		d.arrow(a)
	}

	// What the redirections (and inheritance) give each process besides
	// the edges.
	for _, pr := range p.Procs {
		d.drawOwn(of[pr.Node.ID], p, pr)
	}
	for _, b := range p.Builtins {
		for _, src := range b.Outputs {
			if src.Kind == plan.Inherit {
				d.arrow(&arrow{from: of[b.Node.ID], to: d.stdio(src.FD), label: fmt.Sprintf("→%d", src.FD)})
			}
		}
	}
	for _, n := range g.Nodes {
		for _, dep := range n.After {
			if of[dep] != nil {
				d.arrow(&arrow{from: of[dep], to: of[n.ID], label: afterLabel(n, dep), style: dashed})
			}
		}
	}
	for _, u := range pathUses(g) {
		d.arrow(&arrow{from: of[u[0].ID], to: of[u[1].ID], label: "opens", style: dotted, nohead: true})
	}
}

// carries says whether src is the end of edge e that its owner holds.
func carries(p *plan.Plan, src plan.Source, e *graph.Edge) bool {
	switch src.Kind {
	case plan.PipeRead, plan.PipeWrite:
		return p.Pipes[src.Index].Edge == e
	case plan.OpenFile:
		return p.Files[src.Index].Edge == e
	}
	return false
}

// drawOwn draws the descriptors of one process that no edge gave it:
// files from redirections, here-documents, and tubo's own descriptors
// passed on (tubo's stdin on fd 0, its stdout on fd 1). tubo's stderr on
// fd 2 is every stage's default and not drawn.
func (d *drawing) drawOwn(v *vertex, p *plan.Plan, pr *plan.Proc) {
	type key struct {
		kind  plan.SourceKind
		index int
	}
	var order []key
	fds := map[key][]int{}
	for _, fd := range pr.FDs {
		k := key{fd.Src.Kind, fd.Src.Index}
		switch fd.Src.Kind {
		case plan.Inherit:
			if fd.Num == 2 && fd.Src.FD == 2 {
				continue
			}
			k.index = fd.Src.FD
		case plan.OpenFile:
			if p.Files[fd.Src.Index].Edge != nil {
				continue
			}
		case plan.PipeRead:
			if p.Pipes[fd.Src.Index].Edge != nil {
				continue
			}
		default: // edges, /dev/null, closed
			continue
		}
		if _, seen := fds[k]; !seen {
			order = append(order, k)
		}
		fds[k] = append(fds[k], fd.Num)
	}
	for _, k := range order {
		list := fdList(fds[k])
		switch k.kind {
		case plan.Inherit:
			// Read when it is tubo's stdin (`3<&0` too) or on the child's
			// fd 0 (`<&3`); written otherwise.
			s := d.stdio(k.index)
			if k.index == 0 || fds[k][0] == 0 {
				d.arrow(&arrow{from: s, to: v, label: fmt.Sprintf("%d→%s", k.index, list)})
			} else {
				d.arrow(&arrow{from: v, to: s, label: fmt.Sprintf("%s→%d", list, k.index)})
			}
		case plan.OpenFile:
			f := p.Files[k.index]
			fv := d.vertex("file "+f.Path, file, []string{"file " + truncate(f.Path)}, true)
			switch {
			case f.Flag&os.O_RDWR != 0:
				d.arrow(&arrow{from: v, to: fv, label: list + "↔", both: true})
			case f.Flag&(os.O_WRONLY) != 0:
				label := list + "→"
				if f.Flag&os.O_APPEND != 0 {
					label += " (append)"
				}
				d.arrow(&arrow{from: v, to: fv, label: label})
			default:
				d.arrow(&arrow{from: fv, to: v, label: "→" + list})
			}
		case plan.PipeRead:
			pipe := p.Pipes[k.index]
			hv := d.vertex(fmt.Sprintf("%s here-document %d", v.id, k.index), heredoc,
				[]string{"here-document", plural(len(pipe.Data), "byte")}, true)
			d.arrow(&arrow{from: hv, to: v, label: "→" + list})
		}
	}
}

// stdio is the vertex of one of tubo's own descriptors.
func (d *drawing) stdio(fd int) *vertex {
	name := [...]string{"tubo's stdin", "tubo's stdout", "tubo's stderr"}
	key := fmt.Sprintf("(fd %d)", fd)
	label := fmt.Sprintf("tubo's fd %d", fd)
	switch fd {
	case 0, 1, 2:
		key = "(" + strings.TrimPrefix(name[fd], "tubo's ") + ")"
		label = name[fd]
	}
	return d.vertex(key, stdio, []string{label}, true)
}

// fdList is "1" or "1,2": the descriptors that hold one end.
func fdList(fds []int) string {
	sort.Ints(fds)
	s := make([]string, len(fds))
	for i, fd := range fds {
		s[i] = fmt.Sprint(fd)
	}
	return strings.Join(s, ",")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
