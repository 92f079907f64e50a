package executor

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Children are started with Pdeathsig so that they die with tubo even when
// tubo is SIGKILLed. The kernel sends that signal when the thread that
// forked the child exits, not the process (go.dev/issue/27505), so every
// fork happens on one of a few OS threads that are locked and never
// released: the spawners. There are several so that starts can overlap:
// each fork waits until its child has exec'd (CLONE_VFORK). A start runs
// on a spawner from its lookup to the registration of its process group,
// so a stage costs no hand-off between threads; a run hands the spawners
// its whole list of stages at once.

// spawners is how many starts may be in flight at once. Go's fork holds
// syscall.ForkLock only until the child's execve has replaced its memory;
// the spawner then still waits for the exec's status (its status pipe
// closing) and does the stage's bookkeeping. With three, one forks while
// another waits for its status and a third prepares the next stage: on
// the 2-CPU machine, 1000 stages went from 344 to 270 ms (min of 6
// alternating runs; 368 to 335 median) with the same CPU as two.
var spawners = max(3, runtime.GOMAXPROCS(0))

var spawnJobs chan func()

// spawnMu guards spawnStarted, the spawner threads started so far.
var (
	spawnMu      sync.Mutex
	spawnStarted int
)

// prepare readies the spawners, once, before tubo's first fork; see
// threads.go for what it checks first. Where processes and threads are
// few enough to run out (ulimit -u), every spawner thread is made now,
// before any fork; elsewhere they are made as runs need them, so that a
// one-stage line makes one (a thread costs its clone and first schedule,
// tens of µs on a VM).
var prepare = sync.OnceValue(func() error {
	if err := threadsFit(); err != nil {
		return err
	}
	spawnJobs = make(chan func())
	if nprocLimit() != 0 {
		needSpawners(spawners)
	}
	warmThreads()
	return nil
})

// needSpawners makes sure that n spawner threads (at most spawners) exist.
func needSpawners(n int) {
	spawnMu.Lock()
	defer spawnMu.Unlock()
	for ; spawnStarted < min(n, spawners); spawnStarted++ {
		go spawner()
	}
}

// spawner is one spawner thread's life: it lives as long as tubo.
func spawner() {
	runtime.LockOSThread()
	// Never unlocked: if this goroutine ended, the thread must not be
	// reused or exit while children that hold its Pdeathsig live.
	for fn := range spawnJobs {
		fn()
	}
}

// onSpawners runs fn on n spawner threads at once (n at most spawners) and
// waits until every call has returned. fn must not call onSpawners.
func onSpawners(n int, fn func()) {
	if prepare() != nil {
		// Start refuses to run when prepare fails; nothing gets here.
		panic("executor: spawners not started")
	}
	needSpawners(n)
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		spawnJobs <- func() {
			defer wg.Done()
			fn()
		}
	}
	wg.Wait()
}

// forkExec starts a process with fork + dup2 + exec (syscall.StartProcess,
// which dup2s each attr.Files[i] onto descriptor i) and returns its pid and
// the pidfd the kernel made at fork (-1 if it made none). It must run on a
// spawner thread.
//
// With hold, the child stops at the first instruction of its program and
// traced is true: the caller must tell the guardian about the child's new
// process group, then wait for the stop (waitHeld) and let it go
// (releaseHeld). Until then the child cannot fork, so no descendant can
// exist that the guardian does not know of, whenever tubo dies. (The stop
// is ptrace's: PTRACE_TRACEME in the child, which stops at the SIGTRAP that
// follows its execve; the spawner thread that forked it is its tracer.)
func forkExec(path string, argv []string, attr *syscall.ProcAttr, hold bool) (pid, pidfd int, traced bool, err error) {
	pidfd = -1
	attr.Sys.PidFD = &pidfd
	attr.Sys.Ptrace = hold
	pid, _, err = syscall.StartProcess(path, argv, attr)
	attr.Sys.Ptrace = false
	if err != nil {
		return 0, -1, false, err
	}
	return pid, pidfd, hold, nil
}

// waitHeld waits for a traced child to stop at the SIGTRAP of its execve
// and reports whether it did; a signal that reached it first is passed on
// (PTRACE_CONT). It returns false if the child exited first.
func waitHeld(pid, pidfd int) bool {
	for tries := 0; tries < 16; tries++ {
		var info unix.Siginfo
		var err error
		if pidfd >= 0 {
			err = unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT, nil)
		} else {
			err = unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT, nil)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		code, sig := siginfoChild(&info)
		if code != cldTrapped && code != cldStopped {
			return false // exited: the reaper takes it
		}
		if syscall.Signal(sig) == syscall.SIGTRAP {
			return true
		}
		// Another signal came first: deliver it and wait for the trap.
		if unix.PtraceCont(pid, int(sig)) != nil {
			return false
		}
	}
	// Still not at the trap: let it go rather than hold it forever.
	unix.PtraceDetach(pid)
	return false
}

// releaseHeld lets a held child run, dropping the SIGTRAP it stopped at.
// It must run on the spawner thread that forked the child (its tracer).
func releaseHeld(pid int) {
	unix.PtraceDetach(pid)
}

// holdOK is false once ptrace turned out to be forbidden here (a seccomp
// filter, Yama): stages then start without the hold.
var holdOK atomic.Bool

func init() { holdOK.Store(true) }

// canHold reports whether a child running path may be held: ptrace works,
// and the program gains no privileges at exec (set-user-ID, set-group-ID,
// file capabilities), which a traced exec would silently drop unless tubo
// is root.
func canHold(path string) bool {
	if !holdOK.Load() {
		return false
	}
	if os.Geteuid() == 0 {
		return true
	}
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil || st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 {
		return false
	}
	_, err := unix.Getxattr(path, "security.capability", nil)
	return err != nil // ENODATA (or no xattrs at all): no file capabilities
}

// inherited lists the descriptors above 2 that tubo was given without
// close-on-exec. They pass through to every child, as in sh (make's
// jobserver relies on it); every descriptor tubo opens itself is
// close-on-exec and reaches a child only through its fd table.
var inherited = scanInherited()

// inheritedFiles holds the one *os.File tubo makes for each inherited
// descriptor, kept for the life of the process: an *os.File that becomes
// garbage closes its descriptor in a finalizer, and every later child would
// then start without it (or fail with EBADF).
var inheritedFiles = func() map[int]*os.File {
	m := map[int]*os.File{}
	for fd := range inherited {
		m[fd] = os.NewFile(uintptr(fd), "inherited")
	}
	return m
}()

// scanInherited reads /proc/self/fd with bare open + getdents calls (it
// runs at every tubo start: os.ReadDir's sorted DirEntry list and *os.File
// cost more than the reading) and keeps the descriptors above 2 that are
// not close-on-exec.
func scanInherited() map[int]bool {
	fds := map[int]bool{}
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fds
	}
	defer unix.Close(dir)
	var buf [4096]byte
	var names []string
	for {
		n, err := unix.Getdents(dir, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names[:0])
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err != nil || fd <= 2 || fd == dir {
				continue
			}
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err == nil && flags&unix.FD_CLOEXEC == 0 {
				fds[fd] = true
			}
		}
	}
	return fds
}

// InheritedFDs reports the descriptors above 2 that pass through to
// children because tubo inherited them.
func InheritedFDs() []int {
	var out []int
	for fd := range inherited {
		out = append(out, fd)
	}
	return out
}

// TakeInherited removes descriptor fd from the inherited set and returns
// its *os.File (nil if fd was not inherited), for a descriptor that is
// tubo's own business and must not pass through to children: a shell
// stage's state, which the stage reads once and closes. Call it before any
// run starts.
func TakeInherited(fd int) *os.File {
	f := inheritedFiles[fd]
	delete(inherited, fd)
	delete(inheritedFiles, fd)
	return f
}

// InheritedFile returns the one *os.File for an inherited descriptor, or
// nil: a shell uses it for its own descriptor table instead of making a
// second *os.File whose finalizer would close the descriptor.
func InheritedFile(fd int) *os.File { return inheritedFiles[fd] }

// fdOpen reports whether descriptor fd is open in tubo.
func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// signalGroup sends sig to a whole process group.
func signalGroup(pgid int, sig syscall.Signal) error {
	return syscall.Kill(-pgid, sig)
}
