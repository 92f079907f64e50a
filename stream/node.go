package stream

import (
	"fmt"
	"os"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// RunNode runs a graph's tee or merge node on the files the executor hands
// it, and closes them all. Install it with executor.Builtins = RunNode; the
// executor itself never touches stream bytes.
func RunNode(n *graph.Node, in, out []*os.File, live *executor.Counts) executor.BuiltinResult {
	res := executor.BuiltinResult{Node: n}
	switch {
	case n.Kind == graph.Tee && len(in) == 1:
		r := Tee(in[0], out, TeeOptions{FailOnReaderExit: n.FailOnReaderExit, Spill: n.Spill, Live: live})
		res.BytesIn, res.Err = r.BytesIn, r.Err
		res.PerInput, res.PerOutput = []int64{r.BytesIn}, r.BytesOut
		for _, b := range r.BytesOut {
			res.BytesOut += b
		}
	case n.Kind == graph.Scatter && len(in) == 1:
		r := ScatterLive(in[0], out, n.Chunk, live)
		res.BytesIn, res.Err = r.BytesIn, r.Err
		res.PerInput, res.PerOutput = []int64{r.BytesIn}, r.BytesOut
		res.BytesOut = r.BytesIn
	case n.Kind == graph.Merge && len(out) == 1:
		r := MergeLive(in, out[0], n.Merge, live)
		res.BytesOut, res.Err = r.BytesOut, r.Err
		res.PerInput, res.PerOutput = r.BytesIn, []int64{r.BytesOut}
		for _, b := range r.BytesIn {
			res.BytesIn += b
		}
	default:
		for _, f := range append(in, out...) {
			f.Close()
		}
		res.Err = fmt.Errorf("%s node %s has %d inputs and %d outputs", n.Kind, n.ID, len(in), len(out))
	}
	return res
}
