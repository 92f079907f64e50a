package stream

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/tubo-pipes/tubo/graph"
)

// concat writes each input in turn. A goroutine per input reads it into a
// queue at once; queues of inputs not yet due spill past concatMemSize, the
// queue being written waits for the output instead.
func concat(ins []endpoint, out *endpoint, spec graph.MergeSpec, cn *canceler, res *MergeResult) error {
	var (
		abort atomic.Bool
		errs  firstErr
		wg    sync.WaitGroup
	)
	qs := make([]*queue, len(ins))
	for i := range qs {
		qs[i] = newQueue(concatMemSize, i > 0, "")
		defer qs[i].free()
	}
	stop := func() {
		abort.Store(true)
		cn.cancel()
		for _, q := range qs {
			q.wake()
		}
	}
	readers(ins, qs, cn, &abort, &errs, stop, res, func(i int) string { return ins[i].label(i) }, &wg)

	width := spec.Record.Width()
	var text *textOut // output: text: binary records as decimal lines
	if width > 0 && spec.Text {
		text = newTextOut(spec)
	}
	scratch := make([]byte, mergeBufSize)
	for i, q := range qs {
		q.setSpill(false)
		var last byte = '\n'
		var rest int64 // bytes of this input's last record so far
		for {
			b, c, err := q.next(scratch, &abort)
			if err == io.EOF || err == errCanceled {
				break
			}
			if err != nil {
				errs.set(fmt.Errorf("merge: %s: spill: %w", ins[i].label(i), err))
				stop()
				break
			}
			if width == 0 {
				res.Records += int64(bytes.Count(b, []byte{'\n'}))
				last = b[len(b)-1]
			} else {
				rest += int64(len(b))
				res.Records += rest / int64(width)
				rest %= int64(width)
			}
			ob := b
			if text != nil {
				ob = text.convert(b)
			}
			n, err := out.writeAll(ob, -1)
			res.addOut(int64(n))
			if c != nil {
				c.release()
			}
			if err != nil {
				errs.set(outErr(err))
				stop()
				break
			}
		}
		if width == 0 && last != '\n' {
			res.Records++ // an unterminated last line is a record too
		}
		if rest != 0 && !abort.Load() {
			// The next input's records would be read out of step with
			// the record size: an error naming this input, not a
			// misaligned rest.
			errs.set(partialRecord(ins[i].label(i), int(rest), width))
			stop()
			break
		}
		if abort.Load() {
			break
		}
	}
	stop()
	wg.Wait()
	return errs.get()
}
