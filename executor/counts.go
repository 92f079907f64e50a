package executor

import "sync/atomic"

// Counts are a running builtin's bytes so far, per input and per output,
// added to by the builtin as bytes move and read by live views from any
// goroutine. The final figures are in BuiltinResult; these are the same
// counts while the run lives. A nil *Counts counts nothing.
type Counts struct {
	in, out []atomic.Int64
}

// NewCounts makes the counters of a builtin with nin inputs and nout
// outputs.
func NewCounts(nin, nout int) *Counts {
	return &Counts{in: make([]atomic.Int64, nin), out: make([]atomic.Int64, nout)}
}

// AddIn counts n more bytes read from input i.
func (c *Counts) AddIn(i int, n int64) {
	if c != nil && i >= 0 && i < len(c.in) {
		c.in[i].Add(n)
	}
}

// AddOut counts n more bytes written to output i.
func (c *Counts) AddOut(i int, n int64) {
	if c != nil && i >= 0 && i < len(c.out) {
		c.out[i].Add(n)
	}
}

// In is the bytes read from each input so far.
func (c *Counts) In() []int64 { return load(c.in) }

// Out is the bytes written to each output so far.
func (c *Counts) Out() []int64 { return load(c.out) }

func load(v []atomic.Int64) []int64 {
	out := make([]int64, len(v))
	for i := range v {
		out[i] = v[i].Load()
	}
	return out
}
