package pipeline

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// refSpec is a reference to an endpoint: one written in the file, or one
// that tubo makes for the other side of a connection written on a node
// (the stage's own end of its stdout:, a merge's end of its from:).
type refSpec struct {
	text     string
	node     *yaml.Node // where it is written
	off      int        // byte offset of text inside node's value
	implicit bool       // made by tubo (the stage's own side of stdout: …)
	// direct is a node ID that the reference stands for as it is, with
	// no lookup (a scatter node tubo made); "" for a name to resolve.
	direct string
}

func refOf(r *ast.Ref) refSpec { return refSpec{text: r.Text, node: r.Node, off: r.Off} }

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

// topEdges records the connections of edges:.
func (l *loader) topEdges(list []*ast.Edge) {
	for _, e := range list {
		for _, t := range e.To {
			l.edges = append(l.edges, edgeSpec{from: refOf(e.From), to: refOf(t), pipeSize: e.PipeSize})
		}
	}
}

// refPos is where a reference is written.
func (l *loader) refPos(r refSpec) graph.Pos { return l.errs.posAt(r.node, r.off) }

// resolveRef turns a reference into endpoints; src says which side of an edge
// it is on (the default port of a stage is stdout as a source, stdin as a
// destination). A reference to a broken declaration fails without a word.
func (l *loader) resolveRef(r refSpec, src bool) (endpoints, bool) {
	var out endpoints
	if r.direct != "" {
		out.eps = []graph.Endpoint{{Node: r.direct}}
		return out, true
	}
	text := r.text
	name, rest := text, ""
	if i := strings.IndexAny(text, "[."); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	if l.broken[name] {
		return out, false
	}
	kind, known := l.names[name]
	if !known {
		shown := name
		if looksLikePath(text) {
			shown = text
		}
		l.errs.addPos(l.refPos(r), "no stage, fifo, file, tee or merge named %s%s", quote(shown), l.refHint(text, name, src))
		return out, false
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

// refHint helps with a reference to nothing: a likely typo of a declared
// name, or, for what looks like a path (access.log, data/in.txt), how to
// declare the file, since a reference names a node and never a path.
func (l *loader) refHint(text, name string, src bool) string {
	if looksLikePath(text) {
		id := fileID(text)
		for l.names[id] != "" {
			id += "_file"
		}
		verb := "write into"
		if src {
			verb = "read"
		}
		return fmt.Sprintf("; to %s a file, declare it under files: (files: {%s: %s}) and refer to it as %s", verb, id, text, id)
	}
	return didYouMean(name, keys(l.names))
}

// looksLikePath says whether a reference is more likely a file's path
// than a node's name: it has a slash, or what follows its first dot is
// no port (access.log, not gen.stdout).
func looksLikePath(text string) bool {
	if strings.ContainsAny(text, "/~") {
		return true
	}
	_, rest, ok := strings.Cut(text, ".")
	if !ok {
		return false
	}
	if strings.HasPrefix(rest, "[") {
		return false
	}
	return portFD(rest) < 0
}

// fileID makes a node name from a path: its base name without the
// extension, other characters than letters, digits, _ and - as _.
func fileID(p string) string {
	base := filepath.Base(p)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	var b strings.Builder
	for i, c := range base {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			c = '_'
		}
		b.WriteRune(c)
	}
	if b.Len() == 0 || !ast.ValidName(b.String()) {
		return "input"
	}
	return b.String()
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
			// The end that did resolve lost a connection: validation must
			// not count its inputs and outputs as if it were whole.
			for _, ep := range append(from.eps, to.eps...) {
				l.incomplete[ep.Node] = true
			}
			continue
		}
		written := es.to
		if written.implicit {
			written = es.from
		}
		pos := l.refPos(written)
		var pairs [][2]graph.Endpoint
		switch {
		case len(from.eps) == 0 || len(to.eps) == 0:
			// A foreach stage with no items (allow_empty): nothing to
			// connect, and the other end is short of what it expects.
			for _, ep := range append(from.eps, to.eps...) {
				l.incomplete[ep.Node] = true
			}
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
	for _, f := range l.inline {
		all = append(all, placed{f.edge, f.edge.Pos})
	}
	for _, e := range l.direct {
		all = append(all, placed{e, e.Pos})
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
		if len(d.nodes) == 0 {
			continue
		}
		var ids []string
		var when map[string]graph.Outcome
		for _, a := range d.decl.After {
			r := refOf(a.Ref)
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
				if a.When != graph.Success {
					if when == nil {
						when = map[string]graph.Outcome{}
					}
					when[ep.Node] = a.When
				}
			}
		}
		for _, n := range d.nodes {
			n.After = append([]string(nil), ids...)
			n.AfterOutcome = when
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
		if count[e.From] < 2 || from.Kind == graph.Tee || from.Kind == graph.Scatter || from.Kind == graph.File {
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
			n.StdinNull = !fed[n.ID] && !d.decl.InheritStdin
			if n.Host != "" {
				// Only the host knows its PATH: the wrapper puts the
				// dirs in front of it there (and an env: PATH wins).
				if getenv(n.Env, "PATH") == "" {
					n.PathDirs = l.binDirs
				}
				continue
			}
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

func getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
