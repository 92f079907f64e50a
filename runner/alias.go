package runner

import (
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Aliases are expanded in the text of a line before it runs, as sh does
// when it reads the line: the first word of each simple command, when it
// is an unquoted alias name, is replaced by the alias's value and the
// line parsed again. A value ending in a blank makes the next word a
// candidate too. An alias is not expanded again inside its own expansion.

type aliasRegion struct {
	start, end int
	names      []string
}

func (a aliasRegion) has(name string) bool {
	for _, n := range a.names {
		if n == name {
			return true
		}
	}
	return false
}

type aliasEdit struct {
	start, end int
	name, val  string
}

// expandAliases rewrites the statements of one line (text, which starts at
// position at) with the current aliases. ok is false when nothing
// changed or the result does not parse.
func (r *Runner) expandAliases(stmts []*syntax.Stmt, text string, at syntax.Pos) ([]*syntax.Stmt, bool) {
	prefix := strings.Repeat("\n", int(at.Line())-1) + strings.Repeat(" ", max(int(at.Col())-1, 0))
	cur := prefix + text
	var regions []aliasRegion
	changed := false
	list := stmts
	for round := 0; round < 100; round++ {
		if round > 0 || true {
			f, err := newParser().Parse(strings.NewReader(cur), r.name)
			if err != nil {
				if changed {
					// Report the error where sh would: when the line runs.
					r.reportSyntax(err)
					return nil, true
				}
				return nil, false
			}
			list = f.Stmts
		}
		edits := r.aliasEdits(list, cur, regions)
		if len(edits) == 0 {
			break
		}
		changed = true
		sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
		for _, e := range edits {
			cur = cur[:e.start] + e.val + cur[e.end:]
			delta := len(e.val) - (e.end - e.start)
			var outer []string
			for i := range regions {
				rg := &regions[i]
				switch {
				case rg.start <= e.start && e.end <= rg.end:
					outer = append(outer, rg.names...)
					rg.end += delta
				case rg.start >= e.end:
					rg.start += delta
					rg.end += delta
				}
			}
			regions = append(regions, aliasRegion{start: e.start, end: e.start + len(e.val), names: append(outer, e.name)})
		}
	}
	if !changed {
		return nil, false
	}
	return list, true
}

// aliasEdits finds the command words of stmts that are aliases.
func (r *Runner) aliasEdits(stmts []*syntax.Stmt, text string, regions []aliasRegion) []aliasEdit {
	var edits []aliasEdit
	seen := map[int]bool{}
	try := func(w *syntax.Word) (aliasEdit, bool) {
		if w == nil || len(w.Parts) != 1 {
			return aliasEdit{}, false
		}
		l, ok := w.Parts[0].(*syntax.Lit)
		if !ok {
			return aliasEdit{}, false
		}
		val, ok := r.aliases[l.Value]
		if !ok {
			return aliasEdit{}, false
		}
		start, end := int(w.Pos().Offset()), int(w.End().Offset())
		if end > len(text) || text[start:end] != l.Value || seen[start] {
			return aliasEdit{}, false
		}
		for i := len(regions) - 1; i >= 0; i-- {
			rg := regions[i]
			if rg.start <= start && start < rg.end && rg.has(l.Value) {
				return aliasEdit{}, false
			}
		}
		seen[start] = true
		return aliasEdit{start: start, end: end, name: l.Value, val: val}, true
	}
	for _, s := range stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			ce, ok := n.(*syntax.CallExpr)
			if !ok || len(ce.Args) == 0 {
				return true
			}
			for i := 0; i < len(ce.Args); i++ {
				e, ok := try(ce.Args[i])
				if !ok {
					break
				}
				edits = append(edits, e)
				if !strings.HasSuffix(e.val, " ") && !strings.HasSuffix(e.val, "\t") {
					break
				}
			}
			return true
		})
	}
	return edits
}
