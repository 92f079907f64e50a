package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// maxFD bounds the descriptor numbers a redirection may name: the soft
// RLIMIT_NOFILE, as the kernel does (`4294967296>x` is then an error, not
// a 34 GB fd table).
func maxFD() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<20 {
		return 1 << 20
	}
	return int(lim.Cur)
}

// redirs expands a statement's redirections into graph form, in order.
// The executor applies them in a child; applyRedirs applies them in tubo
// for builtins and compound commands.
func (r *Runner) redirs(list []*syntax.Redirect) ([]graph.Redir, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var out []graph.Redir
	for _, rd := range list {
		more, err := r.redir(rd)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// redirError is a redirection that cannot be made: a bad descriptor, an
// ambiguous target. It fails the command (status 1), not the shell.
type redirError struct{ msg string }

func (e *redirError) Error() string { return e.msg }

func (r *Runner) redir(rd *syntax.Redirect) ([]graph.Redir, error) {
	pos := shell.Pos(r.name, rd.Pos())
	fd := defaultFD(rd.Op)
	if rd.N != nil {
		if strings.HasPrefix(rd.N.Value, "{") {
			// {var}>file: the shell picks a descriptor of 10 or more and
			// stores its number in var.
			name := strings.Trim(rd.N.Value, "{}")
			if rd.Word != nil && (rd.Op == syntax.DplIn || rd.Op == syntax.DplOut) && rd.Word.Lit() == "-" {
				v, _ := r.vars.get(name)
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, &redirError{fmt.Sprintf("%s: ambiguous redirect", v)}
				}
				return []graph.Redir{{Kind: graph.Close, FD: n, Pos: pos}}, nil
			}
			fd = r.freeFD()
			if err := r.assign(name, strconv.Itoa(fd)); err != nil {
				return nil, err
			}
		} else {
			n, err := strconv.Atoi(rd.N.Value)
			if err != nil || n >= maxFD() {
				return nil, &redirError{fmt.Sprintf("%s: Bad file descriptor", rd.N.Value)}
			}
			fd = n
		}
	}
	open := func(flag int) ([]graph.Redir, error) {
		path, err := r.redirTarget(rd.Word)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Open, FD: fd, Pos: pos, Path: path, Flag: flag}}, nil
	}
	trunc := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	switch rd.Op {
	case syntax.RdrOut:
		if r.opts[optNoclobber] {
			out, err := open(trunc)
			if err != nil {
				return nil, err
			}
			if err := r.clobberCheck(out[0].Path); err != nil {
				return nil, err
			}
			return out, nil
		}
		return open(trunc)
	case syntax.RdrClob:
		return open(trunc)
	case syntax.AppOut:
		return open(os.O_WRONLY | os.O_CREATE | os.O_APPEND)
	case syntax.RdrIn:
		return open(os.O_RDONLY)
	case syntax.RdrInOut:
		return open(os.O_RDWR | os.O_CREATE)
	case syntax.RdrAll, syntax.AppAll:
		// &>FILE is >FILE 2>&1.
		flag := trunc
		if rd.Op == syntax.AppAll {
			flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		fd = 1
		out, err := open(flag)
		if err != nil {
			return nil, err
		}
		if rd.Op == syntax.RdrAll && r.opts[optNoclobber] {
			if err := r.clobberCheck(out[0].Path); err != nil {
				return nil, err
			}
		}
		return append(out, graph.Redir{Kind: graph.Dup, FD: 2, Src: 1, Pos: pos}), nil
	case syntax.DplIn, syntax.DplOut:
		word, err := r.literal(rd.Word)
		if err != nil {
			return nil, err
		}
		if word == "-" {
			return []graph.Redir{{Kind: graph.Close, FD: fd, Pos: pos}}, nil
		}
		move := strings.HasSuffix(word, "-")
		num := strings.TrimSuffix(word, "-")
		src, err := strconv.Atoi(num)
		if err != nil || src < 0 {
			if rd.Op == syntax.DplOut && rd.N == nil && !move {
				// bash: >&FILE is &>FILE.
				out := []graph.Redir{{Kind: graph.Open, FD: 1, Pos: pos, Path: word, Flag: trunc}}
				return append(out, graph.Redir{Kind: graph.Dup, FD: 2, Src: 1, Pos: pos}), nil
			}
			return nil, &redirError{fmt.Sprintf("%s: ambiguous redirect", word)}
		}
		if src >= maxFD() {
			return nil, &redirError{fmt.Sprintf("%s: Bad file descriptor", num)}
		}
		if src == fd {
			// n>&n (and n>&n-) leaves n as it is, open or closed, as in
			// dash and bash: there is nothing to duplicate.
			return nil, nil
		}
		out := []graph.Redir{{Kind: graph.Dup, FD: fd, Src: src, Pos: pos}}
		if move {
			out = append(out, graph.Redir{Kind: graph.Close, FD: src, Pos: pos})
		}
		return out, nil
	case syntax.Hdoc, syntax.DashHdoc:
		body, err := r.hdocBody(rd)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Data, FD: fd, Pos: pos, Data: []byte(body)}}, nil
	case syntax.WordHdoc:
		s, err := r.literal(rd.Word)
		if err != nil {
			return nil, err
		}
		return []graph.Redir{{Kind: graph.Data, FD: fd, Pos: pos, Data: []byte(s + "\n")}}, nil
	}
	return nil, &redirError{fmt.Sprintf("%s: %s redirections are not supported", pos, rd.Op)}
}

// redirTarget expands a redirection's file name. bash does pathname
// expansion on it when that gives one name; more is an error.
func (r *Runner) redirTarget(w *syntax.Word) (string, error) {
	fs, err := r.fields([]*syntax.Word{w})
	if err != nil {
		return "", err
	}
	if len(fs) != 1 {
		s, _ := r.literal(w)
		if len(fs) == 0 && s == "" {
			return "", &redirError{": No such file or directory"}
		}
		return "", &redirError{fmt.Sprintf("%s: ambiguous redirect", printNode(w))}
	}
	return fs[0], nil
}

// clobberCheck is set -C: > may not overwrite an existing regular file.
func (r *Runner) clobberCheck(path string) error {
	st, err := os.Stat(r.abs(path))
	if err == nil && st.Mode().IsRegular() {
		return &redirError{fmt.Sprintf("%s: cannot overwrite existing file", path)}
	}
	return nil
}

// freeFD is the lowest descriptor of 10 or more that the shell's table
// does not use, for {var}>file.
func (r *Runner) freeFD() int {
	for fd := 10; ; fd++ {
		if _, ok := r.fds[fd]; !ok {
			return fd
		}
	}
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
func (r *Runner) hdocBody(rd *syntax.Redirect) (string, error) {
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
	return r.document(w)
}

// rawText is the source text of a here-document body. With a fully quoted
// delimiter the parser gives one literal; with a partly quoted one
// (<<'E'OF) it parsed expansions that must not happen, so the text is cut
// from the source.
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
	return hdocText(w)
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

// hdocText is the text of a here-document body with a quoted delimiter:
// the parser gives one literal (or, for <<'E'OF, parts that print back
// as they were).
func hdocText(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		if l, ok := p.(*syntax.Lit); ok {
			b.WriteString(l.Value)
		} else {
			b.WriteString(printNode(p))
		}
	}
	return b.String()
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
// from the current context, sees: 0, 1, 2, and those redirections added.
// A nil entry is a closed descriptor.
type fdTable map[int]*os.File

func (t fdTable) clone() fdTable {
	c := make(fdTable, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

// applyRedirs performs redirections in tubo itself, for a builtin or a
// compound command: files are opened here, and the runner's descriptors
// point at them until restore. The files are close-on-exec; children get
// them only through their planned fd table.
func (r *Runner) applyRedirs(list []graph.Redir) (restore func(), err error) {
	if len(list) == 0 {
		return func() {}, nil
	}
	t, owned, cleanup, err := r.openRedirs(r.fds, list)
	if err != nil {
		return nil, err
	}
	_ = owned
	old := r.fds
	r.fds = t
	return func() {
		r.fds = old
		cleanup()
	}, nil
}

// openRedirs applies redirections to a copy of table t.
func (r *Runner) openRedirs(base fdTable, list []graph.Redir) (fdTable, []*os.File, func(), error) {
	t := base.clone()
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
			if r.cfg.Sandbox > 0 {
				cleanup()
				return nil, nil, nil, errSandbox
			}
			f, err := os.OpenFile(r.abs(rd.Path), rd.Flag|syscall.O_CLOEXEC, 0o666)
			if err != nil {
				cleanup()
				return nil, nil, nil, fileError(rd.Path, err)
			}
			owned = append(owned, f)
			t[rd.FD] = f
		case graph.Dup:
			src, ok := t[rd.Src]
			if !ok {
				src = r.osFD(rd.Src)
			}
			if src == nil {
				cleanup()
				return nil, nil, nil, &redirError{fmt.Sprintf("%d: Bad file descriptor", rd.Src)}
			}
			t[rd.FD] = src
		case graph.Close:
			t[rd.FD] = nil
		case graph.Data:
			pr, pw, err := os.Pipe()
			if err != nil {
				cleanup()
				return nil, nil, nil, err
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
	return t, owned, cleanup, nil
}

// osFD is one of tubo's own descriptors that the shell's table does not
// list (one tubo inherited), or nil when it is not open.
func (r *Runner) osFD(fd int) *os.File {
	if fd <= 2 {
		return nil
	}
	if f := executor.InheritedFile(fd); f != nil {
		return f
	}
	return nil
}

// fileError words a failed open as sh does: "PATH: No such file or
// directory".
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &redirError{fmt.Sprintf("%s: %s", path, errText(err))}
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
	fds := make([]int, 0, len(t))
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
