package pipeline

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// Placeholders are {{name}} inside a value. Each is replaced by text, never
// parsed by a shell: an argv element stays exactly one element whatever the
// value holds (spaces, quotes, ;, $(…), newlines). {{{{ is a literal {{.
//
// Names: a param; replica, replicas; part.lo, part.hi (stages with split);
// fifo.NAME, file.NAME (the node's path); fds.NAME (a stage's named fd);
// pipeline.dir, pipeline.file, pipeline.name. A list param as a whole argv
// element written {{name...}} becomes one element per item; anywhere else
// a list is its items joined with commas.
//
// Substituted values are never expanded again, so expansion has no depth;
// its size is bounded instead: MaxExpansion bytes for the whole file,
// however many replicas repeat a value.

// MaxExpansion bounds the text that placeholder substitution produces in
// one load, over every value of every replica, so that a small file whose
// placeholders multiply (a long param used many times in 1024 replicas)
// is refused with a position instead of costing gigabytes.
const MaxExpansion = 16 << 20

// scope says which placeholders a value may use.
type scope struct {
	stage    *stageDecl // nil outside a stage
	replica  int
	replicas int // 0: not inside a stage
	part     *[2]int64
	item     *item // this copy's foreach item, or nil
	shell    bool  // values are shell-quoted (a stage's shell: line)
	onlyArgs bool  // only params and pipeline.* (replicas, split, paths)
}

// token is a piece of a template: literal text or a placeholder.
type token struct {
	lit    string
	name   string // "" for literal text
	spread bool   // {{name...}}
	off    int    // byte offset of the placeholder in the source string
}

// tokens splits s into literal text and placeholders.
func (l *loader) tokens(n *yaml.Node, s string) ([]token, bool) {
	var out []token
	var lit strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		i += j
		if strings.HasPrefix(s[i:], "{{{{") {
			lit.WriteString("{{")
			i += 4
			continue
		}
		end := strings.Index(s[i+2:], "}}")
		if end < 0 {
			l.errs.addPos(l.errs.posAt(n, i), "unclosed {{ (write {{{{ for a literal {{)")
			return nil, false
		}
		inner := strings.TrimSpace(s[i+2 : i+2+end])
		t := token{off: i}
		if name, ok := strings.CutSuffix(inner, "..."); ok {
			t.spread, inner = true, strings.TrimSpace(name)
		}
		if inner == "" {
			l.errs.addPos(l.errs.posAt(n, i), "empty placeholder {{}}")
			return nil, false
		}
		t.name = inner
		if lit.Len() > 0 {
			out = append(out, token{lit: lit.String()})
			lit.Reset()
		}
		out = append(out, t)
		i += 2 + end + 2
	}
	if lit.Len() > 0 || len(out) == 0 {
		out = append(out, token{lit: lit.String()})
	}
	return out, true
}

// quiet is the message of a lookup that fails without a word: the name
// is declared but broken, and its own problem is reported already.
const quiet = "\x00"

// lookup resolves one placeholder to its values (one, or several for a
// list), or returns an error message.
func (l *loader) lookup(name string, sc *scope) ([]string, bool, string) {
	if p := l.param[name]; p != nil {
		if l.broken[name] {
			return nil, false, quiet
		}
		if p.decl.Type == ast.ListParam {
			return p.val.List, true, ""
		}
		return []string{p.text()}, false, ""
	}
	ns, sub, dotted := strings.Cut(name, ".")
	inStage := sc != nil && sc.replicas > 0 && !sc.onlyArgs
	switch {
	case ns == "item":
		var it *item
		if inStage {
			it = sc.item
		}
		v, msg := lookupItem(name, it)
		if msg != "" {
			return nil, false, msg
		}
		return []string{v}, false, ""
	case name == "replica" || name == "replicas":
		if !inStage {
			return nil, false, "{{" + name + "}} is only known inside a stage's run, shell, env and cwd"
		}
		if name == "replica" {
			return []string{strconv.Itoa(sc.replica)}, false, ""
		}
		return []string{strconv.Itoa(sc.replicas)}, false, ""
	case ns == "part" && dotted && (sub == "lo" || sub == "hi"):
		if !inStage || sc.part == nil {
			return nil, false, "{{" + name + "}} is only known in a stage with split:"
		}
		v := sc.part[0]
		if sub == "hi" {
			v = sc.part[1]
		}
		return []string{strconv.FormatInt(v, 10)}, false, ""
	case ns == "pipeline" && dotted:
		switch sub {
		case "dir":
			return []string{l.dir}, false, ""
		case "file":
			return []string{l.path}, false, ""
		case "name":
			return []string{l.g.Name}, false, ""
		}
		return nil, false, "unknown placeholder {{" + name + "}}" + didYouMean(sub, []string{"dir", "file", "name"})
	case ns == "fifo" && dotted:
		if f := l.fifos[sub]; f != nil {
			return []string{f.path}, false, ""
		}
		if l.broken[sub] {
			return nil, false, quiet
		}
		return nil, false, "{{" + name + "}}: no fifo named " + quote(sub) + didYouMean(sub, keys(l.fifos))
	case ns == "file" && dotted:
		if f := l.files[sub]; f != nil {
			f.named = true
			return []string{f.path}, false, ""
		}
		if l.broken[sub] {
			return nil, false, quiet
		}
		return nil, false, "{{" + name + "}}: no file named " + quote(sub) + didYouMean(sub, keys(l.files))
	case ns == "fds" && dotted:
		if !inStage || sc.stage == nil {
			return nil, false, "{{" + name + "}} is only known inside a stage"
		}
		if fd, ok := sc.stage.fdByName[sub]; ok {
			return []string{strconv.Itoa(fd)}, false, ""
		}
		return nil, false, "{{" + name + "}}: stage " + sc.stage.name + " has no fd named " + quote(sub) + didYouMean(sub, keys(sc.stage.fdByName))
	}
	cands := append([]string(nil), l.paramOrder...)
	if inStage {
		cands = append(cands, "replica", "replicas")
	}
	return nil, false, "unknown placeholder {{" + name + "}}" + didYouMean(name, cands)
}

// fail reports a lookup's message at a placeholder (unless it is quiet).
func (l *loader) fail(n *yaml.Node, off int, msg string) {
	if msg != quiet {
		l.errs.addPos(l.errs.posAt(n, off), "%s", msg)
	}
}

// spend counts k bytes of expanded text against MaxExpansion, and reports
// the placeholder that goes past it (once).
func (l *loader) spend(n *yaml.Node, off, k int) bool {
	if l.expanded > MaxExpansion {
		return false
	}
	l.expanded += k
	if l.expanded > MaxExpansion {
		l.errs.addPos(l.errs.posAt(n, off), "placeholders expand to more than %d MiB in this file (with every replica); a pipeline file is limited to that much expanded text", MaxExpansion>>20)
		return false
	}
	return true
}

// expand substitutes every placeholder of s and returns one string.
func (l *loader) expand(n *yaml.Node, s string, sc *scope) (string, bool) {
	toks, ok := l.tokens(n, s)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, t := range toks {
		if t.name == "" {
			if !l.spend(n, t.off, len(t.lit)) {
				return "", false
			}
			b.WriteString(t.lit)
			continue
		}
		vals, isList, msg := l.lookup(t.name, sc)
		if msg != "" {
			l.fail(n, t.off, msg)
			return "", false
		}
		if t.spread && !isList {
			l.errs.addPos(l.errs.posAt(n, t.off), "{{%s...}}: %s is not a list", t.name, t.name)
			return "", false
		}
		if sc != nil && sc.shell {
			// Every value becomes one shell word, whatever it holds.
			if !t.spread {
				vals = []string{strings.Join(vals, ",")}
			}
			for i, v := range vals {
				q, err := syntax.Quote(v, syntax.LangBash)
				if err != nil {
					l.errs.addPos(l.errs.posAt(n, t.off), "{{%s}}: cannot quote value for the shell: %v", t.name, err)
					return "", false
				}
				if !l.spend(n, t.off, len(q)+1) {
					return "", false
				}
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(q)
			}
			continue
		}
		if t.spread {
			l.errs.addPos(l.errs.posAt(n, t.off), "{{%s...}} must be a whole argv element", t.name)
			return "", false
		}
		for i, v := range vals {
			if !l.spend(n, t.off, len(v)+1) {
				return "", false
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// expandArg expands one argv element: {{list...}} alone gives one element
// per item (possibly none); anything else gives exactly one element.
func (l *loader) expandArg(n *yaml.Node, s string, sc *scope) ([]string, bool) {
	toks, ok := l.tokens(n, s)
	if !ok {
		return nil, false
	}
	if len(toks) == 1 && toks[0].spread {
		vals, isList, msg := l.lookup(toks[0].name, sc)
		if msg != "" {
			l.fail(n, toks[0].off, msg)
			return nil, false
		}
		if !isList {
			l.errs.addPos(l.errs.posAt(n, toks[0].off), "{{%s...}}: %s is not a list", toks[0].name, toks[0].name)
			return nil, false
		}
		for _, v := range vals {
			// An argv element costs its bytes and a pointer.
			if !l.spend(n, toks[0].off, len(v)+16) {
				return nil, false
			}
		}
		return append([]string(nil), vals...), true
	}
	v, ok := l.expand(n, s, sc)
	if !ok {
		return nil, false
	}
	return []string{v}, true
}

// expandInt expands s and reads it as a decimal integer.
func (l *loader) expandInt(s *ast.Scalar, sc *scope, what string) (int64, bool) {
	v, ok := l.expand(s.Node, s.Text, sc)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			l.errs.add(s.Node, "%s: %s is outside the 64-bit integer range", what, v)
		} else {
			l.errs.add(s.Node, "%s: %s is not an integer", what, quote(v))
		}
		return 0, false
	}
	return x, true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
