package stall

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tubo-pipes/tubo/report"
)

// WriteStall writes the diagnosis of a stall: a header, one line per
// stage that has not exited (and per process it left), and the causes.
func WriteStall(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tubo: stalled for %s: nothing moved on any edge\n", report.Seconds(r.Quiet))
	writeStages(&b, r, false)
	writeCauses(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePicture writes the live picture asked for with SIGQUIT or SIGUSR1:
// every stage, what it waits on, and every edge with its bytes so far.
func WritePicture(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tubo: live picture after %s", report.Seconds(r.Elapsed))
	if r.Quiet > 0 {
		fmt.Fprintf(&b, " (nothing moved for %s)", report.Seconds(r.Quiet))
	}
	b.WriteString("\n")
	writeStages(&b, r, true)
	if len(r.Edges) > 0 {
		b.WriteString("  edges:\n")
		width := 0
		for _, e := range r.Edges {
			width = max(width, utf8.RuneCountInString(e.From+" → "+e.To))
		}
		for _, e := range r.Edges {
			name := e.From + " → " + e.To
			fmt.Fprintf(&b, "    %s%s  %-4s  %s\n", name, strings.Repeat(" ", width-utf8.RuneCountInString(name)), e.Via, edgeText(e))
		}
	}
	writeCauses(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// edgeText is "≈1.2MiB written by its writer in all (wchar), 64.0KiB in the pipe of
// 1.0MiB, stalled".
func edgeText(e Edge) string {
	var parts []string
	if e.Bytes >= 0 {
		parts = append(parts, "≈"+report.Bytes(e.Bytes)+" written by its writer in all (wchar)")
	} else {
		parts = append(parts, "? written")
	}
	if e.Buffered >= 0 {
		parts = append(parts, fmt.Sprintf("%s in the pipe of %s", report.Bytes(e.Buffered), report.Bytes(e.Capacity)))
	}
	if e.Stalled {
		parts = append(parts, "stalled")
	}
	return strings.Join(parts, ", ")
}

func writeStages(b *strings.Builder, r *Report, all bool) {
	width := 0
	for _, s := range r.Stages {
		width = max(width, utf8.RuneCountInString(s.Node))
	}
	for _, s := range r.Stages {
		if s.State == "exited" && !all && len(s.Procs) == 0 {
			continue
		}
		pid := "not started"
		if s.Pid != 0 {
			pid = fmt.Sprintf("pid %d", s.Pid)
		}
		fmt.Fprintf(b, "  %s%s  %-10s  %s\n", s.Node, strings.Repeat(" ", width-utf8.RuneCountInString(s.Node)), pid, StageText(s))
		for _, p := range s.Procs {
			who := "started by " + p.Of
			if p.Orphan {
				who = "left behind by " + p.Of
			}
			fmt.Fprintf(b, "  %s  └ pid %d (%s), %s: %s\n", strings.Repeat(" ", width), p.Pid, p.Command, who, waitText(p.State, p.Wait))
		}
	}
}

func writeCauses(b *strings.Builder, r *Report) {
	for _, c := range r.Causes {
		fmt.Fprintf(b, "  cause: %s\n", c)
	}
}

// StageText is one stage's state in words, as the stall report and the
// live views print it: "blocked in read(2) on fd 0 ← pipe from gen:1 —
// gen holds the write end and is itself blocked in write(2) …".
func StageText(s Stage) string {
	switch s.State {
	case "exited":
		t := endedText(s.Exit)
		if s.Exit == "" {
			t = "exited"
		}
		if s.Ran > 0 {
			t += " after " + report.Seconds(s.Ran)
		}
		return t
	case "waiting":
		if s.Call != "" {
			return "tubo is " + waitText("blocked", s.Wait)
		}
		if s.Why != "" {
			return "waiting: " + s.Why
		}
		return "waiting"
	}
	if s.Host != "" {
		// What is seen here is the local ssh client; the program runs
		// on its host.
		return "runs on " + s.Host + " (its ssh client: " + waitText(s.State, s.Wait) + ")"
	}
	return waitText(s.State, s.Wait)
}

func waitText(state string, w Wait) string {
	t := state
	switch {
	case state == "blocked" && w.Call != "":
		t = "blocked in " + w.Call + "(2)"
		switch {
		case w.FD >= 0 && w.On != "":
			t += fmt.Sprintf(" on fd %d %s", w.FD, w.On)
		case w.FD >= 0:
			t += fmt.Sprintf(" on fd %d", w.FD)
		case w.On != "":
			t += " on " + w.On
		}
	case state == "sleeping" && w.Call != "":
		t = "sleeping in " + w.Call + "(2)"
	case state == "stopped" && w.On != "":
		t = "stopped on " + w.On
	}
	if w.Why != "" {
		t += " — " + w.Why
	}
	return t
}
