package stream

import (
	"bytes"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/tubo-pipes/tubo/executor"
)

// recChunk is a run of whole records from one input.
type recChunk struct {
	idx int
	b   []byte // whole records; b[:cap(b)] goes back to the reader's free list
}

// recReader reads one input in a goroutine and hands out buffers that hold
// only whole records (lines ending in '\n', or multiples of width bytes).
// The partial record at the end of a read is copied to the start of the
// next buffer. A buffer grows (doubling, so the copies stay linear) only
// when one record does not fit, up to MaxRecord: a longer one is an error
// naming the input, not unbounded memory. A grown buffer is dropped once
// sent, so memory is about 3 small buffers plus one record-sized one, and
// each byte is searched for '\n' once.
type recReader struct {
	idx   int
	in    *endpoint
	live  *executor.Counts // counts into input idx; nil counts nothing
	width int              // 0 for lines
	free  chan []byte
	nbufs int // buffers made so far
	// size is the size of the buffers this input reads into now: small
	// for a wide merge, doubled (to mergeBufSize) when a read fills one,
	// while the merge's budget lasts: busy inputs get big reads, idle
	// ones cost little.
	size   int
	budget *atomic.Int64 // bytes the merge's inputs may still grow by
	bytes  int64
	err    error // set before the goroutine ends
}

// mergeBufBudget bounds what a merge's inputs' read buffers may add up to
// by growing: with 1024 inputs, 32 KiB buffers (3 each, 96 MiB) would
// already be too much, so a wide merge starts small (bufSizeFor).
const mergeBufBudget = 32 << 20

// bufSizeFor is the first buffer size of each of k inputs: mergeBufSize
// for up to 32 inputs, less for more (3 buffers each stay within
// mergeBufBudget), at least 4 KiB.
func bufSizeFor(k int) int {
	size := mergeBufSize
	for size > 4<<10 && recReaderBufs*size*k > mergeBufBudget {
		size /= 2
	}
	return size
}

// newBudget is the shared growth budget of one merge's readers.
func newBudget(k int) *atomic.Int64 {
	b := new(atomic.Int64)
	b.Store(int64(mergeBufBudget - recReaderBufs*bufSizeFor(k)*k))
	return b
}

const recReaderBufs = 3

// MaxRecord is the longest record (a line, with its '\n') an interleave or
// ordered merge takes: each keeps whole records in memory, so one input's
// 256 MiB line would otherwise need several times that. A concat merge
// has no such limit (it never needs a whole line).
const MaxRecord = 64 << 20

// newRecReader reads input idx of k; budget is shared by the k (newBudget).
func newRecReader(idx int, in *endpoint, width, k int, budget *atomic.Int64) *recReader {
	return &recReader{idx: idx, in: in, width: width, free: make(chan []byte, recReaderBufs), size: bufSizeFor(k), budget: budget}
}

// grow doubles the buffer size of an input whose read filled a buffer,
// if the merge's budget allows it.
func (r *recReader) grow() {
	if r.size >= mergeBufSize {
		return
	}
	if add := int64(recReaderBufs * r.size); r.budget.Add(-add) >= 0 {
		r.size *= 2
	} else {
		r.budget.Add(add)
	}
}

// getBuf returns a free buffer of at least n bytes, or nil if stop closed.
func (r *recReader) getBuf(n int, stop <-chan struct{}) []byte {
	var b []byte
	if r.nbufs < recReaderBufs {
		r.nbufs++
		b = make([]byte, r.size)
	} else {
		select {
		case b = <-r.free:
		case <-stop:
			return nil
		}
	}
	if len(b) < n || cap(b) < r.size || cap(b) > 2*r.size && n <= r.size {
		// Too small, smaller than the input grew to, or grown for a
		// long record that has gone: a buffer of the input's size
		// again, the old one left to the GC.
		b = make([]byte, max(n, r.size))
	}
	return b
}

// boundary is the length of the longest prefix of b made of whole records,
// given that b[:from] holds no '\n' (so a long line is searched once).
func (r *recReader) boundary(b []byte, from int) int {
	if r.width == 0 {
		if i := bytes.LastIndexByte(b[from:], '\n'); i >= 0 {
			return from + i + 1
		}
		return 0
	}
	return len(b) - len(b)%r.width
}

// partialRecord is the error of an input that ends inside a binary record.
func partialRecord(name string, n, width int) error {
	return fmt.Errorf("merge: %s: its last %d bytes do not make a whole %d-byte record", name, n, width)
}

// run reads until end of input, an error, or stop/cancel, sending chunks to
// out. It does not close out.
func (r *recReader) run(out chan<- recChunk, stop <-chan struct{}, cancelfd int) {
	buf := r.getBuf(0, stop)
	n := 0
	scanned := 0 // buf[:scanned] holds no '\n' (lines only)
	send := func(b []byte) bool {
		select {
		case out <- recChunk{idx: r.idx, b: b}:
			return true
		case <-stop:
			return false
		}
	}
	for buf != nil {
		if n == len(buf) {
			// One record is larger than the buffer: grow it.
			if len(buf) >= MaxRecord {
				r.err = fmt.Errorf("merge: %s: a record longer than %d MiB; interleave and ordered merges hold whole records in memory (split the line, or use a concat merge)", r.in.label(r.idx), MaxRecord>>20)
				return
			}
			nb := make([]byte, min(2*len(buf), MaxRecord))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.in.read(buf[n:], cancelfd)
		if m == len(buf)-n && m > 0 {
			r.grow() // a busy input: the next buffers are bigger
		}
		if err == io.EOF {
			break
		}
		if err == errCanceled {
			return
		}
		if err != nil {
			r.err = fmt.Errorf("merge: %s: %w", r.in.label(r.idx), err)
			return
		}
		r.bytes += int64(m)
		r.live.AddIn(r.idx, int64(m))
		n += m
		cut := r.boundary(buf[:n], scanned)
		if cut == 0 {
			scanned = n
			continue
		}
		next := r.getBuf(n-cut, stop)
		if next == nil {
			return
		}
		copy(next, buf[cut:n])
		if !send(buf[:cut]) {
			return
		}
		buf, n = next, n-cut
		scanned = n // the rest of a line holds no '\n'

	}
	if buf == nil || n == 0 {
		return
	}
	if r.width > 0 {
		r.err = partialRecord(r.in.label(r.idx), n, r.width)
		return
	}
	// A last line without '\n': add one, since it may not be last in
	// the output.
	if n == len(buf) {
		nb := make([]byte, n+1)
		copy(nb, buf)
		buf = nb
	}
	buf[n] = '\n'
	send(buf[:n+1])
}
