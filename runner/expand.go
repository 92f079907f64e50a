package runner

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Word expansion is tubo's own, following dash's expand.c: each word is
// expanded into fields made of segments that remember how their bytes
// came to be (literal text, quoted text, or the result of an unquoted
// expansion). Field splitting then looks only at unquoted expansion
// results, pathname expansion only at unquoted text, and quote removal
// is what is left. mvdan.cc/sh/v3/expand does the brace expansion; the
// rest is here because its Fields and Literal differ from sh in ways a
// script notices (docs/shell.md lists them).

// segKind says how a segment's bytes came to be.
type segKind uint8

const (
	sLit    segKind = iota // unquoted literal text: pathname expansion applies
	sQuoted                // quoted text: taken as it is
	sExp                   // an unquoted expansion's result: split and globbed
)

type seg struct {
	s string
	k segKind
}

// field is one field being built: its segments in order.
type field []seg

// expandMode says what a word is expanded for.
type expandMode uint8

const (
	modeFields  expandMode = iota // command arguments: split and globbed
	modeLiteral                   // a single string, quotes removed
	modePattern                   // a single pattern: quoted characters escaped
)

// wexp expands the parts of words into fields.
type wexp struct {
	r      *Runner
	mode   expandMode
	fields []field // finished fields
	cur    field   // the field being built
	open   bool    // cur holds something (even an empty quoted string)
	quoted bool    // inside double quotes
	// inWord is set while the word of ${x:-word} (and the like) of an
	// unquoted expansion is expanded: its literal text is split and
	// globbed like an expansion's result.
	inWord bool
	// doc is set for here-document bodies: a backslash escapes only $, `
	// and \ (and a newline), not ".
	doc bool
	// assign is set for an assignment's value: tilde expansion also
	// follows each unquoted ':'.
	assign bool
	// size counts the bytes and fields made so far, which the sandbox
	// bounds (sandboxWord).
	size int
}

func (e *wexp) add(s string, k segKind) {
	e.cur = append(e.cur, seg{s, k})
	e.open = true
	e.size += len(s)
}

// split ends the current field, for the elements of "$@".
func (e *wexp) split() {
	e.size++
	e.fields = append(e.fields, e.cur)
	e.cur = nil
	e.open = false
}

func (e *wexp) finish() []field {
	if e.open {
		e.fields = append(e.fields, e.cur)
	}
	e.cur, e.open = nil, false
	return e.fields
}

// litKind is how literal text is added: unquoted literal, or inside an
// unquoted ${x:-word}, an expansion's result.
func (e *wexp) litKind() segKind {
	switch {
	case e.quoted:
		return sQuoted
	case e.inWord:
		return sExp
	}
	return sLit
}

// expandErr is a failed expansion: the message sh prints, and the status
// the shell ends with.
type expandErr struct {
	msg    string
	status int
}

func (e *expandErr) Error() string { return e.msg }

func expandErrorf(format string, args ...any) error {
	return &expandErr{msg: fmt.Sprintf(format, args...), status: 1}
}

// fields expands command arguments: brace expansion, tilde, parameters,
// command substitutions, arithmetic, field splitting, pathname expansion
// and quote removal.
func (r *Runner) fields(words []*syntax.Word) ([]string, error) {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if s, ok := simpleLit(w); ok {
			out = append(out, s)
			continue
		}
		if s, done := r.simpleParam(w); done {
			if s != "" {
				out = append(out, s)
			}
			continue
		}
		if s, done := r.simpleQuoted(w); done {
			out = append(out, s)
			continue
		}
		var err error
		if out, err = r.wordFields(out, w); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// simpleLit returns a word that is one plain literal, with nothing to
// expand in it: the common case, done without building fields.
func simpleLit(w *syntax.Word) (string, bool) {
	if len(w.Parts) != 1 {
		return "", false
	}
	l, ok := w.Parts[0].(*syntax.Lit)
	if !ok {
		return "", false
	}
	s := l.Value
	if s == "" || s[0] == '~' {
		return "", false
	}
	brackets := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '*', '?', '{':
			return "", false
		case '[':
			brackets = true
		}
	}
	if brackets && hasGlob(s, false) {
		return "", false // a bracket expression: [ab]
	}
	return s, true // `[` and `]` alone (test's brackets) are literal
}

// simpleQuoted expands a word that is one double-quoted string of plain
// text and $name expansions — echo "line $i" — as one field, without
// building fields; done is false for anything else.
func (r *Runner) simpleQuoted(w *syntax.Word) (string, bool) {
	if len(w.Parts) != 1 {
		return "", false
	}
	dq, ok := w.Parts[0].(*syntax.DblQuoted)
	if !ok || dq.Dollar {
		return "", false
	}
	var b strings.Builder
	for _, p := range dq.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.IndexByte(p.Value, '\\') >= 0 {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.ParamExp:
			if !p.Short || p.Index != nil || p.Param.Value == "@" || p.Param.Value == "*" {
				return "", false
			}
			v, ok := r.special(p.Param.Value)
			if !ok {
				vr := r.vars.lookup(p.Param.Value)
				if vr.has(aNameref) {
					return "", false
				}
				if v, ok = vr.scalar(); !ok && r.opts[optNounset] {
					return "", false
				}
			}
			b.WriteString(v)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// simpleParam expands an unquoted $name whose value needs no field
// splitting or pathname expansion — the loop's `[ $i -lt 100 ]` — without
// building fields; done is false for anything else (which the general
// expansion then does, errors included). An empty value is no field.
func (r *Runner) simpleParam(w *syntax.Word) (string, bool) {
	if len(w.Parts) != 1 {
		return "", false
	}
	pe, ok := w.Parts[0].(*syntax.ParamExp)
	if !ok || !pe.Short || pe.Index != nil {
		return "", false
	}
	name := pe.Param.Value
	if name == "@" || name == "*" {
		return "", false
	}
	s, ok := r.special(name)
	if !ok {
		v := r.vars.lookup(name)
		if v.has(aNameref) {
			return "", false
		}
		if s, ok = v.scalar(); !ok {
			return "", !r.opts[optNounset]
		}
	}
	ifs := r.ifs()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf && len(ifs.other) > 0 || c < utf8.RuneSelf && ifs.ascii[c] != 0 {
			return "", false
		}
		switch c {
		case '*', '?', '[', '(':
			return "", false
		}
	}
	return s, true
}

func (r *Runner) wordFields(out []string, w *syntax.Word) ([]string, error) {
	words := []*syntax.Word{w}
	if r.opts[optBraceexpand] && hasBraces(w) {
		cp := &syntax.Word{Parts: append([]syntax.WordPart(nil), w.Parts...)}
		if syntax.SplitBraces(cp) {
			words = words[:0]
			for bw, err := range expand.BracesSeq(nil, cp) {
				if err != nil {
					return nil, expandErrorf("%v", err)
				}
				words = append(words, bw)
				if err := r.sandboxWord(len(words)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, w := range words {
		e := wexp{r: r, mode: modeFields}
		if err := e.word(w); err != nil {
			return nil, err
		}
		fs := e.finish()
		fs = r.splitFields(fs)
		var err error
		if out, err = r.globFields(out, fs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hasBraces reports whether a word has an unquoted { that brace expansion
// could act on.
func hasBraces(w *syntax.Word) bool {
	for _, p := range w.Parts {
		if l, ok := p.(*syntax.Lit); ok && strings.Contains(l.Value, "{") {
			return true
		}
	}
	return false
}

// literal expands one word without field splitting or pathname expansion:
// an assignment's value, a redirection's file name, a case word.
func (r *Runner) literal(w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	if s, ok := simpleLit(w); ok {
		return s, nil
	}
	e := wexp{r: r, mode: modeLiteral}
	if err := e.word(w); err != nil {
		return "", err
	}
	return joinFields(e.finish(), false), nil
}

// assignValue expands an assignment's value: like literal, with tilde
// expansion after each unquoted ':' too (PATH=$PATH:~/bin).
func (r *Runner) assignValue(w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	if s, ok := simpleLit(w); ok && !strings.Contains(s, ":~") {
		return s, nil
	}
	e := wexp{r: r, mode: modeLiteral, assign: true}
	if err := e.word(w); err != nil {
		return "", err
	}
	return joinFields(e.finish(), false), nil
}

// patternWord expands a word that is a pattern (case, [[ == ]], ${x#…}):
// quoted characters are escaped so that they match themselves.
func (r *Runner) patternWord(w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	e := wexp{r: r, mode: modePattern}
	if err := e.word(w); err != nil {
		return "", err
	}
	return joinFields(e.finish(), true), nil
}

// joinFields makes one string of fields (several only from "$@"), joined
// by spaces; in pattern form quoted text is escaped.
func joinFields(fs []field, pattern bool) string {
	if len(fs) == 1 && len(fs[0]) == 1 && (!pattern || fs[0][0].k != sQuoted) {
		return fs[0][0].s
	}
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		for _, s := range f {
			if pattern && s.k == sQuoted {
				b.WriteString(quotePattern(s.s))
			} else {
				b.WriteString(s.s)
			}
		}
	}
	return b.String()
}

// quotePattern escapes the characters a pattern gives a meaning to.
func quotePattern(s string) string {
	if !strings.ContainsAny(s, `*?[]\!@+()|^-`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '!', '@', '+', '(', ')', '|', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// document expands a here-document body: parameters, command substitutions
// and arithmetic, with backslash escapes of $ ` \ and newline.
func (r *Runner) document(w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	e := wexp{r: r, mode: modeLiteral, quoted: true, doc: true}
	if err := e.word(w); err != nil {
		return "", err
	}
	return joinFields(e.finish(), false), nil
}

// word expands every part of a word into e.
func (e *wexp) word(w *syntax.Word) error {
	for i, p := range w.Parts {
		if i == 0 && !e.quoted && !e.inWord {
			if l, ok := p.(*syntax.Lit); ok && strings.HasPrefix(l.Value, "~") {
				if done, err := e.tilde(l.Value, len(w.Parts) == 1); done {
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
	return e.r.sandboxWord(e.size)
}

func (e *wexp) part(p syntax.WordPart) error {
	switch p := p.(type) {
	case *syntax.Lit:
		e.lit(p.Value)
	case *syntax.SglQuoted:
		if e.quoted && !p.Dollar {
			// Inside double quotes (in "${x:-'a'}") single quotes are
			// ordinary characters.
			e.add("'"+p.Value+"'", sQuoted)
			return nil
		}
		v := p.Value
		if p.Dollar {
			v = ansiC(v)
		}
		e.add(v, sQuoted)
	case *syntax.DblQuoted:
		return e.dblQuoted(p)
	case *syntax.ParamExp:
		return e.param(p)
	case *syntax.CmdSubst:
		out, err := e.r.cmdSubst(p)
		if err != nil {
			return err
		}
		e.addExp(out)
	case *syntax.ArithmExp:
		v, err := e.r.arithm(p.X)
		if err != nil {
			return err
		}
		e.addExp(formatInt(v))
	case *syntax.ProcSubst:
		path, err := e.r.procSubst(p)
		if err != nil {
			return err
		}
		e.add(path, sQuoted)
	case *syntax.ExtGlob:
		e.add(p.Op.String()+p.Pattern.Value+")", e.litKind())
	case *syntax.BraceExp:
		// Only reached when brace expansion is off: print it back.
		e.add(printNode(p), e.litKind())
	default:
		return expandErrorf("unsupported word part %T", p)
	}
	return nil
}

// addExp adds an expansion's result: quoted inside double quotes,
// otherwise split and globbed.
func (e *wexp) addExp(s string) {
	if e.quoted {
		e.add(s, sQuoted)
	} else {
		e.add(s, sExp)
	}
}

func (e *wexp) dblQuoted(p *syntax.DblQuoted) error {
	if len(p.Parts) == 1 {
		if pe, ok := p.Parts[0].(*syntax.ParamExp); ok && isAtExpansion(pe) {
			// "$@" with no parameters is no field at all, not an empty
			// one.
			old := e.quoted
			e.quoted = true
			err := e.param(pe)
			e.quoted = old
			return err
		}
	}
	old := e.quoted
	e.quoted = true
	e.add("", sQuoted)
	for _, q := range p.Parts {
		if err := e.part(q); err != nil {
			e.quoted = old
			return err
		}
	}
	e.quoted = old
	return nil
}

// isAtExpansion reports whether pe is $@ or ${a[@]} without an operator
// that makes it one string.
func isAtExpansion(pe *syntax.ParamExp) bool {
	if pe.Length || pe.Excl && pe.Names == 0 && pe.Index == nil {
		return false
	}
	if pe.Param != nil && pe.Param.Value == "@" && pe.Index == nil {
		return true
	}
	if pe.Excl && pe.Names == syntax.NamesPrefixWords {
		return true
	}
	return pe.Index != nil && isAtIndex(pe.Index)
}

func isAtIndex(x syntax.ArithmExpr) bool {
	w, ok := x.(*syntax.Word)
	if !ok {
		return false
	}
	s := w.Lit()
	return s == "@"
}

// lit adds literal text. Unquoted, a backslash quotes the next character;
// inside double quotes it does so only before $ ` " \ and newline (and in
// a here-document not before ").
func (e *wexp) lit(s string) {
	k := e.litKind()
	if e.assign && !e.quoted && strings.Contains(s, ":~") {
		e.litAssign(s)
		return
	}
	if !strings.Contains(s, `\`) {
		e.add(s, k)
		return
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			continue
		}
		c := s[i+1]
		if e.quoted {
			switch c {
			case '$', '`', '\\', '\n':
			case '"':
				if e.doc {
					continue
				}
			default:
				continue
			}
		}
		if i > start {
			e.add(s[start:i], k)
		}
		if c != '\n' {
			e.add(s[i+1:i+2], sQuoted)
		}
		i++
		start = i + 1
	}
	if start < len(s) {
		e.add(s[start:], k)
	}
}

// litAssign adds literal text of an assignment's value, expanding a tilde
// after each ':' (and so PATH=$PATH:~/bin works).
func (e *wexp) litAssign(s string) {
	e.assign = false
	defer func() { e.assign = true }()
	for {
		i := strings.Index(s, ":~")
		if i < 0 {
			e.lit(s)
			return
		}
		e.lit(s[:i+1])
		s = s[i+1:]
		end := strings.IndexAny(s, ":/")
		if end < 0 {
			end = len(s)
		}
		if home, ok := e.r.tildeDir(s[1:end]); ok {
			e.add(home, sQuoted)
			s = s[end:]
			continue
		}
		e.lit(s[:end])
		s = s[end:]
	}
}

// tilde expands a word's leading ~ or ~user when the prefix up to the
// first slash is all unquoted literal text. done is false when the
// literal is to be added as it is.
func (e *wexp) tilde(s string, whole bool) (done bool, err error) {
	end := strings.IndexByte(s, '/')
	if e.assign {
		if i := strings.IndexByte(s, ':'); i >= 0 && (end < 0 || i < end) {
			end = i
		}
	}
	if end < 0 {
		if !whole {
			return false, nil
		}
		end = len(s)
	}
	name := s[1:end]
	if strings.ContainsAny(name, `\'"`) {
		return false, nil
	}
	dir, ok := e.r.tildeDir(name)
	if !ok {
		return false, nil
	}
	e.add(dir, sQuoted)
	if end < len(s) {
		e.lit(s[end:])
	}
	return true, nil
}

// expandFailed reports an expansion error the way sh does — a
// non-interactive shell (or the subshell) ends, with status 1 — and
// returns that status.
func (r *Runner) expandFailed(err error) int {
	if r.static {
		if r.staticErr == nil {
			r.staticErr = err
		}
		return 2
	}
	// An expansion error ends a non-interactive shell with 1, as in mksh
	// and the oils spec tests (POSIX asks only for a non-zero status;
	// dash gives 2, bash 1 or 127).
	st := 1
	var ee *expandErr
	if errors.As(err, &ee) {
		st = ee.status
	}
	var ce *cmdSubstExit
	if errors.As(err, &ce) {
		return ce.status
	}
	var ro *readonlyErr
	if errors.As(err, &ro) {
		if ro.array {
			r.errorf("%v", err)
			return 1
		}
		st = 2 // dash's status for an assignment error
	}
	var re *redirError
	if errors.As(err, &re) {
		// A redirection that cannot be made fails its command only.
		r.errorf("%v", err)
		return 1
	}
	var ge *globError
	if errors.As(err, &ge) {
		// failglob: the rest of the line is not run (bash).
		r.errorf("%v", err)
		r.abortLine = true
		return 1
	}
	r.errorf("%v", err)
	if r.interactive && !r.subshell {
		r.abortLine = true
		return st
	}
	r.exit(st)
	return st
}

// cmdSubstExit is not an error to print: a command substitution ended
// the shell (a signal), and the expansion stops.
type cmdSubstExit struct{ status int }

func (c *cmdSubstExit) Error() string { return "command substitution ended the shell" }
