package validate

import (
	"fmt"

	"github.com/tubo-pipes/tubo/graph"
)

// remote checks what a process placed on another host can have: its
// host must exist, and only fds 0, 1 and 2 (an ssh session carries
// stdin, stdout and stderr), and no shell: line (that runs in tubo's own
// shell, which the host does not have).
func (c *checker) remote() {
	for _, n := range c.g.Nodes {
		if n.Kind != graph.Process || n.Host == "" {
			continue
		}
		if c.g.Host(n.Host) == nil {
			c.errs.Add(n.Pos, "%s: on: no host named %s", n.ID, n.Host)
			continue
		}
		if err := RemoteProcess(c.g, n); err != nil {
			c.errs.Errors = append(c.errs.Errors, err)
		}
	}
}

// RemoteProcess says what keeps process n from running on its host
// (n.Host), or nil; the planner asks it too.
func RemoteProcess(g *graph.Graph, n *graph.Node) *graph.Error {
	if n.Host == "" {
		return nil
	}
	if n.Shell != "" {
		return &graph.Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: a shell: stage runs in tubo's own shell, which host %s does not have; use run: [sh, -c, LINE] there", n.ID, n.Host)}
	}
	for _, e := range g.Edges {
		for _, side := range []graph.Endpoint{e.From, e.To} {
			if side.Node == n.ID && side.FD > 2 {
				return &graph.Error{Pos: e.Pos, Msg: fmt.Sprintf("%s: fd %d: a stage on host %s has only fds 0, 1 and 2 (an ssh session carries stdin, stdout and stderr); run it here, or send that stream through its stdin", n.ID, side.FD, n.Host)}
			}
		}
	}
	for _, r := range n.Redirs {
		if r.FD > 2 || r.Kind == graph.Dup && r.Src > 2 {
			return &graph.Error{Pos: r.Pos, Msg: fmt.Sprintf("%s: %s: a stage on host %s has only fds 0, 1 and 2", n.ID, r, n.Host)}
		}
	}
	return nil
}
