//go:build noforkguard

package executor

import "syscall"

// Built with -tags noforkguard (make fuzz-explore), tubo has no guardian: the
// fuzzer instruments every function of the binary with calls into its
// runtime, and the forked guardian's code (guard_child.go) must make none
// (nosplit, no runtime after the fork), which the linker then refuses.
// Pdeathsig and the group sweep still hold.

func forkGuardian(*guardMem, int) (int, syscall.Errno) { return 0, syscall.ENOSYS }

func guardRun(*guardMem, int) {}
