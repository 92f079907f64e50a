// Command esclavo ("slave") is the worker of the master/slave prime finder.
//
// Usage:
//
//	esclavo LO HI
//
// It writes every prime p with LO <= p <= HI to standard output as a raw
// 4-byte int32 in host byte order, in increasing order. 0 <= LO <= HI <=
// 2147483647 (the int32 range) is required; on bad arguments it prints
// "esclavo: ..." on stderr and exits with status 2.
//
// What it shows at the syscall level: esclavo knows nothing about pipes. It
// just write(2)s to file descriptor 1. The maestro process makes fd 1 the
// write end of an unnamed pipe (pipe2 + dup2 before execve), so these bytes
// land in the pipe's kernel buffer (64 KiB on Linux) and write(2) blocks
// whenever that buffer is full, until maestro reads. Output goes through a
// 64 KiB bufio.Writer, so esclavo issues one write(2) per 16384 primes rather
// than one per prime.
//
// The records are binary, host-endian int32s: the pipe never leaves the
// machine, so producer and consumer always agree on the byte order, and
// fixed-size records need no delimiter.
//
// If the reader goes away, write(2) on fd 1 fails with EPIPE and the kernel
// sends SIGPIPE; the Go runtime lets SIGPIPE on fd 1 kill the process with
// the default action, exactly like a C program, which is what a pipeline
// stage should do.
//
// Primality is decided by trial division with the correct rule: n is prime
// iff n >= 2 and no k with 2 <= k <= floor(sqrt(n)) divides n. The square
// root is an exact integer square root, so there is no floating-point
// rounding at perfect squares (sqrt(25) = 5 must be tested).
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	lo, hi, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "esclavo: %v\nusage: esclavo LO HI   (0 <= LO <= HI <= %d)\n", err, math.MaxInt32)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	var rec [4]byte
	// n is int64 so that n++ after n = MaxInt32 cannot overflow.
	for n := lo; n <= hi; n++ {
		if !isPrime(n) {
			continue
		}
		binary.NativeEndian.PutUint32(rec[:], uint32(int32(n)))
		if _, err := w.Write(rec[:]); err != nil {
			fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "esclavo: writing results: %v\n", err)
	os.Exit(1)
}

// parseArgs validates the command line: exactly two decimal integers with
// 0 <= LO <= HI <= MaxInt32.
func parseArgs(args []string) (lo, hi int64, err error) {
	if len(args) != 2 {
		return 0, 0, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	lo, err = parseBound("LO", args[0])
	if err != nil {
		return 0, 0, err
	}
	hi, err = parseBound("HI", args[1])
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("LO (%d) is greater than HI (%d)", lo, hi)
	}
	return lo, hi, nil
}

func parseBound(name, s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a decimal integer", name, s)
	}
	if v < 0 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%s %d is outside [0, %d]", name, v, math.MaxInt32)
	}
	return v, nil
}

// isPrime reports whether n is prime: n >= 2 and no divisor k with
// 2 <= k <= isqrt(n). After k = 2 only odd k need testing.
func isPrime(n int64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	r := isqrt(n)
	for k := int64(3); k <= r; k += 2 {
		if n%k == 0 {
			return false
		}
	}
	return true
}

// isqrt returns floor(sqrt(n)) for n >= 0 exactly: the float estimate is
// corrected in integer arithmetic so that r*r <= n < (r+1)*(r+1).
func isqrt(n int64) int64 {
	r := int64(math.Sqrt(float64(n)))
	for r*r > n {
		r--
	}
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}
