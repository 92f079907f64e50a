package stream

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/tubo-pipes/tubo/executor"
)

// TeeOptions configures Tee. The zero value drops readers that exit early,
// uses default buffer sizes and never spills.
type TeeOptions struct {
	// FailOnReaderExit makes a reader that goes away (EPIPE) end the whole
	// tee with an error; false drops that reader and keeps feeding the
	// others.
	FailOnReaderExit bool
	// BufSize is the size of one copy buffer (copy path) or the capacity
	// asked for each staging pipe (splice path); 0 means the default
	// (256 KiB for buffers, the system's pipe-max-size up to 1 MiB for
	// pipes).
	BufSize int
	// Spill lets an output whose reader is slow fall behind without
	// holding up the others: its data is kept in memory up to SpillMem and
	// then written to an unlinked temporary file, like dgsh-tee. This is
	// what makes a diamond (tee → two branches → merge) safe. Disk use is
	// then unbounded; memory is not.
	Spill bool
	// SpillMem is the memory each output may hold before spilling; 0
	// means 4 MiB.
	SpillMem int
	// SpillDir is where spill files go; "" means os.TempDir().
	SpillDir string
	// KeepPipeSizes leaves the sizes of in's and the outputs' pipes alone.
	// By default the splice path raises them (F_SETPIPE_SZ) to the
	// staging size, which about doubles throughput (bigger rounds, fewer
	// wake-ups). An unprivileged user's pipes share a quota
	// (/proc/sys/fs/pipe-user-pages-soft); a failed raise is ignored.
	KeepPipeSizes bool
	// Live, when set, counts the bytes as they move (input 0, output i),
	// for views of a running graph; nil counts nothing.
	Live *executor.Counts
}

// TeeResult reports what a Tee did.
type TeeResult struct {
	BytesIn  int64   // bytes read from in
	BytesOut []int64 // bytes written to each output
	// Copied is, for each output, how many of its BytesOut went through
	// tubo's memory: all on the copy path, none on the splice path, and
	// with spill on only what a reader whose pipe was full got later.
	Copied  []int64
	Dropped []bool // outputs whose reader went away before the end
	Err     error  // first failure; nil when every live output got everything

	live *executor.Counts // TeeOptions.Live
}

// addIn and addOut count bytes moved, in the result and live.
func (r *TeeResult) addIn(n int64) { r.BytesIn += n; r.live.AddIn(0, n) }

func (r *TeeResult) addOut(i int, n int64) { r.BytesOut[i] += n; r.live.AddOut(i, n) }

const (
	defaultBufSize  = 256 << 10
	defaultSpillMem = 4 << 20
)

// teeSplices counts the tees that ran on the zero-copy path (for tests).
var teeSplices atomic.Int64

// errNoSplice makes Tee fall back to the copy path.
var errNoSplice = errors.New("stream: splice path unavailable")

// Tee copies everything readable from in to every out, then closes all outs
// (and in).
//
// When in is a pipe and every out a pipe or a regular file (not O_APPEND),
// the data never enters user space for the readers that keep up: without
// Spill see teeSplice (the slowest reader sets the pace; a file output is
// spliced into from its staging pipe, and is never full), with Spill see
// teeSpill (a reader whose pipe is full gets its bytes by copy, through a
// spilling queue, until it has caught up). Otherwise a reader goroutine
// fills shared buffers that one writer goroutine per output writes out.
//
// A reader that goes away (EPIPE) is dropped and marked in Dropped; with
// FailOnReaderExit the tee stops at once instead and reports it in Err.
// When every output is dropped the tee stops reading and closes in, so the
// producer gets SIGPIPE as it would writing into a closed pipe.
func Tee(in *os.File, outs []*os.File, opt TeeOptions) TeeResult {
	res := TeeResult{BytesOut: make([]int64, len(outs)), Copied: make([]int64, len(outs)), Dropped: make([]bool, len(outs)), live: opt.Live}
	defer func() {
		err := closeAll(append([]*os.File{in}, outs...)...)
		if res.Err == nil && err != nil {
			res.Err = fmt.Errorf("tee: close: %w", err)
		}
	}()
	ein, err := newEndpoint(in)
	if err != nil {
		res.Err = fmt.Errorf("tee: input: %w", err)
		return res
	}
	eouts := make([]endpoint, len(outs))
	zeroCopy := ein.pipe // tee(2) needs a pipe to read from
	for i, f := range outs {
		if eouts[i], err = newEndpoint(f); err != nil {
			res.Err = fmt.Errorf("tee: output %d: %w", i, err)
			return res
		}
		zeroCopy = zeroCopy && eouts[i].spliceTo
	}
	if len(outs) == 0 {
		return res
	}
	if zeroCopy {
		path := teeSplice
		if opt.Spill {
			path = teeSpill
		}
		if err := path(&ein, eouts, opt, &res); err != errNoSplice {
			teeSplices.Add(1)
			res.Err = err
			return res
		}
	}
	res.Err = teeCopy(&ein, eouts, opt, &res)
	copy(res.Copied, res.BytesOut)
	return res
}

// readerGone formats the error for an output whose reader went away.
func readerGone(i int, err error) error {
	return fmt.Errorf("tee: output %d: reader exited before the end: %w", i, err)
}
