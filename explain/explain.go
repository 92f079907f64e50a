// Package explain prints a plan the way the OS lab draws it: every pipe()
// and mkfifo() with the descriptors it returns, every process with its fd
// table as the kernel gives it to the program at execve, what tubo closes,
// and the argv that is exec'd. It runs nothing: it reads the same plan the
// executor runs, in the executor's order.
//
// A child's table (fd 0, 1, 2, 3, …) is exact, and a test holds it to
// strace. The numbers of tubo's own descriptors (what pipe2 and open
// return in tubo, what it closes) are whatever the kernel hands out when
// the run happens; explain shows the lowest free ones in its own process
// and says so.
package explain

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// Options say what explain knows of the tubo that would run the plan. The
// zero value knows nothing: no inherited descriptors, no lookup, fds 0–2
// open.
type Options struct {
	// Inherited are the descriptors above 2 that tubo was given without
	// close-on-exec: every child gets them too, as in sh.
	Inherited []int
	// Open are the descriptors open in tubo now, from which its own
	// numbers are taken; nil means 0, 1 and 2.
	Open []int
	// Lookup finds a stage's program as the executor will (PATH, the
	// stage's directory); nil takes every program as found, under its
	// own name.
	Lookup func(pr *plan.Proc) (path string, err error)
	// Guardian says that the run starts tubo's guardian process first (a
	// fresh tubo always does; a later pipeline of the same tubo reuses
	// it).
	Guardian bool
}

// numbering gives each descriptor tubo holds a number, as the kernel
// hands them out: the lowest free one, in the order the executor opens
// them.
type numbering struct {
	pipes [][2]int
	files []int
	open  map[int]bool
}

func (n *numbering) alloc() int {
	for i := 0; ; i++ {
		if !n.open[i] {
			n.open[i] = true
			return i
		}
	}
}

func (n *numbering) free(fd int) { delete(n.open, fd) }

// number simulates the executor's descriptor use up to the first fork:
// the guardian's pipe, then every
// pipe, then each here-document's write end closed once written. Files
// are numbered as each stage opens them, later (see Text).
func number(p *plan.Plan, opt Options) *numbering {
	n := &numbering{pipes: make([][2]int, len(p.Pipes)), files: make([]int, len(p.Files)), open: map[int]bool{}}
	open := opt.Open
	if open == nil {
		open = []int{0, 1, 2}
	}
	for _, fd := range open {
		n.open[fd] = true
	}
	if opt.Guardian && (len(p.Procs) > 0 || p.TempDir != "") {
		// The guardian's pipe; tubo keeps the write end only.
		r, _ := n.alloc(), n.alloc()
		n.free(r)
	}
	for i := range p.Pipes {
		n.pipes[i] = [2]int{n.alloc(), n.alloc()}
	}
	for i, pp := range p.Pipes {
		if pp.Data != nil && len(pp.Data) <= 4096 {
			n.free(n.pipes[i][1])
		}
	}
	return n
}

// Text writes the plan as numbered steps, in the order the executor takes
// them.
func Text(w io.Writer, p *plan.Plan, opt Options) error {
	n := number(p, opt)
	var b strings.Builder
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(&b, "%2d. %s\n", step, fmt.Sprintf(format, args...))
	}
	guardian := opt.Guardian
	startGuardian := func(why string) {
		if !guardian {
			return
		}
		guardian = false
		say("fork tubo's guardian, %s", why)
		fmt.Fprintf(&b, "      fd 0 ← read end of the guardian's pipe (tubo writes the process groups to kill into it)\n")
		fmt.Fprintf(&b, "      every other descriptor closed: close_range(1, ~0U)\n")
		fmt.Fprintf(&b, "      no execve: a copy of tubo in a process group of its own, every signal blocked (executor/guard_child.go)\n")
	}
	if len(p.Procs) > 0 || p.TempDir != "" {
		startGuardian("before anything else (once per tubo process): if tubo dies, it kills what the stages left behind and removes what tubo made")
	}
	remoteSteps(p, say)
	if p.TempDir != "" {
		say("mkdir(%s, 0700)  private directory for FIFOs", p.TempDir)
	}
	for _, f := range p.FIFOs {
		say("mkfifo(%s, 0600)  FIFO node %s", f.Path, f.Node.ID)
	}
	for i, pp := range p.Pipes {
		fds := n.pipes[i]
		what := pp.Why
		if pp.Size > 0 {
			what += fmt.Sprintf("; fcntl(%d, F_SETPIPE_SZ, %d)", fds[1], pp.Size)
		}
		say("pipe2(O_CLOEXEC) = [%d, %d]  %s", fds[0], fds[1], what)
	}
	for i, pp := range p.Pipes {
		if pp.Data == nil {
			continue
		}
		if len(pp.Data) <= 4096 {
			say("write(%d, …, %d) and close(%d) in tubo: the here-document fits in the pipe", n.pipes[i][1], len(pp.Data), n.pipes[i][1])
		} else {
			say("tubo writes the here-document (%d bytes) into fd %d while %s reads it, then closes it", len(pp.Data), n.pipes[i][1], p.Label(pp.To))
		}
	}
	for _, bi := range p.Builtins {
		say("%s %s runs inside tubo (no fork): reads %s; writes %s", bi.Node.Kind, bi.Node.ID,
			sources(p, n, bi.Inputs, true), sources(p, n, bi.Outputs, false))
	}
	var started, missing []string
	first := true
	for _, pr := range orderStarts(p) {
		path := pr.Argv[0]
		var lookErr error
		if opt.Lookup != nil && len(pr.Argv) > 0 {
			path, lookErr = opt.Lookup(pr)
		}
		if lookErr != nil {
			say("not started: %v — tubo does not fork; %s's status is %d", lookErr, pr.Node.ID, notStartedStatus(lookErr))
			missing = append(missing, pr.Node.ID)
			closeOwned(n, pr, say, "never started")
			continue
		}
		for _, fi := range pr.Files {
			f := p.Files[fi]
			n.files[fi] = n.alloc()
			note := ""
			if f.IsFIFO {
				note = " (a FIFO: blocks until its other side opens)"
			}
			say("open(%s, %s|O_CLOEXEC) = %d  for %s%s", f.Path, flagString(f.Flag), n.files[fi], pr.Node.ID, note)
		}
		head := "fork + exec " + pr.Node.ID
		if path != pr.Argv[0] {
			head += " (" + path + ")"
		}
		switch {
		case len(pr.After) > 0:
			head += ", once " + afterText(p, pr)
		case first && !p.OwnGroups:
			head += ", first, alone: its pid becomes the process group of the whole pipeline"
		case first:
			head += ", first"
		default:
			head += ", started alongside the others"
		}
		say("%s", head)
		for _, fd := range table(pr, opt) {
			fmt.Fprintf(&b, "      fd %d %s\n", fd.Num, entry(p, n, fd))
		}
		fmt.Fprintf(&b, "      every other descriptor of tubo is close-on-exec: closed by execve\n")
		if pr.Dir != "" {
			fmt.Fprintf(&b, "      chdir(%s)\n", pr.Dir)
		}
		for _, e := range pr.Env {
			fmt.Fprintf(&b, "      env %s\n", e)
		}
		fmt.Fprintf(&b, "      execve(%q, %s)\n", path, argvString(pr.Argv))
		if pr.Host != "" {
			// The remote side of the stage, which the fd table above feeds.
			fmt.Fprintf(&b, "      on %s: %s, with fds 0–2 carried by this ssh client's stdin, stdout and stderr\n", pr.Host, argvString(pr.Node.Argv))
		}
		for _, line := range failureText(pr.Node) {
			fmt.Fprintf(&b, "      %s\n", line)
		}
		started = append(started, pr.Node.ID)
		closeOwned(n, pr, say, "has its own copies (or never needed them)")
		first = false
	}
	if len(started) > 0 {
		say("wait for %s (one reaper for the run: their pidfds in one epoll set)", strings.Join(started, ", "))
	}
	for _, f := range p.FIFOs {
		if f.Remove {
			say("unlink(%s)", f.Path)
		}
	}
	if p.TempDir != "" {
		say("rmdir(%s)", p.TempDir)
	}
	_ = missing
	_, err := io.WriteString(w, b.String())
	return err
}

// Footer says which numbers are exact; print it once after the plans.
func Footer(w io.Writer, opt Options) error {
	_, err := fmt.Fprintf(w, "The children's tables (fd 0, 1, 2, …) are exact. tubo's own numbers (what pipe2\n"+
		"and open return, what it closes) are the lowest free ones in this tubo now (%s\n"+
		"open); a run may get others: --trace shows them.\n", ranges(keys(optOpen(opt))))
	return err
}

func optOpen(opt Options) []int {
	if opt.Open == nil {
		return []int{0, 1, 2}
	}
	return opt.Open
}

func keys(xs []int) []int { s := slices.Clone(xs); slices.Sort(s); return s }

// ranges writes 0–4, 10 for 0 1 2 3 4 10.
func ranges(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", xs[i], xs[j]))
		} else {
			parts = append(parts, fmt.Sprint(xs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// orderStarts lists the processes in the order the executor starts them:
// those that wait on nothing, in plan order, then those that run after
// others, in plan order.
func orderStarts(p *plan.Plan) []*plan.Proc {
	var now, later []*plan.Proc
	for _, pr := range p.Procs {
		if len(pr.After) == 0 {
			now = append(now, pr)
		} else {
			later = append(later, pr)
		}
	}
	return append(now, later...)
}

func notStartedStatus(err error) int {
	type notFound interface{ NotFound() bool }
	if nf, ok := err.(notFound); ok && !nf.NotFound() {
		return 126
	}
	return 127
}

// table is the child's descriptor table at execve: the plan's entries,
// and tubo's inherited descriptors that no entry replaces.
func table(pr *plan.Proc, opt Options) []plan.FD {
	t := map[int]plan.FD{}
	for _, fd := range pr.FDs {
		t[fd.Num] = fd
	}
	for _, fd := range opt.Inherited {
		if _, ok := t[fd]; !ok {
			t[fd] = plan.FD{Num: fd, Src: plan.Source{Kind: plan.Inherit, FD: fd}, Why: "inherited"}
		}
	}
	var out []plan.FD
	for _, fd := range t {
		if fd.Src.Kind == plan.Closed {
			continue
		}
		out = append(out, fd)
	}
	slices.SortFunc(out, func(a, b plan.FD) int { return a.Num - b.Num })
	return out
}

// closeOwned prints the closes of tubo's copies once pr has its own.
func closeOwned(n *numbering, pr *plan.Proc, say func(string, ...any), why string) {
	var fds []int
	seen := map[int]bool{}
	for _, fd := range pr.Owned {
		var num int
		switch fd.Kind {
		case plan.PipeRead:
			num = n.pipes[fd.Index][0]
		case plan.PipeWrite:
			num = n.pipes[fd.Index][1]
		case plan.OpenFile:
			num = n.files[fd.Index]
		default:
			continue
		}
		if !seen[num] && n.open[num] {
			seen[num] = true
			fds = append(fds, num)
		}
	}
	if len(fds) == 0 {
		return
	}
	slices.Sort(fds)
	for _, fd := range fds {
		n.free(fd)
	}
	say("close(%s) in tubo: %s %s", joinInts(fds), pr.Node.ID, why)
}

// entry describes one fd table entry: what it refers to and how it got
// there.
func entry(p *plan.Plan, n *numbering, fd plan.FD) string {
	src := fd.Src
	switch src.Kind {
	case plan.Inherit:
		switch {
		case src.FD == fd.Num && src.FD <= 2:
			return fmt.Sprintf("= tubo's fd %d (inherited)", src.FD)
		case src.FD == fd.Num:
			return fmt.Sprintf("= tubo's fd %d (inherited: tubo got it without close-on-exec)", src.FD)
		}
		return fmt.Sprintf("= tubo's fd %d, dup2(%d, %d)  (%s)", src.FD, src.FD, fd.Num, fd.Why)
	case plan.PipeRead:
		pp := p.Pipes[src.Index]
		why := fd.Why
		if pp.Data != nil {
			why = fmt.Sprintf("here-document (%d bytes, written by tubo)", len(pp.Data))
		}
		return fmt.Sprintf("← read end of pipe [%d, %d], dup2(%d, %d)  %s", n.pipes[src.Index][0], n.pipes[src.Index][1], n.pipes[src.Index][0], fd.Num, why)
	case plan.PipeWrite:
		return fmt.Sprintf("→ write end of pipe [%d, %d], dup2(%d, %d)  %s", n.pipes[src.Index][0], n.pipes[src.Index][1], n.pipes[src.Index][1], fd.Num, fd.Why)
	case plan.OpenFile:
		f := p.Files[src.Index]
		return fmt.Sprintf("= %s opened %s, dup2(%d, %d)", f.Path, flagString(f.Flag), n.files[src.Index], fd.Num)
	case plan.DevNull:
		return "= /dev/null (no input edge)"
	}
	return "?"
}

func sources(p *plan.Plan, n *numbering, srcs []plan.Source, in bool) string {
	var out []string
	for _, s := range srcs {
		switch s.Kind {
		case plan.PipeRead:
			out = append(out, fmt.Sprintf("fd %d (%s)", n.pipes[s.Index][0], pipeEnd(p, s.Index, in)))
		case plan.PipeWrite:
			out = append(out, fmt.Sprintf("fd %d (%s)", n.pipes[s.Index][1], pipeEnd(p, s.Index, in)))
		case plan.OpenFile:
			out = append(out, p.Files[s.Index].Path)
		case plan.Inherit:
			out = append(out, fmt.Sprintf("tubo's fd %d (its own close-on-exec copy)", s.FD))
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// pipeEnd names the other side of a builtin's pipe: "← gen:1", "→ a:0".
func pipeEnd(p *plan.Plan, i int, in bool) string {
	pp := p.Pipes[i]
	if pp.Edge == nil {
		return "here-document"
	}
	if in {
		return "← " + p.Label(pp.Edge.From)
	}
	return "→ " + p.Label(pp.Edge.To)
}

func flagString(flag int) string {
	var parts []string
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		parts = append(parts, "O_RDONLY")
	case os.O_WRONLY:
		parts = append(parts, "O_WRONLY")
	case os.O_RDWR:
		parts = append(parts, "O_RDWR")
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "O_CREAT"}, {os.O_TRUNC, "O_TRUNC"}, {os.O_APPEND, "O_APPEND"}} {
		if flag&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

func argvString(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

var _ = graph.Process
