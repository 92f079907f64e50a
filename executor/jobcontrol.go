package executor

import (
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Job control: ^Z from a job-control shell stops the run and tubo, and
// fg or bg resumes them, as for any program the shell runs.
//
//   - When tubo itself gets SIGTSTP (its group has the terminal, as for a
//     YAML run whose stages each have a group of their own), the stages'
//     groups are sent SIGSTOP, then tubo stops itself (Options.Suspend).
//   - When a shell line's group has the terminal, ^Z reaches the stages,
//     not tubo: tubo learns it from SIGCHLD (a child of its stopped) and
//     stops itself too, or the shell would wait for it for ever.
//
// Once tubo is continued (SIGCONT from fg or bg), it gives the terminal
// back to the line's group if tubo's own group has it again (fg; after
// bg it has not), and sends SIGCONT to every group of the run.

// jobControl handles SIGTSTP, SIGCONT and SIGCHLD from Options.Signals and
// reports whether sig was one of them.
func (r *run) jobControl(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGTSTP:
		// The ^Z may also have stopped a stage between fork and exec,
		// which holds up its spawner: continue it, so that it is in the
		// run's groups when they are stopped.
		continueForks(20 * time.Millisecond)
		r.stopPending.Store(false) // this is that ^Z
		r.signalAll(syscall.SIGSTOP)
		r.suspend()
	case syscall.SIGCHLD:
		continued := continueForks(0)
		pending := r.stopPending.Swap(false) // both, whatever the first says
		preExec := continued || pending
		if preExec && !r.tstpQueued() {
			// The ^Z reached only a stage that was not exec'd yet (it
			// had the terminal): stop the whole run for it. (When it
			// reached tubo's group, with that stage still in it, tubo's
			// own SIGTSTP is right behind: the runtime hands signals on
			// in the order of their numbers, SIGCHLD first. That one
			// stops the run, once.)
			r.signalAll(syscall.SIGSTOP)
			r.suspend()
		} else if !preExec && r.stagesStopped() {
			r.suspend()
		}
	case syscall.SIGCONT:
		// Continued by someone else than the shell's fg/bg (kill -CONT):
		// the stages go on too.
		r.signalAll(syscall.SIGCONT)
	default:
		return false
	}
	return true
}

// tstpQueued takes every signal already waiting in Options.Signals into
// r.queued (supervise acts on them next) and reports whether a SIGTSTP is
// among them.
func (r *run) tstpQueued() bool {
	found := slices.Contains(r.queued, os.Signal(syscall.SIGTSTP))
	for {
		select {
		case sig := <-r.opt.Signals:
			r.queued = append(r.queued, sig)
			found = found || sig == syscall.SIGTSTP
		default:
			return found
		}
	}
}

// stagesStopped reports whether a process of the run's shared group has
// stopped (^Z, or SIGTTIN/SIGTTOU) since last asked; the stop is consumed.
// One waitid for the whole group, whatever its size.
func (r *run) stagesStopped() bool {
	r.mu.Lock()
	pgid, tty := r.pgid, r.opt.TTY != nil
	r.mu.Unlock()
	if pgid == 0 || !tty || r.p.OwnGroups {
		return false
	}
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PGID, pgid, &info, unix.WSTOPPED|unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		return err == nil && info.Signo != 0
	}
}

// suspend stops tubo (its stages are stopped), and once continued,
// resumes the run.
func (r *run) suspend() {
	r.trace("signal", "", 0, "stopped (^Z): tubo stops too")
	fg := true
	if r.opt.Suspend != nil {
		fg = r.opt.Suspend()
	} else {
		StopSelf()
	}
	// Continued.
	r.mu.Lock()
	pgid := r.pgid
	r.mu.Unlock()
	if tty := r.opt.TTY; fg && tty != nil && !r.p.OwnGroups && pgid != 0 && foreground(tty) {
		// fg: the shell gave tubo the terminal; the line had it.
		giveTerminal(tty, pgid)
	}
	r.trace("signal", "", 0, "continued: SIGCONT to the stages")
	r.signalAll(syscall.SIGCONT)
}

// foreground reports whether tubo's process group owns the terminal.
func foreground(tty *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// StopSelf stops tubo as ^Z stops a program, and returns once tubo is
// continued (fg, bg): with SIGTSTP's default action, so that the shell
// says "Stopped" as for any program. SIGTSTP's handler is set to SIG_DFL
// for the moment (rt_sigaction: the Go runtime keeps its own handler even
// after signal.Reset, and would just drop the signal), the signal is sent
// to this very thread (tgkill), which therefore stops before it runs
// another instruction, and the handler is put back once continued.
func StopSelf() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Whatever the architecture's struct sigaction, all zeros is SIG_DFL
	// with no flags and an empty mask; the old one is put back as read.
	var dfl, old [8]uint64
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(syscall.SIGTSTP),
		uintptr(unsafe.Pointer(&dfl)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	if e != 0 {
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		return
	}
	unix.Tgkill(os.Getpid(), unix.Gettid(), syscall.SIGTSTP)
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(syscall.SIGTSTP),
		uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
}
