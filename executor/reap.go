package executor

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reapExited reaps one child that has exited. The reaper (reaper.go)
// waits for the exit without reaping (a pidfd becomes readable when its
// process exits; waitid's WNOWAIT without one), so that /proc/PID/io can
// still be read and the child, as a zombie, still pins its process group's
// ID; the group is swept then, if this was the last process tubo started
// in it, and only then is the child reaped (waitid through its pidfd,
// which also gives the rusage).
//
// While the first stages of a run that share one group are still
// starting, the group's leader is not reaped: its zombie keeps the group's
// ID for the stages that have yet to join. It is reaped once they all
// started, off the reaper; every other stage is reaped as it exits, so
// that a long line is not left with all its reaping to do at its end.
func (r *run) reapExited(i int, c *child, timer *time.Timer) {
	if !r.p.OwnGroups && c.pid == c.pgid {
		select {
		case <-r.started:
		default:
			go func() {
				<-r.started
				r.reapExited(i, c, timer)
			}()
			return
		}
	}
	if timer != nil {
		timer.Stop()
	}
	var io ProcIO
	if !r.opt.SkipProcIO {
		io = readProcIO(c.pid)
	}
	r.mu.Lock()
	if r.groups[c.pgid]--; r.groups[c.pgid] <= 0 {
		// Every process tubo started in this group has exited. Whatever is
		// left in it was left behind by a stage (`cmd &`) and could hold a
		// pipe open forever: it does not outlive the stage. This zombie
		// keeps the group's ID from being reused until it is reaped.
		signalGroup(c.pgid, syscall.SIGKILL)
		delete(r.groups, c.pgid)
		guard.watch(c.pgid, false)
	}
	r.mu.Unlock()
	ex, err := c.reap()
	end := time.Now()
	r.mu.Lock()
	tail := r.tails[i]
	delete(r.tails, i)
	r.mu.Unlock()
	if tail == nil && r.p.Procs[i].Host == "" {
		r.ended(i, c, ex, err, end, io, "")
		return
	}
	// The rest may wait (for the stderr copier to drain, for a round trip
	// to a remote host): not on the reaper, which serves every child.
	go func() {
		var tailText string
		if tail != nil {
			tailText = tail.text(time.Second)
		}
		r.ended(i, c, ex, err, end, io, tailText)
	}()
}

// ended records how a reaped child ended and goes on with the run.
func (r *run) ended(i int, c *child, ex exit, err error, end time.Time, io ProcIO, tailText string) {
	defer r.wg.Done()
	res := r.res.Procs[i]
	remote := r.remoteEnd(i, ex, err)
	r.mu.Lock()
	res.End = end
	res.IO = io
	res.StderrTail = tailText
	switch {
	case err != nil:
		res.Err, res.Status = err, StatusFailure
	case ex.signal != 0:
		res.Usage = ex.usage
		res.Signal = ex.signal
		res.Status = SignalStatus(ex.signal)
	default:
		res.Usage = ex.usage
		res.Status = Status(ex.status)
	}
	remote.apply(res)
	r.mu.Unlock()
	if r.opt.Trace != nil {
		r.emit(Event{Time: end, Kind: "exit", Node: res.Node.ID, Pid: c.pid, Pgid: c.pgid, Detail: describe(res)})
	}
	r.finish(i)
}

// describe says how a process ended, e.g. "exit 0" or "killed by SIGPIPE".
func describe(res *ProcResult) string {
	if rr := res.Remote; rr != nil && rr.Lost {
		return rr.Host + ": connection lost"
	}
	how := fmt.Sprintf("exit %d", res.Status)
	if res.Signal != 0 {
		how = fmt.Sprintf("killed by %s (status %d)", unix.SignalName(res.Signal), res.Status)
	}
	if res.TimedOut {
		how = "timed out, " + how
	}
	return how
}

func readProcIO(pid int) ProcIO {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return ProcIO{}
	}
	var io ProcIO
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			io.Rchar = n
		case "wchar":
			io.Wchar = n
		case "read_bytes":
			io.ReadBytes = n
		case "write_bytes":
			io.WriteBytes = n
		}
	}
	io.Valid = true
	return io
}
