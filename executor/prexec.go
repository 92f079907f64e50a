package executor

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A stage can be stopped between its fork and its exec. ^Z typed in that
// moment reaches it: a shell line's first stage already leads the
// terminal's foreground group (Foreground: setpgid and tcsetpgrp come
// before exec), and any child is still in tubo's group until its setpgid.
// Go's child has reset every caught signal to its default action, so
// SIGTSTP stops it. Its spawner waits in the kernel until it execs
// (CLONE_VFORK), which a stopped child never does: the run hangs, tubo
// neither stops nor goes on, and the shell never says "Stopped".
//
// So a spawner says which thread it is while it starts a stage (forking),
// and the job-control path continues such a child (continueForks), waits
// for its start to finish, and then carries out the ^Z for the whole run.
// While the first stages start, supervise does not run yet (Start returns
// when they have started): watchStarts takes the signals meanwhile.

// watchStarts reads the run's signals while its first stages start, and
// continues a stage that a ^Z stopped before its exec (the start would
// never end otherwise). The returned function ends the watch and gives
// the signals it read, for supervise to act on in order.
func (r *run) watchStarts() (end func() []os.Signal) {
	if r.opt.Signals == nil {
		return func() []os.Signal { return nil }
	}
	stop := make(chan struct{})
	out := make(chan []os.Signal, 1)
	go func() {
		var early []os.Signal
		for {
			select {
			case <-stop:
				out <- early
				return
			case sig := <-r.opt.Signals:
				early = append(early, sig)
				// A SIGCHLD comes once the child has stopped; tubo's own
				// SIGTSTP may come before the stage it also reached stops.
				settle := time.Duration(0)
				if sig == syscall.SIGTSTP {
					settle = 20 * time.Millisecond
				}
				if (sig == syscall.SIGTSTP || sig == syscall.SIGCHLD) && continueForks(settle) {
					r.stopPending.Store(true)
				}
			}
		}
	}()
	return func() []os.Signal {
		close(stop)
		return <-out
	}
}

// forking holds the thread IDs of the spawners that are starting a stage.
var forking = struct {
	sync.Mutex
	tids map[int]int // tid → starts in progress on it
}{tids: map[int]int{}}

// enterFork marks the calling spawner thread as starting a stage; the
// returned tid goes to leaveFork once the start is over.
func enterFork() int {
	tid := unix.Gettid()
	forking.Lock()
	forking.tids[tid]++
	forking.Unlock()
	return tid
}

func leaveFork(tid int) {
	forking.Lock()
	if forking.tids[tid]--; forking.tids[tid] <= 0 {
		delete(forking.tids, tid)
	}
	forking.Unlock()
}

func forkingTids() []int {
	forking.Lock()
	defer forking.Unlock()
	tids := make([]int, 0, len(forking.tids))
	for tid := range forking.tids {
		tids = append(tids, tid)
	}
	return tids
}

// continueForks finds the children of forking spawners that are stopped
// before their exec (their executable is still tubo's), sends each
// SIGCONT, and waits (a second at most) until those spawners have
// finished the start, so that the stage is in the run's groups. It
// reports whether it continued any. A child that was going to stop a
// moment later is looked for again, for up to settle.
func continueForks(settle time.Duration) bool {
	var continued []int
	deadline := time.Now().Add(settle)
	for {
		tids := forkingTids()
		for _, tid := range tids {
			// A spawner forks with CLONE_VFORK, which holds it until the
			// child execs: the child not yet exec'd can only be its
			// newest, the last in its list. (A long line's stages are all
			// there too; each SIGCHLD must not read every one's stat.)
			kids := threadChildren(tid)
			if len(kids) == 0 {
				continue
			}
			if pid := kids[len(kids)-1]; procState(pid) == 'T' && sameExecutable(pid) {
				syscall.Kill(pid, syscall.SIGCONT)
				continued = append(continued, tid)
			}
		}
		if len(continued) > 0 || len(tids) == 0 || !time.Now().Before(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if len(continued) == 0 {
		return false
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		still := false
		forking.Lock()
		for _, tid := range continued {
			still = still || forking.tids[tid] > 0
		}
		forking.Unlock()
		if !still {
			break
		}
	}
	return true
}

// threadChildren lists the children forked by one of tubo's threads.
func threadChildren(tid int) []int {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/children")
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procState is a process's state letter (field 3 of /proc/PID/stat), or 0.
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2]
	}
	return 0
}

// sameExecutable reports whether pid still runs tubo's executable: a
// vfork child before its exec.
func sameExecutable(pid int) bool {
	a, err1 := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	b, err2 := os.Stat("/proc/self/exe")
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}
