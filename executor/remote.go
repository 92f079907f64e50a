package executor

import (
	"os"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// Remote is the executor's view of stages that run on other hosts (see
// package remote). Their local process is an ssh client, started, waited
// on and reaped like any child; only signals and the reading of their
// end differ.
type Remote interface {
	// Signal delivers sig to the remote side of p (its program's whole
	// process group there) and reports whether it did. When it did, the
	// local ssh client is left alone so that it can carry back how the
	// remote program ended; false makes the executor signal the ssh
	// client instead.
	Signal(p *plan.Proc, sig syscall.Signal) bool
	// Ended fills res.Remote once p's ssh client has been waited for, and
	// may refine res: the remote program's signal, a lost connection.
	// The failure policy then sees the refined result.
	Ended(p *plan.Proc, res *ProcResult)
}

// RemoteResult is what a remote stage's host said about it.
type RemoteResult struct {
	Host string
	// Known is false when the host said nothing about the stage (the
	// connection was lost, or tubo's SIGKILL ended its wrapper too); the
	// fields below are then zero.
	Known bool
	// Status is the program's status as the remote sh reported it; as in
	// sh, 128+N also means that signal N ended it.
	Status Status
	// Wall is the program's run time measured on the host, to within
	// WallStep (10ms from /proc/uptime, 1s where only date(1) can tell).
	Wall, WallStep time.Duration
	// User and System are the CPU times of the program and its children,
	// from the remote sh's times builtin (to its clock tick).
	User, System time.Duration
	// Lost is set when the connection to the host was lost while the
	// stage ran.
	Lost bool
}

// Spawn starts a process the way the executor starts stages: from a
// locked OS thread that never exits, so that its Pdeathsig holds for as
// long as tubo lives. Package remote starts its ssh master connections
// with it.
func Spawn(path string, argv []string, attr *os.ProcAttr) (p *os.Process, err error) {
	if err := prepare(); err != nil {
		return nil, err
	}
	onSpawners(1, func() { p, err = os.StartProcess(path, argv, attr) })
	return p, err
}

// WatchGroup tells the guardian that a process group of tubo's exists
// (add) or is gone: if tubo dies, the guardian kills the groups still
// listed.
func WatchGroup(pgid int, add bool) { guard.watch(pgid, add) }

// WatchPath tells the guardian that tubo made path and must remove it
// (add), or that it has: if tubo dies, the guardian removes what is
// still listed.
func WatchPath(path string, add bool) { guard.watchPath(path, add) }

// signalRemote asks Options.Remote to deliver sig to every remote stage
// that is still running, and returns the local process groups (their ssh
// clients) that it covered. SIGKILL is delivered on both sides: the
// remote group cannot outlive it, and the local client must not wait on
// a host that no longer answers. Called with r.mu held.
func (r *run) signalRemote(sig syscall.Signal) map[int]bool {
	if r.opt.Remote == nil || !r.p.OwnGroups {
		return nil
	}
	covered := map[int]bool{}
	for i, pr := range r.p.Procs {
		res := r.res.Procs[i]
		if pr.Host == "" || res.Pid == 0 || !res.End.IsZero() || sig == syscall.SIGKILL && r.spared[res.Pid] {
			continue
		}
		if r.opt.Remote.Signal(pr, sig) {
			r.trace("signal", pr.Node.ID, res.Pid, "%s to its process group on %s", unixSignalName(sig), pr.Host)
			if sig != syscall.SIGKILL {
				covered[res.Pid] = true
			}
		}
	}
	return covered
}

// signalOne signals one stage: through Options.Remote for a remote stage
// (and locally too for SIGKILL), else its local process.
func (r *run) signalOne(i int, c *child, sig syscall.Signal) {
	pr := r.p.Procs[i]
	if r.opt.Remote != nil && pr.Host != "" && r.opt.Remote.Signal(pr, sig) && sig != syscall.SIGKILL {
		return
	}
	c.signal(sig)
}

// remoteEnd is what the host of Plan.Procs[i] says about its end, asked
// for once its ssh client has exited and before the result is recorded
// (it may take a round trip to the host, so r.mu is not held).
type remoteEnd struct {
	rr *RemoteResult
}

func (r *run) remoteEnd(i int, ex exit, err error) remoteEnd {
	pr := r.p.Procs[i]
	if r.opt.Remote == nil || pr.Host == "" || err != nil {
		return remoteEnd{}
	}
	status := Status(ex.status)
	if ex.signal != 0 {
		status = StatusFailure // as os.ProcessState.ExitCode's -1 was read
	}
	res := &ProcResult{Node: pr.Node, Status: status}
	r.opt.Remote.Ended(pr, res)
	return remoteEnd{res.Remote}
}

// apply records the host's word in res, with r.mu held: the program's
// own status, 128+N read as signal N as sh reads it (so that a remote
// SIGPIPE counts as one), and a lost connection as the stage's error.
func (e remoteEnd) apply(res *ProcResult) {
	rr := e.rr
	if rr == nil {
		return
	}
	res.Remote = rr
	switch {
	case rr.Lost:
		res.Err = &remoteLost{rr.Host}
		if res.Status == 0 {
			res.Status = StatusFailure
		}
	case rr.Known && res.Signal == 0:
		res.Status = rr.Status
		if n := int(rr.Status) - int(StatusSignalBase); n > 0 && n < 65 {
			res.Signal = syscall.Signal(n)
		}
	}
}

type remoteLost struct{ host string }

func (e *remoteLost) Error() string { return e.host + ": connection lost" }

func unixSignalName(sig syscall.Signal) string { return unix.SignalName(sig) }
