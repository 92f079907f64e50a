package validate

import "github.com/tubo-pipes/tubo/graph"

// maxParallel refuses a bound on the copies of a stage that is joined to
// others by live streams: a copy waiting for its turn would hold up the
// stream it reads or writes, and what feeds or drains it would wait
// forever (a tee blocks on the copy's full pipe, a merge waits for its
// input). Copies that read and write files can take turns.
func (c *checker) maxParallel() {
	done := map[string]bool{}
	for _, n := range c.g.Nodes {
		if n.Kind != graph.Process || n.MaxParallel == 0 || done[n.Name()] {
			continue
		}
		for _, e := range append(append([]*graph.Edge(nil), c.in[n.ID]...), c.out[n.ID]...) {
			if !c.isStream(e) {
				continue
			}
			other := c.endName(e.From)
			if e.From.Node == n.ID {
				other = c.endName(e.To)
			}
			c.errs.Add(n.Pos, "stage %s: max_parallel: its copies are joined to %s by a live stream, so all must run at once (one waiting for its turn would hold the stream up, and the run would hang); drop max_parallel, or go through files", n.Name(), other)
			done[n.Name()] = true
			break
		}
	}
}
