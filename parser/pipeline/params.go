package pipeline

import (
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// param is one declared parameter and its value after --set.
type param struct {
	decl *ast.Param
	// val is the value in force: the default, or the last --set; nil when
	// it has none (an error is reported, and the param is broken).
	val *ast.Value
}

// text is the parameter's value as one string: an int in decimal, a bool as
// true/false, a list joined with commas (the form --set takes).
func (p *param) text() string {
	switch p.decl.Type {
	case ast.IntParam:
		return strconv.FormatInt(p.val.Int, 10)
	case ast.BoolParam:
		return strconv.FormatBool(p.val.Bool)
	case ast.ListParam:
		return strings.Join(p.val.List, ",")
	}
	return p.val.Str
}

// reserved names are placeholders of their own (or their prefixes).
var reserved = []string{"replica", "replicas", "part", "fifo", "file", "fds", "pipeline", "env", "item"}

// resolvedParams records the parameters' values in the graph, for the
// report: those that have one, in declaration order.
func (l *loader) resolvedParams() {
	for _, name := range l.paramOrder {
		if p := l.param[name]; p.val != nil && !p.decl.Broken && !l.broken[name] {
			l.g.Params = append(l.g.Params, graph.Param{Name: name, Value: p.text()})
		}
	}
}

// params takes the declared parameters, then applies the --set overrides.
func (l *loader) params(decls []*ast.Param) {
	l.param = map[string]*param{}
	for _, d := range decls {
		if !ast.ValidName(d.Name) {
			l.errs.add(d.Key, "param %s: names are letters, digits, _ and -, starting with a letter or _", quote(d.Name))
			continue
		}
		if contains(reserved, d.Name) {
			l.errs.add(d.Key, "param %s: the name is reserved for a builtin placeholder ({{%s}})", d.Name, d.Name)
			continue
		}
		l.param[d.Name] = &param{decl: d, val: d.Default}
		l.paramOrder = append(l.paramOrder, d.Name)
	}
	l.overrides()
	for _, name := range l.paramOrder {
		p := l.param[name]
		switch {
		case p.decl.Broken:
			l.broken[name] = true
		case p.val == nil:
			l.errs.add(p.decl.Key, "param %s has no default; give it with --set %s=VALUE", name, name)
			l.broken[name] = true
		}
	}
}

// overrides applies Options.Set ("name=value"), in order; the last one for
// a name wins. Errors are positioned at "--set name=value".
func (l *loader) overrides() {
	for _, kv := range l.opt.Set {
		shown := kv
		if strconv.Quote(kv) != `"`+kv+`"` {
			shown = strconv.Quote(kv)
		}
		pos := graph.Pos{File: "--set " + shown}
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			l.errs.addPos(pos, "want name=value")
			continue
		}
		p := l.param[name]
		if p == nil {
			l.errs.addPos(pos, "no param named %s%s", quote(name), didYouMean(name, l.paramOrder))
			continue
		}
		if p.decl.Broken {
			continue // its declaration's problem is reported already
		}
		if strings.IndexByte(val, 0) >= 0 {
			l.errs.addPos(pos, "param %s: value contains a NUL byte", name)
			continue
		}
		v, msg := p.decl.Parse(val)
		if msg != "" {
			l.errs.addPos(pos, "param %s: %s", name, msg)
			continue
		}
		if p.decl.Type == ast.IntParam {
			if msg := p.decl.CheckRange(v.Int); msg != "" {
				l.errs.addPos(pos, "%s", msg)
				continue
			}
		}
		p.val = v
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
