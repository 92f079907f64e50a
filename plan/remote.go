package plan

import (
	"fmt"
	"strconv"

	"github.com/tubo-pipes/tubo/graph"
)

// remote makes pr the local ssh client of a process placed on another
// host. Its fds 0, 1 and 2 are the client's stdin, stdout and stderr, and
// so are wired like any local process's; descriptors from 3 up cannot
// cross (ssh carries three streams per session).
func (b *builder) remote(n *graph.Node, pr *Proc) error {
	if b.opt.Remote == nil {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: placed on host %s, but this run has no remote hosts", n.ID, n.Host)}
	}
	if n.Shell != "" {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: a shell: stage runs in tubo's own shell, which host %s does not have; use run: [sh, -c, LINE]", n.ID, n.Host)}
	}
	if err := CheckRemoteFDs(b.p.Graph, n); err != nil {
		return err
	}
	pr.Token = "s" + strconv.Itoa(len(b.p.Procs))
	argv, err := b.opt.Remote.Command(n, pr.Token)
	if err != nil {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: %v", n.ID, err)}
	}
	pr.Argv, pr.Dir, pr.Env, pr.Host = argv, "", nil, n.Host
	return nil
}

// CheckRemoteFDs refuses descriptors above 2 on a process placed on
// another host: an ssh session carries stdin, stdout and stderr, and
// nothing else. The error names the edge or redirection and says why.
func CheckRemoteFDs(g *graph.Graph, n *graph.Node) error {
	if n.Host == "" {
		return nil
	}
	for _, e := range g.Edges {
		for _, side := range []graph.Endpoint{e.From, e.To} {
			if side.Node == n.ID && side.FD > 2 {
				return &Error{Pos: e.Pos, Msg: fmt.Sprintf("%s: fd %d: a stage on host %s has only fds 0, 1 and 2 (an ssh session carries stdin, stdout and stderr); run it here, or pass the stream through stdin", n.ID, side.FD, n.Host)}
			}
		}
	}
	for _, r := range n.Redirs {
		if r.FD > 2 || r.Kind == graph.Dup && r.Src > 2 {
			return &Error{Pos: r.Pos, Msg: fmt.Sprintf("%s: %s: a stage on host %s has only fds 0, 1 and 2", n.ID, r, n.Host)}
		}
	}
	return nil
}
