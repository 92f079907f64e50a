//go:build amd64 && !noforkguard

package executor

import (
	"syscall"
	"unsafe"
)

const archGetFS = 0x1003 // ARCH_GET_FS, asm/prctl.h

// threadPointer is the calling thread's TLS base (FS), or 0 if it cannot
// be read.
//
//go:nosplit
//go:norace
func threadPointer() uintptr {
	var fs uintptr
	if _, _, e := syscall.RawSyscall6(syscall.SYS_ARCH_PRCTL, archGetFS, uintptr(unsafe.Pointer(&fs)), 0, 0, 0, 0); e != 0 {
		return 0
	}
	return fs
}
