package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
)

// signals catches SIGINT, SIGTERM and SIGHUP for the length of a run. Each
// one is forwarded to the running stages' process groups (through the
// executor), and ends the run: tubo then exits 128+N, as sh does.
//
// tubo never ignores a signal itself: an ignored signal stays ignored
// across exec, and children would inherit that. But a signal that was
// ignored when tubo started (nohup tubo …; a background job of a
// non-interactive sh, for SIGINT) stays ignored, for tubo and its stages,
// as POSIX asks of a non-interactive shell: catching it would undo that
// (signal.Notify installs a handler, and the child then gets the default
// action back).
type signals struct {
	ctx     context.Context
	cancel  context.CancelFunc
	caught  chan os.Signal
	forward chan os.Signal

	mu   sync.Mutex
	last syscall.Signal
	// stalled is set when the watchdog ended the run (--on-stall fail).
	stalled bool
}

func catchSignals() *signals {
	ctx, cancel := context.WithCancel(context.Background())
	s := &signals{
		ctx: ctx, cancel: cancel,
		caught:  make(chan os.Signal, 8),
		forward: make(chan os.Signal, 8),
	}
	notifyUnlessIgnored(s.caught, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go s.loop()
	return s
}

// jobControl makes ^Z work for a tubo run from a job-control shell: on
// SIGTSTP (and, for a line that has the terminal, when its stages stopped,
// which SIGCHLD tells) the executor stops the stages and then tubo itself
// (executor.Options.Suspend), so the shell gets its prompt back; `fg` or `bg`
// (SIGCONT) resumes them. Not for tubo's own prompt, which is the
// job-control shell.
// SIGCHLD is asked for only when a line will have the terminal (tty).
func (s *signals) jobControl(tty bool) {
	notifyUnlessIgnored(s.caught, syscall.SIGTSTP)
	signal.Notify(s.caught, syscall.SIGCONT)
	if tty {
		signal.Notify(s.caught, syscall.SIGCHLD)
	}
}

func (s *signals) loop() {
	for sig := range s.caught {
		ss, _ := sig.(syscall.Signal)
		if ss == syscall.SIGTSTP || ss == syscall.SIGCONT || ss == syscall.SIGCHLD {
			// Job control: for the executor alone; it ends nothing.
			select {
			case s.forward <- sig:
			default:
			}
			continue
		}
		s.mu.Lock()
		s.last = ss
		s.mu.Unlock()
		// Forward first, so the stages see the signal itself; the cancel
		// then stops the runner from starting anything more and makes the
		// executor end what ignores it (SIGTERM, then SIGKILL).
		select {
		case s.forward <- sig:
		default:
		}
		s.cancel()
	}
}

func (s *signals) stop() {
	if s == nil {
		return
	}
	signal.Stop(s.caught)
	s.cancel()
}

// override replaces the run's result with 128+N when a signal ended it.
func (s *signals) override(err error) error {
	if s == nil {
		return err
	}
	s.mu.Lock()
	sig, stalled := s.last, s.stalled
	s.mu.Unlock()
	if stalled {
		return &executor.ExitError{Status: StatusStalled}
	}
	if sig == 0 {
		return err
	}
	return &executor.ExitError{Status: executor.SignalStatus(sig)}
}

// endStalled ends the run because it stalled (--on-stall fail): the
// stages are ended as on a cancel, and tubo exits StatusStalled.
func (s *signals) endStalled() {
	s.mu.Lock()
	s.stalled = true
	s.mu.Unlock()
	s.cancel()
}

// isForeground reports whether tubo's process group owns the terminal.
func isForeground(tty *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// notifyUnlessIgnored is signal.Notify for the signals among sigs that
// were not ignored when tubo started (see signals).
func notifyUnlessIgnored(c chan<- os.Signal, sigs ...os.Signal) {
	var catch []os.Signal
	for _, sig := range sigs {
		if !signal.Ignored(sig) {
			catch = append(catch, sig)
		}
	}
	if len(catch) > 0 {
		signal.Notify(c, catch...)
	}
}
