package stream

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
)

var teeSizes = []int{0, 1, 4095, 65536, 65537, 1<<20 + 3, 5<<20 + 77}

// teeCase runs one Tee over real pipes and checks every output.
type teeCase struct {
	size     int
	readers  []readerOpts
	blocking bool
	opt      TeeOptions
	fileOut  bool // output 0 is a regular file (spliced into, see TestTeeFileZeroCopy)
}

func (c teeCase) name() string {
	return fmt.Sprintf("size=%d/n=%d/blocking=%v/spill=%v/file=%v", c.size, len(c.readers), c.blocking, c.opt.Spill, c.fileOut)
}

func runTee(t *testing.T, c teeCase, seed int64) (TeeResult, []byte, [][]byte) {
	t.Helper()
	data := randBytes(rand.New(rand.NewSource(seed)), c.size)
	inR, inW := newPipe(t, c.blocking)
	prod := produce(inW, data, seed)
	outs := make([]*os.File, len(c.readers))
	got := make([]<-chan []byte, len(c.readers))
	var file *os.File
	for i, ro := range c.readers {
		if i == 0 && c.fileOut {
			f, err := os.CreateTemp(t.TempDir(), "sink")
			if err != nil {
				t.Fatal(err)
			}
			file, outs[i] = f, f
			continue
		}
		r, w := newPipe(t, c.blocking)
		outs[i] = w
		got[i] = consume(r, ro)
	}
	// Every case also checks the live counts: at the end they are the
	// result's, byte for byte.
	live := executor.NewCounts(1, len(outs))
	opt := c.opt
	opt.Live = live
	res := Tee(inR, outs, opt)
	if in, out := live.In(), live.Out(); in[0] != res.BytesIn || !slices.Equal(out, res.BytesOut) {
		t.Errorf("live counts in %v out %v; the result says in %d out %v", in, out, res.BytesIn, res.BytesOut)
	}
	out := make([][]byte, len(c.readers))
	for i := range c.readers {
		if got[i] != nil {
			out[i] = <-got[i]
		} else {
			b, err := os.ReadFile(file.Name())
			if err != nil {
				t.Fatal(err)
			}
			out[i] = b
		}
	}
	if err := <-prod; err != nil && !isEPIPE(err) {
		t.Fatalf("producer: %v", err)
	}
	return res, data, out
}

func TestTeeExact(t *testing.T) {
	seed := int64(1)
	for _, size := range teeSizes {
		for _, n := range []int{1, 2, 3} {
			for _, blocking := range []bool{true, false} {
				for _, mode := range []string{"splice", "spill", "file", "spill+file"} {
					seed++
					c := teeCase{size: size, readers: make([]readerOpts, n), blocking: blocking}
					switch mode {
					case "spill":
						c.opt.Spill = true
						c.opt.SpillMem = 100 << 10 // small, so spilling happens
						c.readers[n-1].sleep = 50 * time.Microsecond
						c.readers[n-1].chunk = 16 << 10
					case "file":
						c.fileOut = true
					case "spill+file":
						// teeSpill's staging pipe into the file.
						c.opt.Spill, c.fileOut = true, true
						c.readers[n-1].sleep = 50 * time.Microsecond
					}
					t.Run(c.name(), func(t *testing.T) {
						t.Parallel()
						res, data, out := runTee(t, c, seed)
						if res.Err != nil {
							t.Fatal(res.Err)
						}
						if res.BytesIn != int64(len(data)) {
							t.Errorf("BytesIn = %d, want %d", res.BytesIn, len(data))
						}
						for i := range out {
							if !bytes.Equal(out[i], data) {
								t.Errorf("output %d: got %d bytes, want %d (equal prefix %d)", i, len(out[i]), len(data), commonPrefix(out[i], data))
							}
							if res.BytesOut[i] != int64(len(data)) || res.Dropped[i] {
								t.Errorf("output %d: BytesOut=%d Dropped=%v", i, res.BytesOut[i], res.Dropped[i])
							}
						}
					})
				}
			}
		}
	}
}

func commonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// A slow reader gets everything and the fast ones are not hurt.
func TestTeeSlowReader(t *testing.T) {
	for _, blocking := range []bool{true, false} {
		c := teeCase{size: 3 << 20, blocking: blocking, readers: []readerOpts{
			{}, {sleep: 200 * time.Microsecond, chunk: 8 << 10}, {chunk: 100},
		}}
		res, data, out := runTee(t, c, 42)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		for i := range out {
			if !bytes.Equal(out[i], data) {
				t.Errorf("blocking=%v output %d: got %d bytes, want %d", blocking, i, len(out[i]), len(data))
			}
		}
	}
}

// A reader that exits early is dropped; the others still get everything.
// With FailOnReaderExit the tee fails instead.
func TestTeeEarlyExit(t *testing.T) {
	for _, blocking := range []bool{true, false} {
		for _, spill := range []bool{false, true} {
			for _, limit := range []int{1, 1000, 300000} {
				name := fmt.Sprintf("blocking=%v/spill=%v/limit=%d", blocking, spill, limit)
				t.Run(name, func(t *testing.T) {
					c := teeCase{size: 4 << 20, blocking: blocking, opt: TeeOptions{Spill: spill},
						readers: []readerOpts{{}, {limit: limit}, {sleep: 20 * time.Microsecond}}}
					res, data, out := runTee(t, c, int64(limit))
					if res.Err != nil {
						t.Fatal(res.Err)
					}
					if !res.Dropped[1] || res.Dropped[0] || res.Dropped[2] {
						t.Errorf("Dropped = %v, want only output 1", res.Dropped)
					}
					if !bytes.Equal(out[1], data[:limit]) {
						t.Errorf("early reader got %d bytes, want the first %d", len(out[1]), limit)
					}
					for _, i := range []int{0, 2} {
						if !bytes.Equal(out[i], data) {
							t.Errorf("output %d: got %d bytes, want %d", i, len(out[i]), len(data))
						}
					}
				})
				t.Run(name+"/fail", func(t *testing.T) {
					c := teeCase{size: 4 << 20, blocking: blocking, opt: TeeOptions{Spill: spill, FailOnReaderExit: true},
						readers: []readerOpts{{}, {limit: limit}, {sleep: 20 * time.Microsecond}}}
					res, _, _ := runTee(t, c, int64(limit))
					if res.Err == nil || !isEPIPE(res.Err) {
						t.Fatalf("Err = %v, want an EPIPE error", res.Err)
					}
					if !res.Dropped[1] {
						t.Errorf("Dropped = %v", res.Dropped)
					}
				})
			}
		}
	}
}

// When every reader exits, the tee closes its input: the producer gets
// EPIPE instead of blocking forever.
func TestTeeAllReadersExit(t *testing.T) {
	for _, blocking := range []bool{true, false} {
		c := teeCase{size: 8 << 20, blocking: blocking, readers: []readerOpts{{limit: 10}, {limit: 70000}}}
		res, _, _ := runTee(t, c, 7)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if !res.Dropped[0] || !res.Dropped[1] {
			t.Errorf("Dropped = %v", res.Dropped)
		}
		if res.BytesIn >= 8<<20 {
			t.Errorf("tee read all %d bytes with no reader left", res.BytesIn)
		}
	}
}

// A reader that is gone before the tee starts.
func TestTeeReaderGoneAtStart(t *testing.T) {
	inR, inW := newPipe(t, true)
	prod := produce(inW, []byte("hello\n"), 1)
	r1, w1 := newPipe(t, true)
	r2, w2 := newPipe(t, true)
	r1.Close()
	got := consume(r2, readerOpts{})
	res := Tee(inR, []*os.File{w1, w2}, TeeOptions{})
	if res.Err != nil || !res.Dropped[0] || res.Dropped[1] {
		t.Fatalf("res = %+v", res)
	}
	if g := <-got; string(g) != "hello\n" {
		t.Errorf("got %q", g)
	}
	<-prod
}

// TestTeeFileZeroCopy: a regular file among a tee's outputs keeps the tee
// on the zero-copy path (it used to force the copy path: every diamond
// with a file reader ran at 2.25× the splice path's time); a file opened
// O_APPEND, which splice(2) refuses, takes the copy path. Both get every
// byte.
func TestTeeFileZeroCopy(t *testing.T) {
	for _, appendMode := range []bool{false, true} {
		data := randBytes(rand.New(rand.NewSource(7)), 5<<20+3)
		inR, inW := newPipe(t, true)
		prod := produce(inW, data, 7)
		path := filepath.Join(t.TempDir(), "sink")
		flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if appendMode {
			flag |= os.O_APPEND
		}
		f, err := os.OpenFile(path, flag, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		r, w := newPipe(t, true)
		got := consume(r, readerOpts{})
		before := teeSplices.Load()
		res := Tee(inR, []*os.File{f, w}, TeeOptions{})
		if err := <-prod; err != nil || res.Err != nil {
			t.Fatalf("append=%v: %v %v", appendMode, err, res.Err)
		}
		spliced := teeSplices.Load() > before
		if spliced == appendMode {
			t.Errorf("append=%v: zero-copy path taken: %v", appendMode, spliced)
		}
		b, _ := os.ReadFile(path)
		if !bytes.Equal(b, data) || !bytes.Equal(<-got, data) {
			t.Errorf("append=%v: file %d bytes, want %d", appendMode, len(b), len(data))
		}
	}
}
