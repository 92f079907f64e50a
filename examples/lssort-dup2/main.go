// Command lssort-dup2 runs the shell pipeline "ls DIR | sort" by hand,
// redirecting the children's standard streams with dup2(2).
//
// Usage:
//
//	lssort-dup2 [DIR]
//
// DIR defaults to ".". The output is exactly that of "ls DIR | sort". The
// exit status is sort's; if sort succeeded but ls failed, it is 1. A child
// killed by a signal counts as status 128+signal, as in the shell.
//
// What it shows at the syscall level:
//
//  1. pipe2(fds, O_CLOEXEC) creates the pipe.
//  2. os.StartProcess forks and, in the child, dup2()s ProcAttr.Files[i]
//     onto fd i before execve. dup2(old, new) closes new (if open) and makes
//     it a copy of old as one atomic step, onto the number we choose, so
//     nothing else in the process can grab the slot in between. ls gets
//     Files = {stdin, w, stderr}: its fd 1 is the write end. sort gets
//     Files = {r, stdout, stderr}: its fd 0 is the read end. The copies
//     made by dup2 are not close-on-exec; the original pipe fds are, so each
//     child ends up holding exactly one end of the pipe.
//  3. The parent close()s both ends. Closing the write end is what lets sort
//     see EOF once ls exits (sort prints nothing until then); closing the
//     read end means that if sort dies, ls gets SIGPIPE instead of blocking
//     forever on a full pipe.
//  4. The parent wait4()s for both children.
//
// Compare lssort-dup, which does the redirection the old way, with close(2)
// followed by dup(2).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	dir := "."
	switch len(os.Args) {
	case 1:
	case 2:
		dir = os.Args[1]
	default:
		fmt.Fprintln(os.Stderr, "usage: lssort-dup2 [DIR]")
		os.Exit(2)
	}
	os.Exit(run(dir))
}

func run(dir string) int {
	lsPath, err := exec.LookPath("ls")
	if err != nil {
		return fail("%v", err)
	}
	sortPath, err := exec.LookPath("sort")
	if err != nil {
		return fail("%v", err)
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return fail("pipe2: %v", err)
	}
	r := os.NewFile(uintptr(fds[0]), "pipe (read end)")
	w := os.NewFile(uintptr(fds[1]), "pipe (write end)")

	// ls: dup2(w, 1).
	ls, err := os.StartProcess(lsPath, []string{"ls", dir}, &os.ProcAttr{
		Files: []*os.File{os.Stdin, w, os.Stderr},
	})
	w.Close()
	if err != nil {
		r.Close()
		return fail("starting ls: %v", err)
	}
	// sort: dup2(r, 0).
	sort, err := os.StartProcess(sortPath, []string{"sort"}, &os.ProcAttr{
		Files: []*os.File{r, os.Stdout, os.Stderr},
	})
	r.Close()
	if err != nil {
		ls.Wait() // ls gets SIGPIPE or finishes; reap it either way
		return fail("starting sort: %v", err)
	}
	return status(ls, sort)
}

// status waits for both children and computes the pipeline's exit status.
func status(ls, sort *os.Process) int {
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

// exitCode is the exit status, or 128+signal for a killed process.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "lssort-dup2: "+format+"\n", args...)
	return 1
}
