//go:build !amd64 && !noforkguard

package executor

// threadPointer is the calling thread's TLS base; this architecture has no
// system call that reads it, so 0.
//
//go:nosplit
//go:norace
func threadPointer() uintptr { return 0 }
