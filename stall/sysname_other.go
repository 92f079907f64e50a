//go:build !amd64

package stall

// archCalls are the older calls that only some architectures have.
var archCalls = map[int]callInfo{}
