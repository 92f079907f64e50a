//go:build !cgo

package executor

// linkedLibc: a build without cgo has no C library and no rseq area.
const linkedLibc = false
