package stream

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// readers starts a goroutine per input that reads it to its end into its
// queue, as a merge that must never let a producer stall needs: concat
// and reassemble. name(i) names input i in messages. Each goroutine
// closes its queue when done; on a read error it sets errs and calls
// stop. Bytes read are counted into res.BytesIn.
func readers(ins []endpoint, qs []*queue, cn *canceler, abort *atomic.Bool, errs *firstErr, stop func(), res *MergeResult, name func(int) string, wg *sync.WaitGroup) {
	var pool sync.Pool
	for i := range ins {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer qs[i].close()
			c := getChunk(&pool, mergeBufSize)
			defer func() { c.release() }()
			off := 0
			for !abort.Load() {
				if len(c.buf)-off < mergeBufSize/8 {
					c.release()
					c, off = getChunk(&pool, mergeBufSize), 0
				}
				n, err := ins[i].read(c.buf[off:], cn.r)
				if err == io.EOF || err == errCanceled {
					return
				}
				if err != nil {
					errs.set(fmt.Errorf("merge: %s: %w", name(i), err))
					stop()
					return
				}
				res.addIn(i, int64(n))
				c.refs.Add(1)
				qs[i].push(seg{c: c, b: c.buf[off : off+n]}, abort)
				off += n
			}
		}(i)
	}
}
