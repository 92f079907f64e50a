package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Text writes the report as aligned tables for a terminal: one row per
// stage, then the builtins and the edges, then a line for the whole run.
// Byte counts are in IEC units (KiB, MiB); JSON has them exact.
func Text(w io.Writer, r *Report) {
	var buf bytes.Buffer
	text(&buf, r)
	// tabwriter pads an empty last column; drop the trailing blanks.
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			io.WriteString(w, strings.TrimRight(line, " \n")+"\n")
		}
	}
}

func text(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// A run with remote stages gets a HOST column.
	hosts := r.Remote()
	if hosts {
		fmt.Fprintln(tw, "STAGE\tHOST\tPID\tSTATUS\tWALL\tUSER\tSYS\tMAXRSS\tREAD\tWRITTEN\tNOTES")
	} else {
		fmt.Fprintln(tw, "STAGE\tPID\tSTATUS\tWALL\tUSER\tSYS\tMAXRSS\tREAD\tWRITTEN\tNOTES")
	}
	for _, s := range r.Stages {
		pid := "-"
		if s.Pid != 0 {
			pid = itoa(s.Pid)
		}
		read, written := "?", "?"
		if s.IOKnown {
			read, written = Bytes(s.Read), Bytes(s.Written)
		}
		rss := "?"
		if s.MaxRSS > 0 {
			rss = Bytes(s.MaxRSS)
		}
		if s.Pid == 0 {
			read, written, rss = "-", "-", "-"
		}
		user, sys := Seconds(s.User), Seconds(s.System)
		if s.Remote != nil && !s.Remote.Known {
			user, sys = "?", "?"
		}
		node := s.Node
		if hosts {
			node += "\t" + s.HostName()
		}
		for k, a := range s.Attempts {
			// Earlier attempts of a retried stage, each on a row of its
			// own; only the last run has CPU, memory and I/O figures.
			st := "exit " + itoa(a.Status)
			if a.Signal != 0 {
				st = SignalName(a.Signal)
			}
			note := fmt.Sprintf("attempt %d, failed", k+1)
			if a.TimedOut {
				note += ", timed out"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t-\t-\t-\t-\t-\t%s\n", node, a.Pid, st, Seconds(a.Wall), note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			node, pid, s.Describe(), Seconds(s.Wall), user, sys,
			rss, read, written, strings.Join(s.notes(), "; "))
	}
	tw.Flush()
	if len(r.Builtins) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "BUILTIN\tKIND\tIN\tOUT\tNOTES")
		for _, b := range r.Builtins {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Node, b.Kind, Bytes(b.BytesIn), Bytes(b.BytesOut), b.Err)
		}
		tw.Flush()
	}
	if len(r.Edges) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "EDGE\tVIA\tBYTES\tBASIS")
		for _, e := range r.Edges {
			n, basis := "?", basisText[e.Basis]
			switch e.Basis {
			case Exact:
				n = Bytes(e.Bytes)
			case WriterWchar:
				// Not the edge's count: what the writer wrote in all.
				basis = fmt.Sprintf(basis, Bytes(e.Bytes))
			}
			fmt.Fprintf(tw, "%s → %s\t%s\t%s\t%s\n", e.From, e.To, e.Via, n, basis)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nrun: status %d, wall %s, user %s, sys %s", r.Status, Seconds(r.Wall), Seconds(r.User), Seconds(r.System))
	if r.TimedOut {
		fmt.Fprint(w, ", timed out")
	}
	if r.Signal != 0 {
		fmt.Fprintf(w, ", got %s", SignalName(r.Signal))
	}
	if r.FirstFailure != "" {
		fmt.Fprintf(w, ", first failure %s", r.FirstFailure)
	}
	fmt.Fprintln(w)
}

var basisText = map[Basis]string{
	Exact:       "exact (counted by tubo)",
	WriterWchar: "unknown; its writer wrote %s in all (wchar)",
	Unknown:     "unknown",
}

// Describe says how a stage ended: "exit 0", "SIGPIPE", "not started",
// "skipped".
func (s *Stage) Describe() string {
	switch s.State {
	case Signaled:
		return SignalName(s.Signal)
	case NotStarted:
		return "not started"
	case Skipped:
		if s.Cached {
			return "cached"
		}
		if s.NotNeeded {
			return "not needed"
		}
		return "skipped"
	}
	return "exit " + itoa(s.Status)
}

func (s *Stage) notes() []string {
	var n []string
	if s.Item != "" {
		item := s.Item
		if strings.Contains(item, "/") {
			item = filepath.Base(item)
		}
		n = append(n, "item "+item)
	}
	if s.FirstFailure {
		n = append(n, "first failure")
	}
	if len(s.Attempts) > 0 {
		n = append(n, fmt.Sprintf("attempt %d", len(s.Attempts)+1))
	}
	if s.Accepted != "" {
		n = append(n, s.Accepted)
	}
	switch {
	case s.TimedOut:
		n = append(n, "timed out, killed by tubo")
	case s.KilledByTubo:
		n = append(n, "killed by tubo")
	}
	if s.Reason != "" {
		n = append(n, s.Reason)
	}
	if rm := s.Remote; rm != nil && rm.Known {
		// What the row's times are, and how fine.
		step := "10ms"
		if rm.WallStep >= time.Second {
			step = "1s"
		}
		n = append(n, "times from "+s.Host+" (±"+step+")")
	}
	return n
}

// HostName is where the stage ran: its host, or local.
func (s *Stage) HostName() string {
	if s.Host == "" {
		return "local"
	}
	return s.Host
}

// Remote reports whether any stage ran on another host.
func (r *Report) Remote() bool {
	for _, s := range r.Stages {
		if s.Host != "" {
			return true
		}
	}
	return false
}

// Seconds formats a duration as seconds with two decimals: "0.12s".
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// Bytes formats a byte count in IEC units: "512B", "976.6KiB", "47.7MiB".
func Bytes(n int64) string {
	if n < 0 {
		return "?"
	}
	if n < 1024 {
		return itoa(int(n)) + "B"
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || u == "TiB" {
			return strconv.FormatFloat(v, 'f', 1, 64) + u
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
