package runner

import (
	"errors"
	"sort"
	"strconv"
)

// The state a child stage is given: what a forked sh would have in its
// memory and a re-executed tubo does not — variables with their
// attributes and scopes (arrays and locals included), functions, aliases,
// options, positional parameters, the logical directory, traps (for
// `trap` to list, and the ignored ones), $$, $?, $!, the open descriptors
// above 2 — and the command to run. It travels through a pipe on a
// descriptor no other of the child has (bridge.go), never in argv or
// the environment: one argument is capped at 128 KiB and a 200 KB
// variable must work.

const stateMagic = "tubo-shell-state 1\n"

// encoder writes the state: numbers as decimal followed by ';', strings
// as their length, ':', and their bytes.
type encoder struct{ b []byte }

func (e *encoder) num(n int) {
	e.b = strconv.AppendInt(e.b, int64(n), 10)
	e.b = append(e.b, ';')
}

func (e *encoder) str(s string) {
	e.b = strconv.AppendInt(e.b, int64(len(s)), 10)
	e.b = append(e.b, ':')
	e.b = append(e.b, s...)
}

func (e *encoder) strs(list []string) {
	e.num(len(list))
	for _, s := range list {
		e.str(s)
	}
}

func (e *encoder) flag(b bool) {
	if b {
		e.num(1)
	} else {
		e.num(0)
	}
}

type decoder struct {
	b   []byte
	err error
}

var errState = errors.New("malformed shell state")

func (d *decoder) num() int {
	if d.err != nil {
		return 0
	}
	n, i := 0, 0
	neg := false
	if i < len(d.b) && d.b[i] == '-' {
		neg = true
		i++
	}
	for i < len(d.b) && d.b[i] >= '0' && d.b[i] <= '9' {
		n = n*10 + int(d.b[i]-'0')
		i++
	}
	if i >= len(d.b) || d.b[i] != ';' {
		d.err = errState
		return 0
	}
	d.b = d.b[i+1:]
	if neg {
		n = -n
	}
	return n
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, i := 0, 0
	for i < len(d.b) && d.b[i] >= '0' && d.b[i] <= '9' {
		n = n*10 + int(d.b[i]-'0')
		i++
	}
	if i >= len(d.b) || d.b[i] != ':' || len(d.b)-i-1 < n {
		d.err = errState
		return ""
	}
	s := string(d.b[i+1 : i+1+n])
	d.b = d.b[i+1+n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.num()
	if d.err != nil || n < 0 || n > len(d.b) {
		d.err = errState
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) flag() bool { return d.num() != 0 }

// childState is the decoded state, with the command to run.
type childState struct {
	src string // the command
}

// encodeState serializes the runner's state and the command src.
func (r *Runner) encodeState(src string, extraFDs []int) []byte {
	e := &encoder{b: make([]byte, 0, 4096)}
	e.b = append(e.b, stateMagic...)
	e.str(src)
	// Variables, scope by scope.
	e.num(len(r.vars.scopes))
	for _, sc := range r.vars.scopes {
		e.flag(sc.fn)
		e.flag(sc.temp)
		names := make([]string, 0, len(sc.vars))
		for k := range sc.vars {
			names = append(names, k)
		}
		sort.Strings(names)
		e.num(len(names))
		for _, name := range names {
			v := sc.vars[name]
			e.str(name)
			e.num(int(v.kind))
			e.num(int(v.attrs))
			e.flag(v.set)
			switch v.kind {
			case kString:
				e.str(v.str)
			case kIndexed:
				e.num(len(v.arr.keys))
				for i, k := range v.arr.keys {
					e.num(k)
					e.str(v.arr.vals[i])
				}
			case kAssoc:
				e.num(len(v.assoc.keys))
				for _, k := range v.assoc.keys {
					e.str(k)
					e.str(v.assoc.m[k])
				}
			}
		}
	}
	// Functions, as source; the child parses one when it is first called.
	names := make([]string, 0, len(r.funcs))
	for k := range r.funcs {
		names = append(names, k)
	}
	sort.Strings(names)
	e.num(len(names))
	for _, n := range names {
		e.str(n)
		e.str(r.funcs[n].source())
		e.num(r.funcs[n].line)
	}
	e.num(len(r.aliases))
	for _, k := range sortedKeys(r.aliases) {
		e.str(k)
		e.str(r.aliases[k])
	}
	// The hash table, for hash and type in the child ("" is a name not
	// looked up yet).
	e.num(len(r.hashed))
	for _, k := range sortedKeys(r.hashed) {
		e.str(k)
		e.str(r.hashed[k])
	}
	var on []string
	for i := opt(0); i < numOpts; i++ {
		if r.opts[i] {
			on = append(on, optNames[i])
		}
	}
	e.strs(on)
	e.str(r.arg0)
	e.strs(r.args)
	e.str(r.dir)
	e.num(r.umask)
	e.num(r.shellPid)
	e.num(r.status)
	e.num(r.lastBg)
	e.num(r.lineno)
	e.str(r.name)
	e.strs(r.funcNames)
	e.num(r.funcDepth)
	e.num(r.loopDepth)
	// Traps: the child lists them (`$(trap)`), keeps the ignored ones, and
	// resets the others (POSIX 2.12).
	e.num(len(r.traps.actions))
	for _, k := range sortedTrapKeys(r.traps.actions) {
		e.num(k)
		e.str(r.traps.actions[k])
	}
	e.num(len(extraFDs))
	for _, fd := range extraFDs {
		e.num(fd)
	}
	e.strs(r.dirStack)
	e.flag(r.noErrexit > 0)
	e.str(r.underscore)
	return e.b
}

// decodeState restores a runner from a state written by encodeState.
func (r *Runner) decodeState(b []byte) (*childState, error) {
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)]) != stateMagic {
		return nil, errState
	}
	d := &decoder{b: b[len(stateMagic):]}
	cs := &childState{}
	cs.src = d.str()
	nscopes := d.num()
	if d.err != nil || nscopes < 1 || nscopes > 100000 {
		return nil, errState
	}
	r.vars = &varStack{}
	for range nscopes {
		sc := &scope{vars: map[string]*Var{}}
		sc.fn = d.flag()
		sc.temp = d.flag()
		n := d.num()
		for range n {
			if d.err != nil {
				return nil, d.err
			}
			name := d.str()
			v := &Var{kind: varKind(d.num()), attrs: attr(d.num())}
			v.set = d.flag()
			switch v.kind {
			case kString:
				v.str = d.str()
			case kIndexed:
				v.arr = &indexed{}
				m := d.num()
				for range m {
					if d.err != nil {
						return nil, d.err
					}
					k := d.num()
					v.arr.keys = append(v.arr.keys, k)
					v.arr.vals = append(v.arr.vals, d.str())
				}
			case kAssoc:
				v.assoc = newAssoc()
				m := d.num()
				for range m {
					if d.err != nil {
						return nil, d.err
					}
					k := d.str()
					v.assoc.set(k, d.str())
				}
			}
			sc.vars[name] = v
		}
		r.vars.scopes = append(r.vars.scopes, sc)
	}
	r.vars.gen++
	nf := d.num()
	for range nf {
		if d.err != nil {
			return nil, d.err
		}
		name := d.str()
		src := d.str()
		line := d.num()
		r.funcs[name] = &funcDef{name: name, src: src, line: line, base: max(line-1, 0)}
	}
	na := d.num()
	for range na {
		if d.err != nil {
			return nil, d.err
		}
		k := d.str()
		r.aliases[k] = d.str()
	}
	if nh := d.num(); nh > 0 {
		r.hashed = make(map[string]string, nh)
		for range nh {
			if d.err != nil {
				return nil, d.err
			}
			k := d.str()
			r.hashed[k] = d.str()
		}
	}
	r.opts = options{}
	for _, name := range d.strs() {
		for i := opt(0); i < numOpts; i++ {
			if optNames[i] == name {
				r.opts[i] = true
			}
		}
	}
	r.arg0 = d.str()
	r.args = d.strs()
	r.dir = d.str()
	r.umask = d.num()
	r.shellPid = d.num()
	r.status = d.num()
	r.lastBg = d.num()
	r.lineno = d.num()
	r.name = d.str()
	r.funcNames = d.strs()
	r.funcDepth = d.num()
	r.loopDepth = d.num()
	nt := d.num()
	for range nt {
		if d.err != nil {
			return nil, d.err
		}
		k := d.num()
		r.traps.parent[k] = d.str()
	}
	nfd := d.num()
	for range nfd {
		if d.err != nil {
			return nil, d.err
		}
		r.inheritFD(d.num())
	}
	r.dirStack = d.strs()
	if d.flag() {
		// The child runs where set -e does not apply (a condition, the
		// left of && or ||): neither does it inside.
		r.noErrexit = 1
	}
	r.underscore = d.str()
	if d.err != nil {
		return nil, d.err
	}
	return cs, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedTrapKeys(m map[int]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func sortStrings(s []string) { sort.Strings(s) }
