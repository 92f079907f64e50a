package stream

import (
	"bufio"
	"encoding/binary"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
)

// feed writes data to w in writes of at most 1 MiB, then closes w.
func feed(w *os.File, data []byte) {
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		w.Write(data[:n])
		data = data[n:]
	}
	w.Close()
}

// BenchmarkTee3 tees 256 MiB to three readers over blocking pipes. MB/s is
// per output (each output gets all bytes).
func BenchmarkTee3(b *testing.B) {
	const size = 256 << 20
	block := randBytes(rand.New(rand.NewSource(1)), 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		inR, inW := newPipe(b, true)
		go func() {
			for n := 0; n < size; n += len(block) {
				inW.Write(block)
			}
			inW.Close()
		}()
		outs := make([]*os.File, 3)
		got := make([]<-chan int64, 3)
		for j := range outs {
			r, w := newPipe(b, true)
			outs[j], got[j] = w, discardReader(r)
		}
		start := time.Now()
		res := Tee(inR, outs, TeeOptions{})
		for j := range got {
			if n := <-got[j]; n != size {
				b.Fatalf("reader %d got %d bytes", j, n)
			}
		}
		total += time.Since(start)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/total.Seconds()/1e9, "GB/s/output")
}

// sortedText makes k inputs of n sorted numeric lines each, interleaved
// like real split data (input j holds the numbers ≡ j mod k, with gaps).
func sortedText(k, n int) [][]byte {
	rng := rand.New(rand.NewSource(2))
	ins := make([][]byte, k)
	vals := make([]int64, n)
	for j := range ins {
		for i := range vals {
			vals[i] = rng.Int63n(1 << 40)
		}
		slices.Sort(vals)
		for _, v := range vals {
			ins[j] = strconv.AppendInt(ins[j], v, 10)
			ins[j] = append(ins[j], '\n')
		}
	}
	return ins
}

func benchMerge(b *testing.B, inputs [][]byte, spec graph.MergeSpec, records int64, unit string) {
	var size int64
	for _, in := range inputs {
		size += int64(len(in))
	}
	b.SetBytes(size)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		ins := make([]*os.File, len(inputs))
		for j, d := range inputs {
			r, w := newPipe(b, true)
			ins[j] = r
			go feed(w, d)
		}
		outR, outW := newPipe(b, true)
		got := discardReader(outR)
		start := time.Now()
		res := Merge(ins, outW, spec)
		<-got
		total += time.Since(start)
		if res.Err != nil || res.Records != records {
			b.Fatalf("err=%v records=%d want %d", res.Err, res.Records, records)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/total.Seconds()/1e6, unit)
}

// BenchmarkMergeText8 merges 8 sorted streams of numeric lines (like
// sort -m -n), 1M lines each.
func BenchmarkMergeText8(b *testing.B) {
	const k, n = 8, 1 << 20
	benchMerge(b, sortedText(k, n), graph.MergeSpec{Mode: graph.Ordered, Numeric: true}, k*n, "Mlines/s")
}

// BenchmarkMergeTextLex8 is the same with byte-wise comparison.
func BenchmarkMergeTextLex8(b *testing.B) {
	const k, n = 8, 1 << 20
	benchMerge(b, sortedText(k, n), graph.MergeSpec{Mode: graph.Ordered}, k*n, "Mlines/s")
}

func sortedInt32(k, n int) [][]byte {
	rng := rand.New(rand.NewSource(3))
	ins := make([][]byte, k)
	vals := make([]int32, n)
	for j := range ins {
		for i := range vals {
			vals[i] = int32(rng.Uint32())
		}
		slices.Sort(vals)
		ins[j] = make([]byte, 0, 4*n)
		for _, v := range vals {
			ins[j] = binary.LittleEndian.AppendUint32(ins[j], uint32(v))
		}
	}
	return ins
}

// BenchmarkMergeInt32x8 merges 8 sorted streams of 2M little-endian int32.
func BenchmarkMergeInt32x8(b *testing.B) {
	const k, n = 8, 2 << 20
	benchMerge(b, sortedInt32(k, n), graph.MergeSpec{Mode: graph.Ordered, Record: graph.Int32, Order: graph.LittleEndian}, k*n, "Mrec/s")
}

// BenchmarkMergeInt32x8Naive is the baseline for BenchmarkMergeInt32x8: a
// merge that does one 4-byte read(2) per record (buffered output).
func BenchmarkMergeInt32x8Naive(b *testing.B) {
	const k, n = 8, 1 << 18
	inputs := sortedInt32(k, n)
	b.SetBytes(int64(k * n * 4))
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		ins := make([]*os.File, k)
		for j, d := range inputs {
			r, w := newPipe(b, true)
			ins[j] = r
			go feed(w, d)
		}
		outR, outW := newPipe(b, true)
		got := discardReader(outR)
		start := time.Now()
		bw := bufio.NewWriterSize(outW, 256<<10)
		heads := make([][4]byte, k)
		live := make([]bool, k)
		next := func(j int) {
			_, err := ins[j].Read(heads[j][:])
			live[j] = err == nil
		}
		for j := range ins {
			next(j)
		}
		count := 0
		for {
			best := -1
			for j := range ins {
				if live[j] && (best < 0 || int32(binary.LittleEndian.Uint32(heads[j][:])) < int32(binary.LittleEndian.Uint32(heads[best][:]))) {
					best = j
				}
			}
			if best < 0 {
				break
			}
			bw.Write(heads[best][:])
			count++
			next(best)
		}
		bw.Flush()
		outW.Close()
		<-got
		total += time.Since(start)
		for _, f := range ins {
			f.Close()
		}
		if count != k*n {
			b.Fatalf("%d records", count)
		}
	}
	b.ReportMetric(float64(k*n)*float64(b.N)/total.Seconds()/1e6, "Mrec/s")
}
