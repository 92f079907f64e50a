// Package progress shows a run's stages live on a terminal: each stage's
// state (waiting, running, exited N, killed SIG), its CPU time, the bytes
// it has written and its write rate, refreshed about four times a second
// from /proc/PID/stat and /proc/PID/io.
//
// It learns the stages' pids from the executor's trace events, so a
// Progress is wired in through executor.Options.Trace (alongside a tracer,
// if any). It writes only to the file it is given (stderr), draws nothing
// when that is not a terminal (Mode Auto), and honours NO_COLOR. Colors
// come from github.com/muesli/termenv. On a terminal the area keeps to
// the bottom rows, below a scroll region where the stages' own output
// goes, so that no frame ever writes over that output (region.go).
package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/muesli/termenv"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/stall"
)

// Interval is how often the live area is refreshed.
const Interval = 250 * time.Millisecond

// MinSummary is the shortest run that gets a summary line at its end: a
// run shorter than that has nothing to report the shell prompt does not.
const MinSummary = time.Second

// Progress draws the live area. Its methods may be called from any
// goroutine; all of them do nothing when progress is off.
type Progress struct {
	w       *os.File
	on      bool
	profile termenv.Profile

	mu     sync.Mutex
	stages []*stage
	byNode map[string]*stage
	// area is set once the area is drawn at the bottom of the screen,
	// below a scroll region for the stages' output (region.go); nil
	// until the first frame, and for good when the terminal's size is
	// unknown or too small: then the area is redrawn relative to the
	// cursor, lines tall.
	area     *region
	relative bool
	lines    int // lines of the relative area now on the terminal
	start    time.Time
	ended    bool

	// shared is set when the stages write on the same terminal (tubo's
	// stdout is it too): see Share.
	shared bool
	// live, when set, gives the watchdog's picture of the run: what each
	// stage waits on, and each edge's bytes.
	live func() *stall.Report

	quit chan struct{}
	done chan struct{}
}

// Share tells the progress area that the stages may write on the terminal
// it draws on (tubo's stdout is the same terminal as its stderr), so the
// area must never be erased: that would take the stages' output with it.
func (p *Progress) Share(stdout *os.File) {
	if !p.on || stdout == nil {
		return
	}
	var a, b unix.Stat_t
	if unix.Fstat(int(stdout.Fd()), &a) == nil && unix.Fstat(int(p.w.Fd()), &b) == nil &&
		a.Mode&unix.S_IFMT == unix.S_IFCHR && a.Rdev == b.Rdev {
		p.mu.Lock()
		p.shared = true
		p.mu.Unlock()
	}
}

// Watch gives the progress area the watchdog's live picture: a stage
// blocked on a FIFO shows as "waiting for a writer on chan", and the area
// lists each edge's bytes, rate and whether it is stalled.
func (p *Progress) Watch(live func() *stall.Report) {
	p.mu.Lock()
	p.live = live
	p.mu.Unlock()
}

// New returns a Progress that draws on w (normally os.Stderr) according
// to mode, and starts refreshing. Call Stop (or Finish) when the run ends.
func New(w *os.File, mode Mode) *Progress {
	p := &Progress{w: w, on: enabled(w, mode), byNode: map[string]*stage{}}
	if !p.on {
		return p
	}
	// The color profile of the real output: Ascii (no colors) when
	// NO_COLOR is set, when it is not a terminal, or when TERM has none.
	p.profile = termenv.NewOutput(w).EnvColorProfile()
	p.start = time.Now()
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	go p.loop()
	return p
}

// On reports whether progress is being drawn.
func (p *Progress) On() bool { return p.on }

// Plan lists the plan's processes as waiting, in order, before any has
// started; without it a stage appears when it starts.
func (p *Progress) Plan(pl *plan.Plan) {
	if !p.on || pl == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range pl.Procs {
		p.stage(pr.Node.ID)
	}
}

// Event takes one executor event: "start" and "exit" move a stage along;
// a "signal" for a stage's timeout, or tubo ending the run, marks stages
// as being ended. Others are ignored.
func (p *Progress) Event(e executor.Event) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	if e.Node == "" {
		if e.Kind == "signal" && strings.HasPrefix(e.Detail, "ending the run") {
			for _, s := range p.stages {
				if s.state == running {
					s.state = ending
				}
			}
		}
		return
	}
	switch e.Kind {
	case "start":
		s := p.stage(e.Node)
		s.pid, s.state, s.started = e.Pid, running, e.Time
		s.lastT = e.Time
	case "exit":
		s := p.stage(e.Node)
		s.ended = e.Time
		s.state, s.how = exitState(e.Detail)
	case "signal":
		if s := p.byNode[e.Node]; s != nil && s.state == running {
			s.state = ending
		}
	}
}

// Finish takes the exact final figures of every stage from the run's
// result (the live ones are sampled, so they lag), then stops like Stop.
func (p *Progress) Finish(res *executor.Result) {
	if p.on && res != nil {
		p.mu.Lock()
		for _, pr := range res.Procs {
			s := p.stage(pr.Node.ID)
			s.final(pr)
		}
		p.mu.Unlock()
	}
	p.Stop()
}

// Stop stops refreshing, clears the live area and leaves one line that
// sums up the run. It may be called more than once.
func (p *Progress) Stop() {
	if !p.on {
		return
	}
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.mu.Unlock()
	close(p.quit)
	<-p.done

	p.mu.Lock()
	defer p.mu.Unlock()
	var buf bytes.Buffer
	if p.area != nil {
		// The area goes, the stages' output stays, and the summary
		// starts a line of its own below it.
		p.area.end(&buf)
		p.area.lineStart(&buf)
		if time.Since(p.start) >= MinSummary {
			buf.WriteString(p.summary() + "\n")
		}
		p.w.Write(buf.Bytes())
		return
	}
	out := p.output(&buf)
	if p.shared {
		// The stages wrote on this terminal too, below the area: moving
		// up to erase it would erase their output instead. Leave the
		// last frame where it is, and add the summary under everything.
		p.lines = 0
	} else {
		p.clear(out)
	}
	if time.Since(p.start) < MinSummary {
		p.w.Write(buf.Bytes())
		return
	}
	buf.WriteString(p.summary() + "\n")
	p.w.Write(buf.Bytes())
}

func (p *Progress) loop() {
	defer close(p.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case now := <-t.C:
			p.sampleAll(now)
			p.draw()
		}
	}
}

// sampleAll reads /proc for every running stage. The reads happen without
// the lock; a stage that ended meanwhile keeps its last figures.
func (p *Progress) sampleAll(now time.Time) {
	p.mu.Lock()
	pids := map[*stage]int{}
	for _, s := range p.stages {
		if s.state == running || s.state == ending {
			pids[s] = s.pid
		}
	}
	p.mu.Unlock()
	got := map[*stage]sample{}
	for s, pid := range pids {
		got[s] = readSample(pid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, smp := range got {
		if s.pid == pids[s] && (s.state == running || s.state == ending) {
			s.update(smp, now)
		}
	}
}

// draw rewrites the live area in one write.
func (p *Progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	var buf bytes.Buffer
	rows, cols := size(p.w)
	if p.area == nil && !p.relative {
		if fits(rows) {
			p.area = &region{}
		} else {
			p.relative = true
		}
	}
	if p.area != nil {
		if !fits(rows) {
			rows, cols = p.area.rows, p.area.cols // size unknown now: keep the last
		}
		p.area.frame(&buf, p.render(cols), rows, cols)
		p.w.Write(buf.Bytes())
		return
	}
	out := p.output(&buf)
	lines := p.render(cols)
	if p.lines > 0 {
		out.CursorPrevLine(p.lines)
	}
	for _, l := range lines {
		out.ClearLine()
		buf.WriteString(l + "\n")
	}
	// The area only grows while the run lasts; clear any rest all the same.
	for i := len(lines); i < p.lines; i++ {
		out.ClearLine()
		buf.WriteString("\n")
	}
	if extra := p.lines - len(lines); extra > 0 {
		out.CursorPrevLine(extra)
	}
	p.lines = len(lines)
	p.w.Write(buf.Bytes())
}

// clear erases the live area and leaves the cursor where it began.
func (p *Progress) clear(out *termenv.Output) {
	if p.lines == 0 {
		return
	}
	out.CursorPrevLine(p.lines)
	for i := 0; i < p.lines; i++ {
		out.ClearLine()
		out.WriteString("\n")
	}
	out.CursorPrevLine(p.lines)
	p.lines = 0
}

// output is a termenv output that collects one frame in buf, with the
// color profile of the real terminal.
func (p *Progress) output(buf *bytes.Buffer) *termenv.Output {
	return termenv.NewOutput(buf, termenv.WithProfile(p.profile))
}

// stage returns the stage of a node, adding it as waiting if new. The
// caller holds p.mu.
func (p *Progress) stage(node string) *stage {
	if s := p.byNode[node]; s != nil {
		return s
	}
	s := &stage{node: node}
	p.byNode[node] = s
	p.stages = append(p.stages, s)
	return s
}

// exitState reads the executor's exit detail: "exit 3" or "killed by
// SIGPIPE (status 141)".
func exitState(detail string) (state, string) {
	if rest, ok := strings.CutPrefix(detail, "killed by "); ok {
		sig, _, _ := strings.Cut(rest, " ")
		return killed, sig
	}
	return exited, detail
}

// Above writes a message (a stall report, the live picture) where the
// live area is, and the area is drawn again below it at the next refresh,
// so the message stays on the terminal.
func (p *Progress) Above(write func(f *os.File)) {
	if !p.on {
		write(p.w)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ended {
		var buf bytes.Buffer
		if p.area != nil {
			// Into the stages' region, on a line of its own.
			p.area.lineStart(&buf)
		} else {
			p.clear(p.output(&buf))
		}
		p.w.Write(buf.Bytes())
	}
	write(p.w)
}
