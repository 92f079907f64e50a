// Command pipe-message sends one message from a child process to its parent
// through an unnamed pipe.
//
// Usage:
//
//	pipe-message [MESSAGE]
//
// It prints the number of bytes received and the message. The default
// message is "the first message sent through a pipe!!".
//
// What it shows at the syscall level. The classic C version calls pipe(),
// then fork(); the child closes the read end and writes, the parent closes
// the write end and reads. A Go program cannot fork without exec (the child
// of a bare fork would be a copy of a multi-threaded runtime with a single
// thread), so the child is this same executable started again
// (os.Executable) with the hidden first argument "-child":
//
//  1. pipe2(fds, O_CLOEXEC): both ends are close-on-exec, so no child
//     inherits them by accident.
//  2. os.StartProcess with ProcAttr.Files = {stdin, stdout, stderr, w}: it
//     forks, and in the child dup2()s Files[i] onto fd i before execve. So
//     the child gets the write end as fd 3 (dup2 creates fd 3 without
//     FD_CLOEXEC, so it survives the exec), and it never gets the read end
//     at all: the original descriptors are close-on-exec. That is the
//     "close(fd[0])" of the C child, done for us.
//  3. The parent close()s its own copy of the write end. This is essential:
//     read() returns 0 (EOF) only when no write end is left open anywhere,
//     and the parent's copy would count.
//  4. The parent read()s until EOF rather than issuing a single read(): a
//     pipe is a byte stream, and one read may return only part of what was
//     written.
//
// The child writes the message bytes without a trailing NUL. The C lab
// writes strlen(msg)+1 bytes so that the parent can print its buffer with
// %s; but the reported byte count then includes the invisible NUL, and the
// parent's single read into an 80-byte buffer is not NUL-terminated when it
// is short (a partial read) or when the message is longer than the buffer,
// so printf("%s") runs past the end of the buffer. Here the length comes
// from the number of bytes read, so no terminator is needed.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const (
	childFlag      = "-child"
	defaultMessage = "the first message sent through a pipe!!"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == childFlag {
		os.Exit(child(os.Args[2:]))
	}
	msg := defaultMessage
	switch len(os.Args) {
	case 1:
	case 2:
		msg = os.Args[1]
	default:
		fmt.Fprintln(os.Stderr, "usage: pipe-message [MESSAGE]")
		os.Exit(2)
	}
	os.Exit(parent(msg))
}

func parent(msg string) int {
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
	defer r.Close()

	// Files[3] = w: in the child, dup2(w, 3) then execve.
	proc, err := os.StartProcess(self, []string{"pipe-message", childFlag, msg}, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, w},
	})
	w.Close() // our copy of the write end: without this, no EOF
	if err != nil {
		return fail("starting child: %v", err)
	}

	data, readErr := io.ReadAll(r)
	st, waitErr := proc.Wait()
	switch {
	case readErr != nil:
		return fail("reading pipe: %v", readErr)
	case waitErr != nil:
		return fail("waiting for child: %v", waitErr)
	case !st.Success():
		return fail("child failed: %v", st)
	}
	fmt.Printf("bytes received: %d\nmessage: %s\n", len(data), data)
	return 0
}

// child runs in the re-executed process: fd 3 is the pipe's write end.
func child(args []string) int {
	if len(args) != 1 {
		fail("child: want 1 argument, got %d", len(args))
		return 2
	}
	// Refuse to run as a child unless fd 3 really is a pipe, so that
	// "pipe-message -child x" typed by hand cannot write to some random
	// descriptor.
	var st unix.Stat_t
	if err := unix.Fstat(3, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		fail("child: fd 3 is not a pipe (%s is meant to be used by pipe-message itself)", childFlag)
		return 2
	}
	w := os.NewFile(3, "pipe (write end)")
	if _, err := w.Write([]byte(args[0])); err != nil { // no trailing NUL
		return fail("child: writing pipe: %v", err)
	}
	if err := w.Close(); err != nil {
		return fail("child: closing pipe: %v", err)
	}
	return 0
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "pipe-message: "+format+"\n", args...)
	return 1
}
