//go:build cgo

package executor

// linkedLibc: a cgo build links the C library, which keeps per-thread
// memory the kernel writes on every return to user space (the rseq area,
// in the thread's TLS block). See forkGuardian.
const linkedLibc = true
