package stream

import (
	"bytes"
	"fmt"
	"io"
)

// recChunk is a run of whole records from one input.
type recChunk struct {
	idx int
	b   []byte // whole records; b[:cap(b)] goes back to the reader's free list
}

// recReader reads one input in a goroutine and hands out buffers that hold
// only whole records (lines ending in '\n', or multiples of width bytes).
// The partial record at the end of a read is copied to the start of the
// next buffer. A buffer grows only when one record does not fit, so memory
// is nbufs buffers of max(bufSize, longest record).
type recReader struct {
	idx   int
	in    *endpoint
	width int // 0 for lines
	free  chan []byte
	nbufs int // buffers made so far
	bytes int64
	err   error // set before the goroutine ends
}

const recReaderBufs = 3

func newRecReader(idx int, in *endpoint, width int) *recReader {
	return &recReader{idx: idx, in: in, width: width, free: make(chan []byte, recReaderBufs)}
}

// getBuf returns a free buffer of at least n bytes, or nil if stop closed.
func (r *recReader) getBuf(n int, stop <-chan struct{}) []byte {
	var b []byte
	if r.nbufs < recReaderBufs {
		r.nbufs++
		b = make([]byte, mergeBufSize)
	} else {
		select {
		case b = <-r.free:
		case <-stop:
			return nil
		}
	}
	if len(b) < n {
		b = make([]byte, n)
	}
	return b
}

// boundary is the length of the longest prefix of b made of whole records.
func (r *recReader) boundary(b []byte) int {
	if r.width == 0 {
		return bytes.LastIndexByte(b, '\n') + 1
	}
	return len(b) - len(b)%r.width
}

// run reads until end of input, an error, or stop/cancel, sending chunks to
// out. It does not close out.
func (r *recReader) run(out chan<- recChunk, stop <-chan struct{}, cancelfd int) {
	buf := r.getBuf(0, stop)
	n := 0
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
			nb := make([]byte, 2*len(buf))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.in.read(buf[n:], cancelfd)
		if err == io.EOF {
			break
		}
		if err == errCanceled {
			return
		}
		if err != nil {
			r.err = fmt.Errorf("merge: input %d: %w", r.idx, err)
			return
		}
		r.bytes += int64(m)
		n += m
		cut := r.boundary(buf[:n])
		if cut == 0 {
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
	}
	if buf == nil || n == 0 {
		return
	}
	if r.width > 0 {
		r.err = fmt.Errorf("merge: input %d: %d bytes at the end do not make a whole %d-byte record", r.idx, n, r.width)
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
