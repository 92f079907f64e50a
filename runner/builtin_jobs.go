package runner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/tubo-pipes/tubo/executor"
)

// The builtins of jobs and signals: wait, jobs, fg, bg, kill, disown,
// trap.

func init() {
	register("wait", waitBuiltin, false)
	register("jobs", jobsBuiltin, false)
	register("fg", fgBuiltin, false)
	register("bg", bgBuiltin, false)
	register("kill", killBuiltin, false)
	register("disown", disownBuiltin, false)
	register("trap", trapBuiltin, true)
}

// waitBuiltin is wait [-n] [PID|%JOB…]: with no operand it waits for every
// job and returns 0; otherwise the status of the last one named (127 for
// one the shell does not know). A trapped signal interrupts it: it
// returns 128+N and the trap runs.
func waitBuiltin(r *Runner, args []string) int {
	args = args[1:]
	anyOne := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		switch args[0] {
		case "-n":
			anyOne = true
		case "-f":
		case "--":
			args = args[1:]
			goto operands
		default:
			return r.usage("wait", "%s: invalid option", args[0])
		}
		args = args[1:]
	}
operands:
	if anyOne && len(args) == 0 {
		return r.waitAny()
	}
	if len(args) == 0 {
		for _, j := range append([]*job(nil), r.jobs.list...) {
			if _, ok := r.waitJob(j); !ok {
				st, _ := r.waitJob(j)
				_ = st
				return r.interruptedStatus()
			}
			r.forget(j)
		}
		r.waitProcSubsts(false)
		return 0
	}
	st := 0
	for _, spec := range args {
		j, pid, ok := r.findJob(spec)
		if !ok {
			if s, known := r.jobs.statuses[pid]; known && pid != 0 {
				st = s
				delete(r.jobs.statuses, pid)
				continue
			}
			if !strings.HasPrefix(spec, "%") {
				if _, err := strconv.Atoi(spec); err != nil {
					r.errorf("wait: `%s': not a pid or valid job spec", spec)
					st = 2
					continue
				}
			}
			if strings.HasPrefix(spec, "%") {
				r.errorf("wait: %s: no such job", spec)
			} else {
				r.errorf("wait: pid %s is not a child of this shell", spec)
			}
			st = 127
			continue
		}
		s, done := r.waitJob(j)
		if !done {
			return r.interruptedStatus()
		}
		if pid != 0 && len(j.pids) > 0 && pid != j.pids[len(j.pids)-1] {
			// The status of that one process of the job.
			if res, _ := j.h.Wait(); res != nil {
				for _, p := range res.Procs {
					if p.Pid == pid {
						s = int(p.Status)
					}
				}
			}
		}
		st = s
		r.setPipestatusList([]string{strconv.Itoa(s)})
		r.forget(j)
	}
	return st
}

// interruptedStatus is wait's status when a signal interrupted it.
func (r *Runner) interruptedStatus() int {
	h := theHub.h
	if h == nil {
		return 128
	}
	if s := h.fatal.Load(); s != 0 {
		return 128 + int(s)
	}
	for s := 1; s < 65; s++ {
		if h.pending[s].Load() {
			return 128 + s
		}
	}
	return 128
}

// waitAny is wait -n: the next job to finish.
func (r *Runner) waitAny() int {
	if len(r.jobs.list) == 0 {
		return 127
	}
	for {
		for _, j := range r.jobs.list {
			if j.done() {
				st := j.status()
				r.forget(j)
				return st
			}
		}
		cases := make([]<-chan struct{}, len(r.jobs.list))
		for i, j := range r.jobs.list {
			cases[i] = j.h.Done()
		}
		waitAnyDone(cases)
	}
}

func waitAnyDone(chs []<-chan struct{}) {
	done := make(chan struct{})
	for _, c := range chs {
		go func(c <-chan struct{}) {
			select {
			case <-c:
			case <-done:
			}
			select {
			case done <- struct{}{}:
			default:
			}
		}(c)
	}
	<-done
	close(done)
}

// jobsBuiltin is jobs [-lp]: the background jobs.
func jobsBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	long, pids := false, false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'l':
			long = true
		case 'p':
			pids = true
		case 'n', 'r', 's':
		default:
			return r.usage("jobs", "-%c: invalid option", c)
		}
	}
	w := r.stdout()
	for i, j := range append([]*job(nil), r.jobs.list...) {
		mark := " "
		switch i {
		case len(r.jobs.list) - 1:
			mark = "+"
		case len(r.jobs.list) - 2:
			mark = "-"
		}
		state := "Running"
		if j.stopped {
			state = "Stopped"
		}
		if j.done() {
			st := j.status()
			state = "Done"
			if st != 0 {
				state = fmt.Sprintf("Exit %d", st)
			}
		}
		switch {
		case pids:
			if len(j.pids) > 0 {
				fmt.Fprintln(w, j.pids[0])
			}
		case long:
			pid := 0
			if len(j.pids) > 0 {
				pid = j.pids[0]
			}
			fmt.Fprintf(w, "[%d]%s %d %-22s %s\n", j.id, mark, pid, state, j.text)
		default:
			fmt.Fprintf(w, "[%d]%s  %-22s %s\n", j.id, mark, state, j.text)
		}
		if j.done() {
			j.reported = true
			r.forget(j)
		}
	}
	return 0
}

// fgBuiltin brings a job to the foreground: it gets the terminal and is
// continued, and the shell waits for it.
func fgBuiltin(r *Runner, args []string) int {
	spec := "%+"
	if len(args) > 1 {
		spec = args[1]
	}
	j, _, ok := r.findJob(spec)
	if !ok {
		r.errorf("fg: %s: no such job", spec)
		return 1
	}
	fmt.Fprintln(r.stdout(), j.text)
	tty := r.cfg.TTY
	if tty != nil && j.pgid != 0 {
		executor.GiveTerminal(tty, j.pgid)
	}
	j.cont(true)
	st, ended := r.waitFG(j)
	if !ended {
		return st // ^Z again: stopped, the terminal is the prompt's
	}
	if tty != nil && j.pgid != 0 {
		executor.ReclaimTerminal(tty)
	}
	r.forget(j)
	return st
}

// bgBuiltin continues a stopped job in the background.
func bgBuiltin(r *Runner, args []string) int {
	spec := "%+"
	if len(args) > 1 {
		spec = args[1]
	}
	j, _, ok := r.findJob(spec)
	if !ok {
		r.errorf("bg: %s: no such job", spec)
		return 1
	}
	j.cont(false)
	fmt.Fprintf(r.stdout(), "[%d]+ %s &\n", j.id, j.text)
	return 0
}

func disownBuiltin(r *Runner, args []string) int {
	return 0
}

// killBuiltin is kill [-s SIG | -SIG | -n N] PID|%JOB… and kill -l [N].
func killBuiltin(r *Runner, args []string) int {
	args = args[1:]
	sig := syscall.SIGTERM
	if len(args) == 0 {
		r.errorf("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]")
		return 2
	}
	switch a := args[0]; {
	case a == "-l" || a == "-L":
		return r.killList(args[1:])
	case a == "-s" || a == "-n":
		if len(args) < 2 {
			r.errorf("kill: %s: option requires an argument", a)
			return 2
		}
		n, ok := parseSignal(args[1], false)
		if !ok {
			r.errorf("kill: %s: invalid signal specification", args[1])
			return 1
		}
		sig = syscall.Signal(n)
		args = args[2:]
	case a == "--":
		args = args[1:]
	case strings.HasPrefix(a, "-") && len(a) > 1:
		n, ok := parseSignal(a[1:], false)
		if !ok {
			if a[1:] == "0" {
				n, ok = 0, true
			}
		}
		if !ok {
			r.errorf("kill: %s: invalid signal specification", a[1:])
			return 1
		}
		sig = syscall.Signal(n)
		args = args[1:]
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
	}
	if len(args) == 0 {
		r.errorf("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]")
		return 2
	}
	st := 0
	for _, target := range args {
		if strings.HasPrefix(target, "%") {
			j, _, ok := r.findJob(target)
			if !ok {
				r.errorf("kill: %s: no such job", target)
				st = 1
				continue
			}
			if err := j.h.Signal(sig); err != nil {
				if j.pgid != 0 {
					syscall.Kill(-j.pgid, sig)
				}
			}
			if j.stopped && sig != syscall.SIGSTOP && sig != syscall.SIGTSTP && sig != 0 {
				// A stopped job gets the signal when it runs again (as
				// bash: kill %1 of a stopped job ends it).
				j.cont(false)
			}
			continue
		}
		pid, err := strconv.Atoi(target)
		if err != nil {
			r.errorf("kill: %s: arguments must be process or job IDs", target)
			st = 1
			continue
		}
		kill := syscall.Kill
		if pid == os.Getpid() {
			kill = func(_ int, s syscall.Signal) error { return selfSignal(s) }
		}
		if err := kill(pid, sig); err != nil {
			r.errorf("kill: (%d) - %s", pid, errText(err))
			st = 1
		}
	}
	return st
}

// killList is kill -l: every signal's name, or the name of a number
// (128+N from a status too), or the number of a name.
func (r *Runner) killList(args []string) int {
	w := r.stdout()
	if len(args) == 0 {
		var names []string
		for i := 1; i < 65; i++ {
			names = append(names, signalNames()[i])
		}
		fmt.Fprintln(w, strings.Join(names, " "))
		return 0
	}
	st := 0
	for _, a := range args {
		if n, err := strconv.Atoi(a); err == nil {
			if n == 0 {
				fmt.Fprintln(w, "EXIT")
				continue
			}
			if n > 128 {
				n -= 128
			}
			if name, ok := signalNames()[n]; ok {
				fmt.Fprintln(w, name)
				continue
			}
			r.errorf("kill: %s: invalid signal specification", a)
			st = 1
			continue
		}
		n, ok := parseSignal(a, false)
		if !ok {
			r.errorf("kill: %s: invalid signal specification", a)
			st = 1
			continue
		}
		fmt.Fprintln(w, n)
	}
	return st
}

// trapBuiltin is trap [-lp] [[ACTION] SIGNAL…]: set, ignore (”), reset
// (-) or list traps.
func trapBuiltin(r *Runner, args []string) int {
	args = args[1:]
	if len(args) > 0 && args[0] == "-l" {
		return r.killList(nil)
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "-p" {
		table := r.traps.actions
		if len(table) == 0 && len(r.traps.parent) > 0 {
			table = r.traps.parent
		}
		want := map[int]bool{}
		if len(args) > 1 {
			for _, s := range args[1:] {
				n, ok := parseSignal(s, true)
				if !ok {
					r.errorf("trap: %s: invalid signal specification", s)
					return 1
				}
				want[n] = true
			}
		}
		for _, k := range sortedTrapKeys(table) {
			if len(want) > 0 && !want[k] {
				continue
			}
			fmt.Fprintf(r.stdout(), "trap -- %s %s\n", singleQuote(table[k]), trapListName(k))
		}
		return 0
	}
	if len(args[0]) > 1 && args[0][0] == '-' && args[0] != "--" {
		r.errorf("trap: %s: invalid option", args[0])
		r.errorf("trap: usage: trap [-lp] [[arg] signal_spec ...]")
		return 2
	}
	action := args[0]
	sigs := args[1:]
	reset := action == "-"
	if len(sigs) == 0 {
		// trap SIG: a lone signal resets it.
		if _, ok := parseSignal(strings.TrimSpace(action), true); ok {
			sigs, reset = []string{strings.TrimSpace(action)}, true
		} else {
			r.errorf("trap: usage: trap [-lp] [[arg] signal_spec ...]")
			return 2
		}
	}
	if isUnsigned(strings.TrimSpace(action)) && !reset {
		// trap 2 3: an unsigned number first means every operand is a
		// signal to reset (POSIX).
		sigs, reset = args, true
	}
	st := 0
	for _, s := range sigs {
		n, ok := parseSignal(strings.TrimSpace(s), true)
		if !ok {
			r.errorf("trap: %s: invalid signal specification", s)
			st = 1
			continue
		}
		if n == int(syscall.SIGKILL) || n == int(syscall.SIGSTOP) {
			if !reset && action != "" {
				r.errorf("trap: %s: cannot trap", s)
			}
		}
		if reset {
			delete(r.traps.actions, n)
			r.resetTrap(n)
			continue
		}
		r.traps.actions[n] = action
		r.applyTrap(n, action)
	}
	// A subshell that sets a trap no longer lists its parent's.
	r.traps.parent = map[int]string{}
	return st
}

func isUnsigned(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trapListName(n int) string {
	if n == sigExit || n >= sigErr {
		return sigName(n)
	}
	return "SIG" + sigName(n)
}
