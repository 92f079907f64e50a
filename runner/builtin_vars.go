package runner

import (
	"fmt"
	"io"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// The builtins of variables and options: export, readonly, unset, local,
// declare/typeset, set, shopt, getopts.

func init() {
	registerStatic("export", exportBuiltin, true)
	registerStatic("readonly", readonlyBuiltin, true)
	registerStatic("unset", unsetBuiltin, true)
	registerStatic("set", setBuiltin, true)
	registerStatic("local", localBuiltin, false)
	registerStatic("declare", declareBuiltin, false)
	registerStatic("typeset", declareBuiltin, false)
	register("shopt", shoptBuiltin, false)
	register("getopts", getoptsBuiltin, false)
}

// declClause runs export, readonly, local, declare and typeset as the bash
// parser gives them: their arguments are assignments (a=(…) included) or
// words.
func (r *Runner) declClause(d *syntax.DeclClause) int {
	name := d.Variant.Value
	r.substStatus = -1
	args := []string{name}
	var arrays []*syntax.Assign
	for _, a := range d.Args {
		switch {
		case a.Naked && a.Name != nil && a.Index == nil:
			args = append(args, a.Name.Value)
		case a.Naked && a.Value != nil:
			f, err := r.fields([]*syntax.Word{a.Value})
			if err != nil {
				return r.expandFailed(err)
			}
			args = append(args, f...)
		case a.Array != nil || a.Index != nil:
			arrays = append(arrays, a)
			args = append(args, "\x00array"+a.Name.Value)
		default:
			v, err := r.assignValue(a.Value)
			if err != nil {
				return r.expandFailed(err)
			}
			op := "="
			if a.Append {
				op = "+="
			}
			args = append(args, a.Name.Value+op+v)
		}
	}
	r.pendingArrays = arrays
	defer func() { r.pendingArrays = nil }()
	b := builtins[name]
	if _, isFunc := r.funcs[name]; isFunc && !b.special {
		// A function named like the builtin wins (bash).
		return r.callFunc(&syntax.Stmt{}, r.funcs[name], args, nil)
	}
	if r.opts[optXtrace] {
		r.xtraceArgv(args)
	}
	if r.static && b.static == nil {
		return 0
	}
	st := r.runBuiltinFn(b, args)
	if st < 0 {
		st = -st
		if b.special && !r.interactive {
			r.exit(st)
		}
	}
	if st == 0 && r.substStatus > 0 && name != "local" && name != "declare" && name != "typeset" && name != "export" && name != "readonly" {
		return r.substStatus
	}
	return st
}

// declOpts are the attributes declare and its relatives set.
type declOpts struct {
	add, remove attr
	array       bool // -a
	assoc       bool // -A
	global      bool // -g
	print       bool // -p
	funcs       bool // -f
	funcNames   bool // -F
	local       bool // local, or declare inside a function
	readonly    bool // readonly: -r
	export      bool // export
}

// declare is the common work of declare, typeset, local, export and
// readonly: each operand NAME, NAME=VALUE or NAME=(…) gets the
// attributes.
func (r *Runner) declare(cmd string, o declOpts, operands []string) int {
	st := 0
	arrays := map[string]*syntax.Assign{}
	for _, a := range r.pendingArrays {
		arrays[a.Name.Value] = a
	}
	for _, op := range operands {
		if strings.HasPrefix(op, "\x00array") {
			name := strings.TrimPrefix(op, "\x00array")
			as := arrays[name]
			v := r.declVar(name, o)
			if v == nil {
				st = 1
				continue
			}
			if v.has(aReadonly) && o.remove&aReadonly == 0 {
				r.errorf("%s: readonly variable", name)
				st = 1
				continue
			}
			kind := kIndexed
			if o.assoc || v.kind == kAssoc {
				kind = kAssoc
			}
			if as.Array != nil {
				if err := r.assignArrayTo(v, name, as.Array, as.Append, kind); err != nil {
					r.errorf("%v", err)
					st = 1
				}
			} else if as.Index != nil {
				val, err := r.assignValue(as.Value)
				if err == nil {
					err = r.assignIndex(name, as.Index, val, as.Append)
				}
				if err != nil {
					r.errorf("%v", err)
					st = 1
				}
			}
			r.applyAttrs(v, name, o)
			continue
		}
		name, value, hasValue := strings.Cut(op, "=")
		app := false
		if hasValue && strings.HasSuffix(name, "+") {
			name, app = strings.TrimSuffix(name, "+"), true
		}
		if !shell.ValidName(name) {
			r.errorf("%s: `%s': not a valid identifier", cmd, op)
			st = 1
			continue
		}
		if o.funcs {
			if _, ok := r.funcs[name]; !ok {
				st = 1
				continue
			}
			if o.add&aReadonly != 0 {
				r.readonlyFuncs[name] = true
			}
			continue
		}
		v := r.declVar(name, o)
		if v == nil {
			st = 1
			continue
		}
		if hasValue && v.has(aReadonly) {
			r.errorf("%s: readonly variable", name)
			st = 1
			continue
		}
		if o.array && v.kind == kString && !v.set || o.array && v.kind == kString && v.set && !hasValue {
			arr := &indexed{}
			if v.set {
				arr.set(0, v.str)
			}
			v.kind, v.arr, v.str = kIndexed, arr, ""
			v.set = true
		}
		if o.assoc && v.kind != kAssoc {
			v.kind, v.assoc, v.arr, v.str = kAssoc, newAssoc(), nil, ""
			v.set = true
		}
		// Attributes first, so that -i and -l apply to the value.
		old := v.attrs
		v.attrs = (v.attrs | o.add) &^ o.remove &^ aReadonly
		if hasValue {
			var err error
			if v.attrs&aNameref != 0 && old&aNameref == 0 {
				v.str, v.set = value, true
			} else if app {
				err = r.appendString(name, value)
			} else {
				err = r.assignDeclared(v, name, value)
			}
			if err != nil {
				v.attrs = old
				r.errorf("%v", err)
				st = 1
				continue
			}
		}
		v.attrs = (old | o.add) &^ o.remove
		if v.attrs&(aExport) != old&aExport {
			r.vars.gen++
		}
		if v.attrs&aUpper != 0 && o.add&aUpper != 0 {
			v.attrs &^= aLower
		}
		if v.attrs&aLower != 0 && o.add&aLower != 0 {
			v.attrs &^= aUpper
		}
		if o.export {
			r.vars.gen++
		}
	}
	return st
}

// assignDeclared gives a declared variable a value, with its attributes.
func (r *Runner) assignDeclared(v *Var, name, value string) error {
	if err := r.sandboxValue(value); err != nil {
		return err
	}
	if v.kind == kIndexed {
		return r.assignElem(name, 0, value)
	}
	if v.kind == kAssoc {
		v.assoc.set("0", v.applyCase(value))
		return nil
	}
	if v.attrs&aInteger != 0 {
		n, err := r.evalArithString(value, 0)
		if err != nil {
			return err
		}
		value = formatInt(n)
	}
	v.str, v.set = v.applyCase(value), true
	if v.attrs&aExport != 0 {
		r.vars.gen++
	}
	r.assigned(name, value)
	return nil
}

func (r *Runner) assignArrayTo(v *Var, name string, arr *syntax.ArrayExpr, app bool, kind varKind) error {
	if kind == kAssoc && v.kind != kAssoc {
		v.kind, v.assoc, v.arr, v.str = kAssoc, newAssoc(), nil, ""
	}
	return r.assignArray(name, arr, app, kind)
}

func (r *Runner) applyAttrs(v *Var, name string, o declOpts) {
	old := v.attrs
	v.attrs = (v.attrs | o.add) &^ o.remove
	if v.attrs&aExport != old&aExport {
		r.vars.gen++
	}
}

// declVar finds or creates the variable a declaration acts on: in the
// function's scope for local (and declare in a function, without -g),
// otherwise the innermost visible one (or a new global).
func (r *Runner) declVar(name string, o declOpts) *Var {
	if o.local && r.funcDepth > 0 {
		// The scope of the innermost function (below any temporary
		// bindings of prefix assignments).
		for i := len(r.vars.scopes) - 1; i > 0; i-- {
			sc := r.vars.scopes[i]
			if !sc.fn {
				continue
			}
			if v, ok := sc.vars[name]; ok {
				return v
			}
			v := &Var{}
			if outer := r.vars.lookup(name); outer != nil {
				if outer.has(aReadonly) {
					r.errorf("%s: readonly variable", name)
					return nil
				}
				// local keeps the exported attribute (bash copies the
				// value only with localvar_inherit).
				v.attrs = outer.attrs & aExport
				if outer.kind == kString && false {
					v.str, v.set = outer.str, outer.set
				}
			}
			sc.vars[name] = v
			return v
		}
	}
	if o.global {
		g := r.vars.global()
		if v, ok := g.vars[name]; ok {
			return v
		}
		v := &Var{}
		g.vars[name] = v
		return v
	}
	return r.vars.ensure(name)
}

func exportBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	o := declOpts{add: aExport, export: true}
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'p':
		case 'n':
			o.add, o.remove = 0, aExport
		case 'f':
			o.funcs = true
		default:
			return r.usage("export", "-%c: invalid option", c)
		}
	}
	rest := p.rest()
	if len(rest) == 0 {
		r.printPOSIX(r.stdout(), "export", aExport)
		return 0
	}
	return r.declare("export", o, rest)
}

func readonlyBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	o := declOpts{add: aReadonly, readonly: true}
	print := false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'p':
			print = true
		case 'a':
			o.array = true
		case 'A':
			o.assoc = true
		case 'f':
			o.funcs = true
		default:
			return r.usage("readonly", "-%c: invalid option", c)
		}
	}
	rest := p.rest()
	if len(rest) == 0 {
		_ = print
		r.printPOSIX(r.stdout(), "readonly", aReadonly)
		return 0
	}
	return r.declare("readonly", o, rest)
}

// printPOSIX lists variables with attribute a as export -p and readonly
// -p do (POSIX: lines the shell can read back): export NAME='value'.
func (r *Runner) printPOSIX(w io.Writer, cmd string, a attr) {
	r.vars.visible(func(name string, v *Var) {
		if !v.has(a) {
			return
		}
		if !v.set {
			fmt.Fprintf(w, "%s %s\n", cmd, name)
			return
		}
		if v.kind != kString {
			fmt.Fprintf(w, "%s %s\n", r.listPrefix(cmd, r.attrLetters(name)), name+"="+r.declareValue(v))
			return
		}
		fmt.Fprintf(w, "%s %s=%s\n", cmd, name, singleQuote(v.str))
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listPrefix is how bash starts a line of export -p or readonly -p:
// `declare -x`, `declare -r`, `declare -rx`.
func (r *Runner) listPrefix(cmd, flags string) string {
	return "declare -" + orDash(flags)
}

func unsetBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	mode := byte(0)
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'v', 'f', 'n':
			mode = c
		default:
			return r.usage("unset", "-%c: invalid option", c)
		}
	}
	st := 0
	for _, name := range p.rest() {
		if mode == 'f' {
			delete(r.funcs, name)
			continue
		}
		base, idx, hasIdx := strings.Cut(name, "[")
		if hasIdx && strings.HasSuffix(idx, "]") {
			if err := r.unsetElem(base, idx[:len(idx)-1]); err != nil {
				r.errorf("unset: %v", err)
				st = 1
			}
			continue
		}
		if !shell.ValidName(name) {
			r.errorf("unset: `%s': not a valid identifier", name)
			st = 1
			continue
		}
		target := name
		if mode != 'n' {
			target, _ = r.resolveRef(name)
		}
		v := r.vars.lookup(target)
		if v == nil && mode == 0 {
			if _, ok := r.funcs[name]; ok {
				delete(r.funcs, name)
				continue
			}
		}
		if v.has(aReadonly) {
			r.errorf("unset: %s: cannot unset: readonly variable", name)
			st = 1
			continue
		}
		r.vars.unset(target)
	}
	return st
}

// unsetElem is unset a[i].
func (r *Runner) unsetElem(name, idx string) error {
	v := r.vars.lookup(name)
	if v == nil || !v.set {
		return nil
	}
	if v.has(aReadonly) {
		return &readonlyErr{name, true}
	}
	switch v.kind {
	case kAssoc:
		w, err := parseWord(idx)
		key := idx
		if err == nil && w != nil {
			if k, err := r.literal(w); err == nil {
				key = k
			}
		}
		v.assoc.unset(key)
	case kIndexed:
		if idx == "@" || idx == "*" {
			r.vars.unset(name)
			return nil
		}
		n, err := r.evalArithString(idx, 0)
		if err != nil {
			return err
		}
		if n < 0 {
			n += int64(v.arr.next())
			if n < 0 {
				return expandErrorf("%s[%s]: bad array subscript", name, idx)
			}
		}
		v.arr.unset(int(n))
	default:
		n, err := r.evalArithString(idx, 0)
		if err != nil {
			return err
		}
		if n == 0 {
			r.vars.unset(name)
		}
	}
	return nil
}

func localBuiltin(r *Runner, args []string) int {
	if r.funcDepth == 0 {
		r.errorf("local: can only be used in a function")
		return 1
	}
	return declareCommon(r, args, true)
}

func declareBuiltin(r *Runner, args []string) int {
	return declareCommon(r, args, r.funcDepth > 0)
}

func declareCommon(r *Runner, args []string, local bool) int {
	o := declOpts{local: local}
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		plus := a[0] == '+'
		for _, c := range a[1:] {
			var at attr
			switch c {
			case 'a':
				o.array = true
				continue
			case 'A':
				o.assoc = true
				continue
			case 'g':
				o.global = true
				o.local = false
				continue
			case 'p':
				o.print = true
				continue
			case 'f':
				o.funcs = true
				continue
			case 'F':
				o.funcNames = true
				continue
			case 'x':
				at = aExport
			case 'r':
				at = aReadonly
			case 'i':
				at = aInteger
			case 'l':
				at = aLower
			case 'u':
				at = aUpper
			case 'n':
				at = aNameref
			case 't':
				continue
			default:
				return r.usage(args[0], "-%c: invalid option", c)
			}
			if plus {
				o.remove |= at
			} else {
				o.add |= at
			}
		}
	}
	rest := args[i:]
	if o.funcs || o.funcNames {
		return r.declareFuncs(o, rest)
	}
	if o.print || len(rest) == 0 {
		return r.declarePrint(o, rest)
	}
	return r.declare(args[0], o, rest)
}

// declarePrint is declare -p [NAME…] (and declare with no operands).
func (r *Runner) declarePrint(o declOpts, names []string) int {
	w := r.stdout()
	if len(names) == 0 {
		filter := o.add
		r.vars.visible(func(name string, v *Var) {
			if filter != 0 && v.attrs&filter != filter {
				return
			}
			if o.array && v.kind != kIndexed || o.assoc && v.kind != kAssoc {
				return
			}
			if !o.print && filter == 0 && !o.array && !o.assoc {
				// declare with no options prints name=value lines.
				if v.set {
					fmt.Fprintf(w, "%s=%s\n", name, r.setValue(v))
				}
				return
			}
			fmt.Fprintln(w, r.declareLine(name))
		})
		return 0
	}
	st := 0
	for _, name := range names {
		if v := r.vars.lookup(name); v == nil {
			r.errorf("declare: %s: not found", name)
			st = 1
			continue
		}
		fmt.Fprintln(w, r.declareLine(name))
	}
	return st
}

func (r *Runner) declareFuncs(o declOpts, names []string) int {
	w := r.stdout()
	if len(names) == 0 {
		for _, k := range sortedFuncNames(r.funcs) {
			if o.funcNames {
				fmt.Fprintf(w, "declare -f %s\n", k)
			} else {
				fmt.Fprintln(w, r.funcSource(r.funcs[k]))
			}
		}
		return 0
	}
	st := 0
	for _, k := range names {
		fn, ok := r.funcs[k]
		if !ok {
			st = 1
			continue
		}
		if o.add&aReadonly != 0 {
			r.readonlyFuncs[k] = true
			continue
		}
		if o.funcNames {
			fmt.Fprintln(w, k)
		} else {
			fmt.Fprintln(w, r.funcSource(fn))
		}
	}
	return st
}

func sortedFuncNames(m map[string]*funcDef) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// setValue prints a value as `set` lists it: quoted when needed.
func (r *Runner) setValue(v *Var) string {
	switch v.kind {
	case kIndexed, kAssoc:
		return r.declareValue(v)
	}
	return setQuote(v.str)
}

// setQuote quotes like bash's set: plain words as they are, others in
// single quotes ($'…' for control characters).
func setQuote(s string) string {
	if s == "" {
		return "''"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '%' || c == '+' || c == '=' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80) {
			return shellQuote(s)
		}
	}
	return s
}

// setBuiltin handles the options (-e, -o NAME, +o, …), the positional
// parameters (set -- a b), and with no arguments lists the variables.
func setBuiltin(r *Runner, args []string) int {
	args = args[1:]
	if len(args) == 0 {
		w := r.stdout()
		r.vars.visible(func(name string, v *Var) {
			if v.set {
				fmt.Fprintf(w, "%s=%s\n", name, r.setValue(v))
			}
		})
		return 0
	}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			r.setArgs(args[1:])
			return 0
		}
		if a == "-" {
			r.opts[optXtrace], r.opts[optVerbose] = false, false
			args = args[1:]
			if len(args) > 0 {
				r.setArgs(args)
			}
			return 0
		}
		if a == "+" {
			// A lone + is ignored.
			args = args[1:]
			continue
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		on := a[0] == '-'
		args = args[1:]
		for i := 1; i < len(a); i++ {
			c := a[i]
			if c == 'o' {
				if len(args) == 0 {
					r.listSetOptions(r.stdout(), !on)
					continue
				}
				o, ok := lookupOpt(args[0], false)
				if !ok {
					r.errorf("set: %s: invalid option name", args[0])
					return -2
				}
				r.setOpt(o, on)
				args = args[1:]
				continue
			}
			o, ok := optLetters[c]
			if !ok {
				r.errorf("set: %c%c: invalid option", a[0], c)
				return -2
			}
			r.setOpt(o, on)
		}
	}
	if len(args) > 0 {
		r.setArgs(args)
	}
	return 0
}

// setArgs makes args the positional parameters, for set. As in dash, the
// next getopts starts again from the first of them, whatever OPTIND says,
// unless OPTIND is assigned before it runs.
func (r *Runner) setArgs(args []string) {
	r.args = append([]string(nil), args...)
	r.getoptsRestart = true
}

// shoptBuiltin is shopt [-pqsuo] [NAME…].
func shoptBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	var set, unset, quiet, print, setOpts bool
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 's':
			set = true
		case 'u':
			unset = true
		case 'q':
			quiet = true
		case 'p':
			print = true
		case 'o':
			setOpts = true
		default:
			return r.usage("shopt", "-%c: invalid option", c)
		}
	}
	names := p.rest()
	w := r.stdout()
	show := func(o opt) {
		if quiet {
			return
		}
		if setOpts {
			if print || true {
				sign := "+"
				if r.opts[o] {
					sign = "-"
				}
				if print {
					fmt.Fprintf(w, "set %so %s\n", sign, optNames[o])
				} else {
					fmt.Fprintf(w, "%-15s\t%s\n", optNames[o], onOff(r.opts[o]))
				}
			}
			return
		}
		if print {
			flag := "-u"
			if r.opts[o] {
				flag = "-s"
			}
			fmt.Fprintf(w, "shopt %s %s\n", flag, optNames[o])
			return
		}
		fmt.Fprintf(w, "%-15s\t%s\n", optNames[o], onOff(r.opts[o]))
	}
	lo, hi := numSetOpts, numOpts
	if setOpts {
		lo, hi = 0, numSetOpts
	}
	if len(names) == 0 {
		for o := lo; o < hi; o++ {
			if set && !r.opts[o] || unset && r.opts[o] {
				continue
			}
			show(o)
		}
		return 0
	}
	st := 0
	for _, name := range names {
		o, ok := lookupOpt(name, !setOpts)
		if !ok {
			r.errorf("shopt: %s: invalid shell option name", name)
			st = 1
			continue
		}
		switch {
		case set:
			r.setOpt(o, true)
		case unset:
			r.setOpt(o, false)
		default:
			show(o)
			if !r.opts[o] {
				st = 1
			}
		}
	}
	return st
}

// getoptsBuiltin is getopts OPTSTRING NAME [ARG…], POSIX's option parser.
func getoptsBuiltin(r *Runner, args []string) int {
	if len(args) < 3 {
		r.errorf("getopts: usage: getopts optstring name [arg ...]")
		return 2
	}
	optstring, name := args[1], args[2]
	badName := !shell.ValidName(name)
	params := r.args
	if len(args) > 3 {
		params = args[3:]
	}
	silent := strings.HasPrefix(optstring, ":")
	if silent {
		optstring = optstring[1:]
	}
	setName := func(v string) {
		if badName {
			return
		}
		r.assign(name, v)
	}
	optind := 1
	if s, ok := r.vars.get("OPTIND"); ok && !r.getoptsRestart {
		if n, ok := parseNumber(s); ok && n > 0 {
			optind = int(n)
		}
	}
	if r.getoptsRestart {
		r.getoptsRestart, r.getoptsPos = false, 0
	}
	if optind != r.getoptsInd {
		r.getoptsPos = 0
	}
	setInd := func(n int) {
		pos := r.getoptsPos
		r.assign("OPTIND", formatInt(int64(n)))
		r.getoptsPos = pos
		r.getoptsInd = n
	}
	done := func() int {
		setName("?")
		r.vars.unset("OPTARG")
		setInd(optind)
		return 1
	}
	if optind > len(params) {
		return done()
	}
	arg := params[optind-1]
	if r.getoptsPos >= len(arg) {
		// Where the last call stopped is past this argument's end: the
		// arguments changed between calls. Start on it afresh.
		r.getoptsPos = 0
	}
	if r.getoptsPos == 0 {
		if len(arg) < 2 || arg[0] != '-' {
			return done()
		}
		if arg == "--" {
			optind++
			return done()
		}
		r.getoptsPos = 1
	}
	c := arg[r.getoptsPos]
	r.getoptsPos++
	advance := func() {
		if r.getoptsPos >= len(arg) {
			optind++
			r.getoptsPos = 0
		}
	}
	i := strings.IndexByte(optstring, c)
	if i < 0 || c == ':' {
		advance()
		setInd(optind)
		if silent {
			r.assign("OPTARG", string(c))
		} else {
			r.errorf("getopts: illegal option -- %c", c)
			r.vars.unset("OPTARG")
		}
		setName("?")
		return getoptsStatus(r, badName, name)
	}
	if i+1 < len(optstring) && optstring[i+1] == ':' {
		if r.getoptsPos < len(arg) {
			r.assign("OPTARG", arg[r.getoptsPos:])
			optind++
			r.getoptsPos = 0
		} else if optind < len(params) {
			r.assign("OPTARG", params[optind])
			optind += 2
			r.getoptsPos = 0
		} else {
			optind++
			r.getoptsPos = 0
			setInd(optind)
			if silent {
				setName(":")
				r.assign("OPTARG", string(c))
			} else {
				r.errorf("getopts: option requires an argument -- %c", c)
				setName("?")
				r.vars.unset("OPTARG")
			}
			return getoptsStatus(r, badName, name)
		}
		setInd(optind)
		setName(string(c))
		return getoptsStatus(r, badName, name)
	}
	advance()
	setInd(optind)
	r.vars.unset("OPTARG")
	setName(string(c))
	return getoptsStatus(r, badName, name)
}

// getoptsStatus is getopts's status after an option was found: 2 when
// the variable name is not valid.
func getoptsStatus(r *Runner, bad bool, name string) int {
	if bad {
		r.errorf("getopts: `%s': not a valid identifier", name)
		return 2
	}
	return 0
}
