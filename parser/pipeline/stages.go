package pipeline

import (
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// stageDecl is one entry of stages: and the nodes it expands to.
type stageDecl struct {
	name       string
	decl       *ast.Stage
	replicated bool
	n          int         // number of copies (1 when not replicated)
	parts      [][2]int64  // each copy's part of split:, or nil
	items      []string    // each copy's foreach item, or nil
	scatter    *graph.Node // the stage's scatter node, or nil
	fdByName   map[string]int
	nodes      []*graph.Node
}

// declareStages builds every stage of the file, in order.
func (l *loader) declareStages(f *ast.Pipeline) {
	if f.StagesNode == nil && f.TopOK {
		l.errs.add(nil, "no stages: a pipeline needs at least one stage")
	}
	for _, s := range f.Stages {
		if !l.declare(s.Key, s.Name, "stage") {
			continue
		}
		d := &stageDecl{name: s.Name, decl: s, n: 1, fdByName: map[string]int{}}
		for _, fd := range s.FDs {
			if fd.Name != "" {
				d.fdByName[fd.Name] = fd.Num
			}
		}
		l.stages[s.Name] = d
		l.order = append(l.order, d)
		if l.errs.full() || s.Broken || !l.stage(d) || s.Scatter != nil && !l.scatter(d) {
			l.broken[s.Name] = true
			d.nodes = nil
		}
		// A broken stage's connections are kept too: they resolve to
		// nothing, and the nodes at their other end are then known to be
		// incomplete rather than reported as unconnected.
		l.ports(d)
	}
}

// stage expands one stage into its nodes; false when it cannot be built.
func (l *loader) stage(d *stageDecl) (built bool) {
	s := d.decl
	what := "stage " + d.name
	if !l.replicas(d) {
		return false
	}
	inlineFrom, inputsFrom := len(l.inline), len(l.inputs)
	defer func() {
		if !built {
			l.inline, l.inputs = l.inline[:inlineFrom], l.inputs[:inputsFrom]
		}
	}()
	// The nodes join the graph only once every copy is built, so that a
	// stage that fails halfway leaves nothing behind to validate.
	var nodes []*graph.Node
	for i := 0; i < d.n; i++ {
		sc := &scope{stage: d, replica: i, replicas: d.n}
		if d.parts != nil {
			sc.part = &d.parts[i]
		}
		if d.items != nil {
			sc.item = &item{value: d.items[i], index: i}
		}
		node := &graph.Node{ID: d.name, Kind: graph.Process, Pos: l.errs.at(s.Key)}
		if d.replicated {
			node.ID = d.name + "[" + strconv.Itoa(i) + "]"
			node.Group, node.Replica, node.Replicas = d.name, i, d.n
		}
		if sc.item != nil {
			node.Item = sc.item.value
		}
		if !l.command(node, s, sc, what) {
			return false
		}
		if s.Cwd != nil {
			if dir, ok := l.expand(s.Cwd.Node, s.Cwd.Text, sc); ok {
				node.Dir = l.resolve(dir)
			}
		}
		node.Env = append(node.Env, l.envAll...)
		node.Env = setEnv(node.Env, l.envVars(s.Env, sc)...)
		if s.Timeout != nil {
			node.Timeout = l.duration(s.Timeout, sc, what+": timeout")
		}
		l.failure(node, &s.Failure, sc, what)
		node.Inputs = l.paths(s.Inputs, sc, what+": inputs")
		node.Outputs = l.paths(s.Outputs, sc, what+": outputs")
		if !l.inlineFiles(node, sc) {
			return false
		}
		node.Env = setEnv(node.Env, tuboEnv(d, i)...)
		nodes = append(nodes, node)
		if l.errs.full() {
			return false
		}
	}
	for _, n := range nodes {
		d.nodes = append(d.nodes, l.g.Add(n))
	}
	for _, f := range l.inline[inlineFrom:] {
		l.g.Add(f.node)
	}
	return true
}

// command fills a node's argv or shell line.
func (l *loader) command(node *graph.Node, s *ast.Stage, sc *scope, what string) bool {
	if s.Shell != nil {
		if !l.checked[s.Shell] {
			if !l.checkShell(s.Shell, what) {
				return false
			}
			if l.checked == nil {
				l.checked = map[*ast.Scalar]bool{}
			}
			l.checked[s.Shell] = true // once, not once per replica
		}
		sc.shell = true
		line, ok := l.expand(s.Shell.Node, s.Shell.Text, sc)
		sc.shell = false
		if !ok {
			return false
		}
		if strings.TrimSpace(line) == "" {
			l.errs.add(s.Shell.Node, "%s: empty shell line", what)
			return false
		}
		node.Shell = line
		return true
	}
	ok := true
	for _, el := range s.Run {
		args, aok := l.expandArg(el.Node, el.Text, sc)
		if !aok {
			ok = false
			continue
		}
		node.Argv = append(node.Argv, args...)
	}
	if ok && (len(node.Argv) == 0 || node.Argv[0] == "") {
		l.errs.add(s.RunNode, "%s: run: empty command", what)
		return false
	}
	return ok
}

// ports turns a stage's stdin:, stdout:, stderr: and fds: into edges.
func (l *loader) ports(d *stageDecl) {
	s := d.decl
	for _, fd := range s.FDs {
		self := refSpec{text: d.name + ".fd" + strconv.Itoa(fd.Num), node: fd.Key, implicit: true}
		if fd.From != nil {
			l.edges = append(l.edges, edgeSpec{from: refOf(fd.From), to: self})
		}
		for _, r := range fd.To {
			l.edges = append(l.edges, edgeSpec{from: self, to: refOf(r)})
		}
	}
	if s.Stdin != nil {
		to := refSpec{text: d.name + ".stdin", node: s.Stdin.Key, implicit: true}
		if d.scatter != nil {
			to.direct = d.scatter.ID // the copies read from the scatter
		}
		for _, r := range s.Stdin.Refs {
			l.edges = append(l.edges, edgeSpec{from: refOf(r), to: to})
		}
	}
	for _, p := range []struct {
		name string
		port *ast.Port
	}{{"stdout", s.Stdout}, {"stderr", s.Stderr}} {
		if p.port == nil {
			continue
		}
		for _, r := range p.port.Refs {
			l.edges = append(l.edges, edgeSpec{from: refSpec{text: d.name + "." + p.name, node: p.port.Key, implicit: true}, to: refOf(r)})
		}
	}
}

// tuboEnv tells a stage about itself: its replica index and count, its part
// of the split, and the numbers of its fds: descriptors.
func tuboEnv(d *stageDecl, i int) []string {
	var env []string
	if d.replicated {
		env = append(env, "TUBO_REPLICA="+strconv.Itoa(i), "TUBO_REPLICAS="+strconv.Itoa(d.n))
	}
	if d.parts != nil {
		env = append(env, "TUBO_PART_LO="+strconv.FormatInt(d.parts[i][0], 10), "TUBO_PART_HI="+strconv.FormatInt(d.parts[i][1], 10))
	}
	if len(d.decl.FDs) > 0 {
		var s []string
		for _, fd := range d.decl.FDs {
			s = append(s, strconv.Itoa(fd.Num))
		}
		env = append(env, "TUBO_FDS="+strings.Join(s, ","))
	}
	return env
}

// setEnv sets NAME=VALUE pairs in env, replacing earlier ones of the same
// name.
func setEnv(env []string, add ...string) []string {
	for _, kv := range add {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range env {
			if n, _, _ := strings.Cut(old, "="); n == name {
				env[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}

// paths expands a list of files or globs, relative to the pipeline file.
func (l *loader) paths(list []*ast.Scalar, sc *scope, what string) []string {
	var out []string
	for _, s := range list {
		vals, ok := l.expandArg(s.Node, s.Text, sc)
		if !ok {
			continue
		}
		for _, v := range vals {
			if v == "" {
				l.errs.add(s.Node, "%s: empty path", what)
				continue
			}
			out = append(out, l.resolve(v))
		}
	}
	return out
}
