package runner

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// cmdSubst runs the statements of $(…) with subshell semantics and
// returns their output without its trailing newlines. Builtins and
// functions run inside tubo on a copy of the state (a virtual subshell);
// every program they start goes through the executor with the pipe as
// its stdout. A body that needs a process of its own ($BASHPID, ulimit,
// exec of a program) runs as a child stage instead.
func (r *Runner) cmdSubst(cs *syntax.CmdSubst) (string, error) {
	if r.static {
		return printNode(cs), nil
	}
	if w := fileOnly(cs); w != nil {
		return r.cmdSubstFile(w)
	}
	pr, pw, err := os.Pipe() // both ends close-on-exec: children get pw only through their fd table
	if err != nil {
		return "", err
	}
	// Read while the statements run: a pipe holds 64 KiB, and a writer
	// with no reader would block forever.
	var out bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(&out, pr)
		pr.Close()
		copied <- err
	}()
	var st int
	if needsProcess(cs.Stmts) {
		st = r.cmdSubstChild(cs, pw)
	} else {
		sub := r.virtualSubshell()
		sub.fds[1] = pw
		sub.stmts(cs.Stmts)
		sub.endSubshell()
		st = sub.status
		if sub.exiting {
			st = sub.exitStatus
		}
		r.lastBg = max(r.lastBg, 0)
	}
	// Every process that had pw has been reaped (or holds its own copy);
	// closing this one lets the reader see EOF.
	pw.Close()
	err = <-copied
	r.substStatus = st
	r.status = st
	return substValue(out.Bytes()), err
}

// fileOnly gives the file name of $(< file), bash's spelling of
// $(cat file); nil for any other substitution.
func fileOnly(cs *syntax.CmdSubst) *syntax.Word {
	if len(cs.Stmts) != 1 {
		return nil
	}
	st := cs.Stmts[0]
	if st.Cmd != nil || st.Negated || st.Background || st.Coprocess || len(st.Redirs) != 1 {
		return nil
	}
	if rd := st.Redirs[0]; rd.Op == syntax.RdrIn && rd.N == nil {
		return rd.Word
	}
	return nil
}

// cmdSubstFile is $(< file): the file's bytes, NULs dropped and trailing
// newlines cut as for any substitution; a file that cannot be read fails
// with 1, as a failed redirection does.
func (r *Runner) cmdSubstFile(w *syntax.Word) (string, error) {
	path, err := r.redirTarget(w)
	if err == nil && r.cfg.Sandbox > 0 {
		err = errSandbox
	}
	var data []byte
	if err == nil {
		if data, err = os.ReadFile(r.abs(path)); err != nil {
			err = fileError(path, err)
		}
	}
	if err != nil {
		var re *redirError
		if !errors.As(err, &re) && err != errSandbox {
			return "", err // an expansion error in the name
		}
		r.errorf("%v", err)
		r.substStatus, r.status = 1, 1
		return "", nil
	}
	r.substStatus, r.status = 0, 0
	return substValue(data), nil
}

// substValue is a substitution's output as a value. A shell value cannot
// hold a NUL byte (it ends a C string in an argv or environ): dash and
// bash drop them. Trailing newlines go, as POSIX says.
func substValue(b []byte) string {
	if bytes.IndexByte(b, 0) >= 0 {
		b = bytes.ReplaceAll(b, []byte{0}, nil)
	}
	return strings.TrimRight(string(b), "\n")
}

// cmdSubstChild runs a command substitution in a child tubo.
func (r *Runner) cmdSubstChild(cs *syntax.CmdSubst, pw *os.File) int {
	old := r.fds
	r.fds = r.fds.clone()
	r.fds[1] = pw
	defer func() { r.fds = old }()
	n := r.childNode("$()", printStmts(cs.Stmts), firstLine(cs.Stmts), shell.Pos(r.name, cs.Pos()), r.inherit(false, false))
	n.ID = "$()"
	g := &graph.Graph{Name: "line", StallAfter: -1}
	g.Add(n)
	st, _ := r.runGraph(g)
	return st
}

// needsProcess reports whether statements must run in a process of their
// own rather than on a copy of the state in tubo.
func needsProcess(stmts []*syntax.Stmt) bool {
	need := false
	for _, s := range stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.ParamExp:
				if n.Param != nil && n.Param.Value == "BASHPID" {
					need = true
				}
			case *syntax.CallExpr:
				if len(n.Args) > 0 {
					switch n.Args[0].Lit() {
					case "ulimit":
						need = true
					case "exec":
						need = len(n.Args) > 1
					}
				}
			}
			return !need
		})
	}
	return need
}

// virtualSubshell is a copy of the shell's state for a subshell that runs
// inside tubo: what it changes stays in the copy.
func (r *Runner) virtualSubshell() *Runner {
	c := *r
	c.vars = r.vars.clone()
	c.funcs = make(map[string]*funcDef, len(r.funcs))
	for k, v := range r.funcs {
		c.funcs[k] = v
	}
	c.aliases = make(map[string]string, len(r.aliases))
	for k, v := range r.aliases {
		c.aliases[k] = v
	}
	c.args = append([]string(nil), r.args...)
	c.fds = r.fds.clone()
	c.traps = r.traps.clone()
	c.jobs = newJobs()
	c.noErrexit = 0
	c.exiting = false
	c.breakN, c.contN, c.returning = 0, 0, false
	c.loopDepth = 0
	c.substStatus = -1
	c.virtual = true
	c.subshell = true
	c.inTrap = false
	c.envCache = nil
	c.dirStack = append([]string(nil), r.dirStack...)
	c.funcNames = append([]string(nil), r.funcNames...)
	if !r.opts[optPosix] && !r.opts[optInheritErrexit] {
		// bash: set -e is not inherited by command substitutions.
		c.opts[optErrexit] = false
	}
	c.umaskSaved = currentUmask()
	return &c
}

// endSubshell ends a virtual subshell: its EXIT trap runs, its jobs end,
// and the process's umask is the parent's again.
func (r *Runner) endSubshell() {
	r.runExitTrap()
	r.jobs.endAll()
	setUmask(r.umaskSaved)
}

// procSubst runs <(cmd) or >(cmd): cmd starts at once, connected by a pipe
// whose other end the current command gets as /dev/fd/N. The pipe end is
// in the shell's descriptor table (as N) until the command is done.
func (r *Runner) procSubst(ps *syntax.ProcSubst) (string, error) {
	if r.static {
		return printNode(ps), nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	mine, theirs := pr, pw
	if ps.Op == syntax.CmdOut {
		mine, theirs = pw, pr
	}
	old := r.fds
	r.fds = r.fds.clone()
	if ps.Op == syntax.CmdOut {
		r.fds[0] = theirs
	} else {
		r.fds[1] = theirs
	}
	label := "<()"
	if ps.Op == syntax.CmdOut {
		label = ">()"
	}
	n := r.childNode(label, printStmts(ps.Stmts), firstLine(ps.Stmts), shell.Pos(r.name, ps.Pos()), r.inherit(false, false))
	n.ID = label
	g := &graph.Graph{Name: "line", StallAfter: -1}
	g.Add(n)
	h, p, start, err := r.startGraph(g, true, false)
	r.fds = old
	theirs.Close()
	if err != nil {
		mine.Close()
		return "", err
	}
	if r.cfg.AfterRun != nil {
		go func() {
			res, _ := h.Wait()
			r.cfg.AfterRun(g, p, res, start, start)
		}()
	}
	fd := int(mine.Fd())
	r.fds[fd] = mine
	r.procSubsts = append(r.procSubsts, procSubstEnd{fd: fd, f: mine})
	r.bgProcs = append(r.bgProcs, h)
	return "/dev/fd/" + strconv.Itoa(fd), nil
}

// waitProcSubsts waits for the process substitutions started so far, as
// bash's `wait` does. At the shell's end (bounded) it gives them until
// grace to finish — their pipe ends are closed by then, so a `>(cat)` has
// its EOF and prints what it got — and then ends them: tubo leaves no
// process behind, where sh would leave them running.
func (r *Runner) waitProcSubsts(bounded bool) {
	procs := r.bgProcs
	r.bgProcs = nil
	var deadline <-chan time.Time
	if bounded {
		grace := r.cfg.Grace
		if grace == 0 {
			grace = 2 * time.Second
		}
		deadline = time.After(grace)
	}
	for _, h := range procs {
		select {
		case <-h.Done():
		case <-deadline:
			h.Signal(syscall.SIGKILL)
		}
		h.Wait()
	}
}

// procSubstEnd is a process substitution's pipe end, closed when the
// command that uses it is done.
type procSubstEnd struct {
	fd int
	f  *os.File
}

// closeProcSubsts closes the pipe ends of process substitutions made for
// the command that just ran.
func (r *Runner) closeProcSubsts(keep int) {
	for len(r.procSubsts) > keep {
		e := r.procSubsts[len(r.procSubsts)-1]
		r.procSubsts = r.procSubsts[:len(r.procSubsts)-1]
		if r.fds[e.fd] == e.f {
			delete(r.fds, e.fd)
		}
		e.f.Close()
	}
}
