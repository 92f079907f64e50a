package pipeline

import (
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// refSpec is a written reference to an endpoint: NAME, NAME[i], NAME.PORT
// or NAME[i].PORT, where PORT is stdin, stdout, stderr or fdN.
type refSpec struct {
	text     string
	node     *yaml.Node // where it is written
	off      int        // byte offset of text inside node's value
	implicit bool       // made by tubo (the stage's own side of stdout: …)
}

func ref(n *yaml.Node) refSpec { return refSpec{text: strings.TrimSpace(n.Value), node: n} }

// edgeSpec is one connection before its references are resolved.
type edgeSpec struct {
	from, to refSpec
	pipeSize int
}

// endpoints is what a reference resolves to: one endpoint, or one per
// replica of a stage.
type endpoints struct {
	eps   []graph.Endpoint
	group string // the replicated stage named as a whole, or ""
	port  bool   // a port was written
}

// topEdges reads edges:, a list of "a.stdout -> b" chains or
// {from: REF, to: REF or [REF…], pipe_size: BYTES} mappings.
func (l *loader) topEdges(n *yaml.Node) {
	if n = deref(n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.add(n, "edges: want a list of \"a -> b\" strings or {from:, to:} mappings")
		return
	}
	for _, it := range n.Content {
		it = deref(it)
		if it.Kind == yaml.MappingNode {
			f, ok := l.mapping(it, "edge", []string{"from", "to", "pipe_size", "description"})
			if !ok {
				continue
			}
			from, to := f.get("from"), f.get("to")
			if from == nil || to == nil {
				l.errs.add(it, "edge: give both from: and to:")
				continue
			}
			if _, ok := l.scalar(from, "edge: from"); !ok {
				continue
			}
			size := 0
			if ps := f.get("pipe_size"); ps != nil {
				if ps.ShortTag() != "!!int" {
					l.errs.add(ps, "edge: pipe_size: want a number of bytes, got %s", describeNode(ps))
					continue
				}
				x, err := strconv.Atoi(ps.Value)
				if err != nil || x < 4096 || x > 1<<30 {
					l.errs.add(ps, "edge: pipe_size: %s is outside 4096–%d bytes", ps.Value, 1<<30)
					continue
				}
				size = x
			}
			_, tos, _ := l.strList(to, "edge: to")
			for _, t := range tos {
				l.edges = append(l.edges, edgeSpec{from: ref(from), to: ref(t), pipeSize: size})
			}
			continue
		}
		s, ok := l.scalar(it, "edges")
		if !ok {
			continue
		}
		l.chain(it, s)
	}
}

// chain reads "a -> b -> c": a's output into b, b's output into c.
func (l *loader) chain(n *yaml.Node, s string) {
	var parts []refSpec
	off := 0
	for _, p := range strings.Split(s, "->") {
		lead := len(p) - len(strings.TrimLeft(p, " \t"))
		parts = append(parts, refSpec{text: strings.TrimSpace(p), node: n, off: off + lead})
		off += len(p) + 2
	}
	if len(parts) < 2 {
		l.errs.add(n, "edges: %s: want \"from -> to\"", quote(s))
		return
	}
	for i, p := range parts {
		if p.text == "" {
			l.errs.addPos(l.errs.posAt(n, p.off), "edges: %s: empty reference", quote(s))
			return
		}
		if i > 0 && i < len(parts)-1 && strings.Contains(p.text, ".") {
			l.errs.addPos(l.errs.posAt(n, p.off), "edges: %s: a stage in the middle of a chain reads stdin and writes stdout; write its ports in separate edges", p.text)
			return
		}
	}
	for i := 0; i+1 < len(parts); i++ {
		l.edges = append(l.edges, edgeSpec{from: parts[i], to: parts[i+1]})
	}
}

// pos is where a reference is written.
func (l *loader) refPos(r refSpec) graph.Pos { return l.errs.posAt(r.node, r.off) }

// resolveRef turns a reference into endpoints; src says which side of an edge
// it is on (the default port of a stage is stdout as a source, stdin as a
// destination).
func (l *loader) resolveRef(r refSpec, src bool) (endpoints, bool) {
	var out endpoints
	text := r.text
	name, rest := text, ""
	if i := strings.IndexAny(text, "[."); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	idx := -1
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			l.errs.addPos(l.refPos(r), "%s: missing ]", quote(text))
			return out, false
		}
		x, err := strconv.Atoi(rest[1:j])
		if err != nil || x < 0 {
			l.errs.addPos(l.refPos(r), "%s: replica index %s is not a number ≥ 0", quote(text), quote(rest[1:j]))
			return out, false
		}
		idx, rest = x, rest[j+1:]
	}
	fd := -1
	if rest != "" {
		port, ok := strings.CutPrefix(rest, ".")
		if !ok {
			l.errs.addPos(l.refPos(r), "%s: want NAME, NAME[i], NAME.PORT or NAME[i].PORT", quote(text))
			return out, false
		}
		if fd = portFD(port); fd < 0 {
			l.errs.addPos(l.refPos(r), "%s: unknown port %s (want stdin, stdout, stderr or fdN)%s", quote(text), quote(port), didYouMean(port, []string{"stdin", "stdout", "stderr"}))
			return out, false
		}
		out.port = true
	}
	kind, known := l.names[name]
	if !known {
		l.errs.addPos(l.refPos(r), "no stage, fifo, file, tee or merge named %s%s", quote(name), didYouMean(name, keys(l.names)))
		return out, false
	}
	d := l.stages[name]
	if d == nil {
		if idx >= 0 || fd >= 0 {
			l.errs.addPos(l.refPos(r), "%s: a %s has no replicas or ports; write just %s", quote(text), kind, name)
			return out, false
		}
		out.eps = []graph.Endpoint{{Node: name}}
		return out, true
	}
	if fd < 0 {
		fd = graph.Stdin
		if src {
			fd = graph.Stdout
		}
	}
	switch {
	case idx >= 0 && !d.replicated:
		l.errs.addPos(l.refPos(r), "%s: stage %s is not replicated", quote(text), name)
		return out, false
	case idx >= d.n:
		l.errs.addPos(l.refPos(r), "%s: stage %s has %d replicas (0–%d)", quote(text), name, d.n, d.n-1)
		return out, false
	case idx >= 0:
		out.eps = []graph.Endpoint{{Node: d.nodes[idx].ID, FD: fd}}
	default:
		for _, n := range d.nodes {
			out.eps = append(out.eps, graph.Endpoint{Node: n.ID, FD: fd})
		}
		if d.replicated {
			out.group = name
		}
	}
	return out, true
}

func portFD(p string) int {
	switch p {
	case "stdin":
		return graph.Stdin
	case "stdout":
		return graph.Stdout
	case "stderr":
		return graph.Stderr
	}
	if n, ok := strings.CutPrefix(p, "fd"); ok && n != "" && len(n) <= 4 {
		if x, err := strconv.Atoi(n); err == nil && x >= 0 && n[0] != '+' {
			return x
		}
	}
	return -1
}

// buildEdges resolves every connection into graph edges, in the order they
// are written in the file, and resolves after: lists.
func (l *loader) buildEdges() {
	type placed struct {
		e   *graph.Edge
		pos graph.Pos
	}
	var all []placed
	for _, es := range l.edges {
		from, ok1 := l.resolveRef(es.from, true)
		to, ok2 := l.resolveRef(es.to, false)
		if !ok1 || !ok2 {
			continue
		}
		written := es.to
		if written.implicit {
			written = es.from
		}
		pos := l.refPos(written)
		var pairs [][2]graph.Endpoint
		switch {
		case len(from.eps) == 1 || len(to.eps) == 1:
			for _, f := range from.eps {
				for _, t := range to.eps {
					pairs = append(pairs, [2]graph.Endpoint{f, t})
				}
			}
		case len(from.eps) == len(to.eps):
			// Two replicated stages of the same count: copy i feeds copy i.
			for i := range from.eps {
				pairs = append(pairs, [2]graph.Endpoint{from.eps[i], to.eps[i]})
			}
		default:
			l.errs.addPos(pos, "cannot connect the %d replicas of %s to the %d replicas of %s; name one replica, e.g. %s[0]", len(from.eps), from.group, len(to.eps), to.group, to.group)
			continue
		}
		for _, p := range pairs {
			all = append(all, placed{&graph.Edge{From: p[0], To: p[1], Pos: pos, PipeSize: es.pipeSize}, pos})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].pos, all[j].pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	for _, p := range all {
		l.g.Edges = append(l.g.Edges, p.e)
	}
	for _, d := range l.order {
		var ids []string
		for _, r := range d.after {
			eps, ok := l.resolveRef(r, true)
			if !ok {
				continue
			}
			if eps.port {
				l.errs.addPos(l.refPos(r), "stage %s: after: name a stage, not a port", d.name)
				continue
			}
			for _, ep := range eps.eps {
				if n := l.g.Node(ep.Node); n == nil || n.Kind != graph.Process {
					l.errs.addPos(l.refPos(r), "stage %s: after: %s is a %s, not a stage", d.name, ep.Node, l.names[ep.Node])
					continue
				}
				ids = append(ids, ep.Node)
			}
		}
		for _, n := range d.nodes {
			n.After = append([]string(nil), ids...)
		}
	}
}

// implicitTees gives every output that feeds several readers a tee node of
// its own: "gen.stdout" read by a and b becomes gen → gen.stdout.tee → a, b.
// A file can be read by several (each opens it), so it needs none.
func (l *loader) implicitTees() {
	g := l.g
	count := map[graph.Endpoint]int{}
	for _, e := range g.Edges {
		count[e.From]++
	}
	var out []*graph.Edge
	made := map[graph.Endpoint]string{}
	for _, e := range g.Edges {
		from := g.Node(e.From.Node)
		if count[e.From] < 2 || from.Kind == graph.Tee || from.Kind == graph.File {
			out = append(out, e)
			continue
		}
		tee, ok := made[e.From]
		if !ok {
			tee = from.ID + ".tee"
			if from.Kind == graph.Process {
				tee = from.ID + "." + portName(e.From.FD) + ".tee"
			}
			made[e.From] = tee
			g.Add(&graph.Node{ID: tee, Kind: graph.Tee, Pos: e.Pos})
			out = append(out, &graph.Edge{From: e.From, To: graph.Endpoint{Node: tee}, Pos: e.Pos})
		}
		e.From = graph.Endpoint{Node: tee}
		out = append(out, e)
	}
	g.Edges = out
}

func portName(fd int) string {
	switch fd {
	case graph.Stdin:
		return "stdin"
	case graph.Stdout:
		return "stdout"
	case graph.Stderr:
		return "stderr"
	}
	return "fd" + strconv.Itoa(fd)
}

// finishProcs gives stages without an input /dev/null and puts path:
// directories in front of each stage's PATH.
func (l *loader) finishProcs() {
	fed := map[string]bool{}
	for _, e := range l.g.Edges {
		if e.To.FD == graph.Stdin {
			fed[e.To.Node] = true
		}
	}
	basePath := getenv(l.env, "PATH")
	for _, d := range l.order {
		for _, n := range d.nodes {
			n.StdinNull = !fed[n.ID] && !d.inherit
			if len(l.binDirs) > 0 && getenv(n.Env, "PATH") == "" {
				p := strings.Join(l.binDirs, ":")
				if basePath != "" {
					p += ":" + basePath
				}
				n.Env = setEnv(n.Env, "PATH="+p)
			}
		}
	}
}

// lookupPrograms checks that each stage's program exists on its PATH, as
// the executor will search it, so a missing one is reported before
// anything starts.
func (l *loader) lookupPrograms() {
	basePath := getenv(l.env, "PATH")
	for _, d := range l.order {
		seen := map[string]bool{}
		for _, n := range d.nodes {
			if n.Shell != "" || len(n.Argv) == 0 || seen[n.Argv[0]] {
				continue
			}
			seen[n.Argv[0]] = true
			path := getenv(n.Env, "PATH")
			if path == "" {
				path = basePath
			}
			if _, err := executor.LookPath(n.Argv[0], path, n.Dir); err != nil {
				at := d.f.get("run")
				if at != nil && len(at.Content) > 0 {
					at = deref(at.Content[0])
				}
				hint := ""
				if len(l.binDirs) > 0 {
					hint = " (searched " + strings.Join(l.binDirs, ", ") + " and $PATH; are the programs built?)"
				}
				l.errs.add(at, "stage %s: %v%s", d.name, err, hint)
			}
		}
	}
}

func getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
