package runner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// pval is what a parameter expands to before its operator: one string,
// or a list ("$@", "${a[@]}", "${a[*]}") whose elements become separate
// fields (or, for *, are joined by the first character of IFS).
type pval struct {
	str    string
	set    bool
	list   []string
	isList bool
	star   bool
	// name and index say what ${x:=word} assigns to.
	name  string
	index syntax.ArithmExpr
}

func (v *pval) null() bool {
	if v.isList && v.star {
		for _, s := range v.list {
			if s != "" {
				return false
			}
		}
		return true
	}
	if v.isList {
		return len(v.list) == 0 || len(v.list) == 1 && v.list[0] == ""
	}
	return !v.set || v.str == ""
}

// param expands ${…} (and $x) into e.
func (e *wexp) param(pe *syntax.ParamExp) error {
	r := e.r
	if pe.Short && pe.Index == nil {
		// $x, $1, $?, $@: the common forms.
		return e.shortParam(pe)
	}
	if pe.Excl && pe.Names != 0 {
		// ${!prefix*} and ${!prefix@}: the names of the variables that
		// start with prefix.
		var names []string
		r.vars.visible(func(name string, v *Var) {
			if strings.HasPrefix(name, pe.Param.Value) && (v.set || v.kind != kString) {
				names = append(names, name)
			}
		})
		e.emit(&pval{list: names, isList: true, set: true, star: pe.Names == syntax.NamesPrefix})
		return nil
	}
	if pe.Excl && pe.Index != nil && isListIndex(pe.Index) {
		// ${!a[@]}: the indexes or keys of an array.
		keys := r.arrayKeys(pe.Param.Value)
		if pe.Length {
			e.addExp(strconv.Itoa(len(keys)))
			return nil
		}
		e.emit(&pval{list: keys, isList: true, set: true, star: isStarIndex(pe.Index)})
		return nil
	}
	v, err := r.paramValue(pe)
	if err != nil {
		return err
	}
	if pe.Length {
		if r.opts[optNounset] && !v.set && !v.isList {
			return expandErrorf("%s: unbound variable", paramName(pe))
		}
		if v.isList {
			e.addExp(strconv.Itoa(len(v.list)))
		} else {
			e.addExp(strconv.Itoa(runeLen(v.str)))
		}
		return nil
	}
	switch {
	case pe.Slice != nil:
		if err := r.checkUnset(pe, v); err != nil {
			return err
		}
		if err := r.slice(pe, v); err != nil {
			return err
		}
	case pe.Repl != nil:
		if err := r.checkUnset(pe, v); err != nil {
			return err
		}
		if err := r.replace(pe.Repl, v); err != nil {
			return err
		}
	case pe.Exp != nil:
		done, err := e.operator(pe, v)
		if err != nil || done {
			return err
		}
	default:
		if err := r.checkUnset(pe, v); err != nil {
			return err
		}
	}
	e.emit(v)
	return nil
}

// shortParam expands $x, $1, $?, $@ and the like.
func (e *wexp) shortParam(pe *syntax.ParamExp) error {
	name := pe.Param.Value
	r := e.r
	switch name {
	case "@", "*":
		e.emit(&pval{list: r.args, isList: true, set: true, star: name == "*"})
		return nil
	}
	s, ok := r.special(name)
	if !ok {
		v := r.vars.lookup(name)
		if v.has(aNameref) {
			pv, err := r.paramValue(pe)
			if err != nil {
				return err
			}
			if err := r.checkUnset(pe, pv); err != nil {
				return err
			}
			e.emit(pv)
			return nil
		}
		s, ok = v.scalar()
	}
	if !ok && r.opts[optNounset] {
		return expandErrorf("%s: unbound variable", name)
	}
	e.addExp(s)
	return nil
}

func paramName(pe *syntax.ParamExp) string {
	if pe.Index != nil {
		return pe.Param.Value + "[" + printNode(pe.Index) + "]"
	}
	return pe.Param.Value
}

// checkUnset is set -u: an unset parameter is an error (but "$@" and
// "$*" are not).
func (r *Runner) checkUnset(pe *syntax.ParamExp, v *pval) error {
	if !r.opts[optNounset] || v.set || v.isList {
		return nil
	}
	return expandErrorf("%s: unbound variable", paramName(pe))
}

// emit adds a parameter's value: a list becomes one field per element
// (joined into one for "$*"), a string is one piece of the field.
func (e *wexp) emit(v *pval) {
	if !v.isList {
		e.addExp(v.str)
		return
	}
	if v.star && (e.quoted || e.mode != modeFields) {
		e.addExp(strings.Join(v.list, e.r.ifsJoin()))
		return
	}
	if e.mode != modeFields {
		// "$@" in a single-string context is the elements joined by
		// spaces.
		e.addExp(strings.Join(v.list, " "))
		return
	}
	for i, s := range v.list {
		if i > 0 {
			e.split()
		}
		e.addExp(s)
	}
}

// ifsJoin is the separator of "$*": IFS's first character, a space when
// IFS is unset, nothing when it is empty.
func (r *Runner) ifsJoin() string {
	ifs, ok := r.vars.get("IFS")
	if !ok {
		return " "
	}
	if ifs == "" {
		return ""
	}
	_, n := utf8.DecodeRuneInString(ifs)
	return ifs[:n]
}

func isListIndex(x syntax.ArithmExpr) bool {
	w, ok := x.(*syntax.Word)
	if !ok {
		return false
	}
	s := w.Lit()
	return s == "@" || s == "*"
}

func isStarIndex(x syntax.ArithmExpr) bool {
	w, ok := x.(*syntax.Word)
	return ok && w.Lit() == "*"
}

// paramValue finds what a parameter names: a special parameter, a
// variable, an array element or all elements, following ${!x} and
// namerefs.
func (r *Runner) paramValue(pe *syntax.ParamExp) (*pval, error) {
	name := pe.Param.Value
	index := pe.Index
	if pe.Excl {
		// ${!x}: x holds the name (maybe with a subscript) to expand.
		ref, ok := r.scalarParam(name)
		if !ok {
			if r.opts[optNounset] {
				return nil, expandErrorf("%s: unbound variable", name)
			}
			return nil, expandErrorf("%s: invalid indirect expansion", name)
		}
		v := r.vars.lookup(name)
		if v.has(aNameref) && index == nil {
			// ${!ref} of a nameref is the name it refers to.
			return &pval{str: ref, set: true}, nil
		}
		n, idx, err := r.parseRef(ref)
		if err != nil {
			return nil, err
		}
		name, index = n, idx
	}
	return r.namedValue(name, index, 0)
}

// namedValue is the value of name[index] (index nil: the whole name).
func (r *Runner) namedValue(name string, index syntax.ArithmExpr, depth int) (*pval, error) {
	switch name {
	case "@", "*":
		pv := &pval{list: r.args, isList: true, set: true, star: name == "*"}
		return pv, nil
	}
	if s, ok := r.special(name); ok {
		if index != nil {
			if k, ok := index.(*syntax.Word); ok && k.Lit() == "0" || isListIndex(index) {
				return &pval{str: s, set: true}, nil
			}
			return &pval{}, nil
		}
		return &pval{str: s, set: true}, nil
	}
	v := r.vars.lookup(name)
	if v.has(aNameref) && depth < 20 {
		target, _ := v.scalar()
		if target != "" {
			n, idx, err := r.parseRef(target)
			if err != nil {
				return nil, err
			}
			if idx == nil {
				idx = index
			}
			return r.namedValue(n, idx, depth+1)
		}
	}
	pv := &pval{name: name, index: index}
	if index == nil {
		pv.str, pv.set = v.scalar()
		return pv, nil
	}
	if isListIndex(index) {
		pv.isList, pv.set, pv.star = true, true, isStarIndex(index)
		if v != nil && v.set {
			switch v.kind {
			case kIndexed:
				pv.list = v.arr.values()
			case kAssoc:
				pv.list = v.assoc.values()
			default:
				pv.list = []string{v.str}
			}
		}
		return pv, nil
	}
	if v == nil || !v.set {
		return pv, nil
	}
	switch v.kind {
	case kAssoc:
		key, err := r.assocKey(index)
		if err != nil {
			return nil, err
		}
		pv.str, pv.set = v.assoc.get(key)
	case kIndexed:
		i, err := r.arithm(index)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			i += int64(v.arr.next())
			if i < 0 {
				return nil, expandErrorf("%s: bad array subscript", name)
			}
		}
		pv.str, pv.set = v.arr.get(int(i))
	default:
		i, err := r.arithm(index)
		if err != nil {
			return nil, err
		}
		if i == 0 || i == -1 {
			pv.str, pv.set = v.str, true
		}
	}
	return pv, nil
}

// scalarParam is the string value of a parameter or variable.
func (r *Runner) scalarParam(name string) (string, bool) {
	if s, ok := r.special(name); ok {
		return s, true
	}
	if name == "@" || name == "*" {
		return strings.Join(r.args, " "), len(r.args) > 0
	}
	return r.vars.get(name)
}

// parseRef splits a reference like "a[2]" or "x" (from ${!x} or a
// nameref) into a name and a subscript.
func (r *Runner) parseRef(ref string) (string, syntax.ArithmExpr, error) {
	i := strings.IndexByte(ref, '[')
	if i < 0 {
		if !shell.ValidName(ref) && !isSpecialName(ref) {
			return "", nil, expandErrorf("%s: invalid variable name", ref)
		}
		return ref, nil, nil
	}
	if !strings.HasSuffix(ref, "]") || !shell.ValidName(ref[:i]) {
		return "", nil, expandErrorf("%s: invalid variable name", ref)
	}
	sub := ref[i+1 : len(ref)-1]
	if sub == "@" || sub == "*" {
		return ref[:i], &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: sub}}}, nil
	}
	x, err := r.parseArith(sub)
	if err != nil {
		return "", nil, err
	}
	return ref[:i], x, nil
}

func isSpecialName(s string) bool {
	switch s {
	case "@", "*", "#", "?", "-", "$", "!", "0":
		return true
	}
	_, err := strconv.Atoi(s)
	return err == nil
}

// assocKey is an associative array's key: the subscript's text,
// expanded as a word (not as arithmetic).
func (r *Runner) assocKey(index syntax.ArithmExpr) (string, error) {
	if w, ok := index.(*syntax.Word); ok {
		return r.literal(w)
	}
	src := printNode(index)
	w, err := parseWord(src)
	if err != nil {
		return src, nil
	}
	return r.literal(w)
}

// arrayKeys lists an array's indexes (or keys), for ${!a[@]}.
func (r *Runner) arrayKeys(name string) []string {
	v := r.vars.lookup(name)
	if v == nil || !v.set {
		return nil
	}
	switch v.kind {
	case kIndexed:
		out := make([]string, len(v.arr.keys))
		for i, k := range v.arr.keys {
			out[i] = strconv.Itoa(k)
		}
		return out
	case kAssoc:
		return append([]string(nil), v.assoc.keys...)
	}
	return []string{"0"}
}

// operator applies ${x-w}, ${x:=w}, ${x#p} and the other operators with a
// word. done means e already has the result.
func (e *wexp) operator(pe *syntax.ParamExp, v *pval) (done bool, err error) {
	r := e.r
	op := pe.Exp.Op
	switch op {
	case syntax.DefaultUnset, syntax.DefaultUnsetOrNull,
		syntax.AlternateUnset, syntax.AlternateUnsetOrNull,
		syntax.AssignUnset, syntax.AssignUnsetOrNull,
		syntax.ErrorUnset, syntax.ErrorUnsetOrNull:
	default:
		if err := r.checkUnset(pe, v); err != nil {
			return false, err
		}
	}
	colon := false
	switch op {
	case syntax.DefaultUnsetOrNull, syntax.AlternateUnsetOrNull, syntax.AssignUnsetOrNull, syntax.ErrorUnsetOrNull:
		colon = true
	}
	missing := !v.set || v.isList && len(v.list) == 0
	if colon {
		missing = v.null()
	}
	switch op {
	case syntax.DefaultUnset, syntax.DefaultUnsetOrNull:
		if !missing {
			return false, nil
		}
		return true, e.subWord(pe.Exp.Word)
	case syntax.AlternateUnset, syntax.AlternateUnsetOrNull:
		if missing {
			return true, nil
		}
		return true, e.subWord(pe.Exp.Word)
	case syntax.AssignUnset, syntax.AssignUnsetOrNull:
		if !missing {
			return false, nil
		}
		if v.name == "" || v.isList && v.index == nil {
			return false, expandErrorf("$%s: cannot assign in this way", pe.Param.Value)
		}
		val, err := r.literal(pe.Exp.Word)
		if err != nil {
			return false, err
		}
		if v.index != nil {
			err = r.assignIndex(v.name, v.index, val, false)
		} else {
			err = r.assign(v.name, val)
		}
		if err != nil {
			return false, err
		}
		nv, err := r.namedValue(v.name, v.index, 0)
		if err != nil {
			return false, err
		}
		e.emit(nv)
		return true, nil
	case syntax.ErrorUnset, syntax.ErrorUnsetOrNull:
		if !missing {
			return false, nil
		}
		msg := "parameter null or not set"
		if !colon {
			msg = "parameter not set"
		}
		if pe.Exp.Word != nil {
			m, err := r.literal(pe.Exp.Word)
			if err != nil {
				return false, err
			}
			if m != "" {
				msg = m
			}
		}
		return false, expandErrorf("%s: %s", paramName(pe), msg)
	case syntax.RemSmallPrefix, syntax.RemLargePrefix, syntax.RemSmallSuffix, syntax.RemLargeSuffix:
		pat, err := r.patternWord(pe.Exp.Word)
		if err != nil {
			return false, err
		}
		v.each(func(s string) string { return r.removeAffix(s, pat, op) })
		return false, nil
	case syntax.UpperFirst, syntax.UpperAll, syntax.LowerFirst, syntax.LowerAll:
		pat := ""
		if pe.Exp.Word != nil {
			if pat, err = r.patternWord(pe.Exp.Word); err != nil {
				return false, err
			}
		}
		v.each(func(s string) string { return r.caseConv(s, pat, op) })
		return false, nil
	case syntax.OtherParamOps:
		return e.transform(pe, v)
	}
	return false, expandErrorf("${%s}: bad substitution", printNode(pe))
}

// subWord expands the word of ${x:-word} in the context of the
// expansion: unquoted, its literal text is split and globbed.
func (e *wexp) subWord(w *syntax.Word) error {
	if w == nil {
		e.addExp("")
		return nil
	}
	old := e.inWord
	e.inWord = !e.quoted
	defer func() { e.inWord = old }()
	if len(w.Parts) == 0 {
		e.addExp("")
		return nil
	}
	for i, p := range w.Parts {
		if i == 0 && !e.quoted {
			if l, ok := p.(*syntax.Lit); ok && strings.HasPrefix(l.Value, "~") {
				e.inWord = false
				done, err := e.tilde(l.Value, len(w.Parts) == 1)
				e.inWord = !e.quoted
				if done {
					if err != nil {
						return err
					}
					continue
				}
			}
		}
		if err := e.part(p); err != nil {
			return err
		}
	}
	return nil
}

// each applies fn to the string, or to every element of a list.
func (v *pval) each(fn func(string) string) {
	if v.isList {
		out := make([]string, len(v.list))
		for i, s := range v.list {
			out[i] = fn(s)
		}
		v.list = out
		return
	}
	v.str = fn(v.str)
}

// removeAffix is ${s#p}, ${s##p}, ${s%p} and ${s%%p}.
func (r *Runner) removeAffix(s, pat string, op syntax.ParExpOperator) string {
	m := r.compilePattern(pat, patValue)
	switch op {
	case syntax.RemSmallPrefix:
		for i := 0; i <= len(s); i = nextRune(s, i) {
			if m.match(s[:i]) {
				return s[i:]
			}
		}
	case syntax.RemLargePrefix:
		for i := len(s); i >= 0; i = prevRune(s, i) {
			if m.match(s[:i]) {
				return s[i:]
			}
		}
	case syntax.RemSmallSuffix:
		for i := len(s); i >= 0; i = prevRune(s, i) {
			if m.match(s[i:]) {
				return s[:i]
			}
		}
	case syntax.RemLargeSuffix:
		for i := 0; i <= len(s); i = nextRune(s, i) {
			if m.match(s[i:]) {
				return s[:i]
			}
		}
	}
	return s
}

func nextRune(s string, i int) int {
	if i >= len(s) {
		return len(s) + 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return i + n
}

func prevRune(s string, i int) int {
	if i <= 0 {
		return -1
	}
	_, n := utf8.DecodeLastRuneInString(s[:i])
	return i - n
}

// caseConv is ${s^p}, ${s^^p}, ${s,p}, ${s,,p}: the characters that match
// p (any, when p is empty) are upper- or lowercased.
func (r *Runner) caseConv(s, pat string, op syntax.ParExpOperator) string {
	var m *pattern
	if pat != "" {
		m = r.compilePattern(pat, patValue)
	}
	var b strings.Builder
	for i, c := range s {
		if (op == syntax.UpperFirst || op == syntax.LowerFirst) && i > 0 {
			b.WriteString(s[i:])
			break
		}
		if m == nil || m.match(string(c)) {
			if op == syntax.UpperFirst || op == syntax.UpperAll {
				c = unicode.ToUpper(c)
			} else {
				c = unicode.ToLower(c)
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

// slice is ${x:offset:length}: characters of a string, elements of a list
// (for "$@" offset 0 is $0).
func (r *Runner) slice(pe *syntax.ParamExp, v *pval) error {
	off, err := r.arithm(pe.Slice.Offset)
	if err != nil {
		return err
	}
	var length int64
	hasLen := pe.Slice.Length != nil
	if hasLen {
		if length, err = r.arithm(pe.Slice.Length); err != nil {
			return err
		}
	}
	if v.isList {
		list := v.list
		name := pe.Param.Value
		isArgs := (name == "@" || name == "*") && pe.Index == nil && !pe.Excl
		if isArgs {
			list = append([]string{r.arg0}, r.args...)
		} else if vv := r.vars.lookup(name); vv != nil && vv.kind == kIndexed && pe.Index != nil {
			// Array offsets are indexes: elements at index ≥ offset.
			keys := vv.arr.keys
			if off < 0 {
				off += int64(vv.arr.next())
				if off < 0 {
					v.list = nil
					return nil
				}
			}
			j := sort.SearchInts(keys, int(off))
			list = vv.arr.vals[j:]
			off = 0
		}
		n := int64(len(list))
		if off < 0 {
			off += n
			if off < 0 {
				v.list = nil
				return nil
			}
		}
		if off > n {
			off = n
		}
		end := n
		if hasLen {
			if length < 0 {
				return expandErrorf("%s: substring expression < 0", printNode(pe.Slice.Length))
			}
			end = min(n, off+length)
		}
		v.list = append([]string(nil), list[off:end]...)
		return nil
	}
	runes := []rune(v.str)
	n := int64(len(runes))
	if off < 0 {
		off += n
		if off < 0 {
			v.str = ""
			return nil
		}
	}
	if off > n {
		v.str = ""
		return nil
	}
	end := n
	if hasLen {
		if length < 0 {
			end = n + length
			if end < off {
				return expandErrorf("%s: substring expression < 0", printNode(pe.Slice.Length))
			}
		} else {
			end = min(n, off+length)
		}
	}
	v.str = string(runes[off:end])
	return nil
}

// replace is ${x/p/s}, ${x//p/s}, ${x/#p/s} and ${x/%p/s}.
func (r *Runner) replace(rp *syntax.Replace, v *pval) error {
	orig := rp.Orig
	anchor := byte(0)
	if orig != nil && len(orig.Parts) > 0 {
		if l, ok := orig.Parts[0].(*syntax.Lit); ok && l.Value != "" && (l.Value[0] == '#' || l.Value[0] == '%') {
			anchor = l.Value[0]
			cp := *orig
			cp.Parts = append([]syntax.WordPart{&syntax.Lit{Value: l.Value[1:]}}, orig.Parts[1:]...)
			orig = &cp
		}
	}
	pat, err := r.patternWord(orig)
	if err != nil {
		return err
	}
	with := ""
	withPat := false
	if rp.With != nil {
		if r.opts[optPatsubReplacement] && wordHasAmp(rp.With) {
			if with, err = r.patternWord(rp.With); err != nil {
				return err
			}
			withPat = true
		} else if with, err = r.literal(rp.With); err != nil {
			return err
		}
	}
	m := r.compilePattern(pat, patValue)
	repl := func(match string) string {
		if !withPat {
			return with
		}
		return ampReplace(with, match)
	}
	v.each(func(s string) string { return substitute(s, m, pat, anchor, rp.All, repl) })
	return nil
}

func wordHasAmp(w *syntax.Word) bool {
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.Contains(p.Value, "&") {
				return true
			}
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if l, ok := q.(*syntax.Lit); ok && strings.Contains(l.Value, "&") {
					return true
				}
			}
		}
	}
	return false
}

// ampReplace expands the replacement of ${x/p/s} under bash's
// patsub_replacement: an unquoted & is the matched text; \& is an &.
func ampReplace(with, match string) string {
	var b strings.Builder
	for i := 0; i < len(with); i++ {
		c := with[i]
		switch {
		case c == '\\' && i+1 < len(with):
			i++
			b.WriteByte(with[i])
		case c == '&':
			b.WriteString(match)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func substitute(s string, m *pattern, pat string, anchor byte, all bool, repl func(string) string) string {
	switch anchor {
	case '#':
		for i := len(s); i >= 0; i = prevRune(s, i) {
			if m.match(s[:i]) {
				return repl(s[:i]) + s[i:]
			}
		}
		return s
	case '%':
		for i := 0; i <= len(s); i = nextRune(s, i) {
			if m.match(s[i:]) {
				return s[:i] + repl(s[i:])
			}
		}
		return s
	}
	if pat == "" {
		return s
	}
	if lit, ok := m.literal(); ok {
		if !all {
			if i := strings.Index(s, lit); i >= 0 {
				return s[:i] + repl(lit) + s[i+len(lit):]
			}
			return s
		}
		return strings.ReplaceAll(s, lit, repl(lit))
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		// The longest match starting at i.
		end := -1
		for j := len(s); j > i; j = prevRune(s, j) {
			if m.match(s[i:j]) {
				end = j
				break
			}
		}
		if end < 0 {
			n := nextRune(s, i)
			b.WriteString(s[i:n])
			i = n
			continue
		}
		b.WriteString(repl(s[i:end]))
		i = end
		if !all {
			b.WriteString(s[i:])
			return b.String()
		}
	}
	return b.String()
}

// transform is ${x@Q} and the other @ operators.
func (e *wexp) transform(pe *syntax.ParamExp, v *pval) (bool, error) {
	r := e.r
	op := ""
	if pe.Exp.Word != nil {
		op = pe.Exp.Word.Lit()
	}
	switch op {
	case "Q":
		if !v.set && !v.isList {
			return true, nil
		}
		v.each(shellQuote)
	case "E":
		v.each(ansiC)
	case "P":
		v.each(func(s string) string { return r.promptExpand(s) })
	case "U":
		v.each(strings.ToUpper)
	case "L":
		v.each(strings.ToLower)
	case "u":
		v.each(func(s string) string {
			c, n := utf8.DecodeRuneInString(s)
			if n == 0 {
				return s
			}
			return string(unicode.ToUpper(c)) + s[n:]
		})
	case "a":
		a := r.attrLetters(pe.Param.Value)
		if v.isList {
			out := make([]string, len(v.list))
			for i := range out {
				out[i] = a
			}
			v.list = out
		} else {
			v.str, v.set = a, true
		}
	case "A":
		if !v.set {
			return true, nil
		}
		s := r.declareLine(pe.Param.Value)
		e.addExp(s)
		return true, nil
	case "K", "k":
		if vv := r.vars.lookup(pe.Param.Value); vv != nil && vv.kind != kString {
			var parts []string
			keys := r.arrayKeys(pe.Param.Value)
			vals := vv.values()
			for i, k := range keys {
				parts = append(parts, k, shellQuote(vals[i]))
			}
			if op == "K" {
				e.addExp(strings.Join(parts, " "))
				return true, nil
			}
			v.list, v.isList = parts, true
			return false, nil
		}
		v.each(shellQuote)
	default:
		return false, expandErrorf("${%s}: bad substitution", printNode(pe))
	}
	return false, nil
}

func (v *Var) values() []string {
	switch v.kind {
	case kIndexed:
		return v.arr.values()
	case kAssoc:
		return v.assoc.values()
	}
	return []string{v.str}
}

// shellQuote quotes a value as ${x@Q} and `set` print it: 'a b', or
// $'…' when it has control characters.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	needs := false
	ctl := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			ctl = true
		}
		if !(c == '_' || c == '-' || c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '%' || c == '+' || c == '=' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80) {
			needs = true
		}
	}
	if ctl {
		var b strings.Builder
		b.WriteString("$'")
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch c {
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			case 27:
				b.WriteString(`\E`)
			case '\'':
				b.WriteString(`\'`)
			case '\\':
				b.WriteString(`\\`)
			default:
				if c < 0x20 || c == 0x7f {
					fmt.Fprintf(&b, "\\%03o", c)
				} else {
					b.WriteByte(c)
				}
			}
		}
		b.WriteByte('\'')
		return b.String()
	}
	if !needs {
		return "'" + s + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
