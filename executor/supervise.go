package executor

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// supervise follows the run until it ends: signals (first those that came
// while it started, early), the cancel, the run's timeout.
func (r *run) supervise(ctx context.Context, early []os.Signal) {
	r.queued = early
	r.onQueued()
	var timeout <-chan time.Time
	if t := r.p.Graph.Timeout; t > 0 {
		timer := time.NewTimer(t)
		defer timer.Stop()
		timeout = timer.C
	}
	for {
		select {
		case <-r.stop:
			return
		case sig := <-r.opt.Signals:
			r.onSignal(sig)
			r.onQueued()
		case <-ctx.Done():
			// A signal tubo caught is forwarded before the cancel it
			// causes: take it now, so the run's status names it.
			select {
			case sig := <-r.opt.Signals:
				// Job control is no ending signal: timeout(1) sends
				// SIGCONT right after its SIGTERM, and the run was
				// "interrupted by SIGCONT".
				if s, ok := sig.(syscall.Signal); ok && !r.jobControl(s) {
					r.res.Signal = s
					r.signalAll(s)
				}
			default:
			}
			r.mu.Lock()
			r.canceled = true
			r.mu.Unlock()
			r.killAll("canceled")
			ctx = context.Background()
		case <-timeout:
			r.res.TimedOut = true
			r.errorf("run timed out after %s", r.p.Graph.Timeout)
			r.killAll("run timeout")
			timeout = nil
		}
	}
}

// onQueued acts on the signals taken from Options.Signals ahead of their
// turn (early, tstpQueued), in order.
func (r *run) onQueued() {
	for len(r.queued) > 0 {
		sig := r.queued[0]
		r.queued = r.queued[1:]
		r.onSignal(sig)
	}
}

// onSignal acts on a signal tubo caught: job control, or forwarded to
// every group.
func (r *run) onSignal(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok || r.jobControl(s) {
		return
	}
	r.res.Signal = s
	r.signalAll(s)
}

// signalAll forwards a signal to every live process group.
func (r *run) signalAll(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	remote := r.signalRemote(sig)
	for pgid := range r.groups {
		if remote[pgid] {
			continue
		}
		if sig == syscall.SIGKILL && r.spared[pgid] {
			continue // a cleanup stage started after the end began
		}
		signalGroup(pgid, sig)
		r.trace("signal", "", pgid, "kill(-%d, %s)", pgid, unix.SignalName(sig))
	}
}

// killAll ends the run: SIGTERM to every group, then SIGCONT, so that a
// stopped stage (SIGTTIN, SIGTSTP, SIGSTOP) runs to take the SIGTERM
// instead of waiting for the SIGKILL after the grace period, as a shell's
// kill does for a stopped job; SIGKILL after the grace period to whatever
// is left. Processes not yet started never start.
func (r *run) killAll(why string) {
	r.mu.Lock()
	r.killing = true
	for _, pr := range r.res.Procs {
		if pr.Pid != 0 && pr.End.IsZero() {
			pr.Killed = true
		}
	}
	r.mu.Unlock()
	r.trace("signal", "", 0, "ending the run: %s", why)
	r.signalAll(syscall.SIGTERM)
	r.signalAll(syscall.SIGCONT)
	time.AfterFunc(r.opt.Grace, func() { r.signalAll(syscall.SIGKILL) })
	// A stage whose FIFO tubo is still opening for it (its other side
	// never opened) has no process to signal: tubo's own open(2) blocks,
	// and the run would wait forever after its timeout or a Ctrl-C.
	// Unblock such opens until every process is finished; the stage is
	// then skipped, since the run is ending.
	go r.unblockFIFOs()
}

// unblockFIFOs opens each FIFO the plan opens for a stage with O_RDWR
// (which never blocks on Linux and counts as a reader and a writer), and
// closes it at once, so a pending open(2) in start returns; it repeats
// until the run is over, for a stage that opens several FIFOs in turn.
func (r *run) unblockFIFOs() {
	for {
		for _, pf := range r.p.Files {
			path := pf.Path
			if !filepath.IsAbs(path) && r.opt.Dir != "" {
				path = filepath.Join(r.opt.Dir, path)
			}
			if st, err := os.Stat(path); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				continue
			}
			if fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
		select {
		case <-r.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// timeout ends a stage that ran past its limit.
func (r *run) timeout(i int, c *child) {
	r.mu.Lock()
	res := r.res.Procs[i]
	if !res.End.IsZero() {
		r.mu.Unlock()
		return
	}
	res.TimedOut, res.Killed = true, true
	r.mu.Unlock()
	r.errorf("%s: timed out after %s", res.Node.ID, res.Node.Timeout)
	r.trace("signal", res.Node.ID, c.pid, "timeout: SIGTERM")
	r.signalOne(i, c, syscall.SIGTERM)
	time.AfterFunc(r.opt.Grace, func() {
		r.mu.Lock()
		ended := !res.End.IsZero()
		r.mu.Unlock()
		if !ended {
			r.trace("signal", res.Node.ID, c.pid, "grace over: SIGKILL")
			r.signalOne(i, c, syscall.SIGKILL)
		}
	})
}

// takeTerminal makes tubo's own process group the terminal's foreground
// group again after a run that was given the terminal.
func (r *run) takeTerminal() {
	if r.opt.TTY == nil || r.p.OwnGroups {
		return
	}
	reclaimTerminal(r.opt.TTY)
}
