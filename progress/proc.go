package progress

import (
	"time"

	"github.com/tubo-pipes/tubo/procstat"
)

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
	s := procstat.Read(pid)
	return sample{cpu: s.CPU, wchar: s.Wchar, ok: s.OK(), hasCPU: s.HasCPU, hasIO: s.HasIO}
}
