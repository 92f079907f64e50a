package validate

import "github.com/tubo-pipes/tubo/graph"

// retries refuses retries on a stage joined to others by live streams. A
// failed run cannot be run again on bytes it already read (they are
// gone), and whatever it wrote into a pipe has already reached its
// reader, which would get the failed run's output followed by the next.
// Files can be read again and are truncated for each attempt.
func (c *checker) retries() {
nodes:
	for _, n := range c.g.Nodes {
		if n.Kind != graph.Process || n.Retries == 0 {
			continue
		}
		fed := false
		for _, e := range c.in[n.ID] {
			if e.To.FD == graph.Stdin {
				fed = true
			}
			if c.isStream(e) {
				c.errs.Add(n.Pos, "stage %s: retries: it reads a live stream from %s, and a failed run cannot read those bytes again; read a file instead, or drop retries", n.ID, c.endName(e.From))
				continue nodes
			}
		}
		for _, e := range c.out[n.ID] {
			if c.isStream(e) {
				c.errs.Add(n.Pos, "stage %s: retries: it writes a live stream into %s, which would get a failed run's output too; write a file and read it in a stage that runs after this one", n.ID, c.endName(e.To))
				continue nodes
			}
		}
		if !fed && !n.StdinNull {
			c.errs.Add(n.Pos, "stage %s: retries: it reads tubo's own stdin, a live stream that a failed run cannot read again; read a file instead", n.ID)
		}
	}
}
