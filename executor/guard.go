package executor

import (
	"encoding/hex"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// No stage survives tubo, however tubo ends. Three mechanisms cover it:
//
//  1. Every stage is started with Pdeathsig = SIGKILL (see spawn.go), so
//     the processes tubo forked die when tubo does, even of SIGKILL.
//  2. Pdeathsig does not reach a stage's own children. For those, tubo
//     has one guardian per tubo process: a child forked from tubo without
//     exec (guard_child.go), in a process group of its own, reading from
//     a pipe whose only writer is tubo. It costs a fork and no Go runtime
//     start, and it is running before the first stage is forked. tubo
//     writes "+PGID" on the spawner thread right after the fork that made
//     a new process group, and "-PGID" once the group is swept (before
//     its last member is reaped, so the ID cannot have been reused). EOF
//     on the pipe means tubo is gone, by whatever path; the guardian then
//     ends every group still listed (guardEnd). tubo also lists the paths
//     it must remove ("r" + hex of the path, "R" once removed): the
//     private FIFO directory (listed before it is made) and the FIFOs it
//     made elsewhere, which the guardian removes last.
//  3. The group sweep (reap.go): when the last process tubo started in a
//     group has exited, what is left in the group is killed.

// GuardArg is the first argument that makes tubo run the guardian's loop
// on its stdin, in a process of its own: the protocol's test
// (reliability/guard_test.go) plays tubo's side of the pipe with it.
const GuardArg = "__tubo_guard"

// Guarded turns the guardian on; without it, Pdeathsig still covers
// direct children. cli sets it before the first run (the executor's own
// tests run without one).
var Guarded bool

type guardian struct {
	once    sync.Once
	started chan struct{} // closed once the start has been tried

	mu  sync.Mutex
	w   int // write end of the pipe; -1 when there is no guardian
	err error
}

var guard = guardian{started: make(chan struct{}), w: -1}

// StartGuardian starts the guardian in the background, so that its fork
// overlaps with what tubo does before its first stage (parsing,
// planning). The first run waits for it; calling this is optional.
func StartGuardian() {
	guard.once.Do(func() { go guard.start() })
}

// ready waits until the guardian has been started (or has failed to
// start): after it returns, a stage may be forked.
func (g *guardian) ready() {
	g.once.Do(g.start)
	<-g.started
}

func (g *guardian) start() {
	defer close(g.started)
	if !Guarded {
		return
	}
	m, mapping, err := newGuardMem()
	if err != nil {
		g.err = err
		return
	}
	// tubo's copy of the mapping is not needed once the child has its own.
	defer unix.Munmap(mapping)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		g.err = err
		return
	}
	listMappings(m)
	findArgv(m)
	// The signal mask forkGuardian sets is per thread: fork on the
	// thread that set it. No Pdeathsig: the guardian must outlive tubo.
	runtime.LockOSThread()
	_, errno := forkGuardian(m, fds[0])
	runtime.UnlockOSThread()
	unix.Close(fds[0])
	if errno != 0 {
		unix.Close(fds[1])
		g.err = errno
		return
	}
	// It never exits before tubo; init (or tubo's subreaper) reaps it
	// once tubo is gone.
	g.w = fds[1]
}

// send writes one line to the guardian. It is a single write(2) of a few
// bytes: atomic on a pipe, and cheap enough for the spawner thread.
func (g *guardian) send(line string) {
	g.ready() // the first thing to tell it starts it
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w < 0 {
		return
	}
	b := []byte(line)
	for len(b) > 0 {
		n, err := unix.Write(g.w, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// The guardian is gone: there is nothing more to tell it.
			unix.Close(g.w)
			g.w = -1
			return
		}
		b = b[n:]
	}
}

// watch tells the guardian that a process group exists (add) or is gone.
func (g *guardian) watch(pgid int, add bool) {
	op := "-"
	if add {
		op = "+"
	}
	g.send(op + strconv.Itoa(pgid) + "\n")
}

// watchPath tells the guardian that tubo is about to make path (add) and
// that the guardian must remove it, or that tubo has removed it.
func (g *guardian) watchPath(path string, add bool) {
	op := "R"
	if add {
		op = "r"
	}
	g.send(op + hex.EncodeToString([]byte(path)) + "\n")
}

// GuardMain runs the guardian's loop on stdin until EOF, as the forked
// guardian runs it on its pipe, then ends what is listed and exits.
func GuardMain() int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	m, _, err := newGuardMem()
	if err != nil {
		return 1
	}
	guardRun(m, 0)
	return 0
}
