package executor

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// tubo's own threads must all exist before its first fork. RLIMIT_NPROC
// (ulimit -u) counts a user's processes and threads together, so the
// stages tubo starts use up the same allowance as tubo's threads; when it
// is exhausted, fork fails with EAGAIN, which tubo reports ("cannot start
// stage X: resource temporarily unavailable") and ends the run cleanly,
// but the Go runtime, if it then needs one more thread, aborts the whole
// process. So tubo keeps its threads few and bounded (a fixed pool of
// spawners, waits in the netpoller), and where the allowance is small
// enough to run out, it checks before the first fork that its threads and
// its guardian fit, then makes the runtime create the threads it will
// need, so that none is created later.

// nprocTight is the process limit below which tubo counts what is in use
// and prepares its threads; above it, running out is not a real risk and
// the check (a walk over /proc) would cost every run.
const nprocTight = 10000

// threadsNeeded is how many processes and threads tubo needs beyond its
// own at the first run: its guardian (one process, one thread: a fork of
// tubo without exec) and one to spare, the spawner threads, and the idle
// threads the runtime takes while spawners wait in fork (warmThreads).
func threadsNeeded() int { return 2 + spawners + runtime.GOMAXPROCS(0) + 2 }

// nprocLimit is RLIMIT_NPROC when it applies and is tight, else 0.
func nprocLimit() int {
	if os.Geteuid() == 0 {
		return 0 // root is not held to it
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) != nil || rl.Cur == unix.RLIM_INFINITY || rl.Cur >= nprocTight {
		return 0
	}
	return int(rl.Cur)
}

// threadsFit fails when the processes and threads of tubo's user leave no
// room for what tubo needs.
func threadsFit() error {
	limit := nprocLimit()
	if limit == 0 {
		return nil
	}
	used := userTasks()
	if need := threadsNeeded(); used+need > limit {
		return fmt.Errorf("cannot start: ulimit -u allows %d processes and threads, %d are in use, and tubo needs %d more: %w", limit, used, need, syscall.EAGAIN)
	}
	return nil
}

// userTasks counts the threads of every process whose real user is
// tubo's, as RLIMIT_NPROC does.
func userTasks() int {
	uid := strconv.Itoa(os.Getuid())
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var real string
		threads := 0
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					real = f[0]
				}
			} else if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				threads, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if real == uid {
			n += threads
		}
	}
	return n
}

// warmThreads makes the Go runtime create, now, the idle threads it will
// need while the spawners are busy: each of a few goroutines locks a
// thread of its own and waits until all do, so the runtime must make one
// per goroutine; unlocked, the threads go back to its idle pool, which it
// never shrinks.
func warmThreads() {
	if nprocLimit() == 0 {
		return
	}
	k := runtime.GOMAXPROCS(0) + 2
	var locked, done sync.WaitGroup
	release := make(chan struct{})
	locked.Add(k)
	done.Add(k)
	for range k {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			locked.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	locked.Wait()
	close(release)
	done.Wait()
}
