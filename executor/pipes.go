package executor

import (
	"fmt"
	"os"
	"slices"

	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// Pipes are made when the first process or builtin that holds one of
// their ends is about to start, not all before the first fork: a long
// line then needs a few descriptors at a time instead of two per stage,
// and the first stage starts sooner. tubo's copy of each end is closed as
// soon as every holder has it.

// tubo holds its copies of pipe ends as bare descriptors (close-on-exec,
// from pipe2): an end goes to a child's table by number and is closed once
// every holder has it, so it needs no *os.File (an fcntl, a finalizer and
// the poller's bookkeeping each). A builtin gets an *os.File (takeEnd).

// noFD marks a pipe end tubo does not hold (given away, or closed).
const noFD = -1

// pipeEnd returns tubo's copy of one end of Plan.Pipes[pi] (0 read, 1
// write), making the pipe first if needed.
func (r *run) pipeEnd(pi, end int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.makePipe(pi); err != nil {
		return noFD, err
	}
	fd := r.pipes[pi][end]
	if fd == noFD {
		return noFD, fmt.Errorf("pipe %d: end %d already given away", pi, end)
	}
	return fd, nil
}

// makePipe creates Plan.Pipes[pi] once, with r.mu held: pipe2(O_CLOEXEC),
// its size, the here-document it carries, and the closing of an end that
// no one holds.
func (r *run) makePipe(pi int) error {
	if r.made[pi] {
		return nil
	}
	pp := r.p.Pipes[pi]
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	r.made[pi] = true
	r.pipes[pi] = fds
	r.trace("pipe", "", 0, "pipe2(O_CLOEXEC) = [%d %d]  %s", fds[0], fds[1], pp.Why)
	if size := min(pp.Size, pipeMaxSize()); size > 0 && size <= r.pipeBudget {
		// Best effort: a pipe that keeps the kernel's 64 KiB works.
		if got, err := unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, size); err == nil {
			r.pipeBudget -= got
			r.trace("pipe", "", 0, "fcntl(%d, F_SETPIPE_SZ, %d) = %d", fds[1], size, got)
		}
	}
	// An end that no process holds after its redirections (`echo hi
	// >/dev/null | wc -l`) must not stay open in tubo: the reader would
	// never see EOF, the writer never get SIGPIPE.
	for end := range 2 {
		if r.holders[pi][end] == 0 {
			r.trace("close", "", 0, "close(%d)  no stage holds it: %s", fds[end], pp.Why)
			closeFD(&r.pipes[pi][end])
		}
	}
	if pp.Data != nil {
		r.feed(pi, pp.Data)
	}
	return nil
}

// feed writes a here-document into its pipe, with r.mu held. A body that
// fits in the pipe is written at once; a larger one by a goroutine, so a
// reader that stops early (EPIPE) just ends the feeding.
func (r *run) feed(pi int, data []byte) {
	fd := r.pipes[pi][1]
	r.pipes[pi][1] = noFD
	r.holders[pi][1]--
	if fd == noFD {
		return
	}
	w := os.NewFile(uintptr(fd), "here-document")
	to := r.p.Label(r.p.Pipes[pi].To)
	if len(data) <= 4096 {
		n, _ := w.Write(data)
		w.Close()
		r.trace("write", "", 0, "write(%d, …, %d) = %d, close(%d)  here-document → %s", fd, len(data), n, fd, to)
		return
	}
	go func() {
		n, _ := w.Write(data)
		w.Close()
		r.trace("write", "", 0, "write(%d, …, %d) = %d, close(%d)  here-document → %s", fd, len(data), n, fd, to)
	}()
}

// release closes tubo's copies of what Plan.Procs[i] was to be given, now
// that it has started or will never start: its files, and each pipe end
// its descriptor table holds that no one else still needs.
func (r *run) release(i int) {
	pr := r.p.Procs[i]
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released[i] {
		return
	}
	r.released[i] = true
	for _, e := range procEnds(pr) {
		r.dropHolder(e[0], e[1])
	}
	for _, fi := range pr.Files {
		closeFile(&r.files[fi])
	}
}

// dropHolder counts one holder of an end of Plan.Pipes[pipe] as served and
// closes tubo's copy when it was the last. Called with r.mu held.
func (r *run) dropHolder(pipe, end int) {
	if r.holders[pipe][end]--; r.holders[pipe][end] <= 0 {
		closeFD(&r.pipes[pipe][end])
	}
}

// takeEnd gives a builtin its own copy of an end of Plan.Pipes[pipe]:
// tubo's, when it is the last holder, else a close-on-exec duplicate.
// name, if not "", names the file after what is at the pipe's other end
// (the builtin's messages say "esclavo[1]", not "input 1").
func (r *run) takeEnd(pipe, end int, name string) (*os.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.makePipe(pipe); err != nil {
		return nil, err
	}
	fd := r.pipes[pipe][end]
	if fd == noFD {
		return nil, fmt.Errorf("pipe %d: end %d already given away", pipe, end)
	}
	if name == "" {
		name = [2]string{"pipe-r", "pipe-w"}[end]
	}
	if r.holders[pipe][end]--; r.holders[pipe][end] <= 0 {
		r.pipes[pipe][end] = noFD
		return os.NewFile(uintptr(fd), name), nil
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return os.NewFile(uintptr(dup), name), nil
}

// procEnds lists the pipe ends in a process's final descriptor table, each
// once ([pipe, end]), whatever number of descriptors refer to it.
func procEnds(pr *plan.Proc) [][2]int {
	var out [][2]int
	for _, fd := range pr.FDs {
		var e [2]int
		switch fd.Src.Kind {
		case plan.PipeRead:
			e = [2]int{fd.Src.Index, 0}
		case plan.PipeWrite:
			e = [2]int{fd.Src.Index, 1}
		default:
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// countHolders counts, for every pipe end, who is to be given it (see
// run.holders).
func countHolders(p *plan.Plan) [][2]int {
	h := make([][2]int, len(p.Pipes))
	for _, pr := range p.Procs {
		for _, e := range procEnds(pr) {
			h[e[0]][e[1]]++
		}
	}
	for _, b := range p.Builtins {
		for _, s := range append(slices.Clip(b.Inputs), b.Outputs...) {
			switch s.Kind {
			case plan.PipeRead:
				h[s.Index][0]++
			case plan.PipeWrite:
				h[s.Index][1]++
			}
		}
	}
	for i, pp := range p.Pipes {
		if pp.Data != nil {
			h[i][1]++ // the feeder writes the here-document
		}
	}
	return h
}

// closeFD closes a descriptor tubo holds, once, and marks it gone.
func closeFD(fd *int) {
	if *fd != noFD {
		unix.Close(*fd)
		*fd = noFD
	}
}

func closeFile(f **os.File) {
	if *f != nil {
		(*f).Close()
		*f = nil
	}
}
