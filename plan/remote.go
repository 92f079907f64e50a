package plan

import (
	"fmt"
	"strconv"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/validate"
)

// remote makes pr the local ssh client of a process placed on another
// host. Its fds 0, 1 and 2 are the client's stdin, stdout and stderr, and
// so are wired like any local process's; descriptors from 3 up cannot
// cross (ssh carries three streams per session).
func (b *builder) remote(n *graph.Node, pr *Proc) error {
	if b.opt.Remote == nil {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: placed on host %s, but this run has no remote hosts", n.ID, n.Host)}
	}
	if err := validate.RemoteProcess(b.p.Graph, n); err != nil {
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

// AsWritten is the Remote of a plan that is drawn, never run (tubo graph,
// the HTML report's and the live view's picture): a remote process keeps
// its own argv, and its fds 0–2 are wired as its ssh client's would be.
// Nothing connects, and no ssh command is made.
var AsWritten Remote = asWritten{}

type asWritten struct{}

func (asWritten) Command(n *graph.Node, _ string) ([]string, error) { return n.Argv, nil }
