package stream

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// runMerge feeds inputs through real pipes into Merge and returns what the
// output reader got.
func runMerge(t *testing.T, inputs [][]byte, spec graph.MergeSpec, blocking bool, ro readerOpts) (MergeResult, []byte) {
	t.Helper()
	ins := make([]*os.File, len(inputs))
	prods := make([]<-chan error, len(inputs))
	for i, d := range inputs {
		r, w := newPipe(t, blocking)
		ins[i] = r
		prods[i] = produce(w, d, int64(i))
	}
	outR, outW := newPipe(t, blocking)
	got := consume(outR, ro)
	live := executor.NewCounts(len(ins), 1)
	res := MergeLive(ins, outW, spec, live)
	out := <-got
	// Every case also checks the live counts: at the end they are the
	// result's, byte for byte.
	if in, o := live.In(), live.Out(); !slices.Equal(in, res.BytesIn) || o[0] != res.BytesOut {
		t.Errorf("live counts in %v out %v; the result says in %v out %d", in, o, res.BytesIn, res.BytesOut)
	}
	for i, p := range prods {
		if err := <-p; err != nil && res.Err == nil {
			t.Errorf("producer %d: %v", i, err)
		}
	}
	return res, out
}

// randSizes are the input sizes that the tests mix: empty, tiny, around a
// pipe buffer, and several MiB.
var randSizes = []int{0, 1, 2, 100, 65535, 65536, 70000, 1 << 20, 3<<20 + 5}

func pickSizes(rng *rand.Rand, k int) []int {
	s := make([]int, k)
	for i := range s {
		s[i] = randSizes[rng.Intn(len(randSizes))]
	}
	return s
}

func TestMergeConcat(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for iter := 0; iter < 12; iter++ {
		k := 1 + rng.Intn(5)
		sizes := pickSizes(rng, k)
		if iter == 0 {
			sizes = []int{0, 9 << 20} // empty, then huge: the huge one must be read ahead
		}
		if iter == 1 {
			sizes = []int{9 << 20, 0, 5}
		}
		k = len(sizes)
		inputs := make([][]byte, k)
		var want []byte
		lines := int64(0)
		for i := range inputs {
			inputs[i] = randLines(rng, sizes[i])
			want = append(want, inputs[i]...)
			lines += int64(bytes.Count(inputs[i], []byte{'\n'}))
			if len(inputs[i]) > 0 && inputs[i][len(inputs[i])-1] != '\n' {
				lines++
			}
		}
		blocking := iter%2 == 0
		t.Run(fmt.Sprint(sizes, blocking), func(t *testing.T) {
			res, out := runMerge(t, inputs, graph.MergeSpec{Mode: graph.Concat}, blocking, readerOpts{})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("got %d bytes, want %d (equal prefix %d)", len(out), len(want), commonPrefix(out, want))
			}
			if res.BytesOut != int64(len(want)) || res.Records != lines {
				t.Errorf("BytesOut=%d Records=%d, want %d %d", res.BytesOut, res.Records, len(want), lines)
			}
			for i := range inputs {
				if res.BytesIn[i] != int64(len(inputs[i])) {
					t.Errorf("BytesIn[%d]=%d want %d", i, res.BytesIn[i], len(inputs[i]))
				}
			}
		})
	}
}

// randLines makes about n bytes of random lines (random lengths, random
// bytes other than '\n'); the last line may lack its '\n'.
func randLines(rng *rand.Rand, n int) []byte {
	b := make([]byte, 0, n)
	for len(b) < n {
		l := rng.Intn(40)
		if rng.Intn(100) == 0 {
			l = rng.Intn(200000) // some lines longer than a pipe
		}
		for j := 0; j < l && len(b) < n-1; j++ {
			b = append(b, 'a'+byte(rng.Intn(26)))
		}
		b = append(b, '\n')
	}
	if len(b) > 0 && rng.Intn(3) == 0 {
		b = b[:len(b)-1]
	}
	return b[:min(len(b), n)]
}

// taggedLines makes lines "I:SEQ:padding\n" for input i so that the output
// can be checked record by record.
func taggedLines(rng *rand.Rand, i, n int) []byte {
	var b []byte
	for seq := 0; len(b) < n; seq++ {
		b = fmt.Appendf(b, "%d:%d:", i, seq)
		l := rng.Intn(30)
		if rng.Intn(500) == 0 {
			l = 100000 + rng.Intn(300000) // longer than a merge buffer
		}
		b = append(b, bytes.Repeat([]byte{'x'}, l)...)
		b = append(b, '\n')
	}
	return b
}

func TestMergeInterleaveLines(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for iter := 0; iter < 10; iter++ {
		k := 1 + rng.Intn(6)
		sizes := pickSizes(rng, k)
		inputs := make([][]byte, k)
		for i := range inputs {
			inputs[i] = taggedLines(rng, i, sizes[i])
		}
		if iter == 0 {
			inputs = append(inputs, []byte(fmt.Sprintf("%d:0:no newline", k)))
		}
		ro := readerOpts{}
		if iter%3 == 1 {
			ro = readerOpts{chunk: 4096, sleep: 10 * time.Microsecond}
		}
		t.Run(fmt.Sprint(iter, sizes), func(t *testing.T) {
			res, out := runMerge(t, inputs, graph.MergeSpec{Mode: graph.Interleave}, iter%2 == 0, ro)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			// Every output line is a whole input line, each input's lines
			// come out in order, none is lost or repeated.
			next := make([]int, len(inputs))
			want := make([][][]byte, len(inputs))
			total := 0
			for i, in := range inputs {
				want[i] = bytes.SplitAfter(in, []byte{'\n'})
				if len(want[i][len(want[i])-1]) == 0 {
					want[i] = want[i][:len(want[i])-1]
				} else {
					last := &want[i][len(want[i])-1]
					*last = append(*last, '\n') // documented: a '\n' is added
				}
				total += len(want[i])
			}
			lines := bytes.SplitAfter(out, []byte{'\n'})
			if len(lines[len(lines)-1]) != 0 {
				t.Fatalf("output does not end in a newline")
			}
			lines = lines[:len(lines)-1]
			if len(lines) != total || res.Records != int64(total) {
				t.Fatalf("got %d lines (Records=%d), want %d", len(lines), res.Records, total)
			}
			for n, l := range lines {
				var i int
				if _, err := fmt.Sscanf(string(l), "%d:", &i); err != nil || i < 0 || i >= len(inputs) {
					t.Fatalf("line %d %.40q: not from an input", n, l)
				}
				if next[i] >= len(want[i]) || !bytes.Equal(l, want[i][next[i]]) {
					t.Fatalf("line %d %.40q: want input %d's line %d", n, l, i, next[i])
				}
				next[i]++
			}
		})
	}
}

func TestMergeInterleaveBinary(t *testing.T) {
	for _, rec := range []graph.RecordFormat{graph.Int32, graph.Int64} {
		w := rec.Width()
		k := 5
		inputs := make([][]byte, k)
		counts := []int{0, 1, 20000, 300000, 1000}
		for i := range inputs {
			for seq := 0; seq < counts[i]; seq++ {
				v := uint64(i)<<24 | uint64(seq)
				inputs[i] = binary.LittleEndian.AppendUint64(inputs[i], v)[:len(inputs[i])+w]
			}
		}
		res, out := runMerge(t, inputs, graph.MergeSpec{Mode: graph.Interleave, Record: rec, Order: graph.LittleEndian}, false, readerOpts{chunk: 4093})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		next := make([]int, k)
		for off := 0; off+w <= len(out); off += w {
			v := binary.LittleEndian.Uint32(out[off:])
			i, seq := int(v>>24), int(v&(1<<24-1))
			if i >= k || seq != next[i] {
				t.Fatalf("%v record at %d: input %d seq %d, want seq %d", rec, off, i, seq, next[i])
			}
			next[i]++
		}
		for i := range next {
			if next[i] != counts[i] {
				t.Errorf("%v input %d: %d records, want %d", rec, i, next[i], counts[i])
			}
		}
		if len(out)%w != 0 || res.Records != int64(len(out)/w) {
			t.Errorf("%v: %d bytes, Records=%d", rec, len(out), res.Records)
		}
	}
}

// oracleKey is the test's own reading of a numeric key: a regexp and
// math/big, independent of numKey.
var numRe = regexp.MustCompile(`^[ \t]*(-?[0-9]+)`)

func oracleKey(line []byte) *big.Int {
	v := new(big.Int)
	if m := numRe.FindSubmatch(line); m != nil {
		v.SetString(string(m[1]), 10)
	}
	return v
}

// oracleRec is a line with its key computed once.
type oracleRec struct {
	line []byte
	num  *big.Int
	in   int
}

func newOracleRec(line []byte, in int) oracleRec {
	return oracleRec{line: line, num: oracleKey(line), in: in}
}

func oracleLess(numeric bool) func(a, b oracleRec) bool {
	if numeric {
		return func(a, b oracleRec) bool { return a.num.Cmp(b.num) < 0 }
	}
	return func(a, b oracleRec) bool {
		return string(bytes.TrimSuffix(a.line, []byte{'\n'})) < string(bytes.TrimSuffix(b.line, []byte{'\n'}))
	}
}

// randKeyLine makes a line whose number (and text) is random, with blanks,
// signs, leading zeros, huge numbers and no number at all mixed in.
func randKeyLine(rng *rand.Rand, i int) []byte {
	var b []byte
	for n := rng.Intn(3); n > 0; n-- {
		b = append(b, " \t"[rng.Intn(2)])
	}
	switch r := rng.Intn(20); {
	case r == 0: // no number
	case r == 1: // huge
		if rng.Intn(2) == 0 {
			b = append(b, '-')
		}
		for n := 19 + rng.Intn(5); n > 0; n-- {
			b = append(b, '0'+byte(rng.Intn(10)))
		}
	case r == 2:
		b = append(b, "-0"...)
	case r == 3:
		b = append(b, "007"...)
	default:
		b = strconv.AppendInt(b, rng.Int63n(2000)-1000, 10)
	}
	if rng.Intn(2) == 0 {
		b = fmt.Appendf(b, " %c%d", 'a'+rng.Intn(4), i)
	}
	return append(b, '\n')
}

func TestMergeOrderedText(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for iter := 0; iter < 16; iter++ {
		numeric := iter%2 == 0
		k := 1 + rng.Intn(8)
		less := oracleLess(numeric)
		inputs := make([][]byte, k)
		var all []oracleRec
		for i := range inputs {
			var lines []oracleRec
			n := []int{0, 1, 5, 1000, 20000, 100000}[rng.Intn(6)]
			if raceEnabled {
				// The big.Int oracle is what the race detector slows
				// down (157 s in CI's make test-race); the merge's
				// concurrency is the same with fewer lines.
				n = min(n, 2000)
			}
			for j := 0; j < n; j++ {
				lines = append(lines, newOracleRec(randKeyLine(rng, i), i))
			}
			sort.SliceStable(lines, func(a, b int) bool { return less(lines[a], lines[b]) })
			for _, l := range lines {
				inputs[i] = append(inputs[i], l.line...)
				all = append(all, l)
			}
		}
		// The oracle: all records in input order, stably sorted.
		sort.SliceStable(all, func(a, b int) bool { return less(all[a], all[b]) })
		var want []byte
		for _, r := range all {
			want = append(want, r.line...)
		}
		spec := graph.MergeSpec{Mode: graph.Ordered, Numeric: numeric}
		t.Run(fmt.Sprintf("%d/numeric=%v/k=%d", iter, numeric, k), func(t *testing.T) {
			res, out := runMerge(t, inputs, spec, iter%4 < 2, readerOpts{})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if !bytes.Equal(out, want) {
				p := commonPrefix(out, want)
				t.Fatalf("output differs at byte %d: got %.60q want %.60q", p, out[p:], want[p:])
			}
			if res.Records != int64(len(all)) {
				t.Errorf("Records=%d want %d", res.Records, len(all))
			}
		})
	}
}

// A last line without '\n' gets one in ordered mode.
func TestMergeOrderedNoFinalNewline(t *testing.T) {
	inputs := [][]byte{[]byte("b\nd"), []byte("a\nc\ne")}
	res, out := runMerge(t, inputs, graph.MergeSpec{Mode: graph.Ordered}, true, readerOpts{})
	if res.Err != nil || string(out) != "a\nb\nc\nd\ne\n" {
		t.Fatalf("got %q, %v", out, res.Err)
	}
}

func putRec(b []byte, v int64, w int, order binary.AppendByteOrder) []byte {
	if w == 4 {
		return order.AppendUint32(b, uint32(int32(v)))
	}
	return order.AppendUint64(b, uint64(v))
}

func TestMergeOrderedBinary(t *testing.T) {
	orders := map[graph.ByteOrder]binary.AppendByteOrder{
		graph.LittleEndian: binary.LittleEndian,
		graph.BigEndian:    binary.BigEndian,
		graph.HostOrder:    binary.NativeEndian,
	}
	rng := rand.New(rand.NewSource(11))
	for _, rec := range []graph.RecordFormat{graph.Int32, graph.Int64} {
		for go_, bo := range orders {
			for _, text := range []bool{false, true} {
				w := rec.Width()
				k := 1 + rng.Intn(8)
				inputs := make([][]byte, k)
				type r struct {
					v  int64
					in int
				}
				var all []r
				for i := range inputs {
					n := []int{0, 1, 3, 17000, 100000}[rng.Intn(5)]
					vals := make([]int64, n)
					for j := range vals {
						if w == 4 {
							vals[j] = int64(int32(rng.Uint32()))
						} else {
							vals[j] = int64(rng.Uint64())
						}
						if rng.Intn(4) == 0 {
							vals[j] = int64(rng.Intn(5)) - 2 // ties
						}
					}
					sort.Slice(vals, func(a, b int) bool { return vals[a] < vals[b] })
					for _, v := range vals {
						inputs[i] = putRec(inputs[i], v, w, bo)
						all = append(all, r{v, i})
					}
				}
				sort.SliceStable(all, func(a, b int) bool { return all[a].v < all[b].v })
				var want []byte
				for _, x := range all {
					if text {
						want = strconv.AppendInt(want, x.v, 10)
						want = append(want, '\n')
					} else {
						want = putRec(want, x.v, w, bo)
					}
				}
				spec := graph.MergeSpec{Mode: graph.Ordered, Record: rec, Order: go_, Text: text}
				t.Run(fmt.Sprintf("%v/%v/text=%v/k=%d", rec, go_, text, k), func(t *testing.T) {
					res, out := runMerge(t, inputs, spec, text, readerOpts{chunk: 1 << 20})
					if res.Err != nil {
						t.Fatal(res.Err)
					}
					if !bytes.Equal(out, want) {
						t.Fatalf("output differs at byte %d of %d", commonPrefix(out, want), len(want))
					}
					if res.Records != int64(len(all)) {
						t.Errorf("Records=%d want %d", res.Records, len(all))
					}
				})
			}
		}
	}
}

// A partial binary record at the end of an input is an error naming that
// input, in every mode (a concat used to carry it into the next input,
// misaligning the rest, and exit 0).
func TestMergeBinaryPartial(t *testing.T) {
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		inputs := [][]byte{{1, 0, 0, 0, 2, 0, 0, 0}, {1, 0, 0, 0, 9}, {3, 0, 0, 0}}
		res, _ := runMerge(t, inputs, graph.MergeSpec{Mode: mode, Record: graph.Int32, Order: graph.LittleEndian}, true, readerOpts{})
		if res.Err == nil || !strings.Contains(res.Err.Error(), "input 1: its last 1 bytes do not make a whole 4-byte record") {
			t.Errorf("%v: err %v, want one about input 1's partial record", mode, res.Err)
		}
	}
}

// output: text writes binary records as decimal lines in every mode (it
// used to be ignored by interleave and concat, which wrote binary).
func TestMergeBinaryAsText(t *testing.T) {
	le := binary.LittleEndian
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		var a, b []byte
		for i := range 100000 {
			a = putRec(a, int64(2*i), 4, le)
			b = putRec(b, int64(-2*i-1), 4, le)
		}
		res, out := runMerge(t, [][]byte{a, b}, graph.MergeSpec{Mode: mode, Record: graph.Int32, Order: graph.LittleEndian, Text: true}, true, readerOpts{})
		if res.Err != nil {
			t.Fatalf("%v: %v", mode, res.Err)
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != 200000 || res.Records != 200000 {
			t.Fatalf("%v: %d lines, %d records", mode, len(lines), res.Records)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			seen[l] = true
		}
		for _, want := range []string{"0", "199998", "-1", "-199999"} {
			if !seen[want] {
				t.Errorf("%v: no line %q", mode, want)
			}
		}
		if mode == graph.Concat && (lines[0] != "0" || lines[100000] != "-1") {
			t.Errorf("concat: lines %q, %q", lines[0], lines[100000])
		}
		if int64(len(out)) != res.BytesOut {
			t.Errorf("%v: BytesOut %d, wrote %d", mode, res.BytesOut, len(out))
		}
	}
}

// A line longer than MaxRecord is an error in the modes that hold whole
// records (interleave, ordered), not unbounded memory, and the work stays
// linear: each byte is searched for '\n' once (a 256 MiB line used to take
// 13 s and 1.06 GB). A concat merge passes it through.
func TestMergeLongLine(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, MaxRecord+1)
	for _, mode := range []graph.MergeMode{graph.Interleave, graph.Ordered} {
		res, _ := runMerge(t, [][]byte{[]byte("a\n"), long}, graph.MergeSpec{Mode: mode}, true, readerOpts{})
		if res.Err == nil || !strings.Contains(res.Err.Error(), "input 1: a record longer than 64 MiB") {
			t.Errorf("%v: err %v", mode, res.Err)
		}
	}
	// Just under the limit: it goes through whole.
	ok := append(bytes.Repeat([]byte{'y'}, MaxRecord/2), '\n')
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		res, out := runMerge(t, [][]byte{[]byte("a\n"), ok}, graph.MergeSpec{Mode: mode}, true, readerOpts{})
		if res.Err != nil || len(out) != len(ok)+2 {
			t.Errorf("%v: err %v, %d bytes out", mode, res.Err, len(out))
		}
	}
}

// When the output's reader goes away, the merge stops with an error and
// closes its inputs, so the producers get EPIPE rather than hang.
func TestMergeOutputGone(t *testing.T) {
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		for _, blocking := range []bool{true, false} {
			rng := rand.New(rand.NewSource(1))
			inputs := [][]byte{randLines(rng, 6<<20), randLines(rng, 6<<20)}
			inputs[0] = append(inputs[0], '\n')
			inputs[1] = append(inputs[1], '\n')
			if mode == graph.Ordered {
				inputs = [][]byte{bytes.Repeat([]byte("a\n"), 3<<20), bytes.Repeat([]byte("b\n"), 3<<20)}
			}
			done := make(chan MergeResult)
			go func() {
				res, out := runMerge(t, inputs, graph.MergeSpec{Mode: mode}, blocking, readerOpts{limit: 100000})
				if len(out) != 100000 {
					t.Errorf("reader got %d bytes", len(out))
				}
				done <- res
			}()
			select {
			case res := <-done:
				if !isEPIPE(res.Err) {
					t.Errorf("%v blocking=%v: Err = %v, want EPIPE", mode, blocking, res.Err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%v blocking=%v: merge hangs after its reader left", mode, blocking)
			}
		}
	}
}

func TestMergeNoInputs(t *testing.T) {
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		res, out := runMerge(t, nil, graph.MergeSpec{Mode: mode}, true, readerOpts{})
		if res.Err != nil || len(out) != 0 {
			t.Errorf("%v: %q %v", mode, out, res.Err)
		}
	}
}

// threads is this process's OS thread count.
func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads: line")
	return 0
}

// TestMergeWideFanInThreads: a merge's inputs wait in Go's netpoller, not
// in a poll(2) each, so 512 idle inputs cost no OS thread each (a 1024-way
// fan-in used to run on 1032 threads). Then every input gets one line and
// ends, and the merge's output is whole.
func TestMergeWideFanInThreads(t *testing.T) {
	const k = 512
	for _, mode := range []graph.MergeMode{graph.Concat, graph.Interleave, graph.Ordered} {
		before := threads(t)
		ins := make([]*os.File, k)
		ws := make([]*os.File, k)
		for i := range ins {
			ins[i], ws[i] = newPipe(t, true)
		}
		outR, outW := newPipe(t, true)
		got := consume(outR, readerOpts{})
		done := make(chan MergeResult, 1)
		go func() { done <- Merge(ins, outW, graph.MergeSpec{Mode: mode, Numeric: true}) }()
		// However long the readers take to get to their wait, the count
		// never reaches one thread per input; give them time to try.
		peak := 0
		for range 20 {
			time.Sleep(20 * time.Millisecond)
			peak = max(peak, threads(t))
		}
		if peak-before > 32 {
			t.Errorf("%v: %d idle inputs took %d more OS threads", mode, k, peak-before)
		}
		for i, w := range ws {
			fmt.Fprintf(w, "%d\n", i)
			w.Close()
		}
		res := <-done
		out := <-got
		if res.Err != nil || res.Records != k || bytes.Count(out, []byte{'\n'}) != k {
			t.Errorf("%v: err %v, %d records, %d lines", mode, res.Err, res.Records, bytes.Count(out, []byte{'\n'}))
		}
	}
}
