package report

import (
	"fmt"
	"io"
	"strings"
)

// maxNames is how many stages a line of Short names before "and N more".
const maxNames = 4

// Short writes a summary of a failed run in one to three lines, each
// starting "tubo: ". The first names what went wrong first:
//
//	tubo: esclavo[1] failed: exit 3 after 0.12s; esclavo[0] killed by tubo (SIGTERM)
//
// the second, if any, the stages that did not run; the third other stages
// that failed on their own. It writes nothing for a run that succeeded.
func Short(w io.Writer, r *Report) {
	if r == nil || !r.Failed() {
		return
	}
	first, who := cause(r)
	var killed, notRun, others []string
	for _, s := range r.Stages {
		switch {
		case s.Node == who:
		case r.Signal != 0 && s.Signal == r.Signal && !s.KilledByTubo:
			killed = append(killed, s.Node+" killed by "+SignalName(s.Signal))
		case s.KilledByTubo:
			killed = append(killed, s.Node+" "+killedText(s))
		case s.State == Skipped && (s.NotNeeded || s.Cached):
		case s.State == Skipped:
			notRun = append(notRun, s.Node+" skipped ("+s.Reason+")")
		case s.State == NotStarted:
			notRun = append(notRun, s.Node+" not started ("+s.Reason+")")
		case !s.OK && s.Status != 0:
			others = append(others, s.Node+" "+s.Describe())
		}
	}
	if len(killed) > 0 {
		first += "; " + names(killed)
	}
	fmt.Fprintf(w, "tubo: %s\n", first)
	if len(notRun) > 0 {
		fmt.Fprintf(w, "tubo: %s\n", names(notRun))
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "tubo: also failed: %s\n", names(others))
	}
}

// cause says what made the run fail, in the order tubo noticed it, and
// the stage it names ("" if none).
func cause(r *Report) (string, string) {
	s := r.Stage(r.FirstFailure)
	if r.Signal != 0 && (s == nil || s.Signal == r.Signal) {
		return fmt.Sprintf("interrupted by %s after %s", SignalName(r.Signal), Seconds(r.Wall)), ""
	}
	if r.TimedOut {
		return fmt.Sprintf("run timed out after %s", Seconds(r.Wall)), ""
	}
	// A stage's own timeout is its failure, named as such.
	for _, t := range r.Stages {
		if t.TimedOut && (s == nil || s.Node == t.Node) {
			how := "killed by " + SignalName(t.Signal)
			if t.State != Signaled {
				how = fmt.Sprintf("exit %d", t.Status)
			}
			return fmt.Sprintf("%s timed out after %s (%s)", t.Node, Seconds(t.Wall), how), t.Node
		}
	}
	if s != nil {
		switch s.State {
		case NotStarted:
			return fmt.Sprintf("%s failed: not started: %s", s.Node, s.Reason), s.Node
		case Signaled:
			return fmt.Sprintf("%s failed: killed by %s after %s", s.Node, SignalName(s.Signal), Seconds(s.Wall)), s.Node
		}
		return fmt.Sprintf("%s failed: exit %d after %s", s.Node, s.Status, Seconds(s.Wall)), s.Node
	}
	for _, b := range r.Builtins {
		if b.Err != "" {
			return fmt.Sprintf("%s %s failed: %s", b.Kind, b.Node, b.Err), ""
		}
	}
	return fmt.Sprintf("run ended with status %d after %s", r.Status, Seconds(r.Wall)), ""
}

// killedText says how tubo ended a stage: "killed by tubo (SIGTERM)", or
// "ended by tubo (exit 143)" for one that caught the signal and exited.
func killedText(s *Stage) string {
	what := "killed by tubo"
	if s.TimedOut {
		what = "timed out, killed by tubo"
	}
	if s.State == Signaled {
		return what + " (" + SignalName(s.Signal) + ")"
	}
	if s.TimedOut {
		return fmt.Sprintf("timed out, ended by tubo (exit %d)", s.Status)
	}
	return fmt.Sprintf("ended by tubo (exit %d)", s.Status)
}

// names joins up to maxNames items and counts the rest.
func names(items []string) string {
	if len(items) <= maxNames {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxNames], ", "), len(items)-maxNames)
}
