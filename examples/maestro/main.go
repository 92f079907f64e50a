// Command maestro ("master") is the master of the master/slave prime finder:
// it fans an interval out over N esclavo worker processes connected to it by
// unnamed pipes and prints the primes they find, in increasing order.
//
// Usage:
//
//	maestro [-sequential] LO HI [N]
//
// 0 <= LO <= HI <= 2147483647 and 1 <= N <= 64 (default 2); bad arguments
// exit with status 2. [LO, HI] is divided with split.Range: part sizes
// differ by at most one and the first parts get the extra numbers, so
// "maestro 1000 2000" runs "esclavo 1000 1500" and "esclavo 1501 2000". If N
// is larger than the number of integers in the interval, only that many
// workers are started (a worker is never given an empty interval).
//
// The esclavo executable is looked up next to maestro's own executable
// first (so "go build -o bin/ ./examples/..." just works), then on $PATH.
//
// What it shows at the syscall level, per worker:
//
//  1. pipe2(fds, O_CLOEXEC) creates an unnamed pipe. O_CLOEXEC matters:
//     without it, worker 2 would inherit (through fork+exec) the write end of
//     worker 1's pipe, so pipe 1 would not reach EOF until worker 2 also
//     exited, and other children could hold write ends too. pipe2 sets the
//     flag atomically, so no concurrent fork can catch the fd without it.
//  2. os.StartProcess forks and, in the child, dup2()s /dev/null onto fd 0,
//     the pipe's write end onto fd 1 and our stderr onto fd 2, then execve()s
//     esclavo. dup2 clears FD_CLOEXEC on the new fd 1, so only that copy
//     survives the exec.
//  3. The parent close()s its copy of the write end right away. A pipe
//     read returns 0 (EOF) only when every write end is closed; if the
//     parent kept its copy, it would wait on that pipe forever.
//  4. The parent read()s the read ends, decoding 4-byte host-endian int32s,
//     and finally wait4()s for every child. A child that exits non-zero or is
//     killed by a signal is reported on stderr and maestro exits 1.
//
// Reading strategy. By default every pipe is drained concurrently, by one
// goroutine each, so no worker ever blocks on a full pipe and all workers
// compute in parallel. Because the parts are disjoint and in order, the
// sorted output is simply part 1, then part 2, and so on: part 1 is printed
// while it arrives, and the later parts are buffered in memory until their
// turn. A k-way merge would not help here: ordered output cannot show any of
// part 2 before part 1 is complete, so the later parts must either be held
// somewhere or their workers must be left blocked. The memory used is 4
// bytes per prime in the later parts (at most a few hundred MiB for the
// whole int32 range).
//
// With -sequential, maestro reads pipe 1 until EOF, then pipe 2, and so on,
// like the C master of the original lab. This is the benchmark baseline: it
// loses the parallelism, because as soon as worker 2 has written 64 KiB
// (the Linux pipe capacity, 16384 primes) its write(2) blocks until maestro
// gets round to pipe 2, i.e. until worker 1 has finished.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/tubo-pipes/tubo/split"
	"golang.org/x/sys/unix"
)

const (
	maxWorkers = 64
	usage      = "usage: maestro [-sequential] LO HI [N]   (0 <= LO <= HI <= 2147483647, 1 <= N <= 64, N defaults to 2)"
)

type config struct {
	lo, hi     int64
	n          int
	sequential bool
}

// worker is one esclavo child and the read end of its pipe.
type worker struct {
	part [2]int64
	proc *os.Process
	r    *os.File
}

func main() {
	cfg, err := parseArgs(os.Args[1:])
	if errors.Is(err, errHelp) {
		fmt.Println(usage)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "maestro: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	os.Exit(run(cfg))
}

var errHelp = errors.New("help requested")

// parseArgs parses the command line by hand rather than with package flag,
// so that a negative bound such as "-5" is reported as an out-of-range LO
// instead of an unknown flag.
func parseArgs(args []string) (config, error) {
	var cfg config
	var pos []string
	flagsDone := false
	for _, a := range args {
		switch {
		case flagsDone:
			pos = append(pos, a)
		case a == "--":
			flagsDone = true
		case a == "-sequential" || a == "--sequential":
			cfg.sequential = true
		case a == "-h" || a == "-help" || a == "--help":
			return cfg, errHelp
		case strings.HasPrefix(a, "-") && !isInteger(a):
			return cfg, fmt.Errorf("unknown flag %s", a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) < 2 || len(pos) > 3 {
		return cfg, fmt.Errorf("want LO HI [N], got %d arguments", len(pos))
	}
	var err error
	if cfg.lo, err = parseInt("LO", pos[0], 0, math.MaxInt32); err != nil {
		return cfg, err
	}
	if cfg.hi, err = parseInt("HI", pos[1], 0, math.MaxInt32); err != nil {
		return cfg, err
	}
	if cfg.lo > cfg.hi {
		return cfg, fmt.Errorf("LO (%d) is greater than HI (%d)", cfg.lo, cfg.hi)
	}
	cfg.n = 2
	if len(pos) == 3 {
		n, err := parseInt("N", pos[2], 1, maxWorkers)
		if err != nil {
			return cfg, err
		}
		cfg.n = int(n)
	}
	return cfg, nil
}

func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func parseInt(name, s string, min, max int64) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a decimal integer", name, s)
	}
	if v < min || v > max {
		return 0, fmt.Errorf("%s %d is outside [%d, %d]", name, v, min, max)
	}
	return v, nil
}

func run(cfg config) int {
	esclavo, err := findEsclavo()
	if err != nil {
		fmt.Fprintf(os.Stderr, "maestro: %v\n", err)
		return 1
	}
	workers, err := startWorkers(esclavo, split.Range(cfg.lo, cfg.hi, cfg.n))
	if err != nil {
		fmt.Fprintf(os.Stderr, "maestro: %v\n", err)
		return 1
	}

	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var readErr error
	if cfg.sequential {
		readErr = readSequential(workers, out)
	} else {
		readErr = readConcurrent(workers, out)
	}
	if err := out.Flush(); err != nil && readErr == nil {
		readErr = fmt.Errorf("writing output: %w", err)
	}
	status := 0
	if readErr != nil {
		fmt.Fprintf(os.Stderr, "maestro: %v\n", readErr)
		status = 1
	}
	for i, w := range workers {
		w.r.Close() // on an early error, a still-running worker gets SIGPIPE
		st, err := w.proc.Wait()
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "maestro: waiting for worker %d: %v\n", i+1, err)
			status = 1
		case !st.Success():
			fmt.Fprintf(os.Stderr, "maestro: worker %d (esclavo %d %d) failed: %v\n", i+1, w.part[0], w.part[1], st)
			status = 1
		}
	}
	return status
}

// findEsclavo looks for the esclavo executable in the directory of maestro's
// own executable, then on $PATH.
func findEsclavo() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "esclavo")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("esclavo")
	if err != nil {
		return "", fmt.Errorf("esclavo not found next to maestro nor on $PATH: %w", err)
	}
	return filepath.Abs(p)
}

// startWorkers creates one pipe per part and starts an esclavo on it. On
// failure it kills and reaps the workers already started.
func startWorkers(esclavo string, parts [][2]int64) ([]worker, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()

	var workers []worker
	abort := func(err error) ([]worker, error) {
		for _, w := range workers {
			w.r.Close()
			w.proc.Kill()
			w.proc.Wait()
		}
		return nil, err
	}
	for i, part := range parts {
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return abort(fmt.Errorf("pipe2: %w", err))
		}
		// Only our read end is made non-blocking (O_NONBLOCK belongs to
		// the open file description, and each end has its own), so that
		// os.NewFile registers it with Go's poller and Close interrupts a
		// pending Read. The child's write end stays blocking: esclavo
		// must sleep in write(2) when the pipe is full, not get EAGAIN.
		if err := unix.SetNonblock(fds[0], true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return abort(fmt.Errorf("set O_NONBLOCK: %w", err))
		}
		r := os.NewFile(uintptr(fds[0]), fmt.Sprintf("pipe %d (read end)", i+1))
		w := os.NewFile(uintptr(fds[1]), fmt.Sprintf("pipe %d (write end)", i+1))
		argv := []string{"esclavo", strconv.FormatInt(part[0], 10), strconv.FormatInt(part[1], 10)}
		// Files[i] becomes fd i in the child (fork, dup2, execve).
		proc, err := os.StartProcess(esclavo, argv, &os.ProcAttr{
			Files: []*os.File{devnull, w, os.Stderr},
		})
		// The parent's copy of the write end must go, or pipe i never
		// reaches EOF. Close it whether or not the start succeeded.
		w.Close()
		if err != nil {
			r.Close()
			return abort(fmt.Errorf("starting worker %d: %w", i+1, err))
		}
		workers = append(workers, worker{part: part, proc: proc, r: r})
	}
	return workers, nil
}

// decode reads 4-byte host-endian records from r until EOF and calls emit
// for each. A trailing partial record is an error.
func decode(r io.Reader, emit func(int32) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var rec [4]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			if err == io.ErrUnexpectedEOF {
				return errors.New("truncated record at end of pipe")
			}
			return err
		}
		if err := emit(int32(binary.NativeEndian.Uint32(rec[:]))); err != nil {
			return err
		}
	}
}

func printInt(out *bufio.Writer, v int32) error {
	var buf [16]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	b = append(b, '\n')
	_, err := out.Write(b)
	return err
}

// readSequential drains the pipes one after the other, printing as it goes.
func readSequential(workers []worker, out *bufio.Writer) error {
	for i, w := range workers {
		err := decode(w.r, func(v int32) error { return printInt(out, v) })
		if err != nil {
			return fmt.Errorf("worker %d: %w", i+1, err)
		}
	}
	return nil
}

// partBuffer is an unbounded queue of decoded chunks filled by the goroutine
// reading one pipe and emptied, in order, by the printing goroutine.
type partBuffer struct {
	mu     sync.Mutex
	cond   sync.Cond
	chunks [][]int32
	done   bool
	err    error
}

const chunkSize = 4096

func (p *partBuffer) fill(r io.Reader) {
	chunk := make([]int32, 0, chunkSize)
	publish := func() {
		p.mu.Lock()
		p.chunks = append(p.chunks, chunk)
		p.mu.Unlock()
		p.cond.Signal()
		chunk = make([]int32, 0, chunkSize)
	}
	err := decode(r, func(v int32) error {
		chunk = append(chunk, v)
		if len(chunk) == chunkSize {
			publish()
		}
		return nil
	})
	if len(chunk) > 0 {
		publish()
	}
	p.mu.Lock()
	p.done, p.err = true, err
	p.mu.Unlock()
	p.cond.Signal()
}

// next returns the next chunk, blocking until one is available; ok is false
// once the part is complete.
func (p *partBuffer) next() (chunk []int32, ok bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.chunks) == 0 && !p.done {
		p.cond.Wait()
	}
	if len(p.chunks) > 0 {
		chunk = p.chunks[0]
		p.chunks[0] = nil
		p.chunks = p.chunks[1:]
		return chunk, true, nil
	}
	return nil, false, p.err
}

// readConcurrent drains every pipe in its own goroutine (so that no worker
// blocks on a full pipe) and prints the parts in order, streaming the part
// currently being printed.
func readConcurrent(workers []worker, out *bufio.Writer) error {
	bufs := make([]*partBuffer, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		p := &partBuffer{}
		p.cond.L = &p.mu
		bufs[i] = p
		wg.Go(func() { p.fill(w.r) })
	}
	// Whatever happens, wait for the readers: they stop at EOF, which comes
	// when the workers exit (or are killed by SIGPIPE after we close the
	// read ends in run).
	defer wg.Wait()
	for i, p := range bufs {
		for {
			chunk, ok, err := p.next()
			if err != nil {
				closeAll(workers)
				return fmt.Errorf("worker %d: %w", i+1, err)
			}
			if !ok {
				break
			}
			for _, v := range chunk {
				if err := printInt(out, v); err != nil {
					closeAll(workers)
					return fmt.Errorf("writing output: %w", err)
				}
			}
		}
	}
	return nil
}

// closeAll closes every read end so that the reading goroutines stop and the
// workers die of SIGPIPE instead of blocking on a full pipe.
func closeAll(workers []worker) {
	for _, w := range workers {
		w.r.Close()
	}
}
