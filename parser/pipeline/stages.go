package pipeline

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/validate"
)

var stageKeys = []string{
	"run", "shell", "replicas", "split", "cwd", "env", "timeout", "after",
	"stdin", "stdout", "stderr", "fds", "description",
}

// stageDecl is one entry of stages: and the nodes it expands to.
type stageDecl struct {
	name       string
	key        *yaml.Node
	f          fields
	replicated bool
	n          int        // number of copies (1 when not replicated)
	parts      [][2]int64 // each copy's part of split:, or nil
	splitNode  *yaml.Node
	fdByName   map[string]int
	fdOrder    []int // fds: numbers in declaration order
	nodes      []*graph.Node
	inherit    bool // stdin: "-" keeps tubo's stdin
	after      []refSpec
}

// declareStages reads stages:, a mapping of name → stage, in order.
func (l *loader) declareStages(n *yaml.Node) {
	if n == nil {
		l.errs.add(nil, "no stages: a pipeline needs at least one stage")
		return
	}
	f, _ := l.mapping(n, "stages", nil)
	if len(f.list) == 0 && l.errs.n() == 0 {
		l.errs.add(n, "stages: a pipeline needs at least one stage")
	}
	for _, it := range f.list {
		if l.errs.full() {
			return
		}
		if !l.declare(it.key, it.name, "stage") {
			continue
		}
		what := "stage " + it.name
		sf, ok := l.mapping(it.val, what, stageKeys)
		if !ok && len(sf.list) == 0 {
			continue
		}
		d := &stageDecl{name: it.name, key: it.key, f: sf, n: 1, fdByName: map[string]int{}}
		l.stages[it.name] = d
		l.order = append(l.order, d)
		l.stage(d)
	}
}

// stage expands one stage into its nodes and records its connections.
func (l *loader) stage(d *stageDecl) {
	what := "stage " + d.name
	f := d.f
	run, shell := f.get("run"), f.get("shell")
	switch {
	case run == nil && shell == nil:
		l.errs.add(d.key, "%s: give run: [program, args…] or shell: \"line\"", what)
		return
	case run != nil && shell != nil:
		l.errs.add(f.key("shell"), "%s: give either run: or shell:, not both", what)
		return
	}
	if run != nil && run.Kind != yaml.SequenceNode {
		l.errs.add(run, "%s: run: want a list like [program, arg, …]; for a command line use shell:", what)
		return
	}
	l.fds(d)
	if !l.replicas(d) {
		return
	}
	for i := 0; i < d.n; i++ {
		sc := &scope{stage: d, replica: i, replicas: d.n, fds: d.fdByName}
		if d.parts != nil {
			sc.part = &d.parts[i]
		}
		node := &graph.Node{ID: d.name, Kind: graph.Process, Pos: l.errs.at(d.key)}
		if d.replicated {
			node.ID = d.name + "[" + strconv.Itoa(i) + "]"
			node.Group, node.Replica, node.Replicas = d.name, i, d.n
		}
		if !l.command(node, run, shell, sc, what) {
			return
		}
		if v := f.get("cwd"); v != nil {
			if s, ok := l.scalar(v, what+": cwd"); ok {
				if s, ok = l.expand(v, s, sc); ok {
					node.Dir = l.resolve(s)
				}
			}
		}
		node.Env = append(node.Env, l.envAll...)
		if v := f.get("env"); v != nil {
			node.Env = setEnv(node.Env, l.envMap(v, sc, what+": env")...)
		}
		if v := f.get("timeout"); v != nil {
			node.Timeout = l.duration(v, sc, what+": timeout")
		}
		node.Env = setEnv(node.Env, tuboEnv(d, i)...)
		d.nodes = append(d.nodes, l.g.Add(node))
		if l.errs.full() {
			return
		}
	}
	if v := f.get("after"); v != nil {
		_, nodes, _ := l.strList(v, what+": after")
		for _, r := range nodes {
			d.after = append(d.after, ref(r))
		}
	}
	l.ports(d)
}

// command fills a node's argv or shell line.
func (l *loader) command(node *graph.Node, run, shell *yaml.Node, sc *scope, what string) bool {
	if shell != nil {
		s, ok := l.scalar(shell, what+": shell")
		if !ok {
			return false
		}
		sc.shell = true
		line, ok := l.expand(shell, s, sc)
		sc.shell = false
		if !ok {
			return false
		}
		if strings.TrimSpace(line) == "" {
			l.errs.add(shell, "%s: empty shell line", what)
			return false
		}
		node.Shell = line
		return true
	}
	ok := true
	for _, el := range run.Content {
		el = deref(el)
		s, sok := l.scalar(el, what+": run")
		if !sok {
			ok = false
			continue
		}
		args, aok := l.expandArg(el, s, sc)
		if !aok {
			ok = false
			continue
		}
		node.Argv = append(node.Argv, args...)
	}
	if ok && (len(node.Argv) == 0 || node.Argv[0] == "") {
		l.errs.add(run, "%s: run: empty command", what)
		return false
	}
	return ok
}

// fds reads fds: — extra descriptors of a stage, fan-in (or fan-out) on
// fds 3 and up. Keys are numbers (that fd) or names (the next free fd from
// 3, in order; the stage learns it as {{fds.NAME}} and in TUBO_FDS).
// Values are a source reference (the stage reads it), or {from: REF} /
// {to: REF} to say the direction.
func (l *loader) fds(d *stageDecl) {
	v := d.f.get("fds")
	if v == nil {
		return
	}
	what := "stage " + d.name + ": fds"
	m, _ := l.mapping(v, what, nil)
	used := map[int]bool{}
	for _, it := range m.list {
		if fd, err := strconv.Atoi(it.name); err == nil {
			if fd < 3 || fd > validate.MaxFD {
				l.errs.add(it.key, "%s: fd %d: extra descriptors are 3 to %d (use stdin:, stdout:, stderr: for 0–2)", what, fd, validate.MaxFD)
				continue
			}
			used[fd] = true
		}
	}
	next := 3
	for _, it := range m.list {
		fd, err := strconv.Atoi(it.name)
		if err != nil {
			if !validName(it.name) {
				l.errs.add(it.key, "%s: %s is neither a number nor a name", what, quote(it.name))
				continue
			}
			for used[next] {
				next++
			}
			fd = next
			used[fd] = true
			d.fdByName[it.name] = fd
		} else if fd < 3 || fd > validate.MaxFD {
			continue
		}
		d.fdOrder = append(d.fdOrder, fd)
		self := refSpec{text: d.name + ".fd" + strconv.Itoa(fd), node: it.key, implicit: true}
		val := it.val
		if val.Kind == yaml.MappingNode {
			ff, _ := l.mapping(val, what+": "+it.name, []string{"from", "to"})
			switch {
			case ff.has("from") == ff.has("to"):
				l.errs.add(val, "%s: %s: give from: (the stage reads) or to: (the stage writes)", what, it.name)
			case ff.has("from"):
				if _, ok := l.scalar(ff.get("from"), what+": from"); ok {
					l.edges = append(l.edges, edgeSpec{from: ref(ff.get("from")), to: self})
				}
			default:
				_, nodes, _ := l.strList(ff.get("to"), what+": to")
				for _, r := range nodes {
					l.edges = append(l.edges, edgeSpec{from: self, to: ref(r)})
				}
			}
			continue
		}
		if _, ok := l.scalar(val, what+": "+it.name); ok {
			l.edges = append(l.edges, edgeSpec{from: ref(val), to: self})
		}
	}
}

// ports reads stdin:, stdout: and stderr: into edges.
func (l *loader) ports(d *stageDecl) {
	what := "stage " + d.name
	if v := d.f.get("stdin"); v != nil {
		if s, ok := l.scalar(v, what+": stdin"); ok {
			if s == "-" {
				d.inherit = true
			} else {
				l.edges = append(l.edges, edgeSpec{from: ref(v), to: refSpec{text: d.name + ".stdin", node: d.f.key("stdin"), implicit: true}})
			}
		}
	}
	for _, port := range []string{"stdout", "stderr"} {
		v := d.f.get(port)
		if v == nil {
			continue
		}
		_, nodes, _ := l.strList(v, what+": "+port)
		for _, r := range nodes {
			l.edges = append(l.edges, edgeSpec{from: refSpec{text: d.name + "." + port, node: d.f.key(port), implicit: true}, to: ref(r)})
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
	if len(d.fdOrder) > 0 {
		var s []string
		for _, fd := range d.fdOrder {
			s = append(s, strconv.Itoa(fd))
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
