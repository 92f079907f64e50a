package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"golang.org/x/sys/unix"
)

// startAll starts processes on the spawner threads, each spawner taking
// the next process from the list. In a run whose processes share one
// group, the first leads the group: the others start once it exists (the
// gate opens when the leader's fork has made the group and the guardian
// was told, or when the leader's start ends without a fork), while the
// leader's spawner still waits for it to reach its first instruction.
func (r *run) startAll(procs []int) {
	if len(procs) == 0 {
		return
	}
	guard.ready() // no fork before the guardian runs
	var lead *gate
	if !r.p.OwnGroups {
		lead = &gate{ready: make(chan struct{})}
		r.mu.Lock()
		r.gates[procs[0]] = lead
		r.mu.Unlock()
	}
	var next atomic.Int64
	onSpawners(min(spawners, len(procs)), func() {
		for {
			k := int(next.Add(1)) - 1
			switch {
			case k >= len(procs):
				return
			case lead == nil:
				r.start(procs[k])
			case k == 0:
				r.start(procs[0])
				r.mu.Lock()
				delete(r.gates, procs[0])
				r.mu.Unlock()
				lead.open()
			default:
				<-lead.ready
				r.start(procs[k])
			}
		}
	})
}

// gate holds back the stages that join a group until its leader made it.
type gate struct {
	ready chan struct{}
	once  sync.Once
}

// open lets the stages behind g start; a nil gate has none.
func (g *gate) open() {
	if g != nil {
		g.once.Do(func() { close(g.ready) })
	}
}

// start starts Plan.Procs[i], or records why it could not. It runs on a
// spawner thread.
func (r *run) start(i int) {
	if r.cached(i) {
		return
	}
	if r.waitTurn(i) {
		return // started by passTurn when a running copy finishes
	}
	pr := r.p.Procs[i]
	env := r.attemptEnv(i, mergeEnv(r.env, pr.Env))
	dir := pr.Dir
	if dir == "" {
		dir = r.opt.Dir
	} else if !filepath.IsAbs(dir) && r.opt.Dir != "" {
		dir = filepath.Join(r.opt.Dir, dir)
	}
	if dir != "" && sameDir(dir) {
		// The child starts where tubo is: no chdir(2) in it.
		dir = ""
	}
	if len(pr.Argv) == 0 {
		r.fail(i, StatusNotFound, &StartError{Name: "", Status: StatusNotFound, Err: os.ErrNotExist})
		return
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			r.fail(i, StatusFailure, fmt.Errorf("%s: cannot change directory to %s", pr.Node.ID, dir))
			return
		}
	}
	lookIn := dir
	if lookIn == "" {
		lookIn = r.opt.Dir
	}
	path, err := r.lookPath(pr.Argv[0], getenv(env, "PATH"), lookIn)
	if err != nil {
		var se *StartError
		errors.As(err, &se)
		r.fail(i, se.Status, err)
		return
	}
	r.mu.Lock()
	r.res.Procs[i].Path = path
	r.mu.Unlock()
	// Open this process's files in order, as sh would in the child. A FIFO
	// whose other side is not tubo's may block until that side opens, so
	// such a process is opened for elsewhere, without holding up the
	// spawner and the rest of the run; it then forks on a spawner.
	if r.mayBlock(pr) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := r.openAll(pr); err != nil {
				r.failOpen(i, err)
				return
			}
			onSpawners(1, func() { r.exec(i, path, env, dir) })
		}()
		return
	}
	if err := r.openAll(pr); err != nil {
		r.failOpen(i, err)
		return
	}
	r.exec(i, path, env, dir)
}

// lookKey is one program lookup: the command's name, PATH and directory.
type lookKey struct{ name, path, dir string }

// lookResult is a lookup's answer.
type lookResult struct {
	path string
	err  error
}

// lookPath is LookPath, asked once per program for the stages that start
// together at the beginning of a run (begin sets r.looks for that batch):
// `true | true | … | true` finds true once, as sh's command hash table
// would, not once per stage. A stage started later (after others, or a
// retry) looks again, and sees a program that changed meanwhile.
func (r *run) lookPath(name, path, dir string) (string, error) {
	k := lookKey{name, path, dir}
	r.mu.Lock()
	res, ok := r.looks[k]
	r.mu.Unlock()
	if ok {
		return res.path, res.err
	}
	found, err := LookPath(name, path, dir)
	r.mu.Lock()
	if r.looks != nil {
		r.looks[k] = lookResult{found, err}
	}
	r.mu.Unlock()
	return found, err
}

// fail records that Plan.Procs[i] could not start, says why, and goes on
// with the run.
func (r *run) fail(i int, st Status, err error) {
	res := r.res.Procs[i]
	r.mu.Lock()
	res.Err, res.Status = err, st
	r.mu.Unlock()
	r.errorf("%v", err)
	r.release(i)
	r.finish(i)
}

// failOpen is fail for a file that could not be opened (or a pipe that
// could not be made): a lack of resources ends the run.
func (r *run) failOpen(i int, err error) {
	if isResourceErr(err) {
		r.fatal(i, err)
		return
	}
	r.fail(i, StatusFailure, err)
}

// fatal records that Plan.Procs[i] could not start for lack of a resource
// (descriptors, processes, memory), and ends the run: a pipeline with a
// stage missing would silently lose data. The run's status is this
// failure's, whatever the other stages do.
func (r *run) fatal(i int, err error) {
	res := r.res.Procs[i]
	err = &StartError{Name: res.Node.ID, Status: StatusFailure, Err: unwrapErrno(err), Resource: true}
	r.mu.Lock()
	res.Err, res.Status = err, StatusFailure
	if r.fatalProc == nil {
		r.fatalProc = res
	}
	r.mu.Unlock()
	r.errorf("%v", err)
	r.release(i)
	r.killAll("a stage could not start")
	r.finish(i)
}

// isResourceErr reports whether err says the system ran out of something
// (descriptors, processes, memory) rather than that the stage is wrong.
func isResourceErr(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN, syscall.ENOMEM, syscall.ENOSPC} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// mayBlock reports whether opening the process's files may block: a FIFO
// whose other side is not opened by tubo (an outside process, or a stage
// that opens the path itself), found in the plan or at a path.
func (r *run) mayBlock(pr *plan.Proc) bool {
	for _, fi := range pr.Files {
		if r.p.Files[fi].IsFIFO {
			if r.fifoPeers(fi) == nil {
				return true
			}
			continue
		}
		if st, err := os.Stat(r.filePath(fi)); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
			return true
		}
	}
	return false
}

// filePath is Plan.Files[i]'s path, relative ones taken from Options.Dir.
func (r *run) filePath(i int) string {
	path := r.p.Files[i].Path
	if !filepath.IsAbs(path) && r.opt.Dir != "" {
		path = filepath.Join(r.opt.Dir, path)
	}
	return path
}

// isRead reports whether Plan.Files[i] is opened for reading only.
func (r *run) isRead(i int) bool { return r.p.Files[i].Flag&syscall.O_ACCMODE == syscall.O_RDONLY }

// fifoPeers lists the other planned opens of the FIFO that Plan.Files[fi]
// opens, if one of them opens the other side; nil if none does.
func (r *run) fifoPeers(fi int) []int {
	path := r.filePath(fi)
	var peers []int
	other := false
	for j, pf := range r.p.Files {
		if j == fi || !pf.IsFIFO || r.filePath(j) != path {
			continue
		}
		peers = append(peers, j)
		other = other || r.isRead(j) != r.isRead(fi)
	}
	if !other {
		return nil
	}
	return peers
}

// open opens Plan.Files[i] (once) for node. A FIFO whose both sides tubo
// opens is opened on both sides at once, without blocking: the read side
// first with O_NONBLOCK (which returns at once), then the write side
// (which then has a reader and returns at once too), then O_NONBLOCK is
// cleared, so the stages get ordinary blocking ends; no thread waits in
// open(2) for a partner.
func (r *run) open(i int, node string) (*os.File, error) {
	r.mu.Lock()
	if f := r.files[i]; f != nil {
		r.mu.Unlock()
		return f, nil
	}
	if r.p.Files[i].IsFIFO {
		if peers := r.fifoPeers(i); peers != nil {
			defer r.mu.Unlock()
			return r.openFIFO(append([]int{i}, peers...), i, node)
		}
	}
	r.mu.Unlock()
	pf := r.p.Files[i]
	f, err := os.OpenFile(r.filePath(i), pf.Flag|syscall.O_CLOEXEC, pf.Perm)
	if err != nil {
		return nil, err
	}
	r.trace("open", node, 0, "open(%s) = %d", pf.Path, f.Fd())
	r.mu.Lock()
	r.files[i] = f
	r.mu.Unlock()
	return f, nil
}

// openFIFO opens every planned open of one FIFO (see open), with r.mu
// held, and returns the one for Plan.Files[want].
func (r *run) openFIFO(all []int, want int, node string) (*os.File, error) {
	// Readers first: a writer's open then finds a reader.
	slices.SortFunc(all, func(a, b int) int {
		if ra, rb := r.isRead(a), r.isRead(b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return a - b
	})
	var opened []int
	for _, j := range all {
		if r.files[j] != nil {
			continue
		}
		pf := r.p.Files[j]
		flag := pf.Flag | syscall.O_CLOEXEC
		if r.isRead(j) {
			flag |= syscall.O_NONBLOCK
		}
		fd, err := syscall.Open(r.filePath(j), flag, uint32(pf.Perm))
		if err != nil {
			for _, k := range opened {
				closeFile(&r.files[k])
			}
			return nil, &os.PathError{Op: "open", Path: pf.Path, Err: err}
		}
		opened = append(opened, j)
		r.files[j] = os.NewFile(uintptr(fd), pf.Path)
		r.trace("open", node, 0, "open(%s) = %d  (both sides of the FIFO at once)", pf.Path, fd)
	}
	for _, j := range opened {
		if r.isRead(j) {
			// The reader stage gets an end that blocks, as a pipe's.
			syscall.SetNonblock(int(r.files[j].Fd()), false)
		}
	}
	return r.files[want], nil
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
				return &openError{path: r.p.Files[fi].Path, err: pe.Err}
			}
			return err
		}
	}
	return nil
}

// openError is a file a stage needs that could not be opened, worded as
// sh words it: "out.txt: Permission denied".
type openError struct {
	path string
	err  error
}

func (e *openError) Error() string { return e.path + ": " + errText(e.err) }
func (e *openError) Unwrap() error { return e.err }

// table builds the child's descriptor table: files[n] becomes descriptor
// n (syscall.StartProcess dup2s each entry onto its index; -1 is closed).
// keep holds the files whose descriptors the table uses, to be kept alive
// until the fork.
//
// Descriptors tubo inherited without close-on-exec pass to the child as
// themselves, as in sh. Those above the table need no entry: exec keeps
// them. But the child first parks the descriptors it must move (and its
// exec-status pipe) just above the table and above every source it is
// given, one number each, and must not land on an inherited one: the table
// is grown over any inherited descriptor in that range. So a descriptor
// inherited at a high number (a wrapper's fd 251) costs nothing, even
// above RLIMIT_NOFILE, and every hole below the table's end costs the
// child one close(2).
func (r *run) table(i int) (files []uintptr, keep []*os.File, toStderr []int, err error) {
	pr := r.p.Procs[i]
	const closed = ^uintptr(0)
	planned := make(map[int]uintptr, len(pr.FDs))
	top := 2
	for _, fd := range pr.FDs {
		top = max(top, fd.Num)
		var f *os.File
		switch fd.Src.Kind {
		case plan.Inherit:
			if fd.Src.FD == 2 {
				toStderr = append(toStderr, fd.Num)
			}
			if f = r.inheritedFile(fd.Src.FD); f == nil {
				return nil, keep, nil, fmt.Errorf("%d: Bad file descriptor", fd.Src.FD)
			}
		case plan.PipeRead, plan.PipeWrite:
			end := 0
			if fd.Src.Kind == plan.PipeWrite {
				end = 1
			}
			pfd, err := r.pipeEnd(fd.Src.Index, end)
			if err != nil {
				return nil, keep, nil, err
			}
			// A bare descriptor, held open until this process is
			// released (see release): nothing to keep alive.
			planned[fd.Num] = uintptr(pfd)
			continue
		case plan.OpenFile:
			f = r.files[fd.Src.Index]
		case plan.DevNull:
			if f, err = r.devNull(); err != nil {
				return nil, keep, nil, err
			}
		case plan.Closed:
			planned[fd.Num] = closed
			continue
		}
		keep = append(keep, f)
		planned[fd.Num] = f.Fd()
	}
	var inh []int
	for fd := range inherited {
		if _, ok := planned[fd]; !ok && fdOpen(fd) {
			inh = append(inh, fd)
		}
	}
	slices.Sort(inh)
	n := top + 1
	for {
		maxSrc, moves := 0, 0
		src := func(num int, s uintptr) {
			if s != closed {
				maxSrc = max(maxSrc, int(s))
				if int(s) < num {
					moves++
				}
			}
		}
		for num, s := range planned {
			src(num, s)
		}
		for _, fd := range inh {
			if fd < n {
				src(fd, uintptr(fd))
			}
		}
		park := max(n, maxSrc+1)
		slots := moves + 2 // the moved ones, the status pipe, one skipped over it
		grown := false
		for _, fd := range inh {
			if fd >= n && fd < park+slots {
				n, grown = fd+1, true
			}
		}
		if !grown {
			if park+slots > nofileLimit() {
				return nil, keep, nil, fmt.Errorf("descriptor table: %w", syscall.EMFILE)
			}
			break
		}
	}
	files = make([]uintptr, n)
	for k := range files {
		files[k] = closed
	}
	for _, fd := range inh {
		if fd < n {
			files[fd] = uintptr(fd)
		}
	}
	for num, s := range planned {
		files[num] = s
	}
	return files, keep, toStderr, nil
}

// nofileLimit is tubo's own RLIMIT_NOFILE (raised to the hard limit by the
// Go runtime; stages get the original back).
var nofileLimit = sync.OnceValue(func() int {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || rl.Cur > 1<<30 {
		return 1 << 30
	}
	return int(rl.Cur)
})

// devNull is /dev/null opened once per run (read-only, a stage's "no
// input"), closed with the run's other files.
func (r *run) devNull() (*os.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.null == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		r.null = f
	}
	return r.null, nil
}

// exec builds the child's fd table and starts it, on a spawner thread.
func (r *run) exec(i int, path string, env []string, dir string) {
	pr := r.p.Procs[i]
	res := r.res.Procs[i]
	files, keep, toStderr, err := r.table(i)
	if err != nil {
		if isResourceErr(err) {
			r.fatal(i, err)
		} else {
			r.fail(i, StatusFailure, err)
		}
		return
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
	if sys.Pgid != 0 && !killing {
		r.groups[sys.Pgid]++
	}
	r.mu.Unlock()
	if killing {
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
	if len(toStderr) > 0 && (r.opt.StderrTail > 0 || r.opt.Tag) {
		// The report wants the last lines it writes to tubo's stderr, or
		// --tag its lines prefixed: it writes into a pipe that tubo
		// copies on (stderrtail.go, tag.go).
		if t, err := newStderrTail(r.stderrFor(pr.Node), r.opt.StderrTail); err == nil {
			tail = t
			keep = append(keep, t.w)
			for _, n := range toStderr {
				files[n] = t.w.Fd()
			}
		}
	}
	start := time.Now()
	attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys}
	// A child that leads a new group is held at its first instruction
	// until the guardian knows the group (see forkExec); one that joins
	// the run's group joins a group the guardian knows already.
	hold := sys.Pgid == 0 && Guarded && canHold(path)
	pid, pidfd, traced, err := forkExec(path, argv, attr, hold)
	if errors.Is(err, syscall.ENOEXEC) {
		// A file with no #! line is a shell script, as sh runs it.
		path, argv = "/bin/sh", append([]string{"sh", path}, argv[1:]...)
		pid, pidfd, traced, err = forkExec(path, argv, attr, hold)
	}
	if hold && errors.Is(err, syscall.EPERM) {
		// ptrace is forbidden here (or the EPERM is the program's): try
		// once more without the hold, and do without it from now on if
		// that works.
		if pid, pidfd, traced, err = forkExec(path, argv, attr, false); err == nil {
			holdOK.Store(false)
		}
	}
	joined := sys.Pgid
	if err != nil && joined != 0 && errors.Is(err, syscall.EPERM) {
		// The run's group has no member left to join (only possible for
		// a process that starts after others were reaped): lead a new
		// one.
		r.unreserve(joined)
		joined, sys.Pgid = 0, 0
		pid, pidfd, traced, err = forkExec(path, argv, attr, false)
	}
	pgid := joined
	announced := false
	if err == nil && pgid == 0 {
		// A new group: the guardian must know it before the child runs,
		// here on the spawner thread, right after the fork. The group is
		// then the run's, and the stages that join it may start while
		// this one is still held (see startAll).
		pgid = pid
		guard.watch(pgid, true)
		r.mu.Lock()
		r.groups[pgid]++
		if !r.p.OwnGroups && r.pgid == 0 {
			r.pgid = pgid
		}
		gate := r.gates[i]
		if gate != nil {
			// The stages behind the gate may start (and say so) before
			// this one is released: it is started from here on.
			res.Pid, res.Pgid, res.Start = pid, pgid, start
		}
		r.mu.Unlock()
		if gate != nil {
			r.announce(pr, pid, pgid, argv, start)
			announced = true
		}
		gate.open()
	}
	if traced && waitHeld(pid, pidfd) {
		releaseHeld(pid)
	}
	runtime.KeepAlive(keep)
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
		if joined != 0 {
			r.unreserve(joined)
		}
		if isResourceErr(err) {
			r.fatal(i, err)
			return
		}
		st := StatusNotExecutable
		if errors.Is(err, syscall.ENOENT) {
			st = StatusNotFound
		}
		r.fail(i, st, &StartError{Name: argv[0], Status: st, Err: unwrapErrno(err)})
		return
	}
	c := newChild(pid, pgid, pidfd)
	r.mu.Lock()
	res.Pid, res.Pgid, res.Start = pid, pgid, start
	r.kids[i] = c
	r.lateStart(pr, res, pgid)
	r.mu.Unlock()
	if !announced {
		r.announce(pr, pid, pgid, argv, start)
	}
	// The child has its copies now; tubo's must go, or the reader of a
	// pipe would never see EOF (and the writer never get SIGPIPE).
	r.release(i)
	// The timer is stopped when the stage is reaped, so a long timeout
	// does not outlive its stage in a long-lived tubo.
	var timer *time.Timer
	if t := pr.Node.Timeout; t > 0 {
		timer = time.AfterFunc(t, func() { r.timeout(i, c) })
	}
	r.wg.Add(1)
	r.watchExit(i, c, timer)
}

// announce emits a process's "start" event.
func (r *run) announce(pr *plan.Proc, pid, pgid int, argv []string, start time.Time) {
	if r.opt.Trace != nil {
		r.emit(Event{Time: start, Kind: "start", Node: pr.Node.ID, Pid: pid, Pgid: pgid, Detail: graph.QuoteArgv(argv)})
	}
}

// unreserve takes back the count exec added for a member that did not
// join group pgid after all.
func (r *run) unreserve(pgid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.groups[pgid]--; r.groups[pgid] <= 0 {
		// Every member is reaped; the group may not exist any more, so
		// it is not swept, only forgotten, by tubo and the guardian.
		delete(r.groups, pgid)
		guard.watch(pgid, false)
	}
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

// cwd is tubo's working directory, read once: nothing in tubo calls
// chdir(2) (the shell keeps its directory in Options.Dir).
var cwd = sync.OnceValue(func() string {
	d, _ := os.Getwd()
	return d
})

// sameDir reports whether dir is tubo's own working directory, so the
// child needs no chdir(2).
func sameDir(dir string) bool { return dir == cwd() }
