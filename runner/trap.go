package runner

import (
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
)

// Pseudo-signals that trap knows besides the real ones.
const (
	sigExit   = 0
	sigErr    = 1000
	sigDebug  = 1001
	sigReturn = 1002
)

// traps is a shell's trap table and its view of the process's signals.
type traps struct {
	// actions maps a signal to its action; "" means ignore.
	actions map[int]string
	// parent holds the traps of the shell a subshell came from, which
	// `trap` lists until the subshell sets one of its own (as bash and
	// dash do for $(trap)).
	parent map[int]string
	// forward is where caught signals go that are passed on to the
	// running foreground stages.
	forward chan os.Signal
}

func newTraps() *traps {
	return &traps{actions: map[int]string{}, parent: map[int]string{}, forward: make(chan os.Signal, 16)}
}

// clone is the trap table of a virtual subshell: traps are reset, except
// ignored ones (POSIX 2.12), and listed from the parent.
func (t *traps) clone() *traps {
	c := &traps{actions: map[int]string{}, parent: map[int]string{}, forward: t.forward}
	for k, v := range t.actions {
		c.parent[k] = v
		if v == "" && k != sigExit && k < sigErr {
			c.actions[k] = ""
		}
	}
	return c
}

// resetForSubshell is the same for a child stage, which got its parent's
// table in parent.
func (t *traps) resetForSubshell() {
	for k, v := range t.parent {
		if v == "" && k != sigExit && k < sigErr {
			t.actions[k] = ""
		}
	}
}

// hub is the process's one receiver of caught signals: it forwards them
// to the shell runner that owns the process.
type hub struct {
	mu      sync.Mutex
	r       *Runner
	ch      chan os.Signal
	caught  map[syscall.Signal]bool
	ignored map[syscall.Signal]bool // ignored when tubo started: they stay so
	pending [65]atomic.Bool
	any     atomic.Bool
	fatal   atomic.Int32 // an untrapped fatal signal that ends the shell
	wake    chan struct{}
	busy    atomic.Bool  // the shell waits in a builtin that a signal must interrupt
	handled atomic.Int64 // signals the loop has seen
	// disp is what the owning shell does with each signal, readable from
	// the hub's goroutine: dispDefault, dispTrap or dispIgnore.
	disp [65]atomic.Int32
	// foreground counts the foreground pipelines the shell waits for: a
	// job-control signal goes to their run (the executor stops and
	// resumes its stages and tubo); with none, ^Z stops the shell alone.
	foreground atomic.Int32
}

const (
	dispDefault = iota
	dispTrap
	dispIgnore
)

var theHub struct {
	once sync.Once
	h    *hub
}

func processHub() *hub {
	theHub.once.Do(func() {
		h := &hub{ch: make(chan os.Signal, 16), caught: map[syscall.Signal]bool{}, ignored: map[syscall.Signal]bool{}, wake: make(chan struct{}, 1)}
		for _, s := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTSTP} {
			if signal.Ignored(s) {
				h.ignored[s] = true
			}
		}
		go h.loop()
		theHub.h = h
	})
	return theHub.h
}

// defaultFatal are the signals tubo catches for a shell with no trap for
// them: they are passed to the running stages and end the shell.
var defaultFatal = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// catch makes r the owner of the process's signals.
func (t *traps) catch(r *Runner) {
	h := processHub()
	h.mu.Lock()
	h.r = r
	h.mu.Unlock()
	for _, s := range defaultFatal {
		h.notify(s)
	}
	if !r.cfg.Interactive {
		// Job control for a shell run from a job-control shell (the
		// prompt is that shell itself and never stops): ^Z, fg and bg.
		// SIGCHLD tells of stages stopped by a ^Z that reached their
		// group, not tubo's: only when a pipeline gets the terminal.
		h.notify(syscall.SIGTSTP)
		h.notify(syscall.SIGCONT)
		if r.cfg.TTY != nil {
			h.notify(syscall.SIGCHLD)
		}
	}
	for sig, act := range t.actions {
		if sig > 0 && sig < 65 {
			r.applyTrap(sig, act)
		}
	}
}

func (h *hub) notify(s syscall.Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ignored[s] || h.caught[s] {
		return
	}
	if signal.Ignored(s) && s != syscall.SIGINT && s != syscall.SIGTERM && s != syscall.SIGHUP && s != syscall.SIGQUIT {
		// A signal ignored by an earlier `trap ''` is caught again.
	}
	h.caught[s] = true
	signal.Notify(h.ch, s)
}

func (h *hub) loop() {
	for sig := range h.ch {
		s, ok := sig.(syscall.Signal)
		if !ok {
			continue
		}
		h.mu.Lock()
		r := h.r
		h.mu.Unlock()
		if r == nil {
			h.handled.Add(1)
			continue
		}
		h.handle(r, s, sig)
		h.handled.Add(1)
	}
}

// handle acts on one caught signal for the shell r.
func (h *hub) handle(r *Runner, s syscall.Signal, sig os.Signal) {
	{
		d := int32(dispDefault)
		if int(s) < len(h.disp) {
			d = h.disp[s].Load()
		}
		switch {
		case d == dispDefault && (s == syscall.SIGTSTP || s == syscall.SIGCONT || s == syscall.SIGCHLD):
			h.jobControl(r, s, sig)
			return
		}
		switch d {
		case dispIgnore:
			// Ignored (only reached between Notify and Ignore).
		case dispTrap:
			h.pending[s].Store(true)
			h.any.Store(true)
			select {
			case h.wake <- struct{}{}:
			default:
			}
		default:
			// No trap: pass it on to the stages and end the shell, as sh
			// dies of it.
			h.fatal.CompareAndSwap(0, int32(s))
			select {
			case r.traps.forward <- sig:
			default:
			}
			select {
			case h.wake <- struct{}{}:
			default:
			}
			if h.busy.Load() {
				// The shell is blocked in a builtin (read): it cannot see
				// the signal, so end here, as sh would die.
				go func() {
					time.Sleep(50 * time.Millisecond)
					if h.busy.Load() {
						r.jobs.endAll()
						os.Exit(int(executor.SignalStatus(s)))
					}
				}()
			}
		}
	}
}

// jobControl passes ^Z (SIGTSTP), SIGCONT and SIGCHLD to the foreground
// run, whose executor stops its stages and then tubo, and resumes them
// (executor/jobcontrol.go). With no run in the foreground, ^Z stops the
// shell as it stops any program; SIGCHLD and SIGCONT then need nothing.
func (h *hub) jobControl(r *Runner, s syscall.Signal, sig os.Signal) {
	if h.foreground.Load() > 0 {
		if s == syscall.SIGCHLD && len(r.traps.forward) >= cap(r.traps.forward)/2 {
			// One SIGCHLD waiting is as good as many (the executor asks
			// the kernel what stopped); room stays for ^Z and the signals
			// that end a run.
			return
		}
		select {
		case r.traps.forward <- sig:
		default:
		}
		return
	}
	if s == syscall.SIGTSTP {
		executor.StopSelf()
	}
}

// selfSignal sends a signal to the shell's own process and waits until
// the hub has seen it, so that its trap runs before the next command, as
// a signal a process sends itself is delivered before kill returns.
func selfSignal(sig syscall.Signal) error {
	h := theHub.h
	if h == nil {
		return syscall.Kill(os.Getpid(), sig)
	}
	h.mu.Lock()
	caught := h.caught[sig]
	h.mu.Unlock()
	before := h.handled.Load()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		return err
	}
	if !caught {
		return nil
	}
	for i := 0; i < 1000 && h.handled.Load() == before; i++ {
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// applyTrap sets the process's disposition for a signal's trap action.
func (r *Runner) applyTrap(sig int, act string) {
	if r.virtual || sig <= 0 || sig >= 65 {
		return
	}
	s := syscall.Signal(sig)
	h := processHub()
	if h.ignored[s] {
		return
	}
	if act == "" {
		h.disp[s].Store(dispIgnore)
	} else {
		h.disp[s].Store(dispTrap)
	}
	switch {
	case act == "":
		signal.Ignore(s)
		h.mu.Lock()
		delete(h.caught, s)
		h.mu.Unlock()
	default:
		h.mu.Lock()
		delete(h.caught, s)
		h.mu.Unlock()
		h.notify(s)
	}
}

// resetTrap gives a signal its default disposition again (trap - SIG).
func (r *Runner) resetTrap(sig int) {
	if r.virtual || sig <= 0 || sig >= 65 {
		return
	}
	s := syscall.Signal(sig)
	h := processHub()
	if h.ignored[s] {
		return
	}
	h.disp[s].Store(dispDefault)
	for _, d := range defaultFatal {
		if d == s && r.cfg.CatchSignals {
			// Still caught: forwarded to stages, then the shell ends.
			h.mu.Lock()
			delete(h.caught, s)
			h.mu.Unlock()
			h.notify(s)
			return
		}
	}
	signal.Reset(s)
	h.mu.Lock()
	delete(h.caught, s)
	h.mu.Unlock()
}

// runPendingTraps runs the actions of the trapped signals that arrived,
// and ends the shell for an untrapped fatal one. Called between commands.
func (r *Runner) runPendingTraps() {
	if r.virtual || !r.cfg.CatchSignals {
		return
	}
	h := theHub.h
	if h == nil {
		return
	}
	if s := h.fatal.Load(); s != 0 && !r.exiting {
		r.dieOf(syscall.Signal(s))
		return
	}
	if !h.any.Load() || r.inTrap {
		return
	}
	h.any.Store(false)
	for s := 1; s < 65; s++ {
		if h.pending[s].Swap(false) {
			r.runTrap(s)
			if r.exiting {
				return
			}
		}
	}
}

// dieOf ends the shell for an untrapped signal: the EXIT trap runs (as in
// bash), the jobs are ended, and the status is 128+N.
func (r *Runner) dieOf(s syscall.Signal) {
	r.exit(int(executor.SignalStatus(s)))
}

// runTrap runs the action of a trap. $? is kept across it.
func (r *Runner) runTrap(sig int) {
	act, ok := r.traps.actions[sig]
	if !ok || act == "" {
		return
	}
	f, err := r.parseSource("trap", act)
	if err != nil {
		r.errorf("trap: %v", err)
		return
	}
	st := r.status
	old := r.inTrap
	r.inTrap = true
	oldLine := r.lineno
	r.runFile(f, act)
	r.inTrap = old
	r.lineno = oldLine
	if !r.exiting {
		r.status = st
	}
	r.returning = false
}

// runExitTrap runs the EXIT trap once, at the end of the shell.
func (r *Runner) runExitTrap() {
	act, ok := r.traps.actions[sigExit]
	if !ok {
		return
	}
	delete(r.traps.actions, sigExit)
	if act == "" {
		return
	}
	wasExiting, st := r.exiting, r.exitStatus
	if !r.exiting {
		st = r.status
	}
	r.exiting = false
	r.breakN, r.contN, r.returning = 0, 0, false
	r.status = st
	f, err := r.parseSource("trap", act)
	if err != nil {
		r.errorf("trap: %v", err)
		return
	}
	r.inTrap = true
	r.runFile(f, act)
	r.inTrap = false
	if !r.exiting {
		// The status is the one the shell was ending with.
		r.exiting = wasExiting
		r.exitStatus = st
		r.status = st
	}
}

// runErrTrap runs the ERR trap after a command failed.
func (r *Runner) runErrTrap() {
	if r.inTrap || r.funcDepth > 0 && !r.opts[optErrtrace] {
		return
	}
	if _, ok := r.traps.actions[sigErr]; ok {
		r.runTrap(sigErr)
	}
}

// signalNames are the signals tubo knows by name, as kill -l lists them;
// made on first use (trap, kill -l, a status's signal name).
var signalNames = sync.OnceValue(func() map[int]string {
	m := map[int]string{}
	for i := 1; i < 65; i++ {
		if n := unix.SignalName(syscall.Signal(i)); n != "" {
			m[i] = strings.TrimPrefix(n, "SIG")
		}
	}
	for i := 34; i < 65; i++ {
		if _, ok := m[i]; !ok {
			switch {
			case i == 34:
				m[i] = "RTMIN"
			case i < 50:
				m[i] = "RTMIN+" + strconv.Itoa(i-34)
			case i == 64:
				m[i] = "RTMAX"
			default:
				m[i] = "RTMAX-" + strconv.Itoa(64-i)
			}
		}
	}
	return m
})

// parseSignal reads a signal as trap and kill take it: a number, or a
// name with or without SIG, in any case; EXIT, ERR, DEBUG, RETURN for
// trap.
func parseSignal(s string, pseudo bool) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n == 0 && pseudo {
			return 0, true
		}
		if n > 0 && n < 65 {
			return n, true
		}
		return 0, false
	}
	u := strings.ToUpper(s)
	u = strings.TrimPrefix(u, "SIG")
	if pseudo {
		switch u {
		case "EXIT":
			return sigExit, true
		case "ERR":
			return sigErr, true
		case "DEBUG":
			return sigDebug, true
		case "RETURN":
			return sigReturn, true
		}
	}
	for n, name := range signalNames() {
		if name == u {
			return n, true
		}
	}
	switch u {
	case "CLD":
		return int(syscall.SIGCHLD), true
	case "POLL":
		return int(syscall.SIGIO), true
	case "IOT":
		return int(syscall.SIGABRT), true
	}
	return 0, false
}

func sigName(n int) string {
	switch n {
	case sigExit:
		return "EXIT"
	case sigErr:
		return "ERR"
	case sigDebug:
		return "DEBUG"
	case sigReturn:
		return "RETURN"
	}
	if s, ok := signalNames()[n]; ok {
		return s
	}
	return strconv.Itoa(n)
}
