package pipeline

import (
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/remote"
)

// declareHosts builds the graph's hosts: the file's hosts: entries, then
// the command line's (Options.Hosts), which replace a file entry of the
// same name. Values may use params and pipeline.* placeholders.
func (l *loader) declareHosts(list []*ast.Host) {
	onlyArgs := &scope{onlyArgs: true}
	byName := map[string]int{}
	for _, d := range list {
		if d.Broken {
			continue
		}
		what := "host " + d.Name
		if err := remote.CheckName(d.Name); err != nil {
			l.errs.add(d.Key, "%s: %v", what, err)
			continue
		}
		h, ok := l.host(d, what, onlyArgs)
		if !ok {
			continue
		}
		if graph.IsLocal(d.Name) {
			h.Name = graph.Local
		}
		if _, dup := byName[h.Name]; dup {
			l.errs.add(d.Key, "%s: local and localhost are the same machine; declare it once", what)
			continue
		}
		byName[h.Name] = len(l.g.Hosts)
		l.g.Hosts = append(l.g.Hosts, h)
	}
	for _, h := range l.opt.Hosts {
		c := *h
		if graph.IsLocal(c.Name) {
			c.Name = graph.Local
		}
		if i, ok := byName[c.Name]; ok {
			l.g.Hosts[i] = &c
			continue
		}
		byName[c.Name] = len(l.g.Hosts)
		l.g.Hosts = append(l.g.Hosts, &c)
	}
}

// host reads one hosts: entry.
func (l *loader) host(d *ast.Host, what string, sc *scope) (*graph.Host, bool) {
	pos := l.errs.at(d.Key)
	if d.Short != nil {
		s, ok := l.expand(d.Short.Node, d.Short.Text, sc)
		if !ok {
			return nil, false
		}
		h, err := remote.ParseSpec(s)
		if err != nil {
			l.errs.add(d.Short.Node, "%s: %v", what, err)
			return nil, false
		}
		if h.SSH == "" && !graph.IsLocal(d.Name) {
			l.errs.add(d.Short.Node, "%s: only local can name this machine", what)
			return nil, false
		}
		h.Name, h.Pos = d.Name, pos
		return h, true
	}
	h := &graph.Host{Name: d.Name, Pos: pos}
	ok := true
	if d.SSH != nil {
		if graph.IsLocal(d.Name) {
			l.errs.add(d.SSH.Node, "%s: this machine needs no ssh: (only slots:)", what)
			return nil, false
		}
		if s, sok := l.expand(d.SSH.Node, d.SSH.Text, sc); sok {
			parsed, err := remote.ParseSpec(s)
			switch {
			case err != nil:
				l.errs.add(d.SSH.Node, "%s: ssh: %v", what, err)
				ok = false
			case parsed.SSH == "":
				l.errs.add(d.SSH.Node, "%s: ssh: want [user@]host", what)
				ok = false
			default:
				h.SSH, h.Port = parsed.SSH, parsed.Port
				if parsed.Slots != 0 {
					h.Slots = parsed.Slots
				}
			}
		} else {
			ok = false
		}
	} else if !graph.IsLocal(d.Name) {
		l.errs.add(d.Key, "%s: ssh: is required: the destination, as ssh takes it ([user@]host or a ~/.ssh/config alias)", what)
		return nil, false
	}
	num := func(s *ast.Scalar, key string, lo, hi int, dst *int) {
		if s == nil || (graph.IsLocal(d.Name) && key != "slots") {
			if s != nil {
				l.errs.add(s.Node, "%s: %s: means nothing for this machine (only slots:)", what, key)
				ok = false
			}
			return
		}
		v, vok := l.expand(s.Node, s.Text, sc)
		if !vok {
			ok = false
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			l.errs.add(s.Node, "%s: %s: want a whole number from %d to %d, not %s", what, key, lo, hi, quote(v))
			ok = false
			return
		}
		*dst = n
	}
	num(d.Port, "port", 1, 65535, &h.Port)
	num(d.Slots, "slots", 1, 65536, &h.Slots)
	num(d.Sessions, "sessions", 2, 100000, &h.Sessions)
	if len(d.Options) > 0 && graph.IsLocal(d.Name) {
		l.errs.add(d.Options[0].Node, "%s: options: means nothing for this machine (only slots:)", what)
		ok = false
	}
	for _, o := range d.Options {
		if v, vok := l.expand(o.Node, o.Text, sc); vok {
			h.Options = append(h.Options, v)
		} else {
			ok = false
		}
	}
	return h, ok
}

// placeStages puts each stage's nodes on their hosts. A stage's on: names
// a host, a list of hosts or all (every declared host, this machine
// only if it is declared; this machine alone when none is), and its
// replicas are spread over them by remote.Place. Without on: a stage
// runs here, except that a replicated stage runs on all when the command
// line gave hosts (--hosts, --host): that is how an unchanged pipeline
// spreads its workers, as GNU parallel does with --sshloginfile.
func (l *loader) placeStages() {
	for _, d := range l.order {
		if len(d.nodes) == 0 {
			continue
		}
		hosts, ok := l.stageHosts(d)
		if !ok || len(hosts) == 0 {
			continue
		}
		for i, name := range remote.Place(len(d.nodes), hosts) {
			if !graph.IsLocal(name) {
				d.nodes[i].Host = name
			}
		}
	}
}

// stageHosts resolves a stage's on: into hosts; nil means here.
func (l *loader) stageHosts(d *stageDecl) ([]*graph.Host, bool) {
	s := d.decl
	what := "stage " + d.name + ": on"
	if s.OnNode == nil {
		if len(l.opt.Hosts) > 0 && d.replicated {
			return l.allHosts(), true
		}
		return nil, true
	}
	sc := &scope{onlyArgs: true}
	var names []string
	var nodes []*ast.Scalar
	for _, el := range s.On {
		vals, ok := l.expandArg(el.Node, el.Text, sc)
		if !ok {
			return nil, false
		}
		for _, v := range vals {
			names = append(names, strings.TrimSpace(v))
			nodes = append(nodes, el)
		}
	}
	if len(names) == 0 {
		l.errs.add(s.OnNode, "%s: name a host, a list of hosts, or all", what)
		return nil, false
	}
	var hosts []*graph.Host
	seen := map[string]bool{}
	for i, name := range names {
		switch {
		case name == "all":
			if len(names) > 1 {
				l.errs.add(nodes[i].Node, "%s: all already means every host; give it alone", what)
				return nil, false
			}
			return l.allHosts(), true
		case graph.IsLocal(name):
			name = graph.Local
		}
		if seen[name] {
			l.errs.add(nodes[i].Node, "%s: host %s is listed twice", what, name)
			return nil, false
		}
		seen[name] = true
		h := l.g.Host(name)
		if h == nil && name == graph.Local {
			h = &graph.Host{Name: graph.Local}
		}
		if h == nil {
			var known []string
			for _, h := range l.g.Hosts {
				known = append(known, h.Name)
			}
			hint := didYouMean(name, append(known, graph.Local, "all"))
			if len(l.g.Hosts) == 0 {
				hint = " (declare it under hosts:, or give --hosts FILE or --host " + name + "=[user@]host)"
			}
			l.errs.add(nodes[i].Node, "%s: no host named %s%s", what, quote(name), hint)
			return nil, false
		}
		if h.SSH != "" && d.decl.Shell != nil {
			l.errs.add(nodes[i].Node, "%s: %s: a shell: stage runs in tubo's own shell, which host %s does not have; use run: [sh, -c, LINE]", what, name, name)
			return nil, false
		}
		hosts = append(hosts, h)
	}
	return hosts, true
}

// allHosts is what on: all means: every declared host, or this machine
// when none is.
func (l *loader) allHosts() []*graph.Host {
	if len(l.g.Hosts) == 0 {
		return []*graph.Host{{Name: graph.Local}}
	}
	return l.g.Hosts
}
