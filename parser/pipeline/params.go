package pipeline

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// paramType is the type of a pipeline parameter.
type paramType int

const (
	tString paramType = iota
	tInt
	tBool
	tList
)

func (t paramType) String() string { return [...]string{"string", "int", "bool", "list"}[t] }

var paramTypes = []string{"string", "int", "bool", "list"}

// param is one declared parameter and its value after --set.
type param struct {
	name     string
	typ      paramType
	key      *yaml.Node // where it is declared
	min, max *int64
	desc     string
	hasValue bool

	i    int64
	b    bool
	s    string
	list []string
}

// text is the parameter's value as one string: an int in decimal, a bool as
// true/false, a list joined with commas (the form --set takes).
func (p *param) text() string {
	switch p.typ {
	case tInt:
		return strconv.FormatInt(p.i, 10)
	case tBool:
		return strconv.FormatBool(p.b)
	case tList:
		return strings.Join(p.list, ",")
	}
	return p.s
}

// reserved names are placeholders of their own (or their prefixes).
var reserved = []string{"replica", "replicas", "part", "fifo", "file", "fds", "pipeline", "env"}

var paramKeys = []string{"type", "default", "min", "max", "description"}

// params reads the params: mapping, then applies the --set overrides.
func (l *loader) params(n *yaml.Node) {
	l.param = map[string]*param{}
	if n != nil {
		f, _ := l.mapping(n, "params", nil)
		for _, fl := range f.list {
			if !validName(fl.name) {
				l.errs.add(fl.key, "param %s: names are letters, digits, _ and -, starting with a letter or _", quote(fl.name))
				continue
			}
			if contains(reserved, fl.name) {
				l.errs.add(fl.key, "param %s: the name is reserved for a builtin placeholder ({{%s}})", fl.name, fl.name)
				continue
			}
			if p := l.paramDecl(fl); p != nil {
				l.param[p.name] = p
				l.paramOrder = append(l.paramOrder, p.name)
			}
		}
	}
	l.overrides()
	for _, name := range l.paramOrder {
		p := l.param[name]
		if !p.hasValue {
			l.errs.add(p.key, "param %s has no default; give it with --set %s=VALUE", name, name)
		}
	}
}

// paramDecl reads one parameter: either just its default (type from the
// YAML value) or a mapping with type, default, min, max and description.
func (l *loader) paramDecl(fl field) *param {
	p := &param{name: fl.name, key: fl.key}
	what := "param " + fl.name
	v := fl.val
	if v.Kind != yaml.MappingNode {
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			l.errs.add(v, "%s: give a default value or {type: …}", what)
			return nil
		}
		p.typ = inferType(v)
		if !l.paramDefault(p, v) {
			return nil
		}
		return p
	}
	f, ok := l.mapping(v, what, paramKeys)
	if !ok {
		return nil
	}
	def := f.get("default")
	if t := f.get("type"); t != nil {
		s, ok := l.scalar(t, what+": type")
		if !ok {
			return nil
		}
		i := indexOf(paramTypes, s)
		if i < 0 {
			l.errs.add(t, "%s: unknown type %s (want string, int, bool or list)%s", what, quote(s), didYouMean(s, paramTypes))
			return nil
		}
		p.typ = paramType(i)
	} else if def != nil {
		p.typ = inferType(def)
	} else {
		l.errs.add(v, "%s: give a type or a default", what)
		return nil
	}
	if d := f.get("description"); d != nil {
		p.desc, _ = l.scalar(d, what+": description")
	}
	for _, k := range []string{"min", "max"} {
		b := f.get(k)
		if b == nil {
			continue
		}
		if p.typ != tInt {
			l.errs.add(f.key(k), "%s: %s applies only to int params", what, k)
			return nil
		}
		if b.Kind != yaml.ScalarNode || b.ShortTag() != "!!int" {
			l.errs.add(b, "%s: %s: want an integer, got %s", what, k, describeNode(b))
			return nil
		}
		x, err := strconv.ParseInt(b.Value, 0, 64)
		if err != nil {
			l.errs.add(b, "%s: %s: %s is not a 64-bit integer", what, k, quote(b.Value))
			return nil
		}
		if k == "min" {
			p.min = &x
		} else {
			p.max = &x
		}
	}
	if p.min != nil && p.max != nil && *p.min > *p.max {
		l.errs.add(f.key("max"), "%s: min %d is greater than max %d", what, *p.min, *p.max)
		return nil
	}
	if def != nil && !l.paramDefault(p, def) {
		return nil
	}
	return p
}

func inferType(v *yaml.Node) paramType {
	switch {
	case v.Kind == yaml.SequenceNode:
		return tList
	case v.ShortTag() == "!!int":
		return tInt
	case v.ShortTag() == "!!bool":
		return tBool
	}
	return tString
}

// paramDefault type-checks a default given in YAML.
func (l *loader) paramDefault(p *param, v *yaml.Node) bool {
	what := "param " + p.name + ": default"
	switch p.typ {
	case tList:
		list, _, ok := l.strList(v, what)
		if !ok {
			return false
		}
		if v.Kind != yaml.SequenceNode {
			// A scalar default for a list is read as --set would read it.
			list = splitList(list[0])
		}
		p.list = list
	case tInt:
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
			l.errs.add(v, "%s: want an int, got %s", what, describeNode(v))
			return false
		}
		x, err := strconv.ParseInt(v.Value, 0, 64)
		if err != nil {
			l.errs.add(v, "%s: %s does not fit in a 64-bit integer", what, v.Value)
			return false
		}
		p.i = x
	case tBool:
		b, ok := l.boolean(v, what)
		if !ok {
			return false
		}
		p.b = b
	default:
		s, ok := l.scalar(v, what)
		if !ok {
			return false
		}
		p.s = s
	}
	if msg := p.checkRange(); msg != "" {
		l.errs.add(v, "%s: %s", what, msg)
		return false
	}
	p.hasValue = true
	return true
}

func (p *param) checkRange() string {
	if p.typ != tInt {
		return ""
	}
	if p.min != nil && p.i < *p.min {
		return "param " + p.name + ": " + strconv.FormatInt(p.i, 10) + " is less than its min " + strconv.FormatInt(*p.min, 10)
	}
	if p.max != nil && p.i > *p.max {
		return "param " + p.name + ": " + strconv.FormatInt(p.i, 10) + " is greater than its max " + strconv.FormatInt(*p.max, 10)
	}
	return ""
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
		if strings.IndexByte(val, 0) >= 0 {
			l.errs.addPos(pos, "param %s: value contains a NUL byte", name)
			continue
		}
		if msg := p.parse(val); msg != "" {
			l.errs.addPos(pos, "param %s: %s", name, msg)
			continue
		}
		if msg := p.checkRange(); msg != "" {
			l.errs.addPos(pos, "%s", msg)
			continue
		}
		p.hasValue = true
	}
}

// parse sets the parameter from command-line text, or says why it cannot.
func (p *param) parse(v string) string {
	switch p.typ {
	case tInt:
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return quote(v) + " is outside the 64-bit integer range"
			}
			return quote(v) + " is not an integer"
		}
		p.i = x
	case tBool:
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			p.b = true
		case "false", "no", "off", "0":
			p.b = false
		default:
			return quote(v) + " is not a bool (true/false, yes/no, on/off, 1/0)"
		}
	case tList:
		list, msg := parseList(v)
		if msg != "" {
			return msg
		}
		p.list = list
	default:
		p.s = v
	}
	return ""
}

// parseList reads a list from the command line: YAML flow syntax when it
// starts with '[' (`[a, "b,c"]`), otherwise comma-separated (`a,b`).
func parseList(v string) ([]string, string) {
	if !strings.HasPrefix(strings.TrimSpace(v), "[") {
		return splitList(v), ""
	}
	if len(v) > 64<<10 {
		return nil, "list is too long"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v), &n); err != nil || len(n.Content) != 1 || n.Content[0].Kind != yaml.SequenceNode {
		return nil, quote(v) + " is not a list like [a, b]"
	}
	var out []string
	for _, c := range n.Content[0].Content {
		if c.Kind != yaml.ScalarNode || c.ShortTag() == "!!null" {
			return nil, quote(v) + ": list elements must be plain values"
		}
		out = append(out, c.Value)
	}
	return out, ""
}

func splitList(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// validName says whether s can name a param, stage, fifo, file, tee or
// merge: a letter or _, then letters, digits, _ and -.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}
