package convert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// ToLine is the shell line of a graph that is one linear pipeline, its
// commands joined by pipes, with files as redirections and stdin data as
// here-documents. notes say where the line's meaning differs in ways a
// line cannot help (the run's status, the end of the others on a
// failure). When the graph is not such a pipeline, the error says every
// reason why not.
func ToLine(g *graph.Graph) (line string, notes []string, err error) {
	t := &toLine{g: g}
	chain := t.chain()
	if len(t.why) > 0 {
		return "", nil, errors.New("\n  - " + strings.Join(t.why, "\n  - "))
	}
	var cmds, hdocs []string
	for i, n := range chain {
		cmd, hdoc, err := t.command(n, i == 0)
		if err != nil {
			return "", nil, err
		}
		cmds = append(cmds, cmd)
		hdocs = append(hdocs, hdoc...)
	}
	if len(t.why) > 0 {
		return "", nil, errors.New("\n  - " + strings.Join(t.why, "\n  - "))
	}
	line = strings.Join(cmds, " | ")
	if len(hdocs) > 0 {
		// Here-documents follow the line, in the order of their <<.
		line += "\n" + strings.Join(hdocs, "")
	}
	if len(chain) > 1 {
		if g.Pipefail {
			notes = append(notes, "the file's status is the last failure of any stage (pipefail: true); the line's is its last command's (set -o pipefail for the other)")
		}
		if g.OnFailure == graph.KillRest {
			notes = append(notes, "the file ends the other stages when one fails (on_failure: kill-rest); the line lets them finish")
		}
	}
	return strings.TrimRight(line, "\n"), notes, nil
}

type toLine struct {
	g   *graph.Graph
	why []string
}

// whyNot adds a reason, once (the copies of a stage share theirs).
func (t *toLine) whyNot(format string, args ...any) {
	if msg := fmt.Sprintf(format, args...); !slices.Contains(t.why, msg) {
		t.why = append(t.why, msg)
	}
}

// chain orders the processes from the first to the last through their
// stdout → stdin pipes, saying why not where the graph is something else.
func (t *toLine) chain() []*graph.Node {
	procs := map[string]*graph.Node{}
	var order []*graph.Node
	for _, n := range t.g.Nodes {
		switch n.Kind {
		case graph.Process:
			procs[n.ID] = n
			order = append(order, n)
			t.process(n)
		case graph.File:
			if n.Log {
				t.whyNot("logs: keeps each stage's stderr in a file of a directory tubo makes first")
			}
		default:
			t.whyNot("%s %s: a line has no %s (a line's graph is processes, pipes and files)", n.Kind, n.ID, n.Kind)
		}
	}
	if len(order) == 0 {
		t.whyNot("the file has no stage")
		return nil
	}
	next := map[string]string{}
	fed := map[string]bool{}
	for _, e := range t.g.Edges {
		from, to := t.g.Node(e.From.Node), t.g.Node(e.To.Node)
		if from == nil || to == nil || from.Kind != graph.Process || to.Kind != graph.Process {
			continue
		}
		switch {
		case e.From.FD != graph.Stdout || e.To.FD != graph.Stdin:
			t.whyNot("%s:%d → %s:%d: a line's pipes join a command's stdout to the next one's stdin", from.ID, e.From.FD, to.ID, e.To.FD)
		case next[from.ID] != "":
			t.whyNot("%s feeds both %s and %s", from.ID, next[from.ID], to.ID)
		default:
			next[from.ID] = to.ID
			fed[to.ID] = true
		}
	}
	if len(t.why) > 0 {
		return nil
	}
	var heads []string
	for _, n := range order {
		if !fed[n.ID] {
			heads = append(heads, n.ID)
		}
	}
	if len(heads) == 0 {
		t.whyNot("its pipes form a loop (cycles: allow); a line's pipes run one way")
		return nil
	}
	if len(heads) != 1 {
		t.whyNot("%d pipelines (%s start one each); a line of one pipeline has one first command (run them as several lines, or join them with after:)", len(heads), strings.Join(heads, ", "))
		return nil
	}
	var chain []*graph.Node
	for id := heads[0]; id != ""; id = next[id] {
		chain = append(chain, procs[id])
	}
	return chain
}

// process says why a process cannot be a command of a line.
func (t *toLine) process(n *graph.Node) {
	id := n.ID
	switch {
	case n.Replicas > 0:
		t.whyNot("stage %s has %d copies; a line runs each command once", n.Name(), n.Replicas)
		return
	case n.Host != "":
		t.whyNot("stage %s runs on host %s", id, n.Host)
	}
	if n.Dir != "" {
		t.whyNot("stage %s has cwd: %s; a line runs its commands in one directory", id, n.Dir)
	}
	if len(n.After) > 0 {
		t.whyNot("stage %s runs after %s; a line of one pipeline starts its commands together", id, strings.Join(n.After, ", "))
	}
	if n.Timeout > 0 {
		t.whyNot("stage %s has a timeout", id)
	}
	if n.Retries > 0 {
		t.whyNot("stage %s is retried", id)
	}
	if len(n.OKExit) > 0 && !slices.Equal(n.OKExit, []int{0}) {
		t.whyNot("stage %s has ok_exit: %v", id, n.OKExit)
	}
	if n.OnFailure != nil {
		t.whyNot("stage %s has on_failure: %s", id, *n.OnFailure)
	}
	if len(n.Outputs) > 0 {
		t.whyNot("stage %s declares outputs: (a line is never skipped as up to date)", id)
	}
}

// command is one command of the line: its environment additions, its
// argv (or its shell text, in braces), and the redirections its file
// edges and stdin data become; hdocs are the bodies of its here-documents
// with their delimiter lines.
func (t *toLine) command(n *graph.Node, first bool) (cmd string, hdocs []string, err error) {
	var words []string
	for _, kv := range n.Env {
		name, value, _ := strings.Cut(kv, "=")
		if name == "PATH" && value == os.Getenv("PATH") {
			continue
		}
		words = append(words, name+"="+quote(value))
	}
	switch {
	case n.Shell != "" && len(words) > 0:
		// Assignments before a { list } are no syntax.
		t.whyNot("stage %s is a shell: line with env: additions", n.ID)
	case n.Shell != "":
		if _, err := shell.Parse(n.ID, n.Shell); err != nil {
			return "", nil, err
		}
		text := strings.TrimRight(n.Shell, "\n")
		if strings.Contains(text, "\n") {
			words = append(words, "{ "+text+"\n}")
		} else {
			words = append(words, "{ "+text+"; }")
		}
	default:
		for _, a := range n.Argv {
			words = append(words, quote(a))
		}
	}
	// Files on its descriptors, in descriptor order.
	var fds []*graph.Edge
	for _, e := range t.g.Edges {
		if (e.To.Node == n.ID && t.isFile(e.From.Node)) || (e.From.Node == n.ID && t.isFile(e.To.Node)) {
			fds = append(fds, e)
		}
	}
	sort.SliceStable(fds, func(i, j int) bool { return end(fds[i], n.ID).FD < end(fds[j], n.ID).FD })
	hasStdin := false
	for _, e := range fds {
		if e.To.Node == n.ID {
			hasStdin = hasStdin || e.To.FD == graph.Stdin
			words = append(words, redirect(e.To.FD, graph.Stdin, "<", t.g.Node(e.From.Node).Path))
			continue
		}
		f := t.g.Node(e.To.Node)
		op := ">"
		if f.Append {
			op = ">>"
		}
		words = append(words, redirect(e.From.FD, graph.Stdout, op, f.Path))
	}
	for _, r := range n.Redirs {
		if r.Kind != graph.Data || r.FD != graph.Stdin {
			t.whyNot("stage %s: redirection %s", n.ID, r)
			continue
		}
		if !strings.HasSuffix(string(r.Data), "\n") {
			t.whyNot("stage %s: its stdin data does not end in a newline, which a here-document's always does", n.ID)
			continue
		}
		hasStdin = true
		delim := "EOF"
		for i := 2; strings.Contains("\n"+string(r.Data), "\n"+delim+"\n"); i++ {
			delim = fmt.Sprintf("EOF%d", i)
		}
		// A quoted delimiter keeps the text as it is.
		words = append(words, "<<'"+delim+"'")
		hdocs = append(hdocs, string(r.Data)+delim+"\n")
	}
	if first && !hasStdin && n.StdinNull {
		// The file gives a first stage without stdin: /dev/null; a
		// line's first command reads the terminal.
		words = append(words, "</dev/null")
	}
	return strings.Join(words, " "), hdocs, nil
}

func (t *toLine) isFile(id string) bool {
	n := t.g.Node(id)
	return n != nil && n.Kind == graph.File
}

// end is the edge's endpoint on node id.
func end(e *graph.Edge, id string) graph.Endpoint {
	if e.To.Node == id {
		return e.To
	}
	return e.From
}

// redirect is FD OP PATH, with the descriptor left out when it is the
// operator's own (< for 0, > for 1).
func redirect(fd, def int, op, path string) string {
	r := op + quote(relPath(path))
	if fd != def {
		r = fmt.Sprint(fd) + r
	}
	return r
}

// relPath shows a file below the working directory relative to it, where
// the line will run; others stay absolute.
func relPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
			return r
		}
	}
	return p
}

// quote is s as one shell word, quoted as it must be (bash's rules, as
// tubo's shell parses).
func quote(s string) string {
	q, err := syntax.Quote(s, shell.Lang)
	if err != nil {
		// Only a NUL byte cannot be quoted; the front ends refuse it.
		return "''"
	}
	return q
}
