// Package explain prints a plan the way the OS lab draws it: every pipe()
// and mkfifo() with the descriptors it returns, every process with its fd
// table after the dup2s, what is closed, and the argv that is exec'd. It
// runs nothing: it reads the same plan the executor would run.
package explain

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tubo-pipes/tubo/plan"
)

// numbering gives every descriptor tubo would hold a number, as the kernel
// hands them out: the lowest free one, starting after 0, 1 and 2.
type numbering struct {
	pipes [][2]int
	files []int
}

func number(p *plan.Plan) numbering {
	n := numbering{pipes: make([][2]int, len(p.Pipes)), files: make([]int, len(p.Files))}
	next := 3
	for i := range p.Pipes {
		n.pipes[i] = [2]int{next, next + 1}
		next += 2
	}
	for i := range p.Files {
		n.files[i] = next
		next++
	}
	return n
}

// Text writes the plan as numbered steps.
func Text(w io.Writer, p *plan.Plan) error {
	n := number(p)
	var b strings.Builder
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(&b, "%2d. %s\n", step, fmt.Sprintf(format, args...))
	}
	if p.TempDir != "" {
		say("mkdir(%s, 0700)                 private directory for FIFOs", p.TempDir)
	}
	for _, f := range p.FIFOs {
		say("mkfifo(%s, 0600)               FIFO node %s", f.Path, f.Node.ID)
	}
	for i, pp := range p.Pipes {
		fds := n.pipes[i]
		what := pp.Why
		if pp.Data != nil {
			what += fmt.Sprintf("; tubo writes %d bytes into fd %d and closes it", len(pp.Data), fds[1])
		}
		if pp.Size > 0 {
			what += fmt.Sprintf("; F_SETPIPE_SZ %d", pp.Size)
		}
		say("pipe2(O_CLOEXEC) = [%d, %d]      %s", fds[0], fds[1], what)
	}
	for _, bi := range p.Builtins {
		say("%s %s runs inside tubo: reads %s, writes %s", bi.Node.Kind, bi.Node.ID,
			sources(p, n, bi.Inputs), sources(p, n, bi.Outputs))
	}
	for _, pr := range p.Procs {
		for _, fi := range pr.Files {
			f := p.Files[fi]
			say("open(%s, %s) = %d            for %s", f.Path, flagString(f.Flag), n.files[fi], pr.Node.ID)
		}
		head := "fork + exec " + pr.Node.ID
		if len(pr.After) > 0 {
			head += " (once " + afterText(p, pr) + ")"
		}
		say("%s", head)
		for _, fd := range pr.FDs {
			fmt.Fprintf(&b, "      fd %d %s\n", fd.Num, entry(p, n, fd))
		}
		fmt.Fprintf(&b, "      every other descriptor of tubo is close-on-exec: closed by exec\n")
		if pr.Dir != "" {
			fmt.Fprintf(&b, "      chdir(%s)\n", pr.Dir)
		}
		for _, e := range pr.Env {
			fmt.Fprintf(&b, "      env %s\n", e)
		}
		fmt.Fprintf(&b, "      execve(%s)\n", argvString(pr.Argv))
		for _, line := range failureText(pr.Node) {
			fmt.Fprintf(&b, "      %s\n", line)
		}
		if owned := owned(pr, n); len(owned) > 0 {
			say("close(%s) in tubo: the child has its own copies now", joinInts(owned))
		}
	}
	var all []string
	for _, pr := range p.Procs {
		all = append(all, pr.Node.ID)
	}
	if len(all) > 0 {
		say("wait for %s (one reaper per child)", strings.Join(all, ", "))
	}
	for _, f := range p.FIFOs {
		if f.Remove {
			say("unlink(%s)", f.Path)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// entry describes one fd table entry: what it refers to and how it got
// there.
func entry(p *plan.Plan, n numbering, fd plan.FD) string {
	src := fd.Src
	switch src.Kind {
	case plan.Inherit:
		if src.FD == fd.Num {
			return fmt.Sprintf("= tubo's fd %d (inherited)", src.FD)
		}
		return fmt.Sprintf("= dup2(%d, %d)  (%s)", src.FD, fd.Num, fd.Why)
	case plan.PipeRead:
		return fmt.Sprintf("← dup2(%d, %d)  read end of pipe [%d, %d]  %s", n.pipes[src.Index][0], fd.Num, n.pipes[src.Index][0], n.pipes[src.Index][1], fd.Why)
	case plan.PipeWrite:
		return fmt.Sprintf("→ dup2(%d, %d)  write end of pipe [%d, %d]  %s", n.pipes[src.Index][1], fd.Num, n.pipes[src.Index][0], n.pipes[src.Index][1], fd.Why)
	case plan.OpenFile:
		f := p.Files[src.Index]
		return fmt.Sprintf("= dup2(%d, %d)  %s opened %s", n.files[src.Index], fd.Num, f.Path, flagString(f.Flag))
	case plan.Closed:
		return fmt.Sprintf("closed (%s)", fd.Why)
	case plan.DevNull:
		return "= /dev/null (no input edge)"
	}
	return "?"
}

func sources(p *plan.Plan, n numbering, srcs []plan.Source) string {
	var out []string
	for _, s := range srcs {
		switch s.Kind {
		case plan.PipeRead:
			out = append(out, fmt.Sprintf("fd %d", n.pipes[s.Index][0]))
		case plan.PipeWrite:
			out = append(out, fmt.Sprintf("fd %d", n.pipes[s.Index][1]))
		case plan.OpenFile:
			out = append(out, p.Files[s.Index].Path)
		}
	}
	return strings.Join(out, ", ")
}

// owned lists tubo's descriptors that belong to this process alone and
// that tubo closes once it has started.
func owned(pr *plan.Proc, n numbering) []int {
	seen := map[int]bool{}
	for _, fd := range pr.FDs {
		switch fd.Src.Kind {
		case plan.PipeRead:
			seen[n.pipes[fd.Src.Index][0]] = true
		case plan.PipeWrite:
			seen[n.pipes[fd.Src.Index][1]] = true
		case plan.OpenFile:
			seen[n.files[fd.Src.Index]] = true
		}
	}
	var out []int
	for fd := range seen {
		out = append(out, fd)
	}
	sort.Ints(out)
	return out
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
