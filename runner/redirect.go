package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// redirs expands a statement's redirections into graph form, in order.
// The executor applies them in a child; applyRedirs applies them in tubo
// for builtins and groups.
func (r *Runner) redirs(ctx context.Context, list []*syntax.Redirect) ([]graph.Redir, error) {
	var out []graph.Redir
	for _, rd := range list {
		more, err := r.redir(ctx, rd)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

func (r *Runner) redir(ctx context.Context, rd *syntax.Redirect) ([]graph.Redir, error) {
	pos := shell.Pos(r.name, rd.Pos())
	fd := defaultFD(rd.Op)
	if rd.N != nil {
		fd, _ = strconv.Atoi(rd.N.Value) // Check allowed digits only
	}
	open := func(flag int) ([]graph.Redir, error) {
		path, err := r.literal(ctx, rd.Word)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Open, FD: fd, Pos: pos, Path: path, Flag: flag}}, nil
	}
	switch rd.Op {
	case syntax.RdrOut, syntax.RdrClob:
		return open(os.O_WRONLY | os.O_CREATE | os.O_TRUNC)
	case syntax.AppOut:
		return open(os.O_WRONLY | os.O_CREATE | os.O_APPEND)
	case syntax.RdrIn:
		return open(os.O_RDONLY)
	case syntax.RdrInOut:
		return open(os.O_RDWR | os.O_CREATE)
	case syntax.RdrAll, syntax.AppAll:
		// &>FILE is >FILE 2>&1.
		flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if rd.Op == syntax.AppAll {
			flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		fd = 1
		out, err := open(flag)
		return append(out, graph.Redir{Kind: graph.Dup, FD: 2, Src: 1, Pos: pos}), err
	case syntax.DplIn, syntax.DplOut:
		word, err := r.literal(ctx, rd.Word)
		if err != nil {
			return nil, err
		}
		if word == "-" {
			return []graph.Redir{{Kind: graph.Close, FD: fd, Pos: pos}}, nil
		}
		src, err := strconv.Atoi(word)
		if err != nil || src < 0 {
			return nil, fmt.Errorf("%s: %s: bad file descriptor number", pos, word)
		}
		return []graph.Redir{{Kind: graph.Dup, FD: fd, Src: src, Pos: pos}}, nil
	case syntax.Hdoc, syntax.DashHdoc:
		body, err := r.hdocBody(ctx, rd)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Data, FD: fd, Pos: pos, Data: []byte(body)}}, nil
	case syntax.WordHdoc:
		s, err := r.literal(ctx, rd.Word)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Data, FD: fd, Pos: pos, Data: []byte(s + "\n")}}, nil
	}
	return nil, fmt.Errorf("%s: %s redirections are not supported", pos, rd.Op)
}

func defaultFD(op syntax.RedirOperator) int {
	switch op {
	case syntax.RdrIn, syntax.RdrInOut, syntax.DplIn, syntax.Hdoc, syntax.DashHdoc, syntax.WordHdoc:
		return 0
	}
	return 1
}

// hdocBody is a here-document's text. A quoted delimiter (even partly
// quoted) makes it plain text; otherwise it is expanded. <<- strips the
// leading tabs of every line, before expansion.
func (r *Runner) hdocBody(ctx context.Context, rd *syntax.Redirect) (string, error) {
	if rd.Hdoc == nil {
		return "", nil // an empty here-document
	}
	dash := rd.Op == syntax.DashHdoc
	if shell.QuotedDelim(rd.Word) {
		body := r.rawText(rd.Hdoc)
		if dash {
			body = stripTabs(body)
		}
		return body, nil
	}
	w := rd.Hdoc
	if dash {
		w = stripTabsWord(w)
	}
	return r.document(ctx, w)
}

// rawText is the source text of a here-document body. With a fully quoted
// delimiter the parser gives one literal; with a partly quoted one (<<'E'OF)
// it parsed expansions that must not happen, so the text is cut from the
// source.
func (r *Runner) rawText(w *syntax.Word) string {
	if lit, ok := literalParts(w); ok {
		return lit
	}
	start, end := w.Pos().Offset(), w.End().Offset()
	if l, ok := w.Parts[len(w.Parts)-1].(*syntax.Lit); ok {
		// A trailing literal's end position runs on over the closing
		// delimiter line; its value has the true length.
		end = l.Pos().Offset() + uint(len(l.Value))
	}
	if start <= end && int(end) <= len(r.src) {
		return r.src[start:end]
	}
	return printNode(w)
}

func literalParts(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		l, ok := p.(*syntax.Lit)
		if !ok {
			return "", false
		}
		b.WriteString(l.Value)
	}
	return b.String(), true
}

func stripTabs(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// stripTabsWord strips the tabs that start each line of a here-document
// body that still has its expansions: only literal text at a line start.
func stripTabsWord(w *syntax.Word) *syntax.Word {
	out := &syntax.Word{}
	atStart := true
	for _, p := range w.Parts {
		l, ok := p.(*syntax.Lit)
		if !ok {
			out.Parts = append(out.Parts, p)
			atStart = false
			continue
		}
		lines := strings.Split(l.Value, "\n")
		for i, line := range lines {
			if i > 0 || atStart {
				lines[i] = strings.TrimLeft(line, "\t")
			}
		}
		cp := *l
		cp.Value = strings.Join(lines, "\n")
		out.Parts = append(out.Parts, &cp)
		atStart = strings.HasSuffix(l.Value, "\n")
	}
	return out
}

// fdTable is the descriptors that a builtin, and every process started
// from the current context, sees: 0, 1, 2, and those a group's
// redirections added. A nil entry is a closed descriptor.
type fdTable map[int]*os.File

func (t fdTable) clone() fdTable {
	c := make(fdTable, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

// applyRedirs performs redirections in tubo itself, for a builtin or a
// group: files are opened here, and the runner's descriptors point at them
// until restore. The files are close-on-exec; children get them only
// through their planned fd table.
func (r *Runner) applyRedirs(list []graph.Redir) (restore func(), err error) {
	if len(list) == 0 {
		return func() {}, nil
	}
	t := r.fds.clone()
	var owned []*os.File // what this context opened and must close
	var feeding sync.WaitGroup
	cleanup := func() {
		// Closing a here-document's read end first ends a feeder blocked
		// on a full pipe (EPIPE), so the wait cannot hang.
		for _, f := range owned {
			f.Close()
		}
		feeding.Wait()
	}
	for _, rd := range list {
		switch rd.Kind {
		case graph.Open:
			f, err := os.OpenFile(r.abs(rd.Path), rd.Flag|syscall.O_CLOEXEC, 0o666)
			if err != nil {
				cleanup()
				return nil, fileError(rd.Path, err)
			}
			owned = append(owned, f)
			t[rd.FD] = f
		case graph.Dup:
			src, ok := t[rd.Src]
			if !ok || src == nil {
				cleanup()
				return nil, fmt.Errorf("%d: Bad file descriptor", rd.Src)
			}
			t[rd.FD] = src
		case graph.Close:
			t[rd.FD] = nil
		case graph.Data:
			pr, pw, err := os.Pipe()
			if err != nil {
				cleanup()
				return nil, err
			}
			owned = append(owned, pr)
			feeding.Add(1)
			go func(data []byte) {
				defer feeding.Done()
				pw.Write(data) // EPIPE when the reader stops early: fine
				pw.Close()
			}(rd.Data)
			t[rd.FD] = pr
		}
	}
	old := r.fds
	r.fds = t
	return func() {
		r.fds = old
		cleanup()
	}, nil
}

// fileError words a failed open as sh does: "PATH: No such file or
// directory".
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %s", path, errText(err))
}

// errText is the C library's wording of an errno, capitalised.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// inherit returns the redirections that give a stage the descriptors of
// the current context: a group's `3>f` reaches the processes inside it,
// and a descriptor the group closed stays closed — unless an edge of the
// pipeline is wired to it (hasIn, hasOut).
func (r *Runner) inherit(hasIn, hasOut bool) []graph.Redir {
	var out []graph.Redir
	for fd := 0; fd <= 2; fd++ {
		if r.fds[fd] != nil || (fd == 0 && hasIn) || (fd == 1 && hasOut) {
			continue
		}
		out = append(out, graph.Redir{Kind: graph.Close, FD: fd})
	}
	for _, fd := range sortedFDs(r.fds) {
		if fd <= 2 {
			continue
		}
		if r.fds[fd] == nil {
			out = append(out, graph.Redir{Kind: graph.Close, FD: fd})
		} else {
			// Dup onto itself: plan marks it "inherited", and the executor
			// hands over Options.ExtraFiles[fd].
			out = append(out, graph.Redir{Kind: graph.Dup, FD: fd, Src: fd})
		}
	}
	return out
}

func sortedFDs(t fdTable) []int {
	var fds []int
	for fd := range t {
		fds = append(fds, fd)
	}
	slices.Sort(fds)
	return fds
}

// extraFiles is the ExtraFiles map for the executor: the open descriptors
// above 2 of the current context.
func (r *Runner) extraFiles() map[int]*os.File {
	var m map[int]*os.File
	for fd, f := range r.fds {
		if fd > 2 && f != nil {
			if m == nil {
				m = map[int]*os.File{}
			}
			m[fd] = f
		}
	}
	return m
}
