package progress

import (
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stall"
)

type state int

const (
	waiting state = iota
	running
	ending // tubo is ending it (timeout, failure policy)
	exited
	killed
)

// stage is what is known of one stage.
type stage struct {
	node           string
	pid            int
	state          state
	how            string // exited: "exit N"; killed: the signal name
	started, ended time.Time

	// wait is the watchdog's word on what it waits on; "" when none.
	wait string

	cpu     time.Duration
	wchar   int64
	ioKnown bool
	rate    float64 // bytes written per second, smoothed
	lastW   int64
	lastT   time.Time
}

// update takes a new sample of a running stage.
func (s *stage) update(smp sample, now time.Time) {
	if smp.hasCPU {
		s.cpu = smp.cpu
	}
	if !smp.hasIO {
		return
	}
	if dt := now.Sub(s.lastT).Seconds(); dt > 0 && !s.lastT.IsZero() {
		r := float64(smp.wchar-s.lastW) / dt
		if s.ioKnown {
			r = 0.7*r + 0.3*s.rate // smoothed, but a stall shows at once
		}
		s.rate = r
	}
	s.wchar, s.lastW, s.lastT, s.ioKnown = smp.wchar, smp.wchar, now, true
}

// final takes the exact figures of a finished stage.
func (s *stage) final(pr *executor.ProcResult) {
	if pr.Usage != nil {
		s.cpu = time.Duration(pr.Usage.Utime.Nano() + pr.Usage.Stime.Nano())
	}
	if pr.IO.Valid {
		s.wchar, s.ioKnown = pr.IO.Wchar, true
	}
	if !pr.Start.IsZero() && !pr.End.IsZero() && pr.Pid != 0 {
		s.started, s.ended = pr.Start, pr.End
	}
	switch {
	case pr.Cached:
		s.state, s.how = exited, "cached"
	case pr.NotNeeded:
		s.state, s.how = exited, "not needed"
	case pr.Skipped:
		s.state, s.how = exited, "skipped"
	case pr.Pid == 0:
		s.state, s.how = exited, "not started"
	case pr.Signal != 0:
		s.state, s.how = killed, report.SignalName(pr.Signal)
	default:
		s.state, s.how = exited, fmt.Sprintf("exit %d", pr.Status)
	}
}

// label is the stage's state in words: "waiting", "running", "exit 0",
// "killed SIGPIPE".
func (s *stage) label() string {
	switch s.state {
	case running:
		return "running"
	case ending:
		return "ending"
	case exited:
		return s.how
	case killed:
		return "killed " + s.how
	}
	return "waiting"
}

// color picks the ANSI color of the state: yellow while running, green
// for exit 0, red for any other end, none while waiting.
func (s *stage) color() string {
	switch {
	case s.state == running || s.state == ending:
		return "3"
	case s.state == exited && s.how == "exit 0":
		return "2"
	case s.state == exited || s.state == killed:
		return "1"
	}
	return ""
}

// render returns the lines of the live area: a header and one line per
// stage, each cut to the terminal's width (0: no limit).
func (p *Progress) render(width int) []string {
	now := time.Now()
	nrun, ndone := 0, 0
	name := 4
	for _, s := range p.stages {
		switch s.state {
		case running, ending:
			nrun++
		case exited, killed:
			ndone++
		}
		name = max(name, min(utf8.RuneCountInString(s.node), 24))
	}
	lines := []string{fit(fmt.Sprintf("tubo %s  %d running, %d done, %d waiting",
		report.Seconds(now.Sub(p.start)), nrun, ndone, len(p.stages)-nrun-ndone), width)}
	var live *stall.Report
	if p.live != nil {
		live = p.live()
	}
	for _, s := range p.stages {
		s.wait = waitLabel(live, s.node)
		lines = append(lines, p.line(s, name, width))
	}
	if live != nil && len(live.Edges) > 0 && len(live.Edges) <= 8 {
		for _, e := range live.Edges {
			l := "  " + e.From + " → " + e.To
			switch {
			case e.Bytes >= 0 && e.Basis == "exact":
				l += "  " + report.Bytes(e.Bytes) + "  " + report.Bytes(int64(e.Rate)) + "/s"
			case e.Bytes >= 0:
				// The writer's wchar: all it wrote, not the edge's
				// count (issue 9 item 17), so it is said as such.
				l += "  its writer wrote " + report.Bytes(e.Bytes) + "  " + report.Bytes(int64(e.Rate)) + "/s"
			}
			if e.Stalled {
				l += "  stalled"
			}
			lines = append(lines, fit(l, width))
		}
	}
	return lines
}

// waitLabel is what the watchdog says a stage waits on, in the few words
// the live area has room for: "waiting for a writer on chan", "stalled:
// read fd 0"; "" when it has nothing to add.
func waitLabel(r *stall.Report, node string) string {
	if r == nil {
		return ""
	}
	for _, st := range r.Stages {
		if st.Node != node {
			continue
		}
		if st.Call == "open" && strings.HasPrefix(st.On, "FIFO ") {
			fifo, _, _ := strings.Cut(strings.TrimPrefix(st.On, "FIFO "), " ")
			if strings.Contains(st.Why, "no reader") {
				return "waiting for a reader on " + fifo
			}
			return "waiting for a writer on " + fifo
		}
		if r.Stalled && st.State == "blocked" && st.Call != "" {
			if st.FD >= 0 {
				return fmt.Sprintf("stalled: %s fd %d", st.Call, st.FD)
			}
			return "stalled: " + st.Call
		}
	}
	return ""
}

// line formats one stage: name, state, CPU time, bytes written and rate.
func (p *Progress) line(s *stage, name, width int) string {
	head := "  " + pad(s.node, name) + "  "
	label := s.label()
	if s.wait != "" && (s.state == waiting || s.state == running) {
		label = s.wait
	}
	st := pad(label, 15)
	var tail string
	if s.state != waiting {
		tail = "  cpu " + pad(report.Seconds(s.cpu), 7)
		if s.ioKnown {
			tail += "  " + pad("wrote "+report.Bytes(s.wchar), 15)
			if s.state == running || s.state == ending {
				tail += "  " + report.Bytes(int64(s.rate)) + "/s"
			}
		}
	}
	plain := head + st + tail
	if width > 0 && utf8.RuneCountInString(plain) >= width {
		return fit(plain, width)
	}
	if c := s.color(); c != "" {
		st = p.profile.String(st).Foreground(p.profile.Color(c)).String()
	}
	return head + st + tail
}

// summary is the line left when the live area goes away: each stage's
// end and the bytes it wrote.
func (p *Progress) summary() string {
	var parts []string
	for _, s := range p.stages {
		part := s.node + " " + s.label()
		if s.ioKnown {
			part += " (wrote " + report.Bytes(s.wchar) + ")"
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("tubo: %d stages in %s: %s",
		len(p.stages), report.Seconds(time.Since(p.start)), strings.Join(parts, ", "))
}

// size is the terminal's height and width, or 0, 0 when w is not a
// terminal.
func size(w *os.File) (rows, cols int) {
	cols, rows, err := term.GetSize(int(w.Fd()))
	if err != nil || cols <= 0 || rows <= 0 {
		return 0, 0
	}
	return rows, cols
}

// fit cuts s to fewer than width runes, so that the line never wraps (a
// wrapped line would throw off the count of lines to redraw).
func fit(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) < width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1])
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}
