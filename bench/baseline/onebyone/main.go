// Command onebyone is the baseline for tubo's ordered int32 merge: the
// lab's master loop, which merges sorted streams of host-order int32s by
// issuing one read(2) of 4 bytes per record and writing the smallest head
// each time. Output is binary, through a 64 KiB buffer, so the only
// difference from tubo's merge is how the inputs are read.
//
// Usage:
//
//	onebyone FILE…
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: onebyone FILE…")
		os.Exit(2)
	}
	fds := make([]int, 0, len(os.Args)-1)
	for _, name := range os.Args[1:] {
		fd, err := syscall.Open(name, syscall.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "onebyone: %s: %v\n", name, err)
			os.Exit(1)
		}
		fds = append(fds, fd)
	}
	heads := make([]int32, len(fds))
	live := make([]bool, len(fds))
	var rec [4]byte
	next := func(i int) {
		n, err := syscall.Read(fds[i], rec[:])
		for err == syscall.EINTR {
			n, err = syscall.Read(fds[i], rec[:])
		}
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "onebyone: read: %v\n", err)
			os.Exit(1)
		case n == 0:
			live[i] = false
		case n != 4: // a pipe could split a record; a file of whole records does not
			fmt.Fprintf(os.Stderr, "onebyone: short read of %d bytes\n", n)
			os.Exit(1)
		default:
			heads[i] = int32(binary.NativeEndian.Uint32(rec[:]))
			live[i] = true
		}
	}
	for i := range fds {
		next(i)
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var b [4]byte
	for {
		best := -1
		for i, ok := range live {
			if ok && (best < 0 || heads[i] < heads[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		binary.NativeEndian.PutUint32(b[:], uint32(heads[best]))
		out.Write(b[:])
		next(best)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "onebyone: write: %v\n", err)
		os.Exit(1)
	}
}
