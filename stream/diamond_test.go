package stream

import (
	"bytes"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
)

// within fails the test if f does not return in d (a deadlock).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: no progress after %v (deadlock)", what, d)
	}
}

// A diamond: source → tee → two pipes → Concat merge → sink. The merge
// wants all of input 1 before any of input 2, so input 2's pipe fills.
func TestDiamondTeeSpillConcat(t *testing.T) {
	for _, spill := range []bool{true, false} {
		data := randBytes(rand.New(rand.NewSource(8)), 8<<20)
		inR, inW := newPipe(t, true)
		prod := produce(inW, data, 8)
		aR, aW := newPipe(t, true)
		bR, bW := newPipe(t, true)
		outR, outW := newPipe(t, true)
		got := consume(outR, readerOpts{})
		var tres TeeResult
		var mres MergeResult
		within(t, 30*time.Second, "diamond", func() {
			done := make(chan struct{})
			go func() {
				tres = Tee(inR, []*os.File{aW, bW}, TeeOptions{Spill: spill, SpillMem: 1 << 20})
				close(done)
			}()
			mres = Merge([]*os.File{aR, bR}, outW, graph.MergeSpec{Mode: graph.Concat})
			<-done
		})
		if tres.Err != nil || mres.Err != nil {
			t.Fatal(tres.Err, mres.Err)
		}
		if out := <-got; !bytes.Equal(out, append(append([]byte{}, data...), data...)) {
			t.Fatalf("spill=%v: diamond output: %d bytes, want %d", spill, len(out), 2*len(data))
		}
		<-prod
	}
}

// With Spill, a reader that reads its pipe only after another one is at
// its end (as a naive merge would) does not stall the tee: the waiting
// output's data goes to memory and a spill file.
func TestTeeSpillSequentialReader(t *testing.T) {
	data := randBytes(rand.New(rand.NewSource(9)), 8<<20)
	inR, inW := newPipe(t, false)
	prod := produce(inW, data, 9)
	aR, aW := newPipe(t, false)
	bR, bW := newPipe(t, false)
	var res TeeResult
	var a, b []byte
	within(t, 30*time.Second, "tee with a sequential reader", func() {
		done := make(chan struct{})
		go func() {
			res = Tee(inR, []*os.File{aW, bW}, TeeOptions{Spill: true, SpillMem: 256 << 10})
			close(done)
		}()
		a = <-consume(aR, readerOpts{})
		b = <-consume(bR, readerOpts{})
		<-done
	})
	if res.Err != nil || !bytes.Equal(a, data) || !bytes.Equal(b, data) {
		t.Fatalf("err=%v a=%d b=%d want %d", res.Err, len(a), len(b), len(data))
	}
	<-prod
}

// heapWatch samples HeapInuse until stop and returns the peak.
func heapWatch(stop <-chan struct{}) <-chan uint64 {
	res := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				res <- peak
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return res
}

// genSorted writes n sorted numeric lines (i*k+j for input j) to w from a
// small buffer, so the test itself holds no stream in memory.
func genSorted(w *os.File, j, k, n int) {
	buf := make([]byte, 0, 64<<10)
	for i := 0; i < n; i++ {
		buf = strconv.AppendInt(buf, int64(i*k+j), 10)
		buf = append(buf, '\n')
		if len(buf) > cap(buf)-32 {
			w.Write(buf)
			buf = buf[:0]
		}
	}
	w.Write(buf)
	w.Close()
}

// 64 MiB through an Ordered merge: the heap stays far below the stream.
func TestMergeOrderedMemoryBounded(t *testing.T) {
	const k, n = 8, 1 << 20 // about 8 × 8 MiB of lines
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	peak := heapWatch(stop)
	ins := make([]*os.File, k)
	for j := range ins {
		r, w := newPipe(t, true)
		ins[j] = r
		go genSorted(w, j, k, n)
	}
	outR, outW := newPipe(t, true)
	var total, lines, bad atomic.Int64
	go func() {
		// Check on the fly: the output is 0, 1, 2, … k*n-1.
		buf := make([]byte, 256<<10)
		want, cur, have := int64(0), int64(0), false
		for {
			m, err := outR.Read(buf)
			for _, c := range buf[:m] {
				if c == '\n' {
					if !have || cur != want {
						bad.Add(1)
					}
					want++
					cur, have = 0, false
					continue
				}
				cur, have = cur*10+int64(c-'0'), true
			}
			total.Add(int64(m))
			if err != nil {
				break
			}
		}
		lines.Store(want)
		outR.Close()
	}()
	res := Merge(ins, outW, graph.MergeSpec{Mode: graph.Ordered, Numeric: true})
	close(stop)
	p := <-peak
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	time.Sleep(10 * time.Millisecond)
	if res.Records != k*n || bad.Load() != 0 {
		t.Fatalf("Records=%d bad=%d", res.Records, bad.Load())
	}
	grow := int64(p) - int64(base.HeapInuse)
	t.Logf("stream %d MiB, heap in use grew by at most %.1f MiB", res.BytesOut>>20, float64(grow)/(1<<20))
	if res.BytesOut < 60<<20 || grow > heapLimit() {
		t.Errorf("heap grew by %d bytes for a %d-byte stream", grow, res.BytesOut)
	}
}

// Concat of two 32 MiB inputs: the second is read ahead at once, but past
// 4 MiB it goes to a spill file, not the heap.
func TestMergeConcatMemoryBounded(t *testing.T) {
	const n = 4 << 20 // lines per input, about 32 MiB each
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	peak := heapWatch(stop)
	ins := make([]*os.File, 2)
	for j := range ins {
		r, w := newPipe(t, false)
		ins[j] = r
		go genSorted(w, j, 2, n)
	}
	outR, outW := newPipe(t, false)
	// A slow output makes input 2 wait (and spill). The reader checks
	// that it gets 0, 2, 4, … then 1, 3, 5, … without keeping it.
	got := make(chan [2]int64, 1)
	go func() {
		buf := make([]byte, 1<<20)
		var nbytes, bad int64
		want, cur := int64(0), int64(0)
		for {
			m, err := outR.Read(buf)
			nbytes += int64(m)
			for _, c := range buf[:m] {
				if c != '\n' {
					cur = cur*10 + int64(c-'0')
					continue
				}
				if cur != want {
					bad++
				}
				want, cur = want+2, 0
				if want == 2*n {
					want = 1
				}
			}
			if err != nil {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		outR.Close()
		got <- [2]int64{nbytes, bad}
	}()
	res := Merge(ins, outW, graph.MergeSpec{Mode: graph.Concat})
	close(stop)
	p := <-peak
	out := <-got
	if res.Err != nil || res.Records != 2*n || out[0] != res.BytesOut || out[1] != 0 {
		t.Fatalf("err=%v Records=%d out=%d BytesOut=%d misplaced lines=%d", res.Err, res.Records, out[0], res.BytesOut, out[1])
	}
	grow := int64(p) - int64(base.HeapInuse)
	t.Logf("stream %d MiB, heap in use grew by at most %.1f MiB", res.BytesOut>>20, float64(grow)/(1<<20))
	if limit := heapLimit(); grow > limit {
		t.Errorf("heap grew by %d bytes, limit %d", grow, limit)
	}
}

// heapLimit is how much the heap may grow while 64 MiB stream through.
func heapLimit() int64 {
	if raceEnabled {
		return 32 << 20
	}
	return 16 << 20
}
