package runner

import (
	"errors"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// runFile runs the statements of a parsed source, a line at a time: the
// statements that end on one line form a group, and aliases are expanded
// in a group when it is reached, with the aliases defined by the lines
// before it — as sh parses (and alias-expands) one line at a time.
func (r *Runner) runFile(f *syntax.File, src string) {
	oldSrc := r.src
	r.src = src
	defer func() { r.src = oldSrc }()
	// A child stage's source had its aliases expanded by the parent; the
	// eval and . it runs get theirs expanded as usual.
	expanded := r.expanded
	r.expanded = false
	stmts := f.Stmts
	read := 0 // how much of src set -v has shown, or would have
	for len(stmts) > 0 && !r.unwinding() {
		n := lineGroup(stmts)
		group := stmts[:n]
		stmts = stmts[n:]
		if !expanded {
			// set -v shows the input as it is read: here, the lines
			// through the end of these statements' last, before they run.
			upTo := min(int(group[n-1].End().Offset()), len(src))
			if nl := strings.IndexByte(src[upTo:], '\n'); nl >= 0 && len(stmts) > 0 {
				upTo += nl + 1
			} else {
				upTo = len(src)
			}
			if r.opts[optVerbose] && upTo > read {
				text := src[read:upTo]
				if !strings.HasSuffix(text, "\n") {
					text += "\n" // the last line of a -c LINE
				}
				io.WriteString(r.stderr(), text)
			}
			read = max(read, upTo)
		}
		if len(r.aliases) > 0 && !expanded {
			start := group[0].Pos().Offset()
			end := uint(len(src))
			if len(stmts) > 0 {
				end = stmts[0].Pos().Offset()
			}
			if start <= end && int(end) <= len(src) {
				if g, ok := r.expandAliases(group, src[start:end], group[0].Pos()); ok {
					group = g
				}
			}
		}
		r.stmts(group)
		r.abortLine = false
	}
}

// lineGroup is how many of stmts end on the line where the first ends.
func lineGroup(stmts []*syntax.Stmt) int {
	line := stmts[0].End().Line()
	n := 1
	for n < len(stmts) && stmts[n].Pos().Line() == line {
		line = stmts[n].End().Line()
		n++
	}
	return n
}

// parseErr is the positioned error of a syntax error met while running
// (stdin read a line at a time, eval, .), for the caller to print.
func (r *Runner) parseError(err error) {
	if r.parseErr == nil {
		r.parseErr = err
	}
}

// runIncremental reads and runs commands from in a line at a time.
func (r *Runner) runIncremental(in *os.File) {
	lr := newLineReader(in, r)
	for attempt := 0; ; attempt++ {
		start, err := r.runLines(lr)
		if err == nil {
			return
		}
		// `((cmd) || (cmd))`: parse the statement again with ( ( (see
		// shell.Parse).
		var pe syntax.ParseError
		text := lr.take()
		lr.lines -= strings.Count(text, "\n")
		if attempt < 16 && errors.As(err, &pe) {
			off := int(pe.Pos.Offset()) - int(start)
			if fixed, ok := shell.SplitDoubleParen(text, off); ok {
				lr.replay(strings.Repeat("\n", lr.lines), fixed)
				continue
			}
		}
		r.reportSyntax(lr.firstErr(err))
		return
	}
}

// runLines parses and runs lines from lr until its end or a syntax error,
// which it returns.
func (r *Runner) runLines(lr *lineReader) (uint, error) {
	p := syntax.NewParser(syntax.Variant(shell.Lang), syntax.KeepComments(false))
	chunkStart := lr.base
	for stmts, err := range p.InteractiveSeq(lr) {
		if err != nil {
			lr.noteErr(err)
			return chunkStart, err
		}
		if p.Incomplete() {
			continue
		}
		chunk := lr.take()
		start := chunkStart
		chunkStart += uint(len(chunk))
		if len(stmts) == 0 {
			continue
		}
		shell.NegateSubshells(stmts)
		f := &syntax.File{Name: r.name, Stmts: stmts}
		if err := shell.Check(f); err != nil {
			r.parseError(err)
			r.exit(2)
			return 0, nil
		}
		group := stmts
		if len(r.aliases) > 0 {
			off := stmts[0].Pos().Offset()
			if off >= start && int(off-start) <= len(chunk) {
				if g, ok := r.expandAliases(stmts, chunk[off-start:], stmts[0].Pos()); ok {
					group = g
				}
			}
		}
		r.stmts(group)
		r.abortLine = false
		if r.exiting {
			return 0, nil
		}
		// break or continue outside a loop, and return outside a function,
		// end at the top level.
		r.breakN, r.contN, r.returning = 0, 0, false
	}
	return 0, nil
}

// reportSyntax records a syntax error met while reading, and ends the
// shell with status 2, as a non-interactive sh does.
func (r *Runner) reportSyntax(err error) {
	r.parseError(shell.ParseError(r.name, err))
	r.exit(2)
}

// lineReader reads a script from the shell's own stdin without reading
// past the line being parsed, so that a command reading the same stdin
// gets what follows. A pipe or terminal is read a byte at a time; a
// seekable file is read in blocks and seeked back to the line's end.
type lineReader struct {
	f        *os.File
	r        *Runner
	seekable bool
	buf      [4096]byte
	got      strings.Builder // text read since the last take
	eof      bool
	// lines counts the newlines of the text taken so far, and base is
	// the offset where the current parser's text starts.
	lines int
	base  uint
	// pending is text to give the parser again before reading more (a
	// statement parsed a second time); skip of it is not recorded.
	pending []byte
	skip    int
	err1    error // the first syntax error, reported if a retry fails
}

func (lr *lineReader) replay(prefix, text string) {
	lr.pending = []byte(prefix + text)
	lr.skip = len(prefix)
	lr.base = uint(len(prefix))
}

func (lr *lineReader) noteErr(err error) {
	if lr.err1 == nil {
		lr.err1 = err
	}
}

func (lr *lineReader) firstErr(err error) error {
	if lr.err1 != nil {
		return lr.err1
	}
	return err
}

func newLineReader(f *os.File, r *Runner) *lineReader {
	lr := &lineReader{f: f, r: r}
	if _, err := unix.Seek(int(f.Fd()), 0, io.SeekCurrent); err == nil {
		lr.seekable = true
	}
	return lr
}

func (lr *lineReader) Read(p []byte) (int, error) {
	if len(lr.pending) > 0 {
		n := copy(p, lr.pending)
		rec := p[:n]
		if lr.skip > 0 {
			k := min(lr.skip, n)
			lr.skip -= k
			rec = rec[k:]
		}
		lr.got.Write(rec)
		lr.pending = lr.pending[n:]
		return n, nil
	}
	if lr.eof {
		return 0, io.EOF
	}
	fd := int(lr.f.Fd())
	var n int
	if lr.seekable {
		m, err := readRetry(fd, lr.buf[:min(len(p), len(lr.buf))])
		if m <= 0 {
			lr.eof = true
			if err != nil && m < 0 {
				return 0, io.EOF
			}
			return 0, io.EOF
		}
		n = m
		if i := strings.IndexByte(string(lr.buf[:m]), '\n'); i >= 0 && i+1 < m {
			// Give back what lies past the line.
			unix.Seek(fd, int64(i+1-m), io.SeekCurrent)
			n = i + 1
		}
		copy(p, lr.buf[:n])
	} else {
		for n < len(p) {
			m, _ := readRetry(fd, p[n:n+1])
			if m <= 0 {
				lr.eof = n == 0
				break
			}
			n++
			if p[n-1] == '\n' {
				break
			}
		}
		if n == 0 {
			lr.eof = true
			return 0, io.EOF
		}
	}
	lr.got.Write(p[:n])
	if lr.r.opts[optVerbose] {
		lr.r.stderr().Write(p[:n])
	}
	return n, nil
}

// readRetry is read(2) that retries EINTR and EAGAIN-free.
func readRetry(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return n, err
	}
}

func (lr *lineReader) take() string {
	s := lr.got.String()
	lr.got.Reset()
	lr.lines += strings.Count(s, "\n")
	return s
}

// parseSource parses a whole source (eval's argument, a file read by .)
// and checks it, returning a positioned error.
func (r *Runner) parseSource(name, src string) (*syntax.File, error) {
	return shell.ParseChecked(name, src)
}
