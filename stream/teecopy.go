package stream

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// teeCopy is the portable Tee: one goroutine reads in into shared chunks
// and queues each read on every live output; one goroutine per output
// writes its queue out. Without Spill a full queue makes the reader wait
// (the slowest reader sets the pace, memory stays at a few buffers per
// output); with Spill it spills instead.
func teeCopy(in *endpoint, outs []endpoint, opt TeeOptions, res *TeeResult) error {
	bufSize := opt.BufSize
	if bufSize <= 0 {
		bufSize = defaultBufSize
	}
	limit := 4 * bufSize
	if opt.Spill {
		limit = opt.SpillMem
		if limit <= 0 {
			limit = defaultSpillMem
		}
	}
	cn, err := newCanceler()
	if err != nil {
		return err
	}
	defer cn.close()

	var (
		abort   atomic.Bool
		failMu  sync.Mutex
		failErr error
		pool    sync.Pool
		wg      sync.WaitGroup
	)
	qs := make([]*queue, len(outs))
	for i := range qs {
		qs[i] = newQueue(limit, opt.Spill, opt.SpillDir)
		defer qs[i].free()
	}
	fail := func(err error) {
		failMu.Lock()
		if failErr == nil {
			failErr = err
		}
		failMu.Unlock()
		abort.Store(true)
		cn.cancel()
		for _, q := range qs {
			q.wake()
		}
	}
	var alive atomic.Int32
	alive.Store(int32(len(outs)))

	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			q, out := qs[i], &outs[i]
			// Close each output when it is done, not when all are: a
			// reader may wait for this EOF before it reads another
			// output (a diamond with a sequential merge).
			defer out.f.Close()
			scratch := make([]byte, bufSize)
			for {
				b, c, err := q.next(scratch, &abort)
				if err == io.EOF || err == errCanceled {
					return
				}
				if err != nil {
					fail(fmt.Errorf("tee: output %d: spill: %w", i, err))
					return
				}
				n, err := out.writeAll(b, cn.r)
				if c != nil {
					c.release()
				}
				res.addOut(i, int64(n))
				if err == nil {
					continue
				}
				if err == errCanceled {
					return
				}
				if errors.Is(err, unix.EPIPE) {
					res.Dropped[i] = true
					q.kill()
					if opt.FailOnReaderExit {
						fail(readerGone(i, err))
					} else if alive.Add(-1) == 0 {
						// Nobody is left to feed: stop the reader.
						cn.cancel()
					}
					return
				}
				fail(fmt.Errorf("tee: output %d: %w", i, err))
				return
			}
		}(i)
	}

	var readErr error
	c := getChunk(&pool, bufSize)
	off := 0
	for !abort.Load() && alive.Load() > 0 {
		if len(c.buf)-off < bufSize/8 {
			c.release()
			c, off = getChunk(&pool, bufSize), 0
		}
		n, err := in.read(c.buf[off:], cn.r)
		if err != nil {
			if err != io.EOF && err != errCanceled {
				readErr = fmt.Errorf("tee: input: %w", err)
			}
			break
		}
		res.addIn(int64(n))
		s := seg{c: c, b: c.buf[off : off+n : off+n]}
		off += n
		for _, q := range qs {
			c.refs.Add(1)
			q.push(s, &abort)
		}
	}
	c.release()
	for _, q := range qs {
		q.close()
	}
	wg.Wait()
	if readErr != nil {
		fail(readErr)
	}
	return failErr
}
