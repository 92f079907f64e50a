package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tubo-pipes/tubo/report"
)

// maxHTMLRuns bounds the pipelines an HTML report shows: a script may run
// millions. The first ones are kept; --report-json has them all.
const maxHTMLRuns = 200

// stderrTailBytes is how much of each stage's stderr the HTML report
// keeps: its last lines.
const stderrTailBytes = 4 << 10

// stderrTail is what the executor keeps of each stage's stderr: the HTML
// report shows the end of it.
func (o *observe) stderrTail() int {
	if o.reportHTML != "" || o.reportJSON != "" {
		return stderrTailBytes
	}
	return 0
}

// htmlReports collects the reports of a run's pipelines for --report-html,
// which is written once, when tubo is done.
type htmlReports struct {
	f       *os.File
	reps    []*report.Report
	dropped int
}

func (h *htmlReports) add(rep *report.Report) {
	if len(h.reps) >= maxHTMLRuns {
		h.dropped++
		return
	}
	h.reps = append(h.reps, rep)
}

func (h *htmlReports) write() error {
	defer func() { h.f.Close(); h.f = nil }()
	title := "shell"
	if len(h.reps) > 0 && h.reps[0].Pipeline != "" {
		title = h.reps[0].Pipeline
	}
	if h.dropped > 0 {
		title += fmt.Sprintf(" (the first %d pipelines; %d more are in --report-json)", len(h.reps), h.dropped)
	}
	if err := report.HTML(h.f, title, h.reps...); err != nil {
		return err
	}
	return h.f.Sync()
}

// linger keeps the live view up for d after the run, unless a signal
// (^C, SIGTERM, SIGHUP) ends the wait sooner.
func linger(stderr io.Writer, d time.Duration) {
	if d <= 0 {
		return
	}
	fmt.Fprintf(stderr, "tubo: the live view stays up for %s (^C ends it)\n", d)
	sig := make(chan os.Signal, 1)
	notifyUnlessIgnored(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-sig:
	}
}

// listenAddr is what --ui takes as its address when it is the next
// argument: HOST:PORT or :PORT, with HOST a name, an IPv4 address or an
// IPv6 one in brackets.
// Compiled on first use: most runs never pass --ui.
var listenAddr = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):[0-9]{1,5}$`)
})

// uiArgs lets --ui take its address as the next argument, as in
// `tubo --ui 127.0.0.1:8080 'LINE'`: the flag's value is optional, and
// pflag sees an optional value only after "=" (--ui=ADDR). Only an
// argument that looks like an address is taken, and only among tubo's
// own flags (not after the first argument of the line or script, nor
// after "--").
func uiArgs(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	cmd := root
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case a == "--ui" && i+1 < len(out) && listenAddr().MatchString(out[i+1]):
			out[i] = "--ui=" + out[i+1]
			out = append(out[:i+1], out[i+2:]...)
		case strings.HasPrefix(a, "-") && a != "-":
			if takesValue(cmd, a) {
				i++ // the flag's value
			}
		case cmd == root:
			sub, _, err := root.Find([]string{a})
			if err != nil || sub == root {
				return out // the line, or the script's arguments
			}
			cmd = sub // a subcommand's flags and arguments mix
		}
	}
	return out
}

// takesValue says whether flag arg (as written: --name, -n, -abc) is one
// that needs the next argument as its value.
func takesValue(cmd *cobra.Command, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	needs := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		return needs(longFlag(cmd, name))
	}
	// -abc: only the last letter may take the next argument; one before
	// it that takes a value has it attached (-fFILE).
	for j := 1; j < len(arg); j++ {
		c := arg[j : j+1]
		if needs(lookupFlag(cmd, func(fs *pflag.FlagSet) *pflag.Flag { return fs.ShorthandLookup(c) })) {
			return j == len(arg)-1
		}
	}
	return false
}

// longFlag finds the flag --name among cmd's own, persistent and inherited
// flags.
func longFlag(cmd *cobra.Command, name string) *pflag.Flag {
	return lookupFlag(cmd, func(fs *pflag.FlagSet) *pflag.Flag { return fs.Lookup(name) })
}

// lookupFlag finds a flag among a command's own, persistent and inherited
// flags (before parsing, cobra has not merged them yet).
func lookupFlag(cmd *cobra.Command, find func(*pflag.FlagSet) *pflag.Flag) *pflag.Flag {
	sets := []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()}
	if cmd.HasParent() {
		// Only a subcommand inherits; InheritedFlags builds a new set
		// on every call.
		sets = append(sets, cmd.InheritedFlags())
	}
	for _, fs := range sets {
		if f := find(fs); f != nil {
			return f
		}
	}
	return nil
}
