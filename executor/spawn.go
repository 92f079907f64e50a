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
// released. There are several so that starts can overlap: each
// os.StartProcess waits until its child has exec'd.

type spawnReq struct {
	path string
	argv []string
	attr *os.ProcAttr
	done chan spawnResp
}

type spawnResp struct {
	p   *os.Process
	err error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
	// spawners is how many starts may be in flight at once.
	spawners = max(2, runtime.GOMAXPROCS(0))
)

func spawner() {
	runtime.LockOSThread()
	// Never unlocked: when this goroutine ends, the thread must not be
	// reused or exit while children that hold its Pdeathsig live.
	for req := range spawnCh {
		p, err := os.StartProcess(req.path, req.argv, req.attr)
		req.done <- spawnResp{p, err}
	}
}

// spawn starts a process on the spawner thread.
func spawn(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		for range spawners {
			go spawner()
		}
	})
	done := make(chan spawnResp, 1)
	spawnCh <- spawnReq{path, argv, attr, done}
	r := <-done
	return r.p, r.err
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
