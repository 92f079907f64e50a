package pipeline

import (
	"math"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/split"
)

// MaxReplicas bounds replicas: so that a typo in --set cannot fork a
// million processes. A run of that many copies also needs about twice as
// many descriptors in tubo (RLIMIT_NOFILE); the executor says so when the
// machine does not allow it.
const MaxReplicas = 4096

// costExponents are the words split: cost takes, as the exponent k of a
// per-number cost x^k (split.Weighted).
var costExponents = map[string]float64{"even": 0, "sqrt": 0.5, "linear": 1}

// replicas reads replicas: and split: of a stage.
func (l *loader) replicas(d *stageDecl) bool {
	s := d.decl
	what := "stage " + d.name
	onlyArgs := &scope{onlyArgs: true}
	if s.Foreach != nil {
		items, ok := l.foreachItems(d)
		if !ok {
			return false
		}
		d.items, d.replicated, d.n = items, true, len(items)
		return true
	}
	if s.Replicas != nil {
		n, ok := l.expandInt(s.Replicas, onlyArgs, what+": replicas")
		if !ok {
			return false
		}
		if n < 1 || n > MaxReplicas {
			l.errs.add(s.Replicas.Node, "%s: replicas: %d is outside 1–%d", what, n, MaxReplicas)
			return false
		}
		d.replicated, d.n = true, int(n)
	}
	if s.Split == nil {
		return true
	}
	lo, ok1 := l.expandInt(s.Split.Lo, onlyArgs, what+": split: lo")
	if !ok1 {
		return false
	}
	hi, ok2 := l.expandInt(s.Split.Hi, onlyArgs, what+": split: hi")
	if !ok2 {
		return false
	}
	v := s.Split.Node
	if lo > hi {
		l.errs.add(v, "%s: split: lo %d is greater than hi %d", what, lo, hi)
		return false
	}
	k, ok := l.costExponent(s.Split.Cost, onlyArgs, what)
	if !ok {
		return false
	}
	if k > 0 && lo < 0 {
		l.errs.add(s.Split.Cost.Node, "%s: split: cost %s needs lo ≥ 0 (lo is %d); use cost: even for a range below zero", what, s.Split.Cost.Text, lo)
		return false
	}
	d.parts = split.Weighted(lo, hi, d.n, k)
	if len(d.parts) < d.n {
		l.errs.add(v, "%s: split: [%d, %d] holds %d numbers, fewer than the %d replicas; use at most %d replicas", what, lo, hi, len(d.parts), d.n, len(d.parts))
		return false
	}
	return true
}

// costExponent reads split: cost: a word of costExponents or a number
// from 0 to split.MaxExponent; nil is even (0).
func (l *loader) costExponent(c *ast.Scalar, sc *scope, what string) (float64, bool) {
	if c == nil {
		return 0, true
	}
	v, ok := l.expand(c.Node, c.Text, sc)
	if !ok {
		return 0, false
	}
	v = strings.TrimSpace(v)
	if k, ok := costExponents[v]; ok {
		return k, true
	}
	k, err := strconv.ParseFloat(v, 64)
	if err != nil || !(k >= 0 && k <= split.MaxExponent) {
		l.errs.add(c.Node, "%s: split: cost %s is not even, sqrt, linear or a number from 0 to %d (k in a cost of x^k per number x)", what, quote(v), split.MaxExponent)
		return 0, false
	}
	return k, true
}

// checkSplitWidths refuses split bounds that do not fit the 4-byte records
// of an int32 merge that the stage writes into.
func (l *loader) checkSplitWidths() {
	for _, d := range l.order {
		if d.parts == nil || len(d.nodes) == 0 {
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
				l.errs.add(d.decl.Split.Node, "stage %s: split: [%d, %d] does not fit the int32 records of merge %s (%d to %d)", d.name, lo, hi, to.ID, math.MinInt32, math.MaxInt32)
				break
			}
		}
	}
}
