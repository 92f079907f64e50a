package executor

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// reclaimTerminal makes tubo's process group the foreground group of tty
// again. tcsetpgrp from a background group raises SIGTTOU unless the caller
// blocks it; tubo must not ignore it process-wide (ignored dispositions
// survive exec), so it blocks it on one locked thread for the one call.
func reclaimTerminal(tty *os.File) { giveTerminal(tty, unix.Getpgrp()) }

// giveTerminal makes pgid the foreground group of tty (see
// reclaimTerminal for SIGTTOU).
func giveTerminal(tty *os.File, pgid int) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, old unix.Sigset_t
		sigaddset(&set, unix.SIGTTOU)
		unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old)
		unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCSPGRP, pgid)
		unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	}()
	<-done
}

// GiveTerminal makes pgid the foreground process group of tty, from
// wherever tubo's own group is (a shell's fg); ReclaimTerminal gives it
// back to tubo's group (the shell's prompt after a job stopped).
func GiveTerminal(tty *os.File, pgid int) { giveTerminal(tty, pgid) }

// ReclaimTerminal: see GiveTerminal.
func ReclaimTerminal(tty *os.File) { reclaimTerminal(tty) }

func sigaddset(set *unix.Sigset_t, sig unix.Signal) {
	n := uint(sig) - 1
	set.Val[n/64] |= 1 << (n % 64)
}
