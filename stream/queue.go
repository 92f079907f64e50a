package stream

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// chunk is a shared read buffer. One read fills part of it and every
// consumer of that data holds a reference; the last release returns it to
// its pool. Segments of one chunk are handed out in order, so a queue that
// holds L bytes pins at most L/len(buf)+2 chunks.
type chunk struct {
	buf  []byte
	refs atomic.Int32
	pool *sync.Pool
}

func getChunk(pool *sync.Pool, size int) *chunk {
	if c, ok := pool.Get().(*chunk); ok && len(c.buf) == size {
		c.refs.Store(1)
		return c
	}
	c := &chunk{buf: make([]byte, size), pool: pool}
	c.refs.Store(1)
	return c
}

func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		c.pool.Put(c)
	}
}

// seg is a part of a chunk that a queue holds.
type seg struct {
	c *chunk
	b []byte
}

// queue is a FIFO of bytes from one producer to one consumer, bounded in
// memory. When it holds limit bytes, push either waits (spill off) or
// writes the data to an unlinked temporary file (spill on) that the
// consumer reads back in order, like dgsh-tee. Once spilling starts, all
// later data goes to the file until the consumer has caught up, so order is
// kept: memory holds only data older than the file's.
type queue struct {
	mu    sync.Mutex
	cond  sync.Cond
	segs  []seg
	head  int // segs[head:] are queued
	bytes int // bytes in segs
	limit int

	spill    bool // over the limit, spill instead of waiting
	spillDir string
	file     *os.File // spill file, made on first need
	fw, fr   int64    // write and read offsets in file
	spilling bool     // newer data is in file

	eof  bool  // producer is done
	dead bool  // consumer is gone: push drops data
	err  error // spill I/O error, reported to both sides
}

func newQueue(limit int, spill bool, dir string) *queue {
	q := &queue{limit: limit, spill: spill, spillDir: dir}
	q.cond.L = &q.mu
	return q
}

// push queues s (taking over one reference to s.c). It waits for room
// unless spilling is on, and returns false when the consumer is gone or
// abort says to stop.
func (q *queue) push(s seg, abort *atomic.Bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		switch {
		case q.dead || q.err != nil || abort.Load():
			s.c.release()
			return !q.dead && q.err == nil && !abort.Load()
		case !q.spilling && q.bytes+len(s.b) <= q.limit, !q.spilling && q.bytes == 0:
			q.segs = append(q.segs, s)
			q.bytes += len(s.b)
			q.cond.Broadcast()
			return true
		case q.spill:
			// Write under the lock: the consumer resets the file only
			// under the lock, when it has read everything.
			if q.file == nil {
				f, err := os.CreateTemp(q.spillDir, "tubo-spill-*")
				if err != nil {
					q.err = err
					continue
				}
				// Unlinked at once: the space goes back when the
				// descriptor closes, whatever way tubo ends.
				os.Remove(f.Name())
				q.file = f
			}
			if _, err := q.file.WriteAt(s.b, q.fw); err != nil {
				q.err = err
				continue
			}
			q.fw += int64(len(s.b))
			q.spilling = true
			s.c.release()
			q.cond.Broadcast()
			return true
		default:
			q.cond.Wait()
		}
	}
}

// setSpill turns spilling on or off; with it off, push waits again once
// the spilled data has been read.
func (q *queue) setSpill(on bool) {
	q.mu.Lock()
	q.spill = on
	q.cond.Broadcast()
	q.mu.Unlock()
}

// close marks the end of the producer's data.
func (q *queue) close() {
	q.mu.Lock()
	q.eof = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// kill marks the consumer gone (or the node failed): queued data is
// dropped, push drops data, and waiters wake.
func (q *queue) kill() {
	q.mu.Lock()
	q.dead = true
	for _, s := range q.segs[q.head:] {
		s.c.release()
	}
	q.segs, q.head, q.bytes = q.segs[:0], 0, 0
	q.cond.Broadcast()
	q.mu.Unlock()
}

// next returns the oldest queued bytes: either a segment whose chunk the
// caller must release, or spilled data read into scratch (c == nil). It
// returns io.EOF after the last byte, and waits otherwise.
func (q *queue) next(scratch []byte, abort *atomic.Bool) (b []byte, c *chunk, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.err != nil {
			return nil, nil, q.err
		}
		if q.dead || abort.Load() {
			return nil, nil, errCanceled
		}
		if q.head < len(q.segs) {
			s := q.segs[q.head]
			q.segs[q.head] = seg{}
			q.head++
			if q.head == len(q.segs) {
				q.segs, q.head = q.segs[:0], 0
			}
			q.bytes -= len(s.b)
			q.cond.Broadcast()
			return s.b, s.c, nil
		}
		if q.spilling {
			if q.fr == q.fw {
				// Caught up: back to memory, and give the disk back.
				q.spilling = false
				q.fr, q.fw = 0, 0
				q.file.Truncate(0)
				q.cond.Broadcast()
				continue
			}
			n := int64(len(scratch))
			if rest := q.fw - q.fr; rest < n {
				n = rest
			}
			off := q.fr
			// Read outside the lock: the producer only appends past fw.
			q.mu.Unlock()
			m, err := q.file.ReadAt(scratch[:n], off)
			q.mu.Lock()
			if err != nil && !(err == io.EOF && int64(m) == n) {
				q.err = err
				return nil, nil, err
			}
			q.fr += int64(m)
			return scratch[:m], nil, nil
		}
		if q.eof {
			return nil, nil, io.EOF
		}
		q.cond.Wait()
	}
}

// pending reports whether next has bytes to return without waiting. When
// the consumer has read all the spilled data it also goes back to memory
// (as next does), so that newer data is not spilled while memory is free.
func (q *queue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head < len(q.segs) {
		return true
	}
	if q.spilling && q.fr == q.fw {
		q.spilling = false
		q.fr, q.fw = 0, 0
		q.file.Truncate(0)
	}
	return q.spilling
}

// wake makes waiters look at the abort flag again.
func (q *queue) wake() {
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// free closes the spill file and drops what is left.
func (q *queue) free() {
	q.kill()
	if q.file != nil {
		q.file.Close()
	}
}
