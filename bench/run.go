package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// command is one side of a comparison: a process to start and time.
type command struct {
	label string
	argv  []string
	// devnull sends stdout straight to /dev/null. Otherwise stdout is a
	// pipe read by the harness (the first 64 KiB kept for checks), and the
	// run ends only when every holder of that pipe has closed it, which
	// also covers grandchildren a shell leaves behind (bash's >(…)).
	devnull bool
	// check, when set, validates the captured stdout of the warm-up run.
	check func(out []byte) error
	// poll, when set, samples VmHWM of the process from /proc at this
	// interval while it runs.
	poll time.Duration
	// env is added to the harness's environment; nil adds nothing.
	env []string
	// elsewhere, when set, counts CPU time spent outside this process
	// tree on the command's behalf (a test host's sshd); it is read
	// before and after each run and the difference added to sample.cpu.
	elsewhere func() time.Duration
}

// sample is what one run measured.
type sample struct {
	wall time.Duration
	// maxrss is ru_maxrss from wait4 (KiB). Linux reports the maximum of
	// the process's own peak, its reaped children's, and whatever the
	// process inherited in its signal struct: exec records the RSS of the
	// address space it replaces, so a process vforked by a large parent
	// (this harness) starts with the parent's RSS. See rssProbe.
	maxrss int64
	hwm    int64 // last VmHWM seen in /proc/PID/status (KiB): the process's own peak
	// threads is the most OS threads seen in /proc/PID/status (polled).
	threads int
	// cpu is user + system time of the process and its reaped children
	// (from wait4), plus command.elsewhere's.
	cpu time.Duration
	out []byte
}

// capture keeps the first limit bytes written to it and counts the rest.
type capture struct {
	buf   bytes.Buffer
	limit int
	n     int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

var devNull = func() *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}
	return f
}()

// run starts c once and measures it: whole-process wall time from just
// before fork to wait, as time(1) would see it.
func (c *command) run() (sample, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	if c.env != nil {
		cmd.Env = append(os.Environ(), c.env...)
	}
	var out capture
	out.limit = 64 << 10
	var errb capture
	errb.limit = 4 << 10
	if c.devnull {
		cmd.Stdout = devNull
	} else {
		cmd.Stdout = &out
	}
	cmd.Stderr = &errb
	var s sample
	var away time.Duration
	if c.elsewhere != nil {
		away = c.elsewhere()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return s, err
	}
	var hwm chan [2]int64
	if c.poll > 0 {
		hwm = make(chan [2]int64, 1)
		go pollHWM(cmd.Process.Pid, c.poll, hwm)
	}
	err := cmd.Wait()
	s.wall = time.Since(start)
	if hwm != nil {
		v := <-hwm
		s.hwm, s.threads = v[0], int(v[1])
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxrss = ru.Maxrss
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if c.elsewhere != nil {
		s.cpu += c.elsewhere() - away
	}
	s.out = out.buf.Bytes()
	if err != nil {
		return s, fmt.Errorf("%s: %v: %s", c.label, err, strings.TrimSpace(errb.buf.String()))
	}
	return s, nil
}

// pollHWM reads VmHWM and Threads of pid every interval until the process
// is gone and sends the last VmHWM seen and the most threads. VmHWM only
// grows, so the last reading is the peak up to one interval before exit.
func pollHWM(pid int, interval time.Duration, res chan<- [2]int64) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	var last, threads int64
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			break
		}
		v, ok := statusField(b, "VmHWM:")
		if !ok { // a zombie has no VmHWM
			break
		}
		last = v
		if t, ok := statusField(b, "Threads:"); ok {
			threads = max(threads, t)
		}
		time.Sleep(interval)
	}
	res <- [2]int64{last, threads}
}

// statusField reads a "Name:   123 kB" line of /proc/PID/status.
func statusField(b []byte, name string) (int64, bool) {
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			v, err := strconv.ParseInt(f[0], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// pair is a comparison: tubo against what a user would run instead, or one
// tubo configuration against another.
type pair struct {
	name   string
	tubo   *command
	other  *command
	target float64 // speed-up tubo must reach (other/tubo wall time)
	goal   string  // the target as the issue states it
	bytes  int64   // bytes moved per run, for throughput; 0 if none
	runs   int     // measured runs per side (alternating)
	// cpu adds both sides' CPU time (sample.cpu) to the report: what a
	// run costs, which a loaded machine changes less than wall time.
	cpu bool
	// verify, when set, runs once before timing and checks that both sides
	// produce the same result.
	verify func() error
	// around, when set, starts something for the pair's whole measurement
	// (a competing busy loop) and returns what stops it.
	around func() (stop func())
	// maxThreads and maxHWM (KiB), when set, are ceilings on tubo's OS
	// threads and own peak RSS in every run; the row says met or missed.
	maxThreads int
	maxHWM     int64
}

// outcome is the measured result of a pair.
type outcome struct {
	p           *pair
	tubo, other []time.Duration
	// tuboCPU, otherCPU are each run's sample.cpu.
	tuboCPU, otherCPU []time.Duration
	rss               []int64 // tubo's own peak RSS (VmHWM, KiB) per run
	threads           []int   // tubo's most OS threads per run
	err               error
}

// pairPoll is how often the compared runs sample VmHWM.
const pairPoll = time.Millisecond

var warnMu sync.Mutex

func warnf(format string, args ...any) {
	warnMu.Lock()
	defer warnMu.Unlock()
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// measure runs a warm-up of each side (checked, not counted), then
// alternates tubo, other, tubo, other … so that drift in the machine's load
// hits both sides alike.
func measure(p *pair) outcome {
	o := outcome{p: p}
	if p.verify != nil {
		if err := p.verify(); err != nil {
			o.err = fmt.Errorf("verify: %w", err)
			return o
		}
	}
	// Both sides are polled alike, so the small cost of polling is the
	// same for each.
	p.tubo.poll, p.other.poll = pairPoll, pairPoll
	if p.around != nil {
		defer p.around()()
	}
	for _, c := range []*command{p.tubo, p.other} {
		s, err := c.run()
		if err == nil && c.check != nil {
			err = c.check(s.out)
			if err != nil {
				err = fmt.Errorf("%s: %w", c.label, err)
			}
		}
		if err != nil {
			o.err = err
			return o
		}
	}
	for range p.runs {
		s, err := p.tubo.run()
		if err != nil {
			o.err = err
			return o
		}
		o.tubo = append(o.tubo, s.wall)
		o.tuboCPU = append(o.tuboCPU, s.cpu)
		o.rss = append(o.rss, s.hwm)
		o.threads = append(o.threads, s.threads)
		s, err = p.other.run()
		if err != nil {
			o.err = err
			return o
		}
		o.other = append(o.other, s.wall)
		o.otherCPU = append(o.otherCPU, s.cpu)
	}
	return o
}

// wantOutput returns a check that stdout is exactly want.
func wantOutput(want string) func([]byte) error {
	return func(out []byte) error {
		if string(out) != want {
			return fmt.Errorf("stdout %q, want %q", trunc(out), want)
		}
		return nil
	}
}

// wantLines returns a check that stdout is n lines, each equal to line.
func wantLines(n int, line string) func([]byte) error {
	return wantOutput(strings.Repeat(line+"\n", n))
}

func trunc(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
