package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// config is the expansion configuration for the runner's current state.
// A fresh one per expansion: expand.Config keeps scratch buffers that a
// nested command substitution must not share.
func (r *Runner) config(ctx context.Context) *expand.Config {
	return &expand.Config{
		Env:      environ{r},
		CmdSubst: r.cmdSubst(ctx),
		ReadDir2: r.readDir,
		NoUnset:  r.nounset,
	}
}

// readDir lists a directory for globbing; relative patterns are relative
// to the runner's directory, not tubo's.
func (r *Runner) readDir(dir string) ([]fs.DirEntry, error) {
	return os.ReadDir(r.abs(dir))
}

// fields expands command arguments: parameters, command substitutions,
// arithmetic, tilde, field splitting, globbing and quote removal. Brace
// expansion is not done: `{a,b}` stays as it is, as in POSIX sh.
func (r *Runner) fields(ctx context.Context, words []*syntax.Word) ([]string, error) {
	ws := make([]*syntax.Word, len(words))
	for i, w := range words {
		ws[i] = r.prepare(noBraces(w))
	}
	return expand.Fields(r.config(ctx), ws...)
}

// literal expands one word without field splitting or globbing: an
// assignment's value, a redirection's file name.
func (r *Runner) literal(ctx context.Context, w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	return expand.Literal(r.config(ctx), r.prepare(w))
}

// prepare is the identity when running; for Pipelines it replaces command
// substitutions with their source text, quoted, so they are shown and not
// run.
func (r *Runner) prepare(w *syntax.Word) *syntax.Word {
	if !r.static {
		return w
	}
	return &syntax.Word{Parts: staticParts(w.Parts)}
}

func staticParts(parts []syntax.WordPart) []syntax.WordPart {
	out := make([]syntax.WordPart, len(parts))
	for i, p := range parts {
		switch p := p.(type) {
		case *syntax.CmdSubst:
			out[i] = &syntax.SglQuoted{Left: p.Left, Right: p.Right, Value: printNode(p)}
		case *syntax.DblQuoted:
			cp := *p
			cp.Parts = staticParts(p.Parts)
			out[i] = &cp
		default:
			out[i] = p
		}
	}
	return out
}

// noBraces keeps brace expansion from happening: expand.Fields would
// expand `{a,b}` in any unquoted literal, so each unquoted `{` is turned
// into a quoted one (dropping the backslash that may have escaped it).
func noBraces(w *syntax.Word) *syntax.Word {
	has := false
	for _, p := range w.Parts {
		if l, ok := p.(*syntax.Lit); ok && strings.Contains(l.Value, "{") {
			has = true
		}
	}
	if !has {
		return w
	}
	var parts []syntax.WordPart
	for _, p := range w.Parts {
		l, ok := p.(*syntax.Lit)
		if !ok || !strings.Contains(l.Value, "{") {
			parts = append(parts, p)
			continue
		}
		s := l.Value
		for {
			i := strings.IndexByte(s, '{')
			if i < 0 {
				break
			}
			before := s[:i]
			if n := len(before) - len(strings.TrimRight(before, `\`)); n%2 == 1 {
				before = before[:len(before)-1] // `\{` is a quoted brace already
			}
			if before != "" {
				parts = append(parts, &syntax.Lit{ValuePos: l.ValuePos, ValueEnd: l.ValueEnd, Value: before})
			}
			parts = append(parts, &syntax.SglQuoted{Left: l.ValuePos, Right: l.ValueEnd, Value: "{"})
			s = s[i+1:]
		}
		if s != "" {
			parts = append(parts, &syntax.Lit{ValuePos: l.ValuePos, ValueEnd: l.ValueEnd, Value: s})
		}
	}
	return &syntax.Word{Parts: parts}
}

// cmdSubst runs the statements of $(…) with subshell semantics — a copy of
// the runner's state, so variables and the directory changed inside stay
// inside — and their stdout going into a pipe that tubo reads. expand
// strips the trailing newlines.
func (r *Runner) cmdSubst(ctx context.Context) func(io.Writer, *syntax.CmdSubst) error {
	return func(w io.Writer, cs *syntax.CmdSubst) error {
		if r.static {
			_, err := io.WriteString(w, printNode(cs))
			return err
		}
		pr, pw, err := os.Pipe() // both ends close-on-exec: children get pw only through their fd table
		if err != nil {
			return err
		}
		sub := r.subshell()
		sub.fds[1] = pw
		// Read while the statements run: a pipe holds 64 KiB, and a writer
		// with no reader would block forever.
		var out bytes.Buffer
		copied := make(chan error, 1)
		go func() {
			_, err := io.Copy(&out, pr)
			pr.Close()
			copied <- err
		}()
		sub.stmts(ctx, cs.Stmts)
		// Every process that had pw has been reaped; this is the last
		// copy, so closing it lets the reader see EOF.
		pw.Close()
		err = <-copied
		w.Write(out.Bytes())
		r.substStatus = sub.status
		return err
	}
}

// document expands a here-document body: parameters, command substitutions
// and arithmetic, with backslash escapes of $ ` \ and newline.
func (r *Runner) document(ctx context.Context, w *syntax.Word) (string, error) {
	return expand.Document(r.config(ctx), r.prepare(w))
}

// expandFailed reports an expansion error the way sh does — the script
// (or subshell) ends with status 2 — and returns that status.
func (r *Runner) expandFailed(err error) int {
	if r.static {
		if r.staticErr == nil {
			r.staticErr = err
		}
		return 2
	}
	var ue expand.UnsetParameterError
	if errors.As(err, &ue) && ue.Node != nil {
		r.errorf("%s: %v", shell.Pos(r.name, ue.Node.Pos()), err)
	} else {
		r.errorf("%v", err)
	}
	r.exit(2)
	return 2
}
