package runner

import (
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// special expands the special parameters ($? $$ $# $- $! $0 $1…) and the
// variables whose value the shell computes when read (RANDOM, SECONDS,
// LINENO, BASHPID, EPOCHSECONDS…). ok is false for an ordinary name.
func (r *Runner) special(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	c := name[0]
	if c >= '0' && c <= '9' {
		n, err := strconv.Atoi(name)
		if err != nil {
			return "", false
		}
		if n == 0 {
			return r.arg0, true
		}
		if n <= len(r.args) {
			return r.args[n-1], true
		}
		return "", false
	}
	if len(name) == 1 {
		switch c {
		case '?':
			return strconv.Itoa(r.status), true
		case '$':
			return strconv.Itoa(r.shellPid), true
		case '#':
			return strconv.Itoa(len(r.args)), true
		case '-':
			return r.flags(), true
		case '!':
			if r.lastBg == 0 {
				return "", false
			}
			return strconv.Itoa(r.lastBg), true
		case '_':
			return r.underscore, true
		}
		return "", false
	}
	if c < 'A' || c > 'S' {
		return "", false
	}
	switch name {
	case "RANDOM":
		if v := r.vars.lookup(name); v != nil && v.has(aReadonly) {
			return "", false
		}
		return strconv.Itoa(r.random()), true
	case "SRANDOM":
		return strconv.FormatUint(uint64(rand.Uint32()), 10), true
	case "LINENO":
		return strconv.Itoa(r.lineno), true
	case "SECONDS":
		return strconv.Itoa(int(time.Since(r.startTime()).Seconds())), true
	case "BASHPID":
		return strconv.Itoa(os.Getpid()), true
	case "EPOCHSECONDS":
		return strconv.FormatInt(time.Now().Unix(), 10), true
	case "EPOCHREALTIME":
		t := time.Now()
		return strconv.FormatInt(t.Unix(), 10) + "." + leftPad(strconv.Itoa(t.Nanosecond()/1000), 6), true
	case "SHELLOPTS":
		return r.shellopts(), true
	}
	return "", false
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// random is $RANDOM: 0–32767 from a generator that RANDOM=N seeds.
func (r *Runner) random() int {
	if r.rng == nil {
		r.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	}
	return int(r.rng.Uint32() & 0x7fff)
}

func (r *Runner) seedRandom(s string) {
	n, _ := strconv.ParseInt(s, 10, 64)
	r.rng = rand.New(rand.NewPCG(uint64(n), 0))
}

func (r *Runner) startTime() time.Time {
	if r.started.IsZero() {
		r.started = time.Now()
	}
	return r.started
}

// initVars sets the variables a shell starts with.
func (r *Runner) initVars() {
	r.startTime()
	set := func(name, value string) {
		if v := r.vars.lookup(name); v == nil || !v.set {
			r.vars.setString(name, value)
		}
	}
	set("IFS", " \t\n")
	set("PS1", "$ ")
	set("PS2", "> ")
	set("PS4", "+ ")
	set("OPTIND", "1")
	r.vars.setString("PPID", strconv.Itoa(os.Getppid()))
	r.vars.setString("PWD", r.dir)
	r.vars.lookup("PWD").attrs |= aExport
	r.vars.gen++
	r.vars.setString("UID", strconv.Itoa(os.Getuid()))
	r.vars.setString("EUID", strconv.Itoa(os.Geteuid()))
	if h, err := os.Hostname(); err == nil {
		set("HOSTNAME", h)
	}
	set("OPTERR", "1")
	if _, ok := r.vars.get("PATH"); !ok {
		// sh starts with a PATH even when the environment has none; it
		// is not exported.
		r.vars.setString("PATH", defaultPath)
	}
	r.underscore = r.arg0
}
