// Package procstat reads what Linux says of a running process in
// /proc/PID/stat (CPU time, resident memory) and /proc/PID/io (bytes passed
// to read and write), for the live views that sample running stages.
package procstat

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux architecture (the kernel converts for user space).
const clockTicks = 100

var pageSize = int64(os.Getpagesize())

// Sample is what /proc says of a process at one moment. A field whose
// Has… flag is false could not be read (the process is gone, or its io
// file is not readable) and is zero.
type Sample struct {
	// CPU is user + system time of the process itself (its waited-for
	// children are counted only once reaped, as in the rusage).
	CPU time.Duration
	// RSS is the resident set size now, in bytes.
	RSS    int64
	HasCPU bool // CPU and RSS were read from /proc/PID/stat
	// Rchar and Wchar are the bytes passed to read(2) and write(2) and
	// friends so far, on any descriptor.
	Rchar, Wchar int64
	HasIO        bool // Rchar and Wchar were read from /proc/PID/io
}

// OK says whether anything could be read.
func (s Sample) OK() bool { return s.HasCPU || s.HasIO }

// Read samples process pid. A process that is gone gives a Sample with
// nothing set.
func Read(pid int) Sample {
	var s Sample
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if b, err := os.ReadFile(dir + "stat"); err == nil {
		s.CPU, s.RSS, s.HasCPU = ParseStat(b)
	}
	if b, err := os.ReadFile(dir + "io"); err == nil {
		r, okR := ParseIOField(b, "rchar")
		w, okW := ParseIOField(b, "wchar")
		s.Rchar, s.Wchar, s.HasIO = r, w, okR && okW
	}
	return s
}

// ParseStat returns utime + stime and the resident set size in bytes
// from the contents of /proc/PID/stat. The command name (field 2) may
// hold spaces and parentheses, so fields are counted from the last ')'.
func ParseStat(b []byte) (cpu time.Duration, rss int64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15, rss
	// (in pages) field 24.
	if len(f) < 22 {
		return 0, 0, false
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	pages, err3 := strconv.ParseInt(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, pages * pageSize, true
}

// ParseIOField returns one "name: value" field of /proc/PID/io.
func ParseIOField(b []byte, name string) (int64, bool) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(": "))
		if ok && string(k) == name {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
