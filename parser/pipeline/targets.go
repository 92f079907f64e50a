package pipeline

import (
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// Targets: `tubo run FILE STAGE…` runs those stages and everything they
// need, nothing else, as make builds a target and its prerequisites. A
// stage needs what feeds it (its stream and file inputs, through tees,
// merges and FIFOs, back to the stages that write them) and what it runs
// after. A needed stage's outputs into nodes that are not needed go to
// /dev/null (a file it writes is kept: it is part of its job).

// prune keeps the targets (stage names or replica IDs) and what they
// need, and drops the rest of the graph.
func (l *loader) prune(targets []string) {
	g := l.g
	need := map[string]bool{}
	var queue []string
	for _, t := range targets {
		ids := l.targetIDs(t)
		for _, id := range ids {
			if !need[id] {
				need[id] = true
				queue = append(queue, id)
			}
		}
	}
	if len(need) == 0 {
		return
	}
	in := map[string][]*graph.Edge{}
	for _, e := range g.Edges {
		in[e.To.Node] = append(in[e.To.Node], e)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		var deps []string
		for _, e := range in[id] {
			deps = append(deps, e.From.Node)
		}
		if n := g.Node(id); n != nil {
			deps = append(deps, n.After...)
		}
		for _, d := range deps {
			if !need[d] {
				need[d] = true
				queue = append(queue, d)
			}
		}
	}
	// Files that needed stages write are kept with them.
	for _, e := range g.Edges {
		if to := g.Node(e.To.Node); to != nil && to.Kind == graph.File && need[e.From.Node] {
			need[to.ID] = true
		}
	}
	drop := map[string]bool{}
	for _, n := range g.Nodes {
		if !need[n.ID] {
			drop[n.ID] = true
		}
	}
	for id := range g.Drop(drop) {
		l.incomplete[id] = true
	}
}

// targetIDs resolves a target to node IDs: a stage's name (all its
// copies) or one copy, name[i].
func (l *loader) targetIDs(t string) []string {
	pos := graph.Pos{File: "target " + quote(t)}
	name := t
	if i := strings.IndexByte(t, '['); i >= 0 {
		name = t[:i]
	}
	d := l.stages[name]
	if d == nil {
		var names []string
		for _, s := range l.order {
			names = append(names, s.name)
		}
		what := "no stage named " + quote(name)
		if kind := l.names[name]; kind != "" {
			what = name + " is a " + kind + ", not a stage"
		}
		l.errs.addPos(pos, "%s%s", what, didYouMean(name, names))
		return nil
	}
	if name == t {
		var ids []string
		for _, n := range d.nodes {
			ids = append(ids, n.ID)
		}
		return ids
	}
	for _, n := range d.nodes {
		if n.ID == t {
			return []string{n.ID}
		}
	}
	l.errs.addPos(pos, "stage %s has no copy %s (it has %d)", name, t, len(d.nodes))
	return nil
}
