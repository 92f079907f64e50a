package runner

import (
	"os"
	"sort"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
)

// variable is one shell variable. A variable that is exported but was never
// given a value (`export X`) exists with set == false.
type variable struct {
	value    string
	set      bool
	exported bool
}

// vars is the shell's variable table.
type vars map[string]*variable

func newVars(environ []string) vars {
	v := vars{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && validName(name) {
			v[name] = &variable{value: value, set: true, exported: true}
		}
	}
	return v
}

func (v vars) clone() vars {
	c := make(vars, len(v))
	for k, x := range v {
		cp := *x
		c[k] = &cp
	}
	return c
}

func (v vars) get(name string) (string, bool) {
	if x, ok := v[name]; ok && x.set {
		return x.value, true
	}
	return "", false
}

// set assigns a value and keeps the variable's export flag.
func (v vars) set(name, value string) {
	if x, ok := v[name]; ok {
		x.value, x.set = value, true
		return
	}
	v[name] = &variable{value: value, set: true}
}

func (v vars) export(name string) {
	if x, ok := v[name]; ok {
		x.exported = true
		return
	}
	v[name] = &variable{exported: true}
}

// environ lists the exported variables as NAME=VALUE, sorted, for the
// processes tubo starts.
func (v vars) environ() []string {
	var env []string
	for name, x := range v {
		if x.set && x.exported {
			env = append(env, name+"="+x.value)
		}
	}
	sort.Strings(env)
	return env
}

func (v vars) names() []string {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// saved remembers variables to restore after a regular builtin ran with
// prefix assignments (`HOME=/x cd`), which last for that command only.
type saved map[string]*variable

func (v vars) save(names []string) saved {
	s := saved{}
	for _, n := range names {
		if x, ok := v[n]; ok {
			cp := *x
			s[n] = &cp
		} else {
			s[n] = nil
		}
	}
	return s
}

func (v vars) restore(s saved) {
	for n, x := range s {
		if x == nil {
			delete(v, n)
		} else {
			v[n] = x
		}
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// environ adapts the runner's state to expand.WriteEnviron: variables plus
// the special parameters $? $# $@ $* $0 $1… $$ $-.
type environ struct{ r *Runner }

func (e environ) Get(name string) expand.Variable {
	r := e.r
	str := func(s string) expand.Variable { return expand.Variable{Set: true, Kind: expand.String, Str: s} }
	switch name {
	case "?":
		return str(strconv.Itoa(r.status))
	case "$":
		return str(strconv.Itoa(os.Getpid()))
	case "PPID":
		return str(strconv.Itoa(os.Getppid()))
	case "#":
		return str(strconv.Itoa(len(r.args)))
	case "@", "*":
		return expand.Variable{Set: true, Kind: expand.Indexed, List: r.args}
	case "0":
		return str(r.arg0)
	case "-":
		return str(r.flags())
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 {
		if n <= len(r.args) {
			return str(r.args[n-1])
		}
		return expand.Variable{}
	}
	x, ok := r.vars[name]
	if !ok {
		return expand.Variable{}
	}
	return expand.Variable{Set: x.set, Exported: x.exported, Kind: expand.String, Str: x.value}
}

func (e environ) Each(fn func(name string, vr expand.Variable) bool) {
	for _, name := range e.r.vars.names() {
		if !fn(name, e.Get(name)) {
			return
		}
	}
}

// Set is how expansions assign: ${x:=v} and $((x = 1)).
func (e environ) Set(name string, vr expand.Variable) error {
	if !vr.IsSet() {
		delete(e.r.vars, name)
		return nil
	}
	if vr.Kind == expand.KeepValue {
		return nil
	}
	e.r.vars.set(name, vr.String())
	if vr.Exported {
		e.r.vars.export(name)
	}
	return nil
}
