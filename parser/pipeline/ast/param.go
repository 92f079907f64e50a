package ast

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParamType is the type of a pipeline parameter.
type ParamType int

const (
	StringParam ParamType = iota
	IntParam
	BoolParam
	ListParam
)

var paramTypes = []string{"string", "int", "bool", "list"}

func (t ParamType) String() string { return paramTypes[t] }

// Value is a parameter's value; which field counts depends on its type.
type Value struct {
	Int  int64
	Bool bool
	Str  string
	List []string
}

// Param is one entry of params:, in its short form (just the default; the
// type comes from the YAML value) or its long form (a mapping).
type Param struct {
	Decl
	Type ParamType
	// Default is nil when the param has none: --set must give it.
	Default *Value
	// Min and Max bound an int param, inclusive; nil means no bound.
	Min, Max    *int64
	Description string
}

var paramKeys = []string{"type", "default", "min", "max", "description"}

// UnmarshalYAML reads a parameter declaration; p.Name must be set. A
// declaration with any problem is broken: its value is unknown.
func (p *Param) UnmarshalYAML(v *yaml.Node) error {
	err := p.decode(v)
	p.Broken = err != nil
	return err
}

func (p *Param) decode(v *yaml.Node) error {
	var d decoder
	what := "param " + p.Name
	v = deref(v)
	if v.Kind != yaml.MappingNode {
		if isNull(v) {
			d.add(v, "%s: give a default value or {type: …}", what)
			return d.err()
		}
		p.Type = inferType(v)
		p.decodeDefault(&d, v)
		return d.err()
	}
	f, ok := d.mapping(v, what, paramKeys)
	if !ok {
		return d.err()
	}
	def := f.get("default")
	if t := f.get("type"); t != nil {
		s, ok := d.scalar(t, what+": type")
		if !ok {
			return d.err()
		}
		i := indexOf(paramTypes, s)
		if i < 0 {
			d.add(t, "%s: unknown type %s (want string, int, bool or list)%s", what, Quote(s), DidYouMean(s, paramTypes))
			return d.err()
		}
		p.Type = ParamType(i)
	} else if def != nil {
		p.Type = inferType(def)
	} else {
		d.add(v, "%s: give a type or a default", what)
		return d.err()
	}
	if desc := f.get("description"); desc != nil {
		p.Description, _ = d.scalar(desc, what+": description")
	}
	for _, k := range []string{"min", "max"} {
		b := f.get(k)
		if b == nil {
			continue
		}
		if p.Type != IntParam {
			d.add(f.key(k), "%s: %s applies only to int params", what, k)
			return d.err()
		}
		if b.Kind != yaml.ScalarNode || b.ShortTag() != "!!int" {
			d.add(b, "%s: %s: want an integer, got %s", what, k, describeNode(b))
			return d.err()
		}
		x, err := strconv.ParseInt(b.Value, 0, 64)
		if err != nil {
			d.add(b, "%s: %s: %s is not a 64-bit integer", what, k, Quote(b.Value))
			return d.err()
		}
		if k == "min" {
			p.Min = &x
		} else {
			p.Max = &x
		}
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		d.add(f.key("max"), "%s: min %d is greater than max %d", what, *p.Min, *p.Max)
		return d.err()
	}
	if def != nil {
		p.decodeDefault(&d, def)
	}
	return d.err()
}

func inferType(v *yaml.Node) ParamType {
	switch {
	case v.Kind == yaml.SequenceNode:
		return ListParam
	case v.ShortTag() == "!!int":
		return IntParam
	case v.ShortTag() == "!!bool":
		return BoolParam
	}
	return StringParam
}

// decodeDefault type-checks a default given in YAML.
func (p *Param) decodeDefault(d *decoder, v *yaml.Node) {
	what := "param " + p.Name + ": default"
	val := &Value{}
	switch p.Type {
	case ListParam:
		list, ok := d.strList(v, what)
		if !ok {
			return
		}
		val.List = []string{}
		for _, s := range list {
			val.List = append(val.List, s.Text)
		}
		if v.Kind != yaml.SequenceNode {
			// A scalar default for a list is read as --set would read it.
			val.List = SplitList(list[0].Text)
		}
	case IntParam:
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
			d.add(v, "%s: want an int, got %s", what, describeNode(v))
			return
		}
		x, err := strconv.ParseInt(v.Value, 0, 64)
		if err != nil {
			d.add(v, "%s: %s does not fit in a 64-bit integer", what, v.Value)
			return
		}
		val.Int = x
		if msg := p.CheckRange(x); msg != "" {
			d.add(v, "%s: %s", what, msg)
			return
		}
	case BoolParam:
		b := d.boolean(v, what)
		if b == nil {
			return
		}
		val.Bool = b.Value
	default:
		s, ok := d.scalar(v, what)
		if !ok {
			return
		}
		val.Str = s
	}
	p.Default = val
}

// CheckRange says why x is outside an int param's min and max, or "".
func (p *Param) CheckRange(x int64) string {
	if p.Min != nil && x < *p.Min {
		return "param " + p.Name + ": " + strconv.FormatInt(x, 10) + " is less than its min " + strconv.FormatInt(*p.Min, 10)
	}
	if p.Max != nil && x > *p.Max {
		return "param " + p.Name + ": " + strconv.FormatInt(x, 10) + " is greater than its max " + strconv.FormatInt(*p.Max, 10)
	}
	return ""
}

// Parse reads a value of the param's type from command-line text (the
// form --set takes), or says why it cannot.
func (p *Param) Parse(v string) (*Value, string) {
	val := &Value{}
	switch p.Type {
	case IntParam:
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, Quote(v) + " is outside the 64-bit integer range"
			}
			return nil, Quote(v) + " is not an integer"
		}
		val.Int = x
	case BoolParam:
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			val.Bool = true
		case "false", "no", "off", "0":
			val.Bool = false
		default:
			return nil, Quote(v) + " is not a bool (true/false, yes/no, on/off, 1/0)"
		}
	case ListParam:
		list, msg := parseList(v)
		if msg != "" {
			return nil, msg
		}
		val.List = list
	default:
		val.Str = v
	}
	return val, ""
}

// parseList reads a list from the command line: YAML flow syntax when it
// starts with '[' (`[a, "b,c"]`), otherwise comma-separated (`a,b`).
func parseList(v string) ([]string, string) {
	if !strings.HasPrefix(strings.TrimSpace(v), "[") {
		return SplitList(v), ""
	}
	if len(v) > 64<<10 {
		return nil, "list is too long"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v), &n); err != nil || len(n.Content) != 1 || n.Content[0].Kind != yaml.SequenceNode {
		return nil, Quote(v) + " is not a list like [a, b]"
	}
	out := []string{}
	for _, c := range n.Content[0].Content {
		if c.Kind != yaml.ScalarNode || c.ShortTag() == "!!null" {
			return nil, Quote(v) + ": list elements must be plain values"
		}
		out = append(out, c.Value)
	}
	return out, ""
}

// SplitList reads a comma-separated list; "" is the empty list.
func SplitList(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}
