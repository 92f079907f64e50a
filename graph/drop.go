package graph

import "os"

// Drop removes the nodes in drop, every edge that touches them and every
// wait for them (After), which is over before it begins. A
// process that stays but loses an output edge writes that descriptor to
// /dev/null instead (as into a pipe nobody reads, but without blocking),
// since without an edge its output would go to tubo's own. It returns the
// nodes that stay and lost an edge, whose inputs and outputs no longer
// add up to what the file declared.
func (g *Graph) Drop(drop map[string]bool) map[string]bool {
	short := map[string]bool{}
	var nodes []*Node
	for _, n := range g.Nodes {
		if !drop[n.ID] {
			nodes = append(nodes, n)
		}
	}
	byID := map[string]*Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	for _, n := range nodes {
		var after []string
		for _, d := range n.After {
			if !drop[d] {
				after = append(after, d)
			}
		}
		if len(after) != len(n.After) {
			n.After = after
		}
	}
	var edges []*Edge
	for _, e := range g.Edges {
		from, to := byID[e.From.Node], byID[e.To.Node]
		switch {
		case from != nil && to != nil:
			edges = append(edges, e)
		case from != nil:
			if from.Kind == Process {
				from.Redirs = append(from.Redirs, Redir{Kind: Open, FD: e.From.FD, Path: os.DevNull, Flag: os.O_WRONLY, Pos: e.Pos})
			}
			short[from.ID] = true
		case to != nil:
			short[to.ID] = true
		}
	}
	g.Nodes, g.Edges = nodes, edges
	return short
}
