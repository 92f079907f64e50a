// Package convert turns a shell line into the equivalent pipeline file,
// and a pipeline file whose graph is one linear pipeline back into a shell
// line (tubo convert).
//
// Line to file: each command of a pipeline becomes a stage, `|` an edge,
// `&&` and `;` an after: on the stages of the pipeline before, a literal
// command a run: argv, and redirections and here-documents in-place files
// and data. A command whose words need the shell at run time ($VAR, globs,
// `2>&1`, a loop) becomes a shell: stage holding its own text, which tubo's
// shell runs as the line would have, so the file does what the line does.
// What cannot mean the same in a file (a variable or cd that later
// commands see, `||`, `&`) is refused with the reason.
package convert

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// stage is one stage of the file being written.
type stage struct {
	name  string
	argv  []string // nil for a shell stage
	shell string   // the command's own text, for a shell stage
	env   [][2]string
	// stdin is the stage it reads (its pipeline's previous command), ""
	// for none; inherit keeps tubo's stdin (the first command of a
	// pipeline that has no < of its own).
	stdin   string
	inherit bool
	inFile  string  // < PATH
	data    *string // here-document or here-string text
	outFile string  // > PATH or >> PATH
	outApp  bool
	errFile string // 2> PATH or 2>> PATH
	errApp  bool
	after   []afterDep
}

// afterDep is one entry of a stage's after:.
type afterDep struct {
	name    string
	outcome graph.Outcome
}

// FromLine converts a shell line (or script) into a pipeline file's text.
// Errors are *graph.Error at the line's LINE:COL.
func FromLine(name, src string) (string, error) {
	// A pipeline file is UTF-8 text without NUL bytes: refuse a line
	// whose words could not be written in one.
	for i, r := range src {
		if _, size := utf8.DecodeRuneInString(src[i:]); r == 0 || r == utf8.RuneError && size == 1 {
			line := 1 + strings.Count(src[:i], "\n")
			col := 1 + i - (strings.LastIndexByte(src[:i], '\n') + 1)
			what := "a NUL byte"
			if r != 0 {
				what = "a byte that is not UTF-8"
			}
			return "", &graph.Error{Pos: graph.Pos{File: name, Line: line, Col: col}, Msg: what + ": a pipeline file holds UTF-8 text; keep such bytes in a file the stages read"}
		}
	}
	f, err := shell.ParseChecked(name, src)
	if err != nil {
		return "", err
	}
	c := &fromLine{name: name, src: src, names: map[string]int{}, written: map[string]bool{}, read: map[string]bool{}}
	var prev []*stage
	stmts := f.Stmts
	// set -e and set -o pipefail before the first command are the file's
	// rules: after: waits for success, pipefail: true.
	for len(stmts) > 0 {
		ok, err := c.setOptions(stmts[0])
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		stmts = stmts[1:]
	}
	lastList := false
	for i, st := range stmts {
		// a; b and a && b, in any nesting: the pipelines in order, each
		// with how it waits for the one before.
		seq, err := c.sequence(st)
		if err != nil {
			return "", err
		}
		if c.errexit && lastList {
			return "", c.errorf(st.Pos(), "under set -e, a failure before the end of an && list does not end the script, but its last command's does; a file cannot tell those apart: drop set -e, or write the list as a shell: stage")
		}
		lastList = len(seq) > 1
		for j, p := range seq {
			outcome := p.outcome
			if j == 0 {
				outcome = graph.Any // statements of a script: a; b
				if c.errexit {
					outcome = graph.Success // set -e: a failure ends the script
				}
			}
			if i == 0 && j == 0 {
				prev, err = c.pipeline(p.stmt, nil, 0)
			} else {
				prev, err = c.pipeline(p.stmt, prev, outcome)
			}
			if err != nil {
				return "", err
			}
		}
	}
	if len(c.stages) == 0 {
		return "", &graph.Error{Pos: graph.Pos{File: name, Line: 1, Col: 1}, Msg: "nothing to convert: the line has no command"}
	}
	return c.yaml(src), nil
}

type fromLine struct {
	// errexit and pipefail are set -e and set -o pipefail, given before
	// the first command.
	errexit, pipefail bool
	name              string
	src               string
	// written are the files run: stages write, and whether they
	// append; read those they read; current those the pipeline being
	// converted writes (ownFiles).
	written       map[string]bool
	read, current map[string]bool
	shells        int // shell: stages so far
	stages        []*stage
	names         map[string]int
}

func (c *fromLine) errorf(p syntax.Pos, format string, args ...any) error {
	return &graph.Error{Pos: shell.Pos(c.name, p), Msg: fmt.Sprintf(format, args...)}
}

// step is one pipeline of a sequence and how it waits for the one before:
// Success for &&, Any for ;.
type step struct {
	stmt    *syntax.Stmt
	outcome graph.Outcome
}

// sequence flattens a && b && c into its pipelines.
func (c *fromLine) sequence(st *syntax.Stmt) ([]step, error) {
	b, ok := st.Cmd.(*syntax.BinaryCmd)
	if !ok || (b.Op != syntax.AndStmt && b.Op != syntax.OrStmt) {
		if err := c.refuseStmt(st); err != nil {
			return nil, err
		}
		return []step{{st, graph.Any}}, nil
	}
	if st.Background || st.Negated {
		return nil, c.refuseStmt(st)
	}
	if b.Op == syntax.OrStmt {
		return nil, c.errorf(b.OpPos, "a || b runs b only when a fails, and the line's status is then b's; a file cannot say that (after: {a: failure} keeps a's failure as the run's); write it as a shell: stage")
	}
	if len(st.Redirs) > 0 {
		return nil, c.errorf(st.Redirs[0].OpPos, "a redirection of a whole && list has no stage to go on; put it on the commands")
	}
	left, err := c.sequence(b.X)
	if err != nil {
		return nil, err
	}
	right, err := c.sequence(b.Y)
	if err != nil {
		return nil, err
	}
	right[0].outcome = graph.Success
	return append(left, right...), nil
}

// refuseStmt rejects what a file cannot mean the same way: a statement
// whose effect later statements see, one run in the background, a
// negated status.
func (c *fromLine) refuseStmt(st *syntax.Stmt) error {
	switch {
	case st.Background:
		return c.errorf(st.Semicolon, "a command run in the background (&) does not hold up the next one; a file's stages all start together unless after: says otherwise: drop the & (or use after:)")
	case st.Coprocess:
		return c.errorf(st.Pos(), "coprocesses are not supported")
	case st.Negated:
		return c.errorf(st.Pos(), "! inverts the status of the pipeline; a file cannot say that: write it as a shell: stage")
	}
	switch cmd := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(cmd.Args) == 0 && len(cmd.Assigns) > 0 {
			return c.errorf(cmd.Pos(), "%s=… sets a variable that later commands see; each stage of a file is a process of its own: put it in env: (or in front of the command that uses it)", cmd.Assigns[0].Name.Value)
		}
		if len(cmd.Args) > 0 {
			if w, ok := literal(cmd.Args[0]); ok && shellState[w] {
				return c.errorf(cmd.Pos(), "%s changes the shell itself for the commands after it; each stage of a file is a process of its own: use cwd:, env: or params: instead", w)
			}
		}
	case *syntax.FuncDecl:
		return c.errorf(cmd.Pos(), "a function defined here would be called by later commands; each stage of a file is a process of its own: put the function in the shell: stage that calls it")
	case *syntax.DeclClause:
		return c.errorf(cmd.Pos(), "%s sets variables that later commands see; use env: instead", cmd.Variant.Value)
	}
	return nil
}

// setOptions takes a leading `set -e`, `set -o pipefail` (or both, as
// -eo pipefail): false when st is something else; an error for an option
// a file has no key for.
func (c *fromLine) setOptions(st *syntax.Stmt) (bool, error) {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) < 2 || len(call.Assigns) > 0 || len(st.Redirs) > 0 || st.Background || st.Negated {
		return false, nil
	}
	argv, _, ok := literalCall(call)
	if !ok || argv[0] != "set" {
		return false, nil
	}
	errexit, pipefail := c.errexit, c.pipefail
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			return false, c.errorf(call.Args[i].Pos(), "set %s: only set -e and set -o pipefail before the first command have a meaning in a file (after: on success, pipefail: true)", a)
		}
		for _, o := range a[1:] {
			switch o {
			case 'e':
				errexit = true
			case 'o':
				if i+1 >= len(argv) {
					return false, c.errorf(call.Args[i].Pos(), "set -o: which option?")
				}
				i++
				switch argv[i] {
				case "pipefail":
					pipefail = true
				case "errexit":
					errexit = true
				default:
					return false, c.errorf(call.Args[i].Pos(), "set -o %s: only set -e and set -o pipefail before the first command have a meaning in a file (after: on success, pipefail: true)", argv[i])
				}
			default:
				return false, c.errorf(call.Args[i].Pos(), "set -%c: only set -e and set -o pipefail before the first command have a meaning in a file (after: on success, pipefail: true)", o)
			}
		}
	}
	c.errexit, c.pipefail = errexit, pipefail
	return true, nil
}

// shellState are the builtins whose effect is on the shell that runs
// them: as a statement of their own, they change what later ones do.
var shellState = map[string]bool{
	"cd": true, "export": true, "unset": true, "set": true, "alias": true, "unalias": true,
	".": true, "source": true, "eval": true, "exec": true, "exit": true, "shift": true,
	"readonly": true, "local": true, "trap": true, "umask": true, "ulimit": true,
	"wait": true, "return": true, "break": true, "continue": true, "read": true,
	"shopt": true, "pushd": true, "popd": true, "hash": true, "getopts": true,
}

// pipeline adds the stages of one pipeline; prev are the stages of the
// pipeline before it, which each new stage waits for (the last one with
// outcome, the others with any outcome: sh waits for all of them, and
// only the last one's status counts).
func (c *fromLine) pipeline(st *syntax.Stmt, prev []*stage, outcome graph.Outcome) ([]*stage, error) {
	var elems []*syntax.Stmt
	var errToo []bool // |&: the command's stderr goes into the pipe too
	var flatten func(s *syntax.Stmt, all bool)
	flatten = func(s *syntax.Stmt, all bool) {
		if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(s.Redirs) == 0 && !s.Negated {
			flatten(b.X, b.Op == syntax.PipeAll)
			flatten(b.Y, all)
			return
		}
		elems = append(elems, s)
		errToo = append(errToo, all)
	}
	flatten(st, false)
	c.current = map[string]bool{}
	var deps []afterDep
	for i, p := range prev {
		o := graph.Any
		if i == len(prev)-1 || c.pipefail {
			o = outcome // with pipefail, any stage's failure is the pipeline's
		}
		deps = append(deps, afterDep{p.name, o})
	}
	var out []*stage
	for i, e := range elems {
		if e != st {
			if err := c.refuseElem(e); err != nil {
				return nil, err
			}
		}
		// A command after the first that reads its own < (or
		// here-document) still has the pipe on its stdin, unread, as in
		// sh: it stays a shell stage, whose text does the <.
		s, err := c.command(e, errToo[i], i > 0)
		if err != nil {
			return nil, err
		}
		s.after = deps
		if i == 0 {
			// The first command reads tubo's stdin unless it has a < of
			// its own (a shell stage's is in its text).
			s.inherit = s.shell != "" || (s.inFile == "" && s.data == nil)
		} else {
			s.stdin = out[i-1].name
		}
		out = append(out, s)
		c.stages = append(c.stages, s)
	}
	// A command whose stdout goes to a file feeds the next one nothing,
	// which is what a stage without stdin: reads (/dev/null) too.
	for i := 0; i+1 < len(out); i++ {
		if out[i].outFile != "" {
			out[i+1].stdin = ""
		}
	}
	return out, nil
}

// refuseElem rejects, inside a pipeline, what cannot be a stage: a
// command in the background, or a negated one.
func (c *fromLine) refuseElem(st *syntax.Stmt) error {
	if st.Background || st.Coprocess {
		return c.errorf(st.Pos(), "a command run in the background inside a pipeline cannot be a stage")
	}
	return nil
}

// command makes the stage of one command of a pipeline: a run: stage when
// its words and redirections are literal, else a shell: stage with its
// text. piped says the pipeline's previous command feeds its stdin.
func (c *fromLine) command(st *syntax.Stmt, errToo, piped bool) (*stage, error) {
	s := &stage{}
	if call, ok := st.Cmd.(*syntax.CallExpr); ok && !st.Negated && !errToo && len(call.Args) > 0 {
		if argv, env, ok := literalCall(call); ok && !builtinLike(argv) {
			if c.redirects(s, st.Redirs) && !(piped && (s.inFile != "" || s.data != nil)) && c.ownFiles(s) {
				s.argv, s.env = argv, env
				s.name = c.unique(argv[0])
				return s, nil
			}
			*s = stage{}
		}
	}
	for _, r := range st.Redirs {
		if w, ok := literal(r.Word); ok && w == "" && (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) {
			// mvdan.cc/sh's printer drops such a here-document's body.
			return nil, c.errorf(r.OpPos, "a here-document with an empty delimiter cannot be written back as a shell: stage; name its end (<<EOF)")
		}
	}
	text, err := c.text(st, errToo)
	if err != nil {
		return nil, err
	}
	s.shell = text
	s.name = c.unique(firstWord(st))
	c.shells++
	return s, nil
}

// ownFiles says whether s's files can be graph files, which a file's
// graph accepts only in a safe order: no path an earlier stage writes,
// unless both append; no path an earlier stage reads; no path it reads
// that a stage of its own pipeline writes at the same time. Else the
// shell's opens stay in a shell stage's text. It takes them if so.
func (c *fromLine) ownFiles(s *stage) bool {
	type w struct {
		path string
		app  bool
	}
	var ws []w
	for _, x := range []w{{s.outFile, s.outApp}, {s.errFile, s.errApp}} {
		if x.path != "" {
			ws = append(ws, w{filepath.Clean(x.path), x.app})
		}
	}
	in := ""
	if s.inFile != "" {
		in = filepath.Clean(s.inFile)
		// An earlier shell stage may be what makes it, which a graph
		// cannot see: a file the run reads must exist or be written by a
		// stage of the graph.
		if _, made := c.written[in]; c.current[in] || (c.shells > 0 && !made) {
			return false
		}
	}
	for _, x := range ws {
		if app, ok := c.written[x.path]; (ok && !(app && x.app)) || c.read[x.path] {
			return false
		}
	}
	for _, x := range ws {
		c.written[x.path], c.current[x.path] = x.app, true
	}
	if in != "" {
		c.read[in] = true
	}
	return true
}

// redirects takes a literal command's redirections into s, or says false
// when one needs the shell (2>&1, &>, a descriptor above 2, a word to
// expand, a descriptor redirected twice).
func (c *fromLine) redirects(s *stage, rs []*syntax.Redirect) bool {
	seen := map[int]bool{}
	for _, r := range rs {
		fd := -1
		switch r.Op {
		case syntax.RdrIn, syntax.Hdoc, syntax.WordHdoc:
			fd = 0
		case syntax.RdrOut, syntax.AppOut, syntax.RdrClob:
			fd = 1
		default:
			return false
		}
		if r.N != nil {
			switch r.N.Value {
			case "0", "1", "2":
				fd = int(r.N.Value[0] - '0')
			default:
				return false
			}
		}
		if seen[fd] || (fd == 0) != (r.Op == syntax.RdrIn || r.Op == syntax.Hdoc || r.Op == syntax.WordHdoc) {
			return false
		}
		seen[fd] = true
		switch r.Op {
		case syntax.Hdoc:
			text, ok := hereDoc(r)
			if !ok {
				return false
			}
			s.data = &text
			continue
		case syntax.WordHdoc:
			w, ok := literal(r.Word)
			if !ok {
				return false
			}
			w += "\n"
			s.data = &w
			continue
		}
		path, ok := literal(r.Word)
		if !ok || path == "" {
			return false
		}
		app := r.Op == syntax.AppOut
		switch fd {
		case 0:
			s.inFile = path
		case 1:
			s.outFile, s.outApp = path, app
		case 2:
			s.errFile, s.errApp = path, app
		}
	}
	// One file on two descriptors (sort < f > f, cmd > f 2> f) is what
	// the shell does by opening it twice; a file's graph refuses it.
	same := func(a, b string) bool { return a != "" && filepath.Clean(a) == filepath.Clean(b) }
	return !same(s.outFile, s.errFile) && !same(s.inFile, s.outFile) && !same(s.inFile, s.errFile)
}

// hereDoc is a here-document's text when it needs no expansion: its
// delimiter is quoted, or its body has nothing to expand.
func hereDoc(r *syntax.Redirect) (string, bool) {
	if r.Hdoc == nil {
		return "", true
	}
	quoted := false
	for _, p := range r.Word.Parts {
		switch p := p.(type) {
		case *syntax.SglQuoted, *syntax.DblQuoted:
			quoted = true
		case *syntax.Lit:
			quoted = quoted || strings.Contains(p.Value, `\`)
		}
	}
	var b strings.Builder
	for _, p := range r.Hdoc.Parts {
		lit, ok := p.(*syntax.Lit)
		if !ok {
			return "", false
		}
		if quoted {
			b.WriteString(lit.Value)
			continue
		}
		// Unquoted: \$ \` \\ and \newline are the body's only escapes.
		unescape(&b, lit.Value, "$`\\\n")
	}
	return b.String(), true
}

// literalCall gives a command's argv and assignments when every word is
// literal: no expansion, glob, brace or tilde would change it.
func literalCall(call *syntax.CallExpr) (argv []string, env [][2]string, ok bool) {
	for _, a := range call.Assigns {
		if a.Append || a.Naked || a.Index != nil || a.Array != nil {
			return nil, nil, false
		}
		v := ""
		if a.Value != nil {
			if v, ok = literal(a.Value); !ok {
				return nil, nil, false
			}
		}
		env = setEnv(env, a.Name.Value, v)
	}
	for _, w := range call.Args {
		s, ok := literal(w)
		if !ok {
			return nil, nil, false
		}
		argv = append(argv, s)
	}
	return argv, env, true
}

// setEnv sets name to value in env. As in sh, where `L=1 L=2 cmd` runs
// cmd with L=2, a name given twice keeps its last value (in its first
// place), since env: is a mapping and may not hold a key twice.
func setEnv(env [][2]string, name, value string) [][2]string {
	for i := range env {
		if env[i][0] == name {
			env[i][1] = value
			return env
		}
	}
	return append(env, [2]string{name, value})
}

// literal is a word's one value when it has nothing for the shell to
// expand; false when it has ($x, $(…), *, {a,b}, ~, $'…').
func literal(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for i, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			v := p.Value
			if strings.ContainsAny(v, "*?[") || (strings.ContainsAny(v, "{}") && v != "{}") || (i == 0 && strings.HasPrefix(v, "~")) {
				return "", false
			}
			unescape(&b, v, "")
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				unescape(&b, lit.Value, "$`\"\\\n")
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// unescape writes v without its backslash escapes: a backslash before one
// of special (before anything when special is "") stands for that
// character, and before a newline for nothing.
func unescape(b *strings.Builder, v, special string) {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (special == "" || strings.IndexByte(special, v[i+1]) >= 0) {
			if v[i+1] != '\n' {
				b.WriteByte(v[i+1])
			}
			i++
			continue
		}
		b.WriteByte(v[i])
	}
}

// builtinLike says whether the command is one tubo's shell runs itself
// with a meaning a program of that name may not share (echo -e, test,
// kill %1): those stay shell: stages. echo and printf without a
// backslash or an option are the same either way.
func builtinLike(argv []string) bool {
	switch argv[0] {
	case "":
		return true // '' is no program: the shell says so when it runs
	case "echo", "printf":
		for i, a := range argv[1:] {
			if strings.Contains(a, `\`) || (i == 0 && strings.HasPrefix(a, "-")) || (argv[0] == "printf" && strings.Contains(a, "%")) {
				return true
			}
		}
		return false
	case "true", "false":
		return len(argv) > 1
	}
	return strings.Contains(argv[0], "=") || shellBuiltins[argv[0]] || shellState[argv[0]]
}

// shellBuiltins run inside tubo's shell (other than the shellState ones).
var shellBuiltins = map[string]bool{
	"test": true, "[": true, "pwd": true, "kill": true, "type": true, "command": true,
	"jobs": true, "fg": true, "bg": true, "times": true, "let": true, ":": true,
	"disown": true, "builtin": true, "caller": true, "mapfile": true, "readarray": true,
}

// text is a command's text for a shell: stage, with |&'s 2>&1: the
// line's own text where it is in one piece, printed by mvdan.cc/sh where
// a here-document's body lies further on; either way parsed again to be
// sure it says the same.
func (c *fromLine) text(st *syntax.Stmt, errToo bool) (string, error) {
	hdoc := false
	for _, r := range st.Redirs {
		hdoc = hdoc || r.Hdoc != nil
	}
	end := st.End()
	if st.Semicolon.IsValid() {
		end = st.Semicolon // the ; that ends it is the line's, not its own
	}
	start, stop := int(st.Pos().Offset()), int(end.Offset())
	if stop > len(c.src) || start > stop {
		// The parser's positions do not fit the line (`((0 0))`, read
		// again as two subshells, ends past it): print the command.
		hdoc = true
	}
	var text string
	if !hdoc {
		text = strings.TrimRight(c.src[start:stop], " \t\n")
		if errToo {
			text += " 2>&1"
		}
	} else {
		cp := *st
		cp.Semicolon = syntax.Pos{}
		if errToo {
			cp.Redirs = append(append([]*syntax.Redirect(nil), cp.Redirs...), &syntax.Redirect{
				Op: syntax.DplOut, N: &syntax.Lit{Value: "2"}, Word: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: "1"}}}})
		}
		var b strings.Builder
		if err := syntax.NewPrinter().Print(&b, &cp); err != nil {
			return "", err
		}
		// The here-document's last line (its delimiter) stays a line.
		text = b.String()
	}
	if _, err := shell.ParseChecked("", text); err != nil {
		return "", c.errorf(st.Pos(), "this command cannot be written as a shell: stage of its own (%v); write the file by hand", err)
	}
	return text, nil
}

// firstWord names a shell stage: its command's name, or sh.
func firstWord(st *syntax.Stmt) string {
	if call, ok := st.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
		if w, ok := literal(call.Args[0]); ok {
			return w
		}
	}
	switch st.Cmd.(type) {
	case *syntax.WhileClause:
		return "while"
	case *syntax.ForClause:
		return "for"
	case *syntax.IfClause:
		return "if"
	case *syntax.CaseClause:
		return "case"
	}
	return "sh"
}

// unique makes a stage name from a command: its base name, with
// characters a name cannot hold as _, and a number when it is taken.
func (c *fromLine) unique(cmd string) string {
	base := filepath.Base(cmd)
	var b strings.Builder
	for _, r := range base {
		if r == '_' || r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), "-")
	if !ast.ValidName(name) {
		name = "s_" + name
		if !ast.ValidName(name) {
			name = "stage"
		}
	}
	for n, try := 1, name; ; n++ {
		if c.names[try] == 0 {
			c.names[try] = 1
			return try
		}
		try = fmt.Sprintf("%s%d", name, n+1)
	}
}
