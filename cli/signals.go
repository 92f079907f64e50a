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
// tubo catches these signals and never ignores them: an ignored signal
// stays ignored across exec, and children would inherit that.
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
		caught:  make(chan os.Signal, 4),
		forward: make(chan os.Signal, 4),
	}
	signal.Notify(s.caught, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go s.loop()
	return s
}

func (s *signals) loop() {
	for sig := range s.caught {
		ss, _ := sig.(syscall.Signal)
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
