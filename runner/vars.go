package runner

import (
	"sort"
	"strings"
)

// varKind says what a variable holds.
type varKind uint8

const (
	kString  varKind = iota // a plain value
	kIndexed                // a bash indexed array (sparse)
	kAssoc                  // a bash associative array
)

// attr is a set of variable attributes, as declare/typeset shows them.
type attr uint16

const (
	aExport   attr = 1 << iota // -x: in the environment of commands
	aReadonly                  // -r: no assignment, no unset
	aInteger                   // -i: assignments are evaluated as arithmetic
	aLower                     // -l: values are lowercased
	aUpper                     // -u: values are uppercased
	aNameref                   // -n: the value names another variable
)

// Var is one shell variable. The zero value is an unset string variable
// with no attributes: a name that was declared (`local x`, `export x`)
// but never given a value.
type Var struct {
	kind  varKind
	set   bool // a string variable has a value; an array exists
	str   string
	arr   *indexed
	assoc *assoc
	attrs attr
}

func (v *Var) has(a attr) bool { return v != nil && v.attrs&a != 0 }

// clone copies a variable deeply: arrays are not shared.
func (v *Var) clone() *Var {
	c := *v
	if v.arr != nil {
		c.arr = v.arr.clone()
	}
	if v.assoc != nil {
		c.assoc = v.assoc.clone()
	}
	return &c
}

// scalar is the value a variable has as a string: its value, or for an
// array its element 0 (indexed) or "0" (assoc), as bash does.
func (v *Var) scalar() (string, bool) {
	if v == nil || !v.set {
		return "", false
	}
	switch v.kind {
	case kIndexed:
		return v.arr.get(0)
	case kAssoc:
		return v.assoc.get("0")
	}
	return v.str, true
}

// scope is one level of variables: the globals, a function's locals, or
// the temporary bindings of a command's prefix assignments.
type scope struct {
	vars map[string]*Var
	// fn marks a function's scope, where `local` declares.
	fn bool
	// temp marks prefix assignments (`X=1 f`): they are exported to what
	// f runs, and assignments inside f go to them.
	temp bool
}

// varStack is the shell's variable table: a stack of scopes, globals at
// the bottom. Lookups search from the top, as bash's dynamic scoping does.
type varStack struct {
	scopes []*scope
	// gen counts changes to exported variables, so that the environment
	// of commands is rebuilt only when it changed.
	gen uint64
}

func newVarStack() *varStack {
	return &varStack{scopes: []*scope{{vars: map[string]*Var{}}}}
}

func (s *varStack) global() *scope { return s.scopes[0] }
func (s *varStack) top() *scope    { return s.scopes[len(s.scopes)-1] }

// lookup finds the innermost variable of that name, or nil.
func (s *varStack) lookup(name string) *Var {
	for i := len(s.scopes) - 1; i >= 0; i-- {
		if v, ok := s.scopes[i].vars[name]; ok {
			return v
		}
	}
	return nil
}

// lookupScope is lookup that also says which scope holds the variable.
func (s *varStack) lookupScope(name string) (*Var, *scope) {
	for i := len(s.scopes) - 1; i >= 0; i-- {
		if v, ok := s.scopes[i].vars[name]; ok {
			return v, s.scopes[i]
		}
	}
	return nil, nil
}

// get returns a variable's string value.
func (s *varStack) get(name string) (string, bool) {
	return s.lookup(name).scalar()
}

// getOr returns a variable's value or def when it is unset.
func (s *varStack) getOr(name, def string) string {
	if v, ok := s.get(name); ok {
		return v
	}
	return def
}

// ensure returns the innermost variable of that name, creating an unset
// global one when there is none.
func (s *varStack) ensure(name string) *Var {
	if v := s.lookup(name); v != nil {
		return v
	}
	v := &Var{}
	s.global().vars[name] = v
	return v
}

// setString gives a variable a string value, keeping its attributes. It
// does not check readonly; callers do (see Runner.assign).
func (s *varStack) setString(name, value string) *Var {
	v := s.ensure(name)
	if v.kind != kString {
		// Assigning to an array without a subscript sets element 0.
		switch v.kind {
		case kIndexed:
			v.arr.set(0, value)
		case kAssoc:
			v.assoc.set("0", value)
		}
		v.set = true
		return v
	}
	v.str, v.set = value, true
	if v.attrs&aExport != 0 {
		s.gen++
	}
	return v
}

// unset removes the innermost variable of that name. A local variable
// stays declared in its function, unset, so that the outer one is not
// uncovered (bash's behaviour for a local unset in its own scope).
func (s *varStack) unset(name string) {
	v, sc := s.lookupScope(name)
	if v == nil {
		return
	}
	if v.attrs&aExport != 0 {
		s.gen++
	}
	if sc != s.global() && sc == s.top() && sc.fn {
		*v = Var{}
		return
	}
	delete(sc.vars, name)
}

// push adds a scope; pop removes it.
func (s *varStack) push(fn, temp bool) *scope {
	sc := &scope{vars: map[string]*Var{}, fn: fn, temp: temp}
	s.scopes = append(s.scopes, sc)
	return sc
}

func (s *varStack) pop() {
	top := s.top()
	for _, v := range top.vars {
		if v.attrs&aExport != 0 {
			s.gen++
			break
		}
	}
	s.scopes = s.scopes[:len(s.scopes)-1]
}

// clone copies every scope, for a subshell that must not change the
// parent's variables.
func (s *varStack) clone() *varStack {
	c := &varStack{scopes: make([]*scope, len(s.scopes)), gen: s.gen}
	for i, sc := range s.scopes {
		m := make(map[string]*Var, len(sc.vars))
		for k, v := range sc.vars {
			m[k] = v.clone()
		}
		c.scopes[i] = &scope{vars: m, fn: sc.fn, temp: sc.temp}
	}
	return c
}

// visible calls fn for every variable visible from the top scope (the
// innermost of each name), in name order.
func (s *varStack) visible(fn func(name string, v *Var)) {
	seen := map[string]*Var{}
	for i := len(s.scopes) - 1; i >= 0; i-- {
		for k, v := range s.scopes[i].vars {
			if _, ok := seen[k]; !ok {
				seen[k] = v
			}
		}
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fn(k, seen[k])
	}
}

// environ lists the exported string variables as NAME=VALUE, sorted, for
// the commands the shell starts. Arrays are not exported, as in bash.
func (s *varStack) environ() []string {
	var env []string
	s.visible(func(name string, v *Var) {
		if v.attrs&aExport != 0 && v.set {
			if val, ok := v.scalar(); ok && v.kind == kString {
				env = append(env, name+"="+val)
			}
		}
	})
	return env
}

// applyCase lowercases or uppercases a value for a variable declared with
// -l or -u.
func (v *Var) applyCase(s string) string {
	switch {
	case v.has(aLower):
		return strings.ToLower(s)
	case v.has(aUpper):
		return strings.ToUpper(s)
	}
	return s
}
