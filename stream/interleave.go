package stream

import (
	"bytes"
	"sync"

	"github.com/tubo-pipes/tubo/graph"
)

// interleave writes runs of whole records in the order the input
// goroutines deliver them. Small runs are gathered in an output buffer
// that is flushed whenever no other run is waiting, so a trickle of lines
// still goes out at once while a flood goes out in large writes.
func interleave(ins []endpoint, out *endpoint, spec graph.MergeSpec, cn *canceler, res *MergeResult) error {
	width := spec.Record.Width()
	readers := make([]*recReader, len(ins))
	budget := newBudget(len(ins))
	ch := make(chan recChunk, 2*len(ins))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ins {
		readers[i] = newRecReader(i, &ins[i], width, len(ins), budget)
		readers[i].live = res.live
		wg.Add(1)
		go func(r *recReader) {
			defer wg.Done()
			r.run(ch, stop, cn.r)
		}(readers[i])
	}
	go func() {
		wg.Wait()
		close(ch)
	}()

	var werr error
	stopped := false
	ob := make([]byte, 0, mergeOutSize)
	var text *textOut // output: text: binary records as decimal lines
	if width > 0 && spec.Text {
		text = newTextOut(spec)
	}
	flush := func() {
		if len(ob) > 0 && werr == nil {
			n, err := out.writeAll(ob, -1)
			res.addOut(int64(n))
			werr = err
		}
		ob = ob[:0]
	}
	for c := range ch {
		if werr == nil {
			if width == 0 {
				res.Records += int64(bytes.Count(c.b, []byte{'\n'}))
			} else {
				res.Records += int64(len(c.b) / width)
			}
			b := c.b
			if text != nil {
				b = text.convert(b) // whole records: nothing kept
			}
			big := len(b) >= cap(ob)/4
			if big || len(b) > cap(ob)-len(ob) {
				flush() // what came first goes first
			}
			if big {
				n, err := out.writeAll(b, -1)
				res.addOut(int64(n))
				werr = err
			} else {
				ob = append(ob, b...)
			}
		}
		readers[c.idx].free <- c.b[:cap(c.b)]
		if len(ch) == 0 {
			flush()
		}
		if werr != nil && !stopped {
			// Stop the readers; keep draining ch until they are gone.
			close(stop)
			stopped = true
			cn.cancel()
		}
	}
	flush()
	return mergeErrs(readers, res, werr)
}

// mergeErrs gathers the readers' byte counts and the first error, an
// output error first.
func mergeErrs(readers []*recReader, res *MergeResult, werr error) error {
	var err error
	if werr != nil {
		err = outErr(werr)
	}
	for i, r := range readers {
		res.BytesIn[i] = r.bytes
		if err == nil && r.err != nil {
			err = r.err
		}
	}
	return err
}
