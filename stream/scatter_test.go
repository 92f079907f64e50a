package stream

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// pipe2 makes a blocking pipe, as the executor does.
func pipe2(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
}

// scatterOnce feeds data to a Scatter into n outputs and returns what
// each output got.
func scatterOnce(t *testing.T, data []byte, n int, spec graph.ChunkSpec, fromFile bool) ([][]byte, ScatterResult) {
	t.Helper()
	var in *os.File
	if fromFile {
		f, err := os.CreateTemp(t.TempDir(), "in")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
		f.Seek(0, 0)
		in = f
	} else {
		r, w := pipe2(t)
		go func() { w.Write(data); w.Close() }()
		in = r
	}
	outs := make([]*os.File, n)
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range outs {
		r, w := pipe2(t)
		outs[i] = w
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], _ = io.ReadAll(r)
			r.Close()
		}(i)
	}
	live := executor.NewCounts(1, len(outs))
	res := ScatterLive(in, outs, spec, live)
	wg.Wait()
	// At the end the live counts are the result's, byte for byte.
	if li, lo := live.In(), live.Out(); li[0] != res.BytesIn || !slices.Equal(lo, res.BytesOut) {
		t.Errorf("live counts in %v out %v; the result says in %d out %v", li, lo, res.BytesIn, res.BytesOut)
	}
	return got, res
}

// wantChunks deals data the slow, obvious way.
func wantChunks(data []byte, n int, spec graph.ChunkSpec) [][]byte {
	want := make([][]byte, n)
	k := 0
	for len(data) > 0 {
		m := len(data)
		if spec.By == graph.ChunkLines {
			i, lines := 0, 0
			for i < len(data) && lines < spec.Size {
				j := bytes.IndexByte(data[i:], '\n')
				if j < 0 {
					i = len(data)
					break
				}
				i += j + 1
				lines++
			}
			m = i
		} else if int64(m) > spec.Bytes() {
			m = int(spec.Bytes())
		}
		want[k%n] = append(want[k%n], data[:m]...)
		data = data[m:]
		k++
	}
	return want
}

func numbers(lo, hi int) []byte {
	var b bytes.Buffer
	for i := lo; i <= hi; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.Bytes()
}

// Every byte reaches the output its chunk is due to, in order, for every
// unit, input kind (pipe: tee+splice; file: splice; lines from a file: the
// copy path) and size, including chunks larger than a pipe and a last line
// without a newline.
func TestScatterDeals(t *testing.T) {
	big := numbers(1, 300000) // about 2 MB
	ragged := append(numbers(1, 1000), []byte("no newline at the end")...)
	ints := make([]byte, 4*100003)
	for i := 0; i < 100003; i++ {
		binary.LittleEndian.PutUint32(ints[4*i:], uint32(i))
	}
	for _, tt := range []struct {
		name string
		data []byte
		n    int
		spec graph.ChunkSpec
	}{
		{"lines small", big, 4, graph.ChunkSpec{By: graph.ChunkLines, Size: 7}},
		{"lines 10000", big, 3, graph.ChunkSpec{By: graph.ChunkLines, Size: 10000}},
		{"lines larger than a pipe", big, 2, graph.ChunkSpec{By: graph.ChunkLines, Size: 250000}},
		{"lines one each", numbers(1, 5000), 5, graph.ChunkSpec{By: graph.ChunkLines, Size: 1}},
		{"ragged end", ragged, 3, graph.ChunkSpec{By: graph.ChunkLines, Size: 100}},
		{"bytes", big, 4, graph.ChunkSpec{By: graph.ChunkBytes, Size: 65536 + 3}},
		{"bytes one output", big, 1, graph.ChunkSpec{By: graph.ChunkBytes, Size: 4096}},
		{"int32 records", ints, 3, graph.ChunkSpec{By: graph.ChunkRecords, Size: 1000, Width: 4}},
		{"empty", nil, 3, graph.ChunkSpec{By: graph.ChunkLines, Size: 10}},
	} {
		for _, fromFile := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/file=%v", tt.name, fromFile), func(t *testing.T) {
				got, res := scatterOnce(t, tt.data, tt.n, tt.spec, fromFile)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				want := wantChunks(tt.data, tt.n, tt.spec)
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("output %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
					}
				}
				if res.BytesIn != int64(len(tt.data)) {
					t.Errorf("BytesIn %d, want %d", res.BytesIn, len(tt.data))
				}
			})
		}
	}
}

func TestScatterPartialRecord(t *testing.T) {
	_, res := scatterOnce(t, []byte("123456"), 2, graph.ChunkSpec{By: graph.ChunkRecords, Size: 1, Width: 4}, false)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "inside a record: 2 bytes of a 4-byte one") {
		t.Errorf("got %v", res.Err)
	}
}

// Scatter then Reassemble through copies that map each line to one line
// gives the serial result, byte for byte; a copy that drops a line is
// reported.
func TestScatterReassembleRoundTrip(t *testing.T) {
	data := numbers(1, 200000)
	for _, n := range []int{1, 2, 5} {
		for _, spec := range []graph.ChunkSpec{{By: graph.ChunkLines, Size: 999}, {By: graph.ChunkBytes, Size: 70000}} {
			got, err := roundTrip(t, data, n, spec, func(b []byte) []byte { return bytes.ToUpper(b) })
			if err != nil {
				t.Fatalf("n=%d %v: %v", n, spec.By, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("n=%d %v: %d bytes out, %d in", n, spec.By, len(got), len(data))
			}
		}
	}
	spec := graph.ChunkSpec{By: graph.ChunkLines, Size: 10, Stage: "work"}
	_, err := roundTrip(t, numbers(1, 100), 3, spec, func(b []byte) []byte {
		if bytes.HasPrefix(b, []byte("11\n")) {
			return b[3:] // drop a line
		}
		return b
	})
	if err == nil || !strings.Contains(err.Error(), "a copy must write one record per record it reads") {
		t.Errorf("a dropped line: %v", err)
	}
}

// roundTrip scatters data over n goroutine "copies" applying f to each
// chunk-sized read, and reassembles their outputs.
func roundTrip(t *testing.T, data []byte, n int, spec graph.ChunkSpec, f func([]byte) []byte) ([]byte, error) {
	t.Helper()
	inR, inW := pipe2(t)
	go func() { inW.Write(data); inW.Close() }()
	var sOuts, mIns []*os.File
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		r1, w1 := pipe2(t)
		r2, w2 := pipe2(t)
		sOuts, mIns = append(sOuts, w1), append(mIns, r2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			all, _ := io.ReadAll(r1)
			r1.Close()
			w2.Write(f(all))
			w2.Close()
		}()
	}
	outR, outW := pipe2(t)
	var got []byte
	done := make(chan struct{})
	go func() { got, _ = io.ReadAll(outR); outR.Close(); close(done) }()
	sdone := make(chan ScatterResult, 1)
	go func() { sdone <- Scatter(inR, sOuts, spec) }()
	mres := Merge(mIns, outW, graph.MergeSpec{Mode: graph.Reassemble, Chunk: spec})
	<-done
	wg.Wait()
	sres := <-sdone
	if sres.Err != nil {
		return got, sres.Err
	}
	return got, mres.Err
}
