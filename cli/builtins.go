package cli

import (
	"os"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/stream"
)

// The executor runs tee and merge nodes through this bridge to the stream
// package, so that the executor itself never touches stream bytes.
func init() { executor.Builtins = runBuiltin }

func runBuiltin(n *graph.Node, in, out []*os.File) executor.BuiltinResult {
	res := executor.BuiltinResult{Node: n}
	switch n.Kind {
	case graph.Tee:
		if len(in) != 1 {
			closeAll(in, out)
			return res
		}
		r := stream.Tee(in[0], out, stream.TeeOptions{FailOnReaderExit: n.FailOnReaderExit})
		res.BytesIn, res.Err = r.BytesIn, r.Err
		for _, b := range r.BytesOut {
			res.BytesOut += b
		}
	case graph.Merge:
		if len(out) != 1 {
			closeAll(in, out)
			return res
		}
		r := stream.Merge(in, out[0], n.Merge)
		res.BytesOut, res.Err = r.BytesOut, r.Err
		for _, b := range r.BytesIn {
			res.BytesIn += b
		}
	}
	return res
}

func closeAll(sets ...[]*os.File) {
	for _, fs := range sets {
		for _, f := range fs {
			f.Close()
		}
	}
}
