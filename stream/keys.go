package stream

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/tubo-pipes/tubo/graph"
)

// Numeric keys of text lines. A line's key is the integer at its start, as
// sort -n reads it: blanks (space, tab), an optional '-', digits. A number
// of up to 18 significant digits is exact in an int64; a longer one maps to
// hugePos or hugeNeg, beyond every exact key, and two such keys that are
// equal are compared again from the text by cmpHuge.
const (
	maxDigits = 18
	hugePos   = math.MaxInt64
	hugeNeg   = math.MinInt64
)

// numKey parses the key of line (no allocation). It also returns how far
// it read, so that the caller can look for the line's end from there.
func numKey(line []byte) (int64, int) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	neg := false
	if i < len(line) && line[i] == '-' {
		neg = true
		i++
	}
	for i < len(line) && line[i] == '0' {
		i++
	}
	// At most maxDigits+1 digits are read: one more means a huge key.
	lim := min(len(line), i+maxDigits+1)
	start := i
	var v int64
	for ; i < lim; i++ {
		d := line[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + int64(d)
	}
	if i-start > maxDigits {
		if neg {
			return hugeNeg, i
		}
		return hugePos, i
	}
	if neg {
		v = -v
	}
	return v, i
}

// digits returns the significant digits of line's number and whether it
// is negative.
func digits(line []byte) ([]byte, bool) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	neg := i < len(line) && line[i] == '-'
	if neg {
		i++
	}
	for i < len(line) && line[i] == '0' {
		i++
	}
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	return line[i:j], neg
}

// cmpHuge compares two lines whose numbers both have more than maxDigits
// digits and the same sign.
func cmpHuge(a, b []byte) int {
	da, neg := digits(a)
	db, _ := digits(b)
	c := len(da) - len(db)
	if c == 0 {
		c = bytes.Compare(da, db)
	}
	if neg {
		c = -c
	}
	return c
}

// decoder turns a binary record into its value.
type decoder struct {
	width int
	big   bool
}

func newDecoder(spec graph.MergeSpec) decoder {
	d := decoder{width: spec.Record.Width()}
	switch spec.Order {
	case graph.BigEndian:
		d.big = true
	case graph.HostOrder:
		var probe [2]byte
		binary.NativeEndian.PutUint16(probe[:], 1)
		d.big = probe[0] == 0
	}
	return d
}

func (d decoder) key(rec []byte) int64 {
	switch {
	case d.width == 4 && d.big:
		return int64(int32(binary.BigEndian.Uint32(rec)))
	case d.width == 4:
		return int64(int32(binary.LittleEndian.Uint32(rec)))
	case d.big:
		return int64(binary.BigEndian.Uint64(rec))
	}
	return int64(binary.LittleEndian.Uint64(rec))
}

// textOut writes binary records as decimal lines (output: text) for the
// merges that pass records through as they come (interleave, concat). It
// keeps the bytes of a record split between two calls.
type textOut struct {
	dec  decoder
	part []byte // the start of a record cut by the last call
	out  []byte
}

func newTextOut(spec graph.MergeSpec) *textOut {
	return &textOut{dec: newDecoder(spec), part: make([]byte, 0, spec.Record.Width())}
}

// convert returns the text of the whole records in what came before and b
// (valid until the next call), and keeps the rest.
func (t *textOut) convert(b []byte) []byte {
	w := t.dec.width
	t.out = t.out[:0]
	if len(t.part) > 0 {
		k := min(w-len(t.part), len(b))
		t.part = append(t.part, b[:k]...)
		b = b[k:]
		if len(t.part) < w {
			return t.out
		}
		t.out = append(strconv.AppendInt(t.out, t.dec.key(t.part), 10), '\n')
		t.part = t.part[:0]
	}
	for ; len(b) >= w; b = b[w:] {
		t.out = append(strconv.AppendInt(t.out, t.dec.key(b[:w]), 10), '\n')
	}
	t.part = append(t.part, b...)
	return t.out
}
