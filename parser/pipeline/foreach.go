package pipeline

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// MaxItems bounds foreach: items, as MaxReplicas bounds replicas:.
const MaxItems = 4096

// item is the foreach item of one copy of a stage, for {{item…}}.
type item struct {
	value string
	index int
}

// lookupItem resolves {{item}}, {{item.index}}, {{item.base}},
// {{item.stem}}, {{item.dir}} and {{item.ext}}.
func lookupItem(name string, it *item) (string, string) {
	if it == nil {
		return "", "{{" + name + "}} is only known in a stage with foreach: (its run, shell, env, cwd, timeout and files)"
	}
	base := filepath.Base(it.value)
	switch name {
	case "item":
		return it.value, ""
	case "item.index":
		return strconv.Itoa(it.index), ""
	case "item.base":
		return base, ""
	case "item.stem":
		if ext := filepath.Ext(base); ext != base {
			return strings.TrimSuffix(base, ext), ""
		}
		return base, ""
	case "item.dir":
		return filepath.Dir(it.value), ""
	case "item.ext":
		return filepath.Ext(base), ""
	}
	sub := strings.TrimPrefix(name, "item.")
	return "", "unknown placeholder {{" + name + "}}" + didYouMean(sub, []string{"index", "base", "stem", "dir", "ext"})
}

// foreachItems reads a stage's foreach: into its items: a list param, a
// written list (whose elements may use params, {{list...}} spreading), or
// the files a glob matches (absolute, sorted).
func (l *loader) foreachItems(d *stageDecl) ([]string, bool) {
	fe := d.decl.Foreach
	what := "stage " + d.name + ": foreach"
	onlyArgs := &scope{onlyArgs: true}
	var items []string
	switch {
	case fe.Param != nil:
		toks, ok := l.tokens(fe.Param.Node, fe.Param.Text)
		if !ok {
			return nil, false
		}
		if len(toks) != 1 || toks[0].name == "" {
			l.errs.add(fe.Param.Node, "%s: want a list param as \"{{name}}\", a list like [a, b], or {glob: PATTERN}", what)
			return nil, false
		}
		vals, isList, msg := l.lookup(toks[0].name, onlyArgs)
		if msg != "" {
			l.fail(fe.Param.Node, toks[0].off, msg)
			return nil, false
		}
		if !isList {
			l.errs.add(fe.Param.Node, "%s: {{%s}} is not a list param; write a list, or {glob: PATTERN}", what, toks[0].name)
			return nil, false
		}
		items = append(items, vals...)
	case fe.Items != nil:
		for _, s := range fe.Items {
			vals, ok := l.expandArg(s.Node, s.Text, onlyArgs)
			if !ok {
				return nil, false
			}
			items = append(items, vals...)
		}
	default:
		pat, ok := l.expand(fe.Glob.Node, fe.Glob.Text, onlyArgs)
		if !ok {
			return nil, false
		}
		matches, err := filepath.Glob(l.resolve(pat))
		if err != nil {
			l.errs.add(fe.Glob.Node, "%s: glob: %s: %v", what, quote(pat), err)
			return nil, false
		}
		items = matches
		if len(items) == 0 && (d.decl.AllowEmpty == nil || !d.decl.AllowEmpty.Value) {
			l.errs.add(fe.Glob.Node, "%s: glob %s matches nothing in %s (allow_empty: true runs no copies instead)", what, quote(pat), l.dir)
			return nil, false
		}
	}
	if len(items) == 0 && (d.decl.AllowEmpty == nil || !d.decl.AllowEmpty.Value) {
		l.errs.add(fe.Node, "%s: the list is empty (allow_empty: true runs no copies instead)", what)
		return nil, false
	}
	if len(items) > MaxItems {
		l.errs.add(fe.Node, "%s: %d items, more than %d; split the work into several runs", what, len(items), MaxItems)
		return nil, false
	}
	return items, true
}

// inlineFiles gives one copy of a stage the files its ports name in place
// ({file: PATH}), each a file node of its own, and the edges to them, and
// the data its stdin is given in place ({data: TEXT}).
func (l *loader) inlineFiles(node *graph.Node, sc *scope) bool {
	s := l.stages[node.Name()].decl
	ok := true
	for _, p := range []struct {
		name string
		fd   int
		port *ast.Port
	}{{"stdin", graph.Stdin, s.Stdin}, {"stdout", graph.Stdout, s.Stdout}, {"stderr", graph.Stderr, s.Stderr}} {
		if p.port == nil {
			continue
		}
		if d := p.port.Data; d != nil {
			// stdin: {data: TEXT}: a pipe that tubo fills, as sh does
			// for a here-document.
			if text, dok := l.expand(d.Node, d.Text, sc); dok {
				node.Redirs = append(node.Redirs, graph.Redir{Kind: graph.Data, FD: graph.Stdin, Pos: l.errs.at(d.Node), Data: []byte(text)})
			} else {
				ok = false
			}
		}
		for k, f := range p.port.Files {
			path, pok := l.expand(f.Path.Node, f.Path.Text, sc)
			if !pok {
				ok = false
				continue
			}
			if path == "" {
				l.errs.add(f.Path.Node, "stage %s: %s: empty file path", node.Name(), p.name)
				ok = false
				continue
			}
			id := node.ID + "." + p.name + ".file"
			if k > 0 {
				id += strconv.Itoa(k + 1)
			}
			fn := &graph.Node{ID: id, Kind: graph.File, Pos: l.errs.at(f.Node), Path: l.resolve(path)}
			if f.Append != nil {
				fn.Append = f.Append.Value
			}
			e := &graph.Edge{From: graph.Endpoint{Node: node.ID, FD: p.fd}, To: graph.Endpoint{Node: id}, Pos: l.errs.at(f.Node)}
			if p.fd == graph.Stdin {
				e.From, e.To = graph.Endpoint{Node: id}, graph.Endpoint{Node: node.ID, FD: graph.Stdin}
				l.inputs = append(l.inputs, fn)
			}
			l.inline = append(l.inline, inlineFile{node: fn, edge: e})
		}
	}
	return ok
}

// inlineFile is a file node made for one copy of a stage, and its edge.
type inlineFile struct {
	node *graph.Node
	edge *graph.Edge
}

// maxParallel sets how many copies of each stage may run at once: the
// stage's own max_parallel, bounded by the file's (or --jobs). A stage
// joined to others by live streams is left unbounded by the file-wide
// value, since all its copies must run at once for the streams to flow
// (validation refuses a stage's own bound there, with the reason).
func (l *loader) maxParallel() {
	top := l.opt.Jobs
	if top == 0 && l.file.MaxParallel != nil {
		if n, ok := l.expandInt(l.file.MaxParallel, &scope{onlyArgs: true}, "max_parallel"); ok {
			if n < 1 {
				l.errs.add(l.file.MaxParallel.Node, "max_parallel: %d is not a number of processes ≥ 1", n)
			} else {
				top = int(n)
			}
		}
	}
	streams := map[string]bool{}
	for _, e := range l.g.Edges {
		from, to := l.g.Node(e.From.Node), l.g.Node(e.To.Node)
		if from == nil || to == nil || from.Kind == graph.File || to.Kind == graph.File {
			continue
		}
		streams[from.Name()], streams[to.Name()] = true, true
	}
	for _, d := range l.order {
		limit := 0
		if s := d.decl.MaxParallel; s != nil {
			if n, ok := l.expandInt(s, &scope{onlyArgs: true}, "stage "+d.name+": max_parallel"); ok {
				if n < 1 {
					l.errs.add(s.Node, "stage %s: max_parallel: %d is not a number of processes ≥ 1", d.name, n)
				} else {
					limit = int(n)
				}
			}
		}
		if top > 0 && !streams[d.name] && (limit == 0 || top < limit) {
			limit = top
		}
		if limit == 0 || limit >= len(d.nodes) {
			continue
		}
		for _, n := range d.nodes {
			n.MaxParallel = limit
		}
	}
}
