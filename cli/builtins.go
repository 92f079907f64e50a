package cli

import (
	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/stream"
)

// The executor runs tee and merge nodes through the stream package, so
// that the executor itself never touches stream bytes.
func init() { executor.Builtins = stream.RunNode }
