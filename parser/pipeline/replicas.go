package pipeline

import (
	"math"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/split"
)

// MaxReplicas bounds replicas: so that a typo in --set cannot fork a
// million processes.
const MaxReplicas = 1024

// replicas reads replicas: and split: of a stage.
func (l *loader) replicas(d *stageDecl) bool {
	what := "stage " + d.name
	onlyArgs := &scope{onlyArgs: true}
	if v := d.f.get("replicas"); v != nil {
		s, ok := l.scalar(v, what+": replicas")
		if !ok {
			return false
		}
		n, ok := l.expandInt(v, s, onlyArgs, what+": replicas")
		if !ok {
			return false
		}
		if n < 1 || n > MaxReplicas {
			l.errs.add(v, "%s: replicas: %d is outside 1–%d", what, n, MaxReplicas)
			return false
		}
		d.replicated, d.n = true, int(n)
	}
	v := d.f.get("split")
	if v == nil {
		return true
	}
	d.splitNode = v
	f, ok := l.mapping(v, what+": split", []string{"lo", "hi"})
	if !ok {
		return false
	}
	var bounds [2]int64
	for i, k := range []string{"lo", "hi"} {
		b := f.get(k)
		if b == nil {
			l.errs.add(v, "%s: split: %s is required", what, k)
			return false
		}
		s, ok := l.scalar(b, what+": split: "+k)
		if !ok {
			return false
		}
		if bounds[i], ok = l.expandInt(b, s, onlyArgs, what+": split: "+k); !ok {
			return false
		}
	}
	lo, hi := bounds[0], bounds[1]
	if lo > hi {
		l.errs.add(v, "%s: split: lo %d is greater than hi %d", what, lo, hi)
		return false
	}
	d.parts = split.Range(lo, hi, d.n)
	if len(d.parts) < d.n {
		l.errs.add(v, "%s: split: [%d, %d] holds %d numbers, fewer than the %d replicas; use at most %d replicas", what, lo, hi, len(d.parts), d.n, len(d.parts))
		return false
	}
	return true
}

// checkSplitWidths refuses split bounds that do not fit the 4-byte records
// of an int32 merge that the stage writes into.
func (l *loader) checkSplitWidths() {
	for _, d := range l.order {
		if d.parts == nil {
			continue
		}
		lo, hi := d.parts[0][0], d.parts[len(d.parts)-1][1]
		if lo >= math.MinInt32 && hi <= math.MaxInt32 {
			continue
		}
		for _, e := range l.g.Edges {
			if n := l.g.Node(e.From.Node); n == nil || n.Group != d.name && n.ID != d.name {
				continue
			}
			if to := l.g.Node(e.To.Node); to != nil && to.Kind == graph.Merge && to.Merge.Record == graph.Int32 {
				l.errs.add(d.splitNode, "stage %s: split: [%d, %d] does not fit the int32 records of merge %s (%d to %d)", d.name, lo, hi, to.ID, math.MinInt32, math.MaxInt32)
				break
			}
		}
	}
}
