package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// This file is the one place where a command becomes a tubo child: a
// compound command, function or builtin standing in a pipeline, a
// subshell `( … )`, a background job of such commands. The child is a
// graph node like any other stage — planned, started, reaped, reported,
// traced and explained — whose program is tubo itself, re-executed as
// `tubo StageArg N`. It reads the shell's state and the command to run
// from descriptor N (a pipe the executor fills, on a number no other
// descriptor of the child has), closes it, and runs the command as a
// subshell.

// StageArg is the first argument of a re-executed tubo that runs a shell
// stage; cli.Main hands such a call to StageMain.
const StageArg = "--shell-stage"

// childNode makes the graph node of a shell stage that runs src in a
// child tubo with the runner's state. redirs are the stage's own
// redirections (applied by the executor in the child's fd table).
//
// line is the source line src's first line comes from: the child counts
// its lines from there, for $LINENO and its messages.
func (r *Runner) childNode(label, src string, line uint, pos graph.Pos, redirs []graph.Redir) *graph.Node {
	fd := r.stateFD(redirs)
	var extra []int
	for _, k := range sortedFDs(r.fds) {
		if k > 2 && r.fds[k] != nil {
			extra = append(extra, k)
		}
	}
	lineno := r.lineno
	if line > 0 {
		r.lineno = int(line) // carried in the state as the child's line base
	}
	state := r.encodeState(src, extra)
	r.lineno = lineno
	n := &graph.Node{
		Kind:  graph.Process,
		Pos:   pos,
		Group: label,
		Argv:  []string{r.self(), StageArg, strconv.Itoa(fd)},
		Env:   []string{stageDepthVar + "=" + strconv.Itoa(stageDepth()+1)},
	}
	n.Redirs = append(n.Redirs, redirs...)
	// The state pipe comes last, so no redirection of the stage can
	// land on it.
	n.Redirs = append(n.Redirs, graph.Redir{Kind: graph.Data, FD: fd, Pos: pos, Data: state})
	return n
}

// stateFD is the descriptor the state is passed on: the lowest one from
// 10 up that is none of the child's: not the shell's open descriptors,
// the stage's redirections or the descriptors tubo inherited. The lowest
// free one rather than one above them all: a descriptor inherited near
// RLIMIT_NOFILE (or above it) would push the state past the limit and
// the stage would not start, where sh runs it.
func (r *Runner) stateFD(redirs []graph.Redir) int {
	used := map[int]bool{}
	for k := range r.fds {
		used[k] = true
	}
	for _, rd := range redirs {
		used[rd.FD], used[rd.Src] = true, true
	}
	for _, k := range executor.InheritedFDs() {
		used[k] = true
	}
	fd := 10
	for used[fd] {
		fd++
	}
	return fd
}

// stageLabel names a shell stage by its command, for explain, trace and
// the report: "while", "if", "{ … }", "f" (a function), "echo".
func stageLabel(cmd syntax.Command) string {
	switch c := cmd.(type) {
	case *syntax.Block:
		return "{}"
	case *syntax.Subshell:
		return "()"
	case *syntax.IfClause:
		return "if"
	case *syntax.WhileClause:
		if c.Until {
			return "until"
		}
		return "while"
	case *syntax.ForClause:
		return "for"
	case *syntax.CaseClause:
		return "case"
	case *syntax.ArithmCmd:
		return "(())"
	case *syntax.TestClause:
		return "[[]]"
	case *syntax.DeclClause:
		return c.Variant.Value
	case *syntax.LetClause:
		return "let"
	case *syntax.FuncDecl:
		return "function"
	case *syntax.TimeClause:
		return "time"
	case *syntax.BinaryCmd:
		return "sh"
	case *syntax.CallExpr:
		if len(c.Args) > 0 {
			if s := c.Args[0].Lit(); s != "" {
				return s
			}
		}
	}
	return "sh"
}

// stageDepthVar counts the shell stages between a child and the shell
// the user started, so that a runaway recursion of subshells ends with
// an error instead of filling the process table.
const stageDepthVar = "TUBO_SHELL_STAGE_DEPTH"

const maxStageDepth = 200

func stageDepth() int {
	n, _ := strconv.Atoi(os.Getenv(stageDepthVar))
	return n
}

// StageMain runs a shell stage in a re-executed tubo: args[0] is the
// descriptor of its state. It returns the exit status.
func StageMain(args []string, stdin, stdout, stderr *os.File) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "tubo: usage: tubo "+StageArg+" FD")
		return 2
	}
	if stageDepth() > maxStageDepth {
		fmt.Fprintf(stderr, "tubo: more than %d nested subshells\n", maxStageDepth)
		return 2
	}
	fd, err := strconv.Atoi(args[0])
	if err != nil || fd < 3 {
		fmt.Fprintln(stderr, "tubo: "+StageArg+": bad descriptor "+args[0])
		return 2
	}
	f := executor.TakeInherited(fd)
	if f == nil {
		f = os.NewFile(uintptr(fd), "shell state")
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "tubo: reading the shell state: %v\n", err)
		return 2
	}
	r := New(Config{Stdin: stdin, Stdout: stdout, Stderr: stderr, Env: []string{}, CatchSignals: true})
	cs, err := r.decodeState(b)
	if err != nil {
		fmt.Fprintf(stderr, "tubo: %v\n", err)
		return 2
	}
	r.subshell = true
	r.traps.resetForSubshell()
	r.lineBase = max(r.lineno-1, 0)
	f2, err := r.parseSource(r.name, cs.src)
	if err != nil {
		fmt.Fprintf(stderr, "tubo: %v\n", err)
		return 2
	}
	r.begin(context.Background())
	r.expanded = true
	r.runFile(f2, cs.src)
	r.expanded = false
	r.finish()
	if r.exiting {
		return r.exitStatus
	}
	return r.status
}

// inheritFD puts a descriptor the parent shell had open (3>log) into the
// child's table.
func (r *Runner) inheritFD(fd int) {
	if f := executor.InheritedFile(fd); f != nil {
		r.fds[fd] = f
		return
	}
	r.fds[fd] = os.NewFile(uintptr(fd), "fd"+strconv.Itoa(fd))
}

// subshellStmt runs ( … ) in a child tubo.
func (r *Runner) subshellStmt(s *syntax.Stmt) int {
	return r.runStages([]stage{{stmt: s}})
}
