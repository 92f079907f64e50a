// Command fifo-consumer is the reading side of a producer/consumer pair that
// talk through a named pipe (FIFO); see also fifo-producer.
//
// Usage:
//
//	fifo-consumer [-rdwr] PATH
//
// If PATH does not exist it is created with mkfifo(2), mode 0600: only the
// owner may read or write it. (The mode passed to mkfifo is filtered by the
// umask, which can only remove bits; we then chmod to exactly 0600, which is
// not subject to the umask. We never clear the umask and never create a
// world-writable FIFO that any local user could inject messages into.) If
// PATH exists but is not a FIFO, fifo-consumer exits with status 2. The FIFO
// is left in place on exit, like any file: remove it with rm (unlink(2)).
//
// Protocol: every message is a byte string terminated by one NUL byte,
// written by the producer with a single write(2) of at most PIPE_BUF (4096)
// bytes, which POSIX guarantees is atomic: messages from concurrent producers
// never interleave. A pipe is a byte stream, not a message queue, so one
// read(2) may return several messages, or part of one; the consumer buffers
// the stream and splits it on NUL. Each message is printed as
// "received: MSG". The message "fin" stops the consumer (status 0); so does
// end of file, which read(2) reports once no process holds the FIFO open for
// writing (status 0, or 1 if the stream ended in the middle of a message).
//
// Who must start first? With the default O_RDONLY, open(2) blocks until some
// process opens the FIFO for writing, and fifo-producer's O_WRONLY open
// blocks until a reader exists: either may start first, they rendezvous in
// open. But the consumer sees EOF as soon as the last writer closes, so if
// producers run one after another, the consumer exits after the first one
// unless another writer keeps the FIFO open; a later producer then blocks in
// open until a new consumer arrives.
//
// With -rdwr the FIFO is opened O_RDWR, as in the original lab (Linux
// allows this for FIFOs; POSIX leaves it undefined). open does not block,
// because the consumer is its own writer, and for the same reason it never
// sees EOF: the write count never drops to zero while it is open. The only
// way to stop it is the "fin" message (or a signal).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	rdwr := flag.Bool("rdwr", false, "open the FIFO O_RDWR (never sees EOF; stops only on \"fin\")")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: fifo-consumer [-rdwr] PATH")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	path := flag.Arg(0)

	if err := ensureFIFO(path); err != nil {
		fmt.Fprintf(os.Stderr, "fifo-consumer: %v\n", err)
		os.Exit(2)
	}

	mode := os.O_RDONLY
	if *rdwr {
		mode = os.O_RDWR
	}
	// open(2) on a FIFO with O_RDONLY blocks here until a writer appears.
	f, err := os.OpenFile(path, mode, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fifo-consumer: %v\n", err)
		os.Exit(1)
	}
	defer f.Close()
	os.Exit(consume(f))
}

// ensureFIFO creates path as a 0600 FIFO, or checks that the existing path
// is a FIFO. mkfifo is attempted first, so there is no window between a
// "does it exist?" check and the creation.
func ensureFIFO(path string) error {
	err := unix.Mkfifo(path, 0o600)
	if err == nil {
		if err := os.Chmod(path, 0o600); err != nil {
			return err
		}
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return &fs.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeNamedPipe {
		return fmt.Errorf("%s exists and is not a FIFO (it is a %s)", path, typeName(fi.Mode()))
	}
	return nil
}

func typeName(m fs.FileMode) string {
	switch m.Type() {
	case 0:
		return "regular file"
	case fs.ModeDir:
		return "directory"
	case fs.ModeSymlink:
		return "symbolic link"
	case fs.ModeSocket:
		return "socket"
	case fs.ModeDevice:
		return "block device"
	case fs.ModeDevice | fs.ModeCharDevice:
		return "character device"
	}
	return "special file"
}

// consume reads NUL-terminated messages until "fin" or EOF and returns the
// exit status.
func consume(r io.Reader) int {
	br := bufio.NewReaderSize(r, 4096)
	for {
		// ReadBytes keeps reading across read(2) calls until it finds
		// the NUL, and leaves any following messages in the buffer.
		msg, err := br.ReadBytes(0)
		if err != nil {
			if err == io.EOF {
				if len(msg) > 0 {
					fmt.Fprintf(os.Stderr, "fifo-consumer: EOF in the middle of a message; discarding %d bytes\n", len(msg))
					return 1
				}
				return 0 // every writer has closed the FIFO
			}
			fmt.Fprintf(os.Stderr, "fifo-consumer: %v\n", err)
			return 1
		}
		msg = bytes.TrimSuffix(msg, []byte{0})
		if string(msg) == "fin" {
			return 0
		}
		if _, err := fmt.Printf("received: %s\n", msg); err != nil {
			return 1
		}
	}
}
