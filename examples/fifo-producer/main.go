// Command fifo-producer is the writing side of a producer/consumer pair that
// talk through a named pipe (FIFO); see fifo-consumer.
//
// Usage:
//
//	fifo-producer PATH MESSAGE
//
// It opens the existing FIFO PATH write-only, writes MESSAGE followed by a
// NUL byte in a single write(2), and closes it. Sending the message "fin"
// tells the consumer to stop.
//
// What it shows at the syscall level:
//
//   - open(2) with O_WRONLY on a FIFO blocks until some process has it open
//     for reading. (With O_WRONLY|O_NONBLOCK it would instead fail with
//     ENXIO when there is no reader.)
//   - A write(2) of at most PIPE_BUF (4096 on Linux) bytes to a pipe or FIFO
//     is atomic: the bytes are never interleaved with another writer's. So
//     the message plus its NUL must fit in PIPE_BUF; longer messages are
//     refused (exit 2) rather than risk being split.
//   - If the reader disappears between open and write, write(2) fails with
//     EPIPE (the SIGPIPE that comes with it is ignored by the Go runtime for
//     descriptors other than 1 and 2) and fifo-producer exits 1.
//
// PATH must already be a FIFO; the producer never creates it (the consumer
// does, with safe permissions). It is checked both before opening (a
// regular file must not be opened for writing at all) and after, with
// fstat(2) on the open descriptor, so that a file swapped in between is
// also rejected. Usage errors and non-FIFO paths exit 2, other errors 1.
//
// The system calls are made directly through golang.org/x/sys/unix, so the
// single write(2) is visible as such.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// pipeBuf is PIPE_BUF on Linux: the largest write guaranteed atomic.
const pipeBuf = 4096

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fifo-producer PATH MESSAGE")
		os.Exit(2)
	}
	path, msg := os.Args[1], os.Args[2]
	// A command-line argument cannot contain NUL, so the terminator
	// appended below is the only one.
	buf := append([]byte(msg), 0)
	if len(buf) > pipeBuf {
		die(2, "message is %d bytes; at most %d fit in one atomic write (PIPE_BUF minus the NUL)", len(msg), pipeBuf-1)
	}

	fi, err := os.Stat(path)
	if err != nil {
		die(1, "%v", err)
	}
	if fi.Mode().Type() != fs.ModeNamedPipe {
		die(2, "%s is not a FIFO", path)
	}

	// Blocks until a reader has the FIFO open. Go's signal handlers use
	// SA_RESTART, but retry on EINTR anyway.
	var fd int
	for {
		fd, err = unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		die(1, "open %s: %v", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		die(1, "fstat %s: %v", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		die(2, "%s is not a FIFO", path)
	}

	var n int
	for {
		n, err = unix.Write(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		die(1, "write %s: %v", path, err)
	}
	if n != len(buf) { // cannot happen for a blocking write <= PIPE_BUF
		die(1, "write %s: short write (%d of %d bytes)", path, n, len(buf))
	}
	if err := unix.Close(fd); err != nil {
		die(1, "close %s: %v", path, err)
	}
}

func die(status int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fifo-producer: "+format+"\n", args...)
	os.Exit(status)
}
