package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/stall"
)

// StatusStalled is tubo's exit status when --on-stall fail ended a run,
// the status timeout(1) uses when it gives up.
const StatusStalled executor.Status = 124

// stallAfter is the --stall-after flag: a duration that remembers whether
// it was given, so that a pipeline file's stall_after: applies otherwise.
type stallAfter struct {
	d   time.Duration
	set bool
}

func (f *stallAfter) String() string { return f.d.String() }
func (f *stallAfter) Type() string   { return "duration" }
func (f *stallAfter) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil && s == "0" {
		d, err = 0, nil
	}
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 10s, 500ms or 0 (off)", s)
	}
	f.d, f.set = d, true
	return nil
}

// after is the stall time for a graph: the flag, else the graph's own
// (stall_after:), else the default; 0 means off.
func (f *stallAfter) after(graphAfter time.Duration) time.Duration {
	switch {
	case f.set:
		return f.d
	case graphAfter < 0:
		return 0
	case graphAfter > 0:
		return graphAfter
	}
	return stall.DefaultAfter
}

// onStall is the --on-stall flag: warn (report and go on) or fail.
type onStall string

func (f *onStall) String() string { return string(*f) }
func (f *onStall) Type() string   { return "warn|fail" }
func (f *onStall) Set(s string) error {
	if s != "warn" && s != "fail" {
		return fmt.Errorf("%q is not warn or fail", s)
	}
	*f = onStall(s)
	return nil
}

// startWatchdog follows one pipeline; the caller stops it after the run.
func (o *observe) startWatchdog(p *plan.Plan) *stall.Watchdog {
	after := o.stallAfter.after(p.Graph.StallAfter)
	fail := o.onStall == "fail" || o.onStall == "" && p.Graph.FailOnStall
	return stall.New(p, stall.Options{After: after, OnStall: func(r *stall.Report) {
		o.print(func(f *os.File) {
			stall.WriteStall(f, r)
			if fail {
				fmt.Fprintf(f, "tubo: ending the run: it stalled (on-stall fail)\n")
			}
		})
		if fail && o.sig != nil {
			o.sig.endStalled()
		}
	}})
}

// picture prints the live picture of every running pipeline: SIGQUIT and
// SIGUSR1 ask for it.
func (o *observe) picture() {
	o.mu.Lock()
	dogs := make([]*stall.Watchdog, 0, len(o.dogs))
	for d := range o.dogs {
		dogs = append(dogs, d)
	}
	o.mu.Unlock()
	if len(dogs) == 0 {
		o.print(func(f *os.File) { fmt.Fprintln(f, "tubo: no pipeline is running") })
		return
	}
	for _, d := range dogs {
		r := d.Snapshot()
		o.print(func(f *os.File) { stall.WritePicture(f, r) })
	}
}

// print writes a message on stderr, above the live progress area if one
// is drawn.
func (o *observe) print(write func(f *os.File)) {
	if o.prog != nil && o.prog.On() {
		o.prog.Above(write)
		return
	}
	write(o.stderr)
}

// catchInfo makes SIGQUIT and SIGUSR1 print the live picture instead of
// ending tubo (Go's default for SIGQUIT dumps goroutines and exits). A
// signal ignored when tubo started stays ignored.
func catchInfo(show func()) (stop func()) {
	c := make(chan os.Signal, 2)
	var sigs []os.Signal
	for _, s := range []os.Signal{syscall.SIGQUIT, syscall.SIGUSR1} {
		if !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) == 0 {
		return func() {}
	}
	signal.Notify(c, sigs...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-c:
				show()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(c)
		close(done)
	}
}
