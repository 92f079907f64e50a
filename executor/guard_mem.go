package executor

import (
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The guardian's memory, made by tubo before the fork (guard_child.go is
// the code that runs in it).

const (
	// guardSlots bounds the process groups listed at once; the table is
	// kept at most 3/4 full, so 49152 live groups (a run needs one per
	// pipeline or YAML stage, far more than ulimit -u allows in practice).
	guardSlots = 1 << 16
	// guardHeld bounds the members of listed groups held by pidfd while
	// ending them; a member beyond it still gets the group's signal.
	guardHeld = 1 << 15
	// guardPaths bounds the paths listed at once: one private directory
	// per run plus the FIFOs tubo made outside it.
	guardPaths   = 1024
	guardPathMax = 4096 // PATH_MAX, with its NUL

	atFDCWD = ^uintptr(-unix.AT_FDCWD - 1) // AT_FDCWD (-100) as a syscall argument
)

// guardMem is all the guardian's memory. It lives in an anonymous private
// mapping outside the Go heap and holds no pointers, so the child writes
// it without a write barrier; pages the guardian never touches cost
// nothing, in tubo or in the guardian.
type guardMem struct {
	in   [64 << 10]byte // read(2) into in[fill:]; complete lines are taken from the front
	fill int
	skip bool // an overlong line is being dropped up to its '\n'

	groups  [guardSlots]int32 // open addressing by pgid; 0 = empty
	pinned  [guardSlots]bool  // while signalling: a member of this group took the signal
	ngroups int

	// The listed paths: pathLen[i] is the length of paths[i] without its
	// NUL, 0 for a free slot. The lengths are apart from the bytes, so
	// that a scan of them touches one page, not one per slot.
	pathLen [guardPaths]int32
	paths   [guardPaths][guardPathMax]byte

	held  [guardHeld]heldMember
	nheld int

	dents [32 << 10]byte // getdents64 of /proc or of a directory to empty
	stat  [512]byte      // the head of /proc/PID/stat: pid (comm) state ppid pgrp
	name  [64]byte       // "/proc/PID/stat" and its NUL
	root  [2]byte        // "/"
	proc  [6]byte        // "/proc"
	comm  [16]byte       // the guardian's name in ps: "tubo-guardian"
	ts    [2]int64       // a timespec for clock_gettime and clock_nanosleep

	// tubo's writable anonymous mappings at the fork (the Go heap, the
	// runtime's own), [start, end): the guardian gets none of them but
	// the pages around its stack (see forkGuardian).
	maps  [256][2]uintptr
	nmaps int

	// tubo's argv, args[:nargs] (fields 48 and 49 of /proc/self/stat,
	// outside the Go heap): the guardian overwrites its copy, so that its
	// command line is not tubo's. nil when unknown.
	args  unsafe.Pointer
	nargs int
}

type heldMember struct {
	pid, pidfd, slot int32 // slot: the group's index in groups
}

// newGuardMem maps a zeroed guardMem.
func newGuardMem() (*guardMem, []byte, error) {
	b, err := unix.Mmap(-1, 0, int(unsafe.Sizeof(guardMem{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, err
	}
	m := (*guardMem)(unsafe.Pointer(&b[0]))
	m.root[0] = '/'
	copy(m.proc[:], "/proc")
	copy(m.comm[:], "tubo-guardian")
	return m, b, nil
}

// findArgv sets m.argStart and m.argEnd from /proc/self/stat.
func findArgv(m *guardMem) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] is field 3 (state); arg_start and arg_end are fields 48 and 49.
	if len(f) < 47 {
		return
	}
	start, err1 := strconv.ParseUint(f[45], 10, 64)
	end, err2 := strconv.ParseUint(f[46], 10, 64)
	if err1 == nil && err2 == nil && start < end && end-start < 1<<20 {
		// The address of tubo's argv on the initial stack, as the kernel
		// gives it; never Go memory.
		m.args, m.nargs = *(*unsafe.Pointer)(unsafe.Pointer(&start)), int(end-start)
	}
}

// listMappings puts tubo's writable private anonymous mappings (but m's
// own) into m.maps, from /proc/self/maps: the ones forkGuardian keeps out
// of the guardian.
func listMappings(m *guardMem) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	self := uintptr(unsafe.Pointer(m))
	m.nmaps = 0
	for line := range strings.Lines(string(b)) {
		// start-end perms offset dev inode [path]
		f := strings.Fields(line)
		if len(f) != 5 || !strings.HasPrefix(f[1], "rw") || f[1][3] != 'p' {
			continue
		}
		se := strings.SplitN(f[0], "-", 2)
		start, err1 := strconv.ParseUint(se[0], 16, 64)
		end, err2 := strconv.ParseUint(se[len(se)-1], 16, 64)
		if err1 != nil || err2 != nil || self >= uintptr(start) && self < uintptr(end) {
			continue
		}
		if m.nmaps == len(m.maps) {
			return // the rest is shared copy-on-write: slower, not wrong
		}
		m.maps[m.nmaps] = [2]uintptr{uintptr(start), uintptr(end)}
		m.nmaps++
	}
}
