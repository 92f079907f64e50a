package stream

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/tubo-pipes/tubo/graph"
)

// reassemble is the gather of a scatter: input i is what the scatter's
// output i became, chunk by chunk, and the merge writes chunk 0 from input
// 0, chunk 1 from input 1, …, chunk k from input k mod n, each of the size
// the scatter cut (spec.Chunk), so that the output is what one copy would
// have written for the whole input. That holds when each copy writes one
// record per record it reads (a map: awk '{print …}', sed 's/…/…/', cut,
// tr); the merge checks at the end that no input holds more than its
// share.
//
// Every input is read by its own goroutine into a queue from the start,
// and queues spill to unlinked files past concatMemSize, so the scatter
// never blocks on a copy whose output the merge is not reading yet: a
// copy that buffers its output (stdio does) would otherwise hold back the
// chunk the merge waits for while the scatter waits for room in another.
func reassemble(ins []endpoint, out *endpoint, spec graph.MergeSpec, cn *canceler, res *MergeResult) error {
	var (
		abort atomic.Bool
		errs  firstErr
		wg    sync.WaitGroup
	)
	c := spec.Chunk
	if c.Size < 1 {
		return fmt.Errorf("merge: reassemble needs the chunk size of its scatter")
	}
	qs := make([]*queue, len(ins))
	for i := range qs {
		qs[i] = newQueue(concatMemSize, true, "")
		defer qs[i].free()
	}
	stop := func() {
		abort.Store(true)
		cn.cancel()
		for _, q := range qs {
			q.wake()
		}
	}
	readers(ins, qs, cn, &abort, &errs, stop, res, func(i int) string { return copyName(c, i) }, &wg)

	r := &reassembler{qs: qs, abort: &abort, spec: c, scratch: make([]byte, mergeBufSize), carry: make([]seg, len(ins))}
	err := r.run(out, res)
	if err != nil {
		errs.set(err)
	}
	stop()
	wg.Wait()
	for _, s := range r.carry {
		if s.c != nil {
			s.c.release()
		}
	}
	return errs.get()
}

// reassembler writes the chunks back in order.
type reassembler struct {
	qs      []*queue
	abort   *atomic.Bool
	spec    graph.ChunkSpec
	scratch []byte
	// carry is, per input, what is left of its last segment after a chunk
	// ended inside it.
	carry []seg
}

// take returns input i's next bytes: its carry, or its queue's next
// segment. io.EOF means the input is done.
func (r *reassembler) take(i int) (seg, error) {
	if s := r.carry[i]; len(s.b) > 0 {
		r.carry[i] = seg{}
		return s, nil
	}
	b, c, err := r.qs[i].next(r.scratch, r.abort)
	if err != nil {
		return seg{}, err
	}
	if c == nil {
		// Spilled data, read into scratch: copy it, since scratch is
		// reused by the next read of any input.
		b = append([]byte(nil), b...)
	}
	return seg{c: c, b: b}, nil
}

func (r *reassembler) run(out *endpoint, res *MergeResult) error {
	n := len(r.qs)
	for k := 0; ; k++ {
		i := k % n
		left := int64(r.spec.Size)
		if r.spec.By != graph.ChunkLines {
			left = r.spec.Bytes()
		}
		ended := false
		for left > 0 {
			s, err := r.take(i)
			if err == io.EOF {
				ended = true
				break
			}
			if err == errCanceled {
				return nil
			}
			if err != nil {
				return fmt.Errorf("merge: %s: spill: %w", copyName(r.spec, i), err)
			}
			m := cutChunk(s.b, &left, r.spec.By == graph.ChunkLines)
			w, err := out.writeAll(s.b[:m], -1)
			res.addOut(int64(w))
			if r.spec.By == graph.ChunkLines {
				res.Records += int64(bytes.Count(s.b[:m], []byte{'\n'}))
			}
			if m < len(s.b) {
				r.carry[i] = seg{c: s.c, b: s.b[m:]}
			} else if s.c != nil {
				s.c.release()
			}
			if err != nil {
				return outErr(err)
			}
		}
		if !ended {
			continue
		}
		// Input i ended within (or at the start of) its chunk k: that is
		// the last chunk, so every other input must be done too.
		for j := 1; j < n; j++ {
			o := (i + j) % n
			s, err := r.take(o)
			if err == io.EOF || err == errCanceled {
				continue
			}
			if err != nil {
				return fmt.Errorf("merge: %s: spill: %w", copyName(r.spec, o), err)
			}
			if s.c != nil {
				s.c.release()
			}
			return fmt.Errorf("merge: reassemble: %s ended at chunk %d but %s wrote more: a copy must write one record per record it reads (use mode: interleave or concat for filters that drop or add records)", copyName(r.spec, i), k, copyName(r.spec, o))
		}
		if r.spec.By == graph.ChunkRecords {
			res.Records = res.BytesOut / int64(r.spec.Width)
		}
		return nil
	}
}

// cutChunk says how many bytes at the start of b the chunk still takes,
// counting them off left (lines, or bytes).
func cutChunk(b []byte, left *int64, lines bool) int {
	if !lines {
		if int64(len(b)) <= *left {
			*left -= int64(len(b))
			return len(b)
		}
		n := int(*left)
		*left = 0
		return n
	}
	i := 0
	for *left > 0 {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return len(b)
		}
		i += j + 1
		*left--
	}
	return i
}

// copyName names input i of a reassembling merge: the scattered stage's
// copy, work[2], when the stage is known.
func copyName(c graph.ChunkSpec, i int) string {
	if c.Stage != "" {
		return fmt.Sprintf("%s[%d]", c.Stage, i)
	}
	return fmt.Sprintf("input %d", i)
}
