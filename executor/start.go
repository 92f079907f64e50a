package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// open opens Plan.Files[i] (once) for node.
func (r *run) open(i int, node string) (*os.File, error) {
	if f := r.files[i]; f != nil {
		return f, nil
	}
	pf := r.p.Files[i]
	path := pf.Path
	if !filepath.IsAbs(path) && r.opt.Dir != "" {
		path = filepath.Join(r.opt.Dir, path)
	}
	f, err := os.OpenFile(path, pf.Flag|syscall.O_CLOEXEC, pf.Perm)
	if err != nil {
		return nil, err
	}
	r.trace("open", node, 0, "open(%s) = %d", pf.Path, f.Fd())
	r.files[i] = f
	return f, nil
}

// start starts Plan.Procs[i], or records why it could not.
func (r *run) start(i int) {
	if r.waitTurn(i) {
		return // started by passTurn when a running copy finishes
	}
	pr := r.p.Procs[i]
	res := r.res.Procs[i]
	env := r.attemptEnv(i, mergeEnv(r.env, pr.Env))
	dir := pr.Dir
	if dir == "" {
		dir = r.opt.Dir
	} else if !filepath.IsAbs(dir) && r.opt.Dir != "" {
		dir = filepath.Join(r.opt.Dir, dir)
	}
	fail := func(st Status, err error) {
		r.mu.Lock()
		res.Err, res.Status = err, st
		r.mu.Unlock()
		r.errorf("%v", err)
		r.release(i)
		r.finish(i)
	}
	if len(pr.Argv) == 0 {
		fail(StatusNotFound, &StartError{Name: "", Status: StatusNotFound, Err: os.ErrNotExist})
		return
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			fail(StatusFailure, fmt.Errorf("%s: cannot change directory to %s", pr.Node.ID, dir))
			return
		}
	}
	path, err := LookPath(pr.Argv[0], getenv(env, "PATH"), dir)
	if err != nil {
		var se *StartError
		errors.As(err, &se)
		fail(se.Status, err)
		return
	}
	res.Path = path
	// Open this process's files in order, as sh would in the child. A FIFO
	// may block until its other side opens, so those are opened without
	// holding up the rest of the run.
	if r.hasFIFO(pr) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := r.openAll(pr); err != nil {
				fail(StatusFailure, err)
				return
			}
			r.exec(i, path, env, dir)
		}()
		return
	}
	if err := r.openAll(pr); err != nil {
		fail(StatusFailure, err)
		return
	}
	r.exec(i, path, env, dir)
}

func (r *run) hasFIFO(pr *plan.Proc) bool {
	for _, fi := range pr.Files {
		pf := r.p.Files[fi]
		if pf.IsFIFO {
			return true
		}
		if st, err := os.Stat(pf.Path); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
			return true
		}
	}
	return false
}

func (r *run) openAll(pr *plan.Proc) error {
	for _, fi := range pr.Files {
		// The run may have ended while an earlier FIFO open blocked (see
		// unblockFIFOs): open nothing more.
		r.mu.Lock()
		killing := r.killing && !r.runsWhileEnding(pr)
		r.mu.Unlock()
		if killing {
			return fmt.Errorf("%s: not started: the run was ended", pr.Node.ID)
		}
		if _, err := r.open(fi, pr.Node.ID); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s: %s", r.p.Files[fi].Path, errText(pe.Err))
			}
			return err
		}
	}
	return nil
}

// exec builds the child's fd table and starts it.
func (r *run) exec(i int, path string, env []string, dir string) {
	pr := r.p.Procs[i]
	res := r.res.Procs[i]
	max := 2
	for _, fd := range pr.FDs {
		max = maxInt(max, fd.Num)
	}
	for fd := range inherited {
		max = maxInt(max, fd)
	}
	// files[n] becomes descriptor n in the child: os.StartProcess dup2s
	// each entry onto its index; a nil entry is closed in the child. The
	// table reaches past tubo's highest inherited descriptor, each passed
	// as itself: the child's first dup pass parks descriptors at
	// len(files) and up, and must not land on an inherited one. (The
	// price is a close(2) in the child for every hole below it.)
	files := make([]*os.File, max+1)
	for fd := range inherited {
		files[fd] = inheritedFiles[fd]
	}
	var devnull *os.File
	var toStderr []int // the descriptors that are tubo's stderr
	for _, fd := range pr.FDs {
		var f *os.File
		switch fd.Src.Kind {
		case plan.Inherit:
			if fd.Src.FD == 2 {
				toStderr = append(toStderr, fd.Num)
			}
			f = r.inheritedFile(fd.Src.FD)
			if f == nil {
				r.mu.Lock()
				res.Err, res.Status = fmt.Errorf("%d: Bad file descriptor", fd.Src.FD), StatusFailure
				r.mu.Unlock()
				r.errorf("%v", res.Err)
				r.release(i)
				r.finish(i)
				return
			}
		case plan.PipeRead:
			f = r.pipes[fd.Src.Index][0]
		case plan.PipeWrite:
			f = r.pipes[fd.Src.Index][1]
		case plan.OpenFile:
			f = r.files[fd.Src.Index]
		case plan.DevNull:
			if devnull == nil {
				devnull, _ = os.Open(os.DevNull)
			}
			f = devnull
		case plan.Closed:
			f = nil
		}
		files[fd.Num] = f
	}
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	r.mu.Lock()
	if !r.p.OwnGroups && r.pgid != 0 {
		sys.Pgid = r.pgid
	}
	if r.opt.TTY != nil && !r.p.OwnGroups && r.pgid == 0 {
		sys.Foreground = true
		sys.Ctty = int(r.opt.TTY.Fd())
	}
	killing := r.killing && !r.runsWhileEnding(pr)
	// Count the new member before it exists: a stage that joins the run's
	// group must be counted before an earlier member is reaped, or the
	// group would look empty and be swept (see reap).
	if sys.Pgid != 0 {
		r.groups[sys.Pgid]++
	}
	r.mu.Unlock()
	unreserve := func() {
		r.mu.Lock()
		if r.groups[sys.Pgid]--; r.groups[sys.Pgid] <= 0 {
			delete(r.groups, sys.Pgid)
		}
		r.mu.Unlock()
	}
	if killing {
		if sys.Pgid != 0 {
			unreserve()
		}
		r.mu.Lock()
		res.Skipped = true
		res.Status = SignalStatus(syscall.SIGTERM)
		r.mu.Unlock()
		r.release(i)
		r.finish(i)
		return
	}
	argv := pr.Argv
	var tail *stderrTail
	if len(toStderr) > 0 && r.opt.StderrTail > 0 {
		if t, err := newStderrTail(r.opt.Stderr, r.opt.StderrTail); err == nil {
			tail = t
			for _, n := range toStderr {
				files[n] = t.w
			}
		}
	}
	start := time.Now()
	attr := &os.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys}
	proc, err := spawn(path, argv, attr)
	if errors.Is(err, syscall.ENOEXEC) {
		// A file with no #! line is a shell script, as sh runs it.
		path, argv = "/bin/sh", append([]string{"sh", path}, argv[1:]...)
		proc, err = spawn(path, argv, attr)
	}
	if err != nil && sys.Pgid != 0 && errors.Is(err, syscall.EPERM) {
		// The run's group has no member left to join: start a new one.
		unreserve()
		sys.Pgid = 0
		proc, err = spawn(path, argv, attr)
	}
	if err != nil && sys.Pgid != 0 {
		unreserve()
	}
	if devnull != nil {
		devnull.Close()
	}
	if tail != nil {
		// The child has its end (or never will): the reader sees EOF when
		// the child and whatever it started are done with it.
		tail.w.Close()
		if err == nil {
			r.mu.Lock()
			r.tails[i] = tail
			r.mu.Unlock()
		}
	}
	if err != nil {
		st := StatusNotExecutable
		if errors.Is(err, syscall.ENOENT) {
			st = StatusNotFound
		}
		r.mu.Lock()
		res.Err, res.Status = &StartError{Name: argv[0], Status: st, Err: unwrapErrno(err)}, st
		r.mu.Unlock()
		r.errorf("%v", res.Err)
		r.release(i)
		r.finish(i)
		return
	}
	r.mu.Lock()
	res.Pid, res.Start = proc.Pid, start
	pgid := sys.Pgid
	if pgid == 0 {
		pgid = proc.Pid
		r.groups[pgid]++
		if !r.p.OwnGroups && r.pgid == 0 {
			r.pgid = pgid
		}
		guard.watch(pgid, true)
	}
	res.Pgid = pgid
	r.lateStart(pr, res, pgid)
	r.live[proc.Pid] = proc
	r.mu.Unlock()
	if r.opt.Trace != nil {
		r.emit(Event{Time: start, Kind: "start", Node: pr.Node.ID, Pid: proc.Pid, Pgid: pgid, Detail: graph.QuoteArgv(argv)})
	}
	// The child has its copies now; tubo's must go, or the reader of a
	// pipe would never see EOF (and the writer never get SIGPIPE).
	r.release(i)
	// The timer is stopped when the stage is reaped, so a long timeout
	// does not outlive its stage in a long-lived tubo.
	var timer *time.Timer
	if t := pr.Node.Timeout; t > 0 {
		timer = time.AfterFunc(t, func() { r.timeout(i, proc) })
	}
	r.wg.Add(1)
	go r.reap(i, proc, pgid, timer)
}

func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// inheritedFile returns the file a child gets for one of tubo's own
// descriptors: the run's stdio for 0–2, the descriptor itself above.
func (r *run) inheritedFile(fd int) *os.File {
	switch fd {
	case 0:
		return r.opt.Stdin
	case 1:
		return r.opt.Stdout
	case 2:
		return r.opt.Stderr
	}
	if f, ok := r.opt.ExtraFiles[fd]; ok {
		return f
	}
	if inherited[fd] && fdOpen(fd) {
		return inheritedFiles[fd]
	}
	return nil
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
		closeFile(&r.pipes[pipe][end])
	}
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

func closeFile(f **os.File) {
	if *f != nil {
		(*f).Close()
		*f = nil
	}
}

// startAll starts processes: the first alone, so that a shared process
// group has its leader before anyone joins it, then the others several at
// a time. os.StartProcess returns only once the child has exec'd, so
// starting one at a time would leave the other cores idle.
func (r *run) startAll(procs []int) {
	if len(procs) == 0 {
		return
	}
	r.start(procs[0])
	var wg sync.WaitGroup
	slots := make(chan struct{}, spawners)
	for _, i := range procs[1:] {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.start(i)
			<-slots
		}()
	}
	wg.Wait()
}
