package executor

import (
	"bytes"
	"io"
	"sync"

	"github.com/tubo-pipes/tubo/graph"
)

// Options.Tag: every line a process writes to tubo's stderr is prefixed
// with its node's ID ("esclavo[1]: …"), as parallel --tag does. The
// process writes into a pipe (as for the stderr tail, stderrtail.go) and
// tubo writes each whole line with one write(2), under one lock for the
// run, so lines of different stages never interleave mid-line.

// maxTagLine is the longest line kept back waiting for its newline; a
// longer one is written in pieces, each with the prefix.
const maxTagLine = 64 << 10

// tagWriter prefixes whole lines and writes each at once.
type tagWriter struct {
	out     io.Writer
	mu      *sync.Mutex // shared by the run's tagWriters
	prefix  []byte
	partial []byte // the start of a line whose newline has not come
	line    []byte // scratch: prefix + line
}

func newTagWriter(out io.Writer, mu *sync.Mutex, name string) *tagWriter {
	return &tagWriter{out: out, mu: mu, prefix: []byte(name + ": ")}
}

func (t *tagWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			if len(t.partial) >= maxTagLine {
				t.emit(t.partial, true)
				t.partial = t.partial[:0]
			}
			break
		}
		if len(t.partial) > 0 {
			t.partial = append(t.partial, p[:i+1]...)
			t.emit(t.partial, false)
			t.partial = t.partial[:0]
		} else {
			t.emit(p[:i+1], false)
		}
		p = p[i+1:]
	}
	return n, nil
}

// emit writes one line (or a piece of one, with a newline added) with
// its prefix, in one write.
func (t *tagWriter) emit(line []byte, piece bool) {
	t.line = append(append(t.line[:0], t.prefix...), line...)
	if piece {
		t.line = append(t.line, '\n')
	}
	t.mu.Lock()
	t.out.Write(t.line)
	t.mu.Unlock()
}

// Close writes a last line that had no newline.
func (t *tagWriter) Close() error {
	if len(t.partial) > 0 {
		t.emit(t.partial, true)
		t.partial = t.partial[:0]
	}
	return nil
}

// stderrFor is where a process's stderr lines go when tubo copies them:
// tubo's stderr, through a tagWriter with Options.Tag.
func (r *run) stderrFor(n *graph.Node) io.Writer {
	if !r.opt.Tag {
		return r.opt.Stderr
	}
	return newTagWriter(r.opt.Stderr, &r.tagMu, n.ID)
}
