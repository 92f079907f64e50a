package progress

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux architecture (the kernel converts for user space).
const clockTicks = 100

// sample is what /proc says of a running process at one moment.
type sample struct {
	cpu    time.Duration // user + system
	wchar  int64
	ok     bool // false when the process is gone or unreadable
	hasCPU bool
	hasIO  bool
}

// readSample reads the CPU time from /proc/PID/stat and wchar from
// /proc/PID/io.
func readSample(pid int) sample {
	var s sample
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if b, err := os.ReadFile(dir + "stat"); err == nil {
		s.cpu, s.hasCPU = parseStatCPU(b)
	}
	if b, err := os.ReadFile(dir + "io"); err == nil {
		s.wchar, s.hasIO = parseIOField(b, "wchar")
	}
	s.ok = s.hasCPU || s.hasIO
	return s
}

// parseStatCPU returns utime + stime from the contents of /proc/PID/stat.
// The command name (field 2) may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// parseIOField returns one "name: value" field of /proc/PID/io.
func parseIOField(b []byte, name string) (int64, bool) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(": "))
		if ok && string(k) == name {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
