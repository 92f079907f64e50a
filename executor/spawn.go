package executor

import (
	"os"
	"runtime"
	"strconv"
	"sync"
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

// spawners is how many starts may be in flight at once.
var spawners = max(2, runtime.GOMAXPROCS(0))

var (
	spawnOnce sync.Once
	spawnJobs chan func()
)

func startSpawners() {
	spawnJobs = make(chan func())
	for range spawners {
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
	spawnOnce.Do(startSpawners)
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
func forkExec(path string, argv []string, attr *syscall.ProcAttr) (pid, pidfd int, err error) {
	pidfd = -1
	attr.Sys.PidFD = &pidfd
	pid, _, err = syscall.StartProcess(path, argv, attr)
	if err != nil {
		return 0, -1, err
	}
	return pid, pidfd, nil
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

func scanInherited() map[int]bool {
	fds := map[int]bool{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fds
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			fds[fd] = true
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

// fdOpen reports whether descriptor fd is open in tubo.
func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// signalGroup sends sig to a whole process group.
func signalGroup(pgid int, sig syscall.Signal) error {
	return syscall.Kill(-pgid, sig)
}
