package runner

import (
	"fmt"
	"strconv"

	"mvdan.cc/sh/v3/syntax"
)

// readonlyErr is an assignment to a readonly variable. array is set for
// an array's element or elements (a[i]=x, a=(…)), bash's own, which fails
// its command as in bash; a plain assignment is an assignment error, fatal
// outside the prompt as POSIX asks.
type readonlyErr struct {
	name  string
	array bool
}

func (e *readonlyErr) Error() string { return e.name + ": readonly variable" }

// resolveRef follows a nameref to the variable it names.
func (r *Runner) resolveRef(name string) (string, syntax.ArithmExpr) {
	for range 20 {
		v := r.vars.lookup(name)
		if !v.has(aNameref) || !v.set {
			return name, nil
		}
		target := v.str
		n, idx, err := r.parseRef(target)
		if err != nil || n == "" {
			return name, nil
		}
		if idx != nil {
			return n, idx
		}
		name = n
	}
	return name, nil
}

// assign sets a variable to a string, as NAME=VALUE does: readonly is
// checked, -i evaluates, -l/-u convert, allexport exports.
func (r *Runner) assign(name, value string) error {
	if n, idx := r.resolveRef(name); idx != nil {
		return r.assignIndex(n, idx, value, false)
	} else {
		name = n
	}
	v := r.vars.lookup(name)
	if v.has(aReadonly) {
		return &readonlyErr{name: name}
	}
	if v.has(aInteger) {
		n, err := r.evalArithString(value, 0)
		if err != nil {
			return err
		}
		value = strconv.FormatInt(n, 10)
	}
	if v != nil {
		value = v.applyCase(value)
	}
	if err := r.sandboxValue(value); err != nil {
		return err
	}
	nv := r.vars.setString(name, value)
	if r.opts[optAllexport] && nv.attrs&aExport == 0 {
		nv.attrs |= aExport
		r.vars.gen++
	}
	r.assigned(name, value)
	return nil
}

// assigned is the side effect some variables have when set.
func (r *Runner) assigned(name, value string) {
	switch name {
	case "RANDOM":
		r.seedRandom(value)
	case "OPTIND":
		r.getoptsPos, r.getoptsRestart = 0, false
	}
}

// appendString is NAME+=VALUE.
func (r *Runner) appendString(name, value string) error {
	n, idx := r.resolveRef(name)
	if idx != nil {
		return r.assignIndex(n, idx, value, true)
	}
	v := r.vars.lookup(n)
	if v != nil && v.kind == kIndexed {
		old, _ := v.arr.get(0)
		return r.assignElem(n, 0, old+value)
	}
	if v.has(aInteger) {
		old, _ := v.scalar()
		a, err := r.evalArithString(old, 0)
		if err != nil {
			return err
		}
		b, err := r.evalArithString(value, 0)
		if err != nil {
			return err
		}
		return r.assign(n, strconv.FormatInt(a+b, 10))
	}
	old, _ := v.scalar()
	return r.assign(n, old+value)
}

// assignIndex is NAME[INDEX]=VALUE (append: +=).
func (r *Runner) assignIndex(name string, index syntax.ArithmExpr, value string, app bool) error {
	v := r.vars.lookup(name)
	if v.has(aReadonly) {
		return &readonlyErr{name, true}
	}
	if v != nil && v.kind == kAssoc {
		key, err := r.assocKey(index)
		if err != nil {
			return err
		}
		if app {
			old, _ := v.assoc.get(key)
			value = old + value
		}
		v.assoc.set(key, v.applyCase(value))
		v.set = true
		return nil
	}
	i, err := r.arithm(index)
	if err != nil {
		return err
	}
	if i < 0 {
		n := int64(0)
		if v != nil && v.kind == kIndexed {
			n = int64(v.arr.next())
		}
		i += n
		if i < 0 {
			return expandErrorf("%s[%s]: bad array subscript", name, printNode(index))
		}
	}
	if app {
		if v != nil && v.kind == kIndexed {
			old, _ := v.arr.get(int(i))
			value = old + value
		} else if i == 0 {
			old, _ := v.scalar()
			value = old + value
		}
	}
	return r.assignElem(name, int(i), value)
}

// assignElem sets element i of an indexed array, turning a string
// variable into an array (its value becomes element 0).
func (r *Runner) assignElem(name string, i int, value string) error {
	if err := r.sandboxValue(value); err != nil {
		return err
	}
	v := r.vars.lookup(name)
	if v.has(aReadonly) {
		return &readonlyErr{name, true}
	}
	if v == nil {
		v = r.vars.ensure(name)
	}
	if v.has(aInteger) {
		n, err := r.evalArithString(value, 0)
		if err != nil {
			return err
		}
		value = strconv.FormatInt(n, 10)
	}
	value = v.applyCase(value)
	switch v.kind {
	case kString:
		arr := &indexed{}
		if v.set {
			arr.set(0, v.str)
		}
		v.kind, v.arr, v.str = kIndexed, arr, ""
		if v.attrs&aExport != 0 {
			r.vars.gen++
		}
	case kAssoc:
		v.assoc.set(strconv.Itoa(i), value)
		v.set = true
		return nil
	}
	v.arr.set(i, value)
	v.set = true
	return nil
}

// assignArray is NAME=(…) or NAME+=(…): elements in order, or with
// [index]=value; for an associative array, [key]=value pairs.
func (r *Runner) assignArray(name string, arr *syntax.ArrayExpr, app bool, kind varKind) error {
	name, _ = r.resolveRef(name)
	v := r.vars.lookup(name)
	if v.has(aReadonly) {
		return &readonlyErr{name, true}
	}
	if v != nil && v.kind == kAssoc {
		kind = kAssoc
	}
	if kind == kAssoc {
		a := newAssoc()
		if app && v != nil && v.kind == kAssoc {
			a = v.assoc.clone()
		}
		for _, el := range arr.Elems {
			if el.Index == nil {
				// bash 5.1: a list of key value pairs.
				vals, err := r.fields([]*syntax.Word{el.Value})
				if err != nil {
					return err
				}
				for _, s := range vals {
					a.set(s, "")
				}
				continue
			}
			key, err := r.assocKey(el.Index)
			if err != nil {
				return err
			}
			val, err := r.assignValue(el.Value)
			if err != nil {
				return err
			}
			if v != nil {
				val = v.applyCase(val)
			}
			a.set(key, val)
		}
		pairsToAssoc(a, arr)
		nv := r.vars.ensure(name)
		nv.kind, nv.assoc, nv.arr, nv.str, nv.set = kAssoc, a, nil, "", true
		return nil
	}
	out := &indexed{}
	next := 0
	if app && v != nil {
		switch v.kind {
		case kIndexed:
			out = v.arr.clone()
			next = out.next()
		case kString:
			if v.set {
				out.set(0, v.str)
				next = 1
			}
		}
	}
	for _, el := range arr.Elems {
		if el.Index != nil {
			i, err := r.arithm(el.Index)
			if err != nil {
				return err
			}
			if i < 0 {
				i += int64(out.next())
				if i < 0 {
					return expandErrorf("%s: bad array subscript", name)
				}
			}
			val, err := r.assignValue(el.Value)
			if err != nil {
				return err
			}
			out.set(int(i), val)
			next = int(i) + 1
			continue
		}
		vals, err := r.fields([]*syntax.Word{el.Value})
		if err != nil {
			return err
		}
		for _, s := range vals {
			out.set(next, s)
			next++
		}
	}
	nv := r.vars.ensure(name)
	if nv.has(aInteger) || nv.has(aLower) || nv.has(aUpper) {
		for i, s := range out.vals {
			if nv.has(aInteger) {
				n, err := r.evalArithString(s, 0)
				if err != nil {
					return err
				}
				s = strconv.FormatInt(n, 10)
			}
			out.vals[i] = nv.applyCase(s)
		}
	}
	if nv.attrs&aExport != 0 {
		r.vars.gen++
	}
	nv.kind, nv.arr, nv.assoc, nv.str, nv.set = kIndexed, out, nil, "", true
	return nil
}

// pairsToAssoc handles bash 5.1's A=(k1 v1 k2 v2): elements without
// [key]= are taken in pairs.
func pairsToAssoc(a *assoc, arr *syntax.ArrayExpr) {
	var loose []string
	for _, k := range a.keys {
		if a.m[k] == "" {
			loose = append(loose, k)
		}
	}
	hasIndexed := false
	for _, el := range arr.Elems {
		if el.Index != nil {
			hasIndexed = true
		}
	}
	if hasIndexed || len(loose) == 0 {
		return
	}
	// Rebuild from the loose words, in pairs.
	for _, k := range loose {
		a.unset(k)
	}
	for i := 0; i < len(loose); i += 2 {
		val := ""
		if i+1 < len(loose) {
			val = loose[i+1]
		}
		a.set(loose[i], val)
	}
}

// doAssign performs one parsed assignment (NAME=v, NAME+=v, NAME[i]=v,
// NAME=(…)).
func (r *Runner) doAssign(as *syntax.Assign) error {
	name := as.Name.Value
	if as.Array != nil {
		return r.assignArray(name, as.Array, as.Append, kIndexed)
	}
	val, err := r.assignValue(as.Value)
	if err != nil {
		return err
	}
	if as.Index != nil {
		return r.assignIndex(name, as.Index, val, as.Append)
	}
	if as.Append {
		return r.appendString(name, val)
	}
	return r.assign(name, val)
}

// assignError reports a failed assignment: as POSIX asks of a variable
// assignment error, a non-interactive shell ends, with 2 as in dash (bash
// runs on to the next line); at the prompt, the rest of the line is not
// run.
func (r *Runner) assignError(err error) int {
	return r.expandFailed(err)
}

// declareLine prints a variable as declare -p does.
func (r *Runner) declareLine(name string) string {
	v := r.vars.lookup(name)
	if v == nil {
		return ""
	}
	flags := r.attrLetters(name)
	if flags == "" {
		flags = "-"
	}
	if !v.set {
		return fmt.Sprintf("declare -%s %s", trimDash(flags), name)
	}
	return fmt.Sprintf("declare -%s %s=%s", trimDash(flags), name, r.declareValue(v))
}

func trimDash(s string) string {
	if s == "-" {
		return "-"
	}
	return s
}

func (r *Runner) declareValue(v *Var) string {
	switch v.kind {
	case kIndexed:
		b := "("
		for i, k := range v.arr.keys {
			if i > 0 {
				b += " "
			}
			b += fmt.Sprintf("[%d]=%s", k, dquote(v.arr.vals[i]))
		}
		return b + ")"
	case kAssoc:
		b := "("
		for _, k := range v.assoc.keys {
			b += fmt.Sprintf("[%s]=%s ", assocKeyQuote(k), dquote(v.assoc.m[k]))
		}
		return b + ")"
	}
	return dquote(v.str)
}

func assocKeyQuote(k string) string {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return dquote(k)
		}
	}
	return k
}

// dquote quotes a value the way declare -p does: "…" with \ " $ ` escaped.
func dquote(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\', '$', '`':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

// attrLetters is ${x@a}: the attribute letters of a variable.
func (r *Runner) attrLetters(name string) string {
	v := r.vars.lookup(name)
	if v == nil {
		return ""
	}
	var b []byte
	switch v.kind {
	case kIndexed:
		b = append(b, 'a')
	case kAssoc:
		b = append(b, 'A')
	}
	if v.has(aInteger) {
		b = append(b, 'i')
	}
	if v.has(aLower) {
		b = append(b, 'l')
	}
	if v.has(aNameref) {
		b = append(b, 'n')
	}
	if v.has(aReadonly) {
		b = append(b, 'r')
	}
	if v.has(aUpper) {
		b = append(b, 'u')
	}
	if v.has(aExport) {
		b = append(b, 'x')
	}
	return string(b)
}
