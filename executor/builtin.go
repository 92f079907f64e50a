package executor

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// startBuiltin hands a tee or merge node its files and runs it.
func (r *run) startBuiltin(i int) {
	b := r.p.Builtins[i]
	res := &BuiltinResult{Node: b.Node}
	r.res.Builtins = append(r.res.Builtins, res)
	// The stage (or file, FIFO) at the other end of each input, in the
	// order of the node's edges, as the plan gives the inputs.
	var from []string
	if r.p.Graph != nil {
		for _, e := range r.p.Graph.Inputs(b.Node.ID) {
			from = append(from, e.From.Node)
		}
	}
	take := func(srcs []plan.Source, names []string) []*os.File {
		var fs []*os.File
		for k, s := range srcs {
			name := ""
			if len(names) == len(srcs) {
				name = names[k]
			}
			f, err := r.take(s, b.Node.ID, name)
			if err != nil {
				res.Err = err
				continue
			}
			fs = append(fs, f)
		}
		return fs
	}
	in, out := take(b.Inputs, from), take(b.Outputs, nil)
	if Builtins == nil {
		res.Err = errors.New("no builtin runner")
		return
	}
	live := NewCounts(len(in), len(out))
	if r.opt.Trace != nil {
		r.emit(Event{Kind: "builtin", Node: b.Node.ID, Counts: live,
			Detail: fmt.Sprintf("%s runs inside tubo (no fork): %d in, %d out", b.Node.Kind, len(in), len(out))})
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		*res = Builtins(b.Node, in, out, live)
		// A reader that went away early (EPIPE) is how `tubo … | head`
		// ends: not worth a message, and a failure only where SIGPIPE is.
		if res.Err != nil && !errors.Is(res.Err, syscall.EPIPE) {
			r.errorf("%s: %v", b.Node.ID, res.Err)
		}
	}()
}

// readersGone marks the builtins that stopped because their reader went
// away (BuiltinResult.ReaderGone), and clears their error where SIGPIPE
// is no failure.
func (r *run) readersGone() {
	for _, b := range r.res.Builtins {
		if b != nil && errors.Is(b.Err, syscall.EPIPE) {
			b.ReaderGone = true
			if r.p.Graph.IgnoreSIGPIPE {
				b.Err = nil
			}
		}
	}
}

// take transfers ownership of one planned source to a builtin: the builtin
// closes it, tubo forgets it.
func (r *run) take(s plan.Source, node, name string) (*os.File, error) {
	switch s.Kind {
	case plan.PipeRead:
		return r.takeEnd(s.Index, 0, name)
	case plan.PipeWrite:
		return r.takeEnd(s.Index, 1, name)
	case plan.OpenFile:
		f, err := r.open(s.Index, node)
		r.files[s.Index] = nil
		return f, err
	case plan.Inherit:
		// The builtin closes what it is given, so it gets its own
		// close-on-exec duplicate of the run's descriptor.
		f := r.inheritedFile(s.FD)
		if f == nil {
			return nil, fmt.Errorf("%d: Bad file descriptor", s.FD)
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("dup %d: %w", s.FD, err)
		}
		return os.NewFile(uintptr(fd), f.Name()), nil
	}
	return nil, fmt.Errorf("builtin source kind %d not supported", s.Kind)
}
