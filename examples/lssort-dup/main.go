// Command lssort-dup runs the shell pipeline "ls DIR | sort" by hand,
// redirecting the children's standard streams with close(2) + dup(2), the
// way the original lab does, instead of dup2(2) (compare lssort-dup2).
//
// Usage:
//
//	lssort-dup [DIR]
//
// DIR defaults to ".". The output is exactly that of "ls DIR | sort". The
// exit status is sort's; if sort succeeded but ls failed, it is 1. A child
// killed by a signal counts as status 128+signal, as in the shell.
//
// What it shows at the syscall level. dup(old) returns a copy of old on the
// lowest-numbered free descriptor. So to make the pipe a process's stdout,
// the lab closes fd 1 and then calls dup(pipe write end), counting on fd 1
// being the lowest free slot.
//
// Go has no bare fork, and closing fd 1 of the Go parent itself would break
// its own os.Stdout, so the close+dup happens in a small helper: this same
// executable re-executed with the hidden arguments
//
//	lssort-dup -dup-exec TARGETFD PROGRAM ARGS...
//
// and started with the pipe end as its fd 3 (ProcAttr.Files[3], i.e. a
// dup2 done by os.StartProcess; that one is just plumbing). The helper does
//
//	close(TARGETFD); n := dup(3); check n == TARGETFD; close(3); execve(PROGRAM)
//
// once for ls (TARGETFD 1: fd 0 is open, so 1 is the lowest free fd) and
// once for sort (TARGETFD 0).
//
// The race that dup2 avoids: close and dup are two system calls, and the
// helper is a multi-threaded Go process. If any other thread (a goroutine,
// the runtime, a signal handler in C) opened a file between close(1) and
// dup(3), that file would get fd 1, dup would return another number, and ls
// would write its listing into that file. dup2(3, 1) closes and duplicates in
// one atomic step onto a chosen number, so no such window exists. The helper
// cannot prevent the race, only detect it: if dup does not return TARGETFD it
// aborts instead of exec'ing a program with the wrong stdout.
//
// The parent then closes both pipe ends (so that sort sees EOF when ls
// exits, and ls gets SIGPIPE if sort dies) and waits for both children.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

const helperFlag = "-dup-exec"

func main() {
	if len(os.Args) >= 2 && os.Args[1] == helperFlag {
		os.Exit(helper(os.Args[2:]))
	}
	dir := "."
	switch len(os.Args) {
	case 1:
	case 2:
		dir = os.Args[1]
	default:
		fmt.Fprintln(os.Stderr, "usage: lssort-dup [DIR]")
		os.Exit(2)
	}
	os.Exit(run(dir))
}

func run(dir string) int {
	self, err := os.Executable()
	if err != nil {
		return fail("finding own executable: %v", err)
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return fail("pipe2: %v", err)
	}
	r := os.NewFile(uintptr(fds[0]), "pipe (read end)")
	w := os.NewFile(uintptr(fds[1]), "pipe (write end)")

	// ls: the helper will close(1); dup(3) with fd 3 = write end.
	ls, err := os.StartProcess(self, []string{"lssort-dup", helperFlag, "1", "ls", dir}, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, w},
	})
	w.Close()
	if err != nil {
		r.Close()
		return fail("starting ls: %v", err)
	}
	// sort: the helper will close(0); dup(3) with fd 3 = read end.
	sort, err := os.StartProcess(self, []string{"lssort-dup", helperFlag, "0", "sort"}, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, r},
	})
	r.Close()
	if err != nil {
		ls.Wait()
		return fail("starting sort: %v", err)
	}

	lsState, lsErr := ls.Wait()
	sortState, sortErr := sort.Wait()
	if sortErr != nil {
		return fail("waiting for sort: %v", sortErr)
	}
	if code := exitCode(sortState); code != 0 {
		return code
	}
	if lsErr != nil || !lsState.Success() {
		return 1
	}
	return 0
}

// helper runs in the re-executed child: fd 3 is a pipe end that must become
// fd target, by close + dup, before exec'ing the program.
func helper(args []string) int {
	if len(args) < 2 {
		fail("%s: want TARGETFD PROGRAM [ARGS...]", helperFlag)
		return 2
	}
	target, err := strconv.Atoi(args[0])
	if err != nil || target < 0 || target > 2 {
		fail("%s: bad TARGETFD %q", helperFlag, args[0])
		return 2
	}
	var st unix.Stat_t
	if err := unix.Fstat(3, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		fail("%s: fd 3 is not a pipe (this mode is meant to be used by lssort-dup itself)", helperFlag)
		return 2
	}
	prog, err := exec.LookPath(args[1])
	if err != nil {
		return fail("%v", err)
	}

	// The two-step redirection. Between these two calls fd target is
	// free, and any file opened by another thread would take it.
	if err := unix.Close(target); err != nil {
		return fail("close(%d): %v", target, err)
	}
	n, err := unix.Dup(3)
	if err != nil {
		return fail("dup(3): %v", err)
	}
	if n != target {
		// Lost the race (or a lower fd was already free): stdin/stdout
		// is not the pipe, so do not exec.
		return fail("dup(3) returned %d, not %d", n, target)
	}
	// dup's copy is not close-on-exec, but the original fd 3 still is
	// not either (os.StartProcess created it with dup2), so close it:
	// the program must hold exactly one copy of the pipe end.
	if err := unix.Close(3); err != nil {
		return fail("close(3): %v", err)
	}
	err = unix.Exec(prog, args[1:], os.Environ())
	return fail("exec %s: %v", prog, err)
}

// exitCode is the exit status, or 128+signal for a killed process.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "lssort-dup: "+format+"\n", args...)
	return 1
}
