package stream

import (
	"bytes"
	"math"
	"strconv"
	"sync"

	"github.com/tubo-pipes/tubo/graph"
)

// source is the merge's view of one input: the buffer of whole records
// being consumed and the record at its head.
type source struct {
	r   *recReader
	ch  chan recChunk
	cur []byte // whole records; cur[pos:] not yet consumed
	pos int
	rec []byte // head record, pointing into cur
}

// fill makes sure cur[pos:] holds a record; false at end of input. The
// buffer it leaves goes back to the reader only now, after its last record
// has been written out.
func (s *source) fill() bool {
	for s.pos == len(s.cur) {
		if s.cur != nil {
			s.r.free <- s.cur[:cap(s.cur)]
			s.cur = nil
		}
		c, ok := <-s.ch
		if !ok {
			return false
		}
		s.cur, s.pos = c.b, 0
	}
	return true
}

// take makes the next n bytes the head record.
func (s *source) take(n int) {
	s.rec = s.cur[s.pos : s.pos+n]
	s.pos += n
}

// lineLen is the length of the line at b[from:] including its '\n', given
// that b[:from] holds no '\n'. Every buffer ends with '\n', so the search
// always succeeds.
func lineLen(b []byte, from int) int {
	if b[from] == '\n' {
		return from + 1
	}
	return from + bytes.IndexByte(b[from:], '\n') + 1
}

// merger is a tournament (loser) tree over the inputs' head records: with
// p leaves, each record costs exactly log2(p) comparisons, half or less of
// what a binary heap's sift-down needs. Inputs at their end, and padding
// leaves, lose to everything. Ties go to the lower input index, so the
// merge is stable.
type merger struct {
	src  []source
	p    int      // leaves: len(src) rounded up to a power of two
	tree []int32  // tree[0] is the winner, tree[n] the loser at node n
	keys []int64  // numeric key of each head (int modes); MaxInt64 at end
	lex  [][]byte // head without its '\n' (lexical mode)
	done []bool   // input (or padding leaf) has no more records
	mode int
	dec  decoder
}

const (
	modeLex = iota // text, byte-wise
	modeNum        // text, numeric
	modeBin        // binary integers
)

// beats reports whether input a's head goes out before input b's.
func (m *merger) beats(a, b int32) bool {
	if m.mode == modeLex {
		if m.done[a] || m.done[b] {
			return !m.done[a] && m.done[b] || m.done[a] && m.done[b] && a < b
		}
		if c := bytes.Compare(m.lex[a], m.lex[b]); c != 0 {
			return c < 0
		}
		return a < b
	}
	if ka, kb := m.keys[a], m.keys[b]; ka != kb {
		return ka < kb
	}
	return m.tie(a, b)
}

// tie orders two inputs whose int keys are equal (the slow, rare path).
func (m *merger) tie(a, b int32) bool {
	da, db := m.done[a], m.done[b]
	if da || db {
		return !da && db || da && db && a < b
	}
	if k := m.keys[a]; m.mode == modeNum && (k == hugePos || k == hugeNeg) {
		if c := cmpHuge(m.src[a].rec, m.src[b].rec); c != 0 {
			return c < 0
		}
	}
	return a < b
}

func (m *merger) build() {
	win := make([]int32, 2*m.p)
	for i := 0; i < m.p; i++ {
		win[m.p+i] = int32(i)
	}
	for n := m.p - 1; n >= 1; n-- {
		a, b := win[2*n], win[2*n+1]
		if m.beats(b, a) {
			a, b = b, a
		}
		win[n], m.tree[n] = a, b
	}
	m.tree[0] = win[1]
}

// replay runs the matches on w's path to the root after w's head changed.
func (m *merger) replay(w int32) {
	if m.mode == modeLex {
		for n := (int(w) + m.p) >> 1; n >= 1; n >>= 1 {
			if t := m.tree[n]; m.beats(t, w) {
				m.tree[n], w = w, t
			}
		}
		m.tree[0] = w
		return
	}
	// Random inputs make every match a coin flip, so the swap is written
	// as selects (CMOV) rather than a branch that mispredicts half the
	// time; only exact ties take a branch.
	keys, tree := m.keys, m.tree
	kw := keys[w]
	for n := (int(w) + m.p) >> 1; n >= 1; n >>= 1 {
		t := tree[n]
		kt := keys[t]
		swap := kt < kw
		if kt == kw {
			swap = m.tie(t, w)
		}
		loser, win, kwin := t, w, kw
		if swap {
			loser, win, kwin = w, t, kt
		}
		tree[n], w, kw = loser, win, kwin
	}
	tree[0] = w
}

// advance moves input i to its next record and sets its key.
func (m *merger) advance(i int32) {
	s := &m.src[i]
	if !s.fill() {
		m.done[i] = true
		m.keys[i] = math.MaxInt64
		return
	}
	b := s.cur[s.pos:]
	switch m.mode {
	case modeNum:
		k, j := numKey(b)
		m.keys[i] = k
		s.take(lineLen(b, j))
	case modeLex:
		n := lineLen(b, 0)
		s.take(n)
		m.lex[i] = b[:n-1]
	default:
		s.take(m.dec.width)
		m.keys[i] = m.dec.key(b)
	}
}

// ordered runs the k-way merge. Per record it does log2(k) comparisons, a
// key parse fused with the search for the line's end, and a copy into the
// output buffer: nothing is allocated.
func ordered(ins []endpoint, out *endpoint, spec graph.MergeSpec, cn *canceler, res *MergeResult) error {
	width := spec.Record.Width()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	p := 1
	for p < len(ins) {
		p *= 2
	}
	m := &merger{
		src:  make([]source, len(ins)),
		p:    p,
		tree: make([]int32, p),
		keys: make([]int64, p),
		lex:  make([][]byte, p),
		done: make([]bool, p),
		dec:  newDecoder(spec),
	}
	switch {
	case width > 0:
		m.mode = modeBin
	case spec.Numeric:
		m.mode = modeNum
	}
	readers := make([]*recReader, len(ins))
	budget := newBudget(len(ins))
	for i := range ins {
		readers[i] = newRecReader(i, &ins[i], width, len(ins), budget)
		readers[i].live = res.live
		ch := make(chan recChunk, 1)
		m.src[i] = source{r: readers[i], ch: ch}
		wg.Add(1)
		go func(r *recReader) {
			defer wg.Done()
			defer close(ch)
			r.run(ch, stop, cn.r)
		}(readers[i])
	}
	for i := range m.done {
		if i < len(ins) {
			m.advance(int32(i))
		} else {
			m.done[i], m.keys[i] = true, math.MaxInt64
		}
	}
	m.build()

	w := &rawWriter{e: out, cancel: -1, live: res.live}
	var werr error
	ob := make([]byte, 0, mergeOutSize)
	text := width > 0 && spec.Text
	var nrec int64
	for {
		t := m.tree[0]
		if m.done[t] {
			break
		}
		rec := m.src[t].rec
		if len(ob)+len(rec) > cap(ob)-24 {
			if _, werr = w.Write(ob); werr != nil {
				break
			}
			ob = ob[:0]
			if len(rec) > cap(ob)-24 {
				if _, werr = w.Write(rec); werr != nil {
					break
				}
				rec = nil
			}
		}
		switch {
		case text:
			ob = strconv.AppendInt(ob, m.keys[t], 10)
			ob = append(ob, '\n')
		case rec != nil:
			ob = append(ob, rec...)
		}
		nrec++
		m.advance(t)
		m.replay(t)
	}
	if werr == nil && len(ob) > 0 {
		_, werr = w.Write(ob)
	}
	res.BytesOut = w.n
	res.Records = nrec
	// Stop the readers (at once if the output failed) and let go of
	// any buffers they are sending.
	close(stop)
	cn.cancel()
	for i := range m.src {
		for range m.src[i].ch {
		}
	}
	wg.Wait()
	return mergeErrs(readers, res, werr)
}
