// Package executor runs a plan: it creates the pipes and FIFOs, opens the
// files, starts every process with fork + dup2 + exec (os.StartProcess with
// the planned fd table), closes tubo's copies of the child ends, runs the
// builtin stream nodes, forwards signals, enforces timeouts and the failure
// policy, and reaps every child.
package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// Options configure a run. The zero value runs with tubo's own stdio,
// environment and directory.
type Options struct {
	// Stdin, Stdout and Stderr are what children get for "inherited" 0, 1
	// and 2; nil means tubo's own.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles are what children get for "inherited" descriptors above 2
	// (a shell's `{ …; } 3>file`); a descriptor not in the map is tubo's
	// own, passed only if tubo inherited it.
	ExtraFiles map[int]*os.File
	// Env is the base environment of every process; nil means os.Environ().
	Env []string
	// Dir is the directory processes start in when their node names none,
	// and the base of relative paths; "" means tubo's own.
	Dir string
	// Signals, when non-nil, delivers signals that tubo caught; each one is
	// forwarded to every running process group.
	Signals <-chan os.Signal
	// Grace is the time between SIGTERM and SIGKILL when tubo ends a stage
	// (timeout, failure policy, cancel); 0 means 2 seconds.
	Grace time.Duration
	// TTY, when non-nil, is the controlling terminal: the run's process
	// group becomes its foreground group, and tubo takes it back after.
	TTY *os.File
	// Trace, when non-nil, is called for every step as it happens.
	Trace func(Event)
	// Errorf prefix: messages about processes that could not start are
	// written to Stderr as "PREFIX: message"; "" means "tubo".
	Prefix string
}

// Event is one step of a run, for --trace.
type Event struct {
	Time   time.Time
	Kind   string // pipe, mkfifo, open, start, exit, signal, rmfifo, error
	Node   string
	Pid    int
	Detail string
}

// ProcResult is what became of one planned process.
type ProcResult struct {
	Node *graph.Node
	Argv []string
	Path string // the resolved executable
	Pid  int    // 0 if it never started
	// Err says why the process did not start; nil if it did.
	Err error
	// Status is the sh-style status: exit code, 128+N, 126, 127.
	Status Status
	// Signal is the signal that killed it, or 0.
	Signal syscall.Signal
	// TimedOut is set when tubo ended it for its timeout; Killed when tubo
	// ended it for any reason (timeout, failure policy, cancel).
	TimedOut, Killed bool
	// Skipped is set when an `after` dependency failed, so it never ran.
	Skipped    bool
	Start, End time.Time
	Usage      *syscall.Rusage // nil if it never started
	IO         ProcIO
}

// ProcIO holds the counters of /proc/PID/io, read after the process exited
// and before it was reaped. Valid is false when they could not be read.
type ProcIO struct {
	Valid      bool
	Rchar      int64 // bytes read by read(2) and friends
	Wchar      int64 // bytes written
	ReadBytes  int64 // bytes fetched from storage
	WriteBytes int64 // bytes sent to storage
}

// BuiltinResult is what a tee or merge node did.
type BuiltinResult struct {
	Node     *graph.Node
	BytesIn  int64
	BytesOut int64
	Err      error
}

// Result is what a whole run did.
type Result struct {
	Procs    []*ProcResult
	Builtins []*BuiltinResult
	// Status is the run's status: the last process's, or with pipefail the
	// last non-zero one; a failed builtin makes it at least 1.
	Status Status
	// Failed is the first process that failed on its own terms (not one
	// that tubo ended, nor a SIGPIPE the graph ignores); nil if none.
	Failed *ProcResult
	// Signal is the last signal tubo forwarded, or 0.
	Signal syscall.Signal
	// TimedOut is set when the run's own timeout ended it.
	TimedOut bool
}

// BuiltinRunner runs a tee or merge node on the given files, closing them
// all when done. The executor does not import the stream package, so the
// caller supplies it.
type BuiltinRunner func(n *graph.Node, in, out []*os.File) BuiltinResult

// Builtins runs the tee and merge nodes; a plan with builtins needs it set.
var Builtins BuiltinRunner

// Run executes a plan and waits for every process it started.
// The error is non-nil only when the run could not be set up at all, in
// which case nothing was started.
func Run(ctx context.Context, p *plan.Plan, opt Options) (*Result, error) {
	r := newRun(p, opt)
	defer r.cleanup()
	if err := r.setup(); err != nil {
		return nil, err
	}
	r.run(ctx)
	return r.res, nil
}

type run struct {
	p   *plan.Plan
	opt Options
	res *Result
	env []string

	// pipes[i] holds tubo's copies of Plan.Pipes[i]: [read, write]. An end
	// is closed (and set to nil) as soon as the process or builtin that
	// owns it has started, so readers see EOF and writers get SIGPIPE.
	pipes [][2]*os.File
	// files[i] is Plan.Files[i] once opened.
	files  []*os.File
	tmpDir string   // created by tubo; removed after
	made   []string // FIFOs tubo created (and so may remove)

	mu sync.Mutex
	// pgid is the run's shared process group (plan.OwnGroups false); 0
	// until the first process starts.
	pgid     int
	groups   map[int]int // live process groups → live members
	live     map[int]*os.Process
	done     []bool // per Procs: finished (exited, failed to start, skipped)
	killing  bool   // tubo is ending the run; later failures are not "first"
	wg       sync.WaitGroup
	stop     chan struct{} // closed when every process has finished
	stopOnce sync.Once
	nleft    int // processes not finished yet
}

func newRun(p *plan.Plan, opt Options) *run {
	if opt.Stdin == nil {
		opt.Stdin = os.Stdin
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.Grace == 0 {
		opt.Grace = 2 * time.Second
	}
	if opt.Prefix == "" {
		opt.Prefix = "tubo"
	}
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	r := &run{
		p: p, opt: opt, env: env,
		res:    &Result{},
		pipes:  make([][2]*os.File, len(p.Pipes)),
		files:  make([]*os.File, len(p.Files)),
		groups: map[int]int{},
		live:   map[int]*os.Process{},
		done:   make([]bool, len(p.Procs)),
		stop:   make(chan struct{}),
		nleft:  len(p.Procs),
	}
	for _, pr := range p.Procs {
		r.res.Procs = append(r.res.Procs, &ProcResult{Node: pr.Node, Argv: pr.Argv})
	}
	return r
}

func (r *run) trace(kind, node string, pid int, format string, args ...any) {
	if r.opt.Trace == nil {
		return
	}
	r.opt.Trace(Event{Time: time.Now(), Kind: kind, Node: node, Pid: pid, Detail: fmt.Sprintf(format, args...)})
}

func (r *run) errorf(format string, args ...any) {
	fmt.Fprintf(r.opt.Stderr, "%s: %s\n", r.opt.Prefix, fmt.Sprintf(format, args...))
}

// setup creates the private directory, the FIFOs and the pipes. Nothing is
// started yet, so a failure here leaves nothing behind.
func (r *run) setup() error {
	if r.p.TempDir != "" {
		// Mkdir, not MkdirAll: the directory must be new, so no one else
		// can have planted a FIFO or symlink in it.
		if err := os.Mkdir(r.p.TempDir, 0o700); err != nil {
			return fmt.Errorf("creating private FIFO directory: %w", err)
		}
		r.tmpDir = r.p.TempDir
		guard.watchPath(r.tmpDir, true)
	}
	for _, f := range r.p.FIFOs {
		if err := r.mkfifo(f); err != nil {
			return err
		}
	}
	for i, pp := range r.p.Pipes {
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return fmt.Errorf("pipe: %w", err)
		}
		r.pipes[i] = [2]*os.File{os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")}
		if pp.Size > 0 {
			// Best effort: F_SETPIPE_SZ fails above pipe-max-size for
			// unprivileged users; the default still works.
			unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, pp.Size)
		}
		r.trace("pipe", "", 0, "pipe2(O_CLOEXEC) = [%d %d]  %s", fds[0], fds[1], pp.Why)
	}
	for i, pp := range r.p.Pipes {
		if pp.Data != nil {
			r.feed(i, pp.Data)
		}
	}
	return nil
}

func (r *run) mkfifo(f plan.FIFO) error {
	st, err := os.Lstat(f.Path)
	switch {
	case err == nil && st.Mode()&os.ModeNamedPipe != 0:
		// An existing FIFO at a path the pipeline named is used as is.
		r.trace("mkfifo", f.Node.ID, 0, "%s exists, used as is", f.Path)
		return nil
	case err == nil:
		return fmt.Errorf("%s: fifo %s: %s exists and is not a FIFO; remove it or choose another path", f.Node.Pos, f.Node.ID, f.Path)
	}
	if err := unix.Mkfifo(f.Path, 0o600); err != nil {
		return fmt.Errorf("%s: fifo %s: mkfifo %s: %w", f.Node.Pos, f.Node.ID, f.Path, err)
	}
	r.made = append(r.made, f.Path)
	if f.Remove && !r.inTmpDir(f.Path) {
		guard.watchPath(f.Path, true)
	}
	r.trace("mkfifo", f.Node.ID, 0, "mkfifo(%s, 0600)", f.Path)
	return nil
}

// feed writes a here-document into its pipe. A body that fits in the pipe
// is written at once; a larger one by a goroutine, so a reader that stops
// early (EPIPE) just ends the feeding.
func (r *run) feed(i int, data []byte) {
	w := r.pipes[i][1]
	r.pipes[i][1] = nil
	if len(data) <= 4096 {
		w.Write(data)
		w.Close()
		return
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
}

// run starts the builtins and every process that waits on nothing, then
// supervises until every process has finished.
func (r *run) run(ctx context.Context) {
	for i := range r.p.Builtins {
		r.startBuiltin(i)
	}
	for i, pr := range r.p.Procs {
		if len(pr.After) == 0 {
			r.start(i)
		}
	}
	r.mu.Lock()
	if r.nleft == 0 {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	r.mu.Unlock()
	r.supervise(ctx)
	r.wg.Wait()
	r.takeTerminal()
	r.res.Status = r.status()
}

func (r *run) supervise(ctx context.Context) {
	var timeout <-chan time.Time
	if t := r.p.Graph.Timeout; t > 0 {
		timer := time.NewTimer(t)
		defer timer.Stop()
		timeout = timer.C
	}
	for {
		select {
		case <-r.stop:
			return
		case sig := <-r.opt.Signals:
			s, ok := sig.(syscall.Signal)
			if !ok {
				continue
			}
			r.res.Signal = s
			r.signalAll(s)
		case <-ctx.Done():
			r.killAll("canceled")
			ctx = context.Background()
		case <-timeout:
			r.res.TimedOut = true
			r.errorf("run timed out after %s", r.p.Graph.Timeout)
			r.killAll("run timeout")
			timeout = nil
		}
	}
}

// signalAll forwards a signal to every live process group.
func (r *run) signalAll(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pgid := range r.groups {
		signalGroup(pgid, sig)
		r.trace("signal", "", pgid, "kill(-%d, %s)", pgid, unix.SignalName(sig))
	}
}

// killAll ends the run: SIGTERM to every group, SIGKILL after the grace
// period to whatever is left. Processes not yet started never start.
func (r *run) killAll(why string) {
	r.mu.Lock()
	r.killing = true
	for _, pr := range r.res.Procs {
		if pr.Pid != 0 && pr.End.IsZero() {
			pr.Killed = true
		}
	}
	r.mu.Unlock()
	r.trace("signal", "", 0, "ending the run: %s", why)
	r.signalAll(syscall.SIGTERM)
	time.AfterFunc(r.opt.Grace, func() { r.signalAll(syscall.SIGKILL) })
	// A stage whose FIFO tubo is still opening for it (its other side
	// never opened) has no process to signal: tubo's own open(2) blocks,
	// and the run would wait forever after its timeout or a Ctrl-C.
	// Unblock such opens until every process is finished; the stage is
	// then skipped, since the run is ending.
	go r.unblockFIFOs()
}

// unblockFIFOs opens each FIFO the plan opens for a stage with O_RDWR
// (which never blocks on Linux and counts as a reader and a writer), and
// closes it at once, so a pending open(2) in start returns; it repeats
// until the run is over, for a stage that opens several FIFOs in turn.
func (r *run) unblockFIFOs() {
	for {
		for _, pf := range r.p.Files {
			path := pf.Path
			if !filepath.IsAbs(path) && r.opt.Dir != "" {
				path = filepath.Join(r.opt.Dir, path)
			}
			if st, err := os.Stat(path); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				continue
			}
			if fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
		select {
		case <-r.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startBuiltin hands a tee or merge node its files and runs it.
func (r *run) startBuiltin(i int) {
	b := r.p.Builtins[i]
	res := &BuiltinResult{Node: b.Node}
	r.res.Builtins = append(r.res.Builtins, res)
	take := func(srcs []plan.Source) []*os.File {
		var fs []*os.File
		for _, s := range srcs {
			f, err := r.take(s)
			if err != nil {
				res.Err = err
				continue
			}
			fs = append(fs, f)
		}
		return fs
	}
	in, out := take(b.Inputs), take(b.Outputs)
	if Builtins == nil {
		res.Err = errors.New("no builtin runner")
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		*res = Builtins(b.Node, in, out)
		// A reader that went away early (EPIPE) is how `tubo … | head`
		// ends: not worth a message, and a failure only where SIGPIPE is.
		if res.Err != nil && !errors.Is(res.Err, syscall.EPIPE) {
			r.errorf("%s: %v", b.Node.ID, res.Err)
		}
	}()
}

// take transfers ownership of one planned source to a builtin: the builtin
// closes it, tubo forgets it.
func (r *run) take(s plan.Source) (*os.File, error) {
	switch s.Kind {
	case plan.PipeRead:
		f := r.pipes[s.Index][0]
		r.pipes[s.Index][0] = nil
		return f, nil
	case plan.PipeWrite:
		f := r.pipes[s.Index][1]
		r.pipes[s.Index][1] = nil
		return f, nil
	case plan.OpenFile:
		f, err := r.open(s.Index)
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

// open opens Plan.Files[i] (once).
func (r *run) open(i int) (*os.File, error) {
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
	r.trace("open", "", 0, "open(%s) = %d", pf.Path, f.Fd())
	r.files[i] = f
	return f, nil
}

// start starts Plan.Procs[i], or records why it could not.
func (r *run) start(i int) {
	pr := r.p.Procs[i]
	res := r.res.Procs[i]
	env := mergeEnv(r.env, pr.Env)
	dir := pr.Dir
	if dir == "" {
		dir = r.opt.Dir
	} else if !filepath.IsAbs(dir) && r.opt.Dir != "" {
		dir = filepath.Join(r.opt.Dir, dir)
	}
	fail := func(st Status, err error) {
		res.Err, res.Status = err, st
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
		killing := r.killing
		r.mu.Unlock()
		if killing {
			return fmt.Errorf("%s: not started: the run was ended", pr.Node.ID)
		}
		if _, err := r.open(fi); err != nil {
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
	// each entry onto its index; a nil entry is closed in the child.
	files := make([]*os.File, max+1)
	for fd := range inherited {
		files[fd] = inheritedFiles[fd]
	}
	var devnull *os.File
	for _, fd := range pr.FDs {
		var f *os.File
		switch fd.Src.Kind {
		case plan.Inherit:
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
	killing := r.killing
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
		res.Skipped = true
		res.Status = SignalStatus(syscall.SIGTERM)
		r.release(i)
		r.finish(i)
		return
	}
	argv := pr.Argv
	res.Start = time.Now()
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
	if err != nil {
		st := StatusNotExecutable
		if errors.Is(err, syscall.ENOENT) {
			st = StatusNotFound
		}
		res.Err, res.Status = &StartError{Name: argv[0], Status: st, Err: unwrapErrno(err)}, st
		r.errorf("%v", res.Err)
		r.release(i)
		r.finish(i)
		return
	}
	r.mu.Lock()
	res.Pid = proc.Pid
	pgid := sys.Pgid
	if pgid == 0 {
		pgid = proc.Pid
		r.groups[pgid]++
		if !r.p.OwnGroups && r.pgid == 0 {
			r.pgid = pgid
		}
		guard.watch(pgid, true)
	}
	r.live[proc.Pid] = proc
	r.mu.Unlock()
	r.trace("start", pr.Node.ID, proc.Pid, "%s", graph.QuoteArgv(argv))
	// The child has its copies now; tubo's must go, or the reader of a
	// pipe would never see EOF (and the writer never get SIGPIPE).
	r.release(i)
	r.wg.Add(1)
	go r.reap(i, proc, pgid)
	if t := pr.Node.Timeout; t > 0 {
		time.AfterFunc(t, func() { r.timeout(i, proc) })
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

// release closes tubo's copies of everything Plan.Procs[i] owned.
func (r *run) release(i int) {
	pr := r.p.Procs[i]
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fd := range pr.FDs {
		switch fd.Src.Kind {
		case plan.PipeRead:
			closeFile(&r.pipes[fd.Src.Index][0])
		case plan.PipeWrite:
			closeFile(&r.pipes[fd.Src.Index][1])
		}
	}
	for _, fi := range pr.Files {
		closeFile(&r.files[fi])
	}
}

func closeFile(f **os.File) {
	if *f != nil {
		(*f).Close()
		*f = nil
	}
}

// timeout ends a stage that ran past its limit.
func (r *run) timeout(i int, proc *os.Process) {
	r.mu.Lock()
	res := r.res.Procs[i]
	if !res.End.IsZero() {
		r.mu.Unlock()
		return
	}
	res.TimedOut, res.Killed = true, true
	r.mu.Unlock()
	r.errorf("%s: timed out after %s", res.Node.ID, res.Node.Timeout)
	r.trace("signal", res.Node.ID, proc.Pid, "timeout: SIGTERM")
	proc.Signal(syscall.SIGTERM)
	time.AfterFunc(r.opt.Grace, func() {
		r.mu.Lock()
		ended := !res.End.IsZero()
		r.mu.Unlock()
		if !ended {
			r.trace("signal", res.Node.ID, proc.Pid, "grace over: SIGKILL")
			proc.Signal(syscall.SIGKILL)
		}
	})
}

// reap waits for one child. It first waits without reaping (WNOWAIT) so
// that /proc/PID/io can still be read, then reaps through os.Process.Wait
// (a pidfd), which also returns the rusage.
func (r *run) reap(i int, proc *os.Process, pgid int) {
	defer r.wg.Done()
	res := r.res.Procs[i]
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, proc.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	io := readProcIO(proc.Pid)
	st, err := proc.Wait()
	end := time.Now()
	r.mu.Lock()
	res.End = end
	res.IO = io
	if err != nil {
		res.Err, res.Status = err, StatusFailure
	} else {
		ws := st.Sys().(syscall.WaitStatus)
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			res.Usage = ru
		}
		switch {
		case ws.Signaled():
			res.Signal = ws.Signal()
			res.Status = SignalStatus(ws.Signal())
		default:
			res.Status = Status(ws.ExitStatus())
		}
	}
	delete(r.live, proc.Pid)
	if r.groups[pgid]--; r.groups[pgid] <= 0 {
		// Every process tubo started in this group is reaped. Whatever is
		// left in it was left behind by a stage (`cmd &`) and could hold a
		// pipe open forever: it does not outlive the stage.
		signalGroup(pgid, syscall.SIGKILL)
		delete(r.groups, pgid)
		guard.watch(pgid, false)
	}
	r.mu.Unlock()
	r.trace("exit", res.Node.ID, proc.Pid, "%s", describe(res))
	r.finish(i)
}

// describe says how a process ended, e.g. "exit 0" or "killed by SIGPIPE".
func describe(res *ProcResult) string {
	if res.Signal != 0 {
		return fmt.Sprintf("killed by %s (status %d)", unix.SignalName(res.Signal), res.Status)
	}
	return fmt.Sprintf("exit %d", res.Status)
}

// finish records that Plan.Procs[i] is over, applies the failure policy,
// and starts or skips the processes that were waiting on it.
func (r *run) finish(i int) {
	r.mu.Lock()
	res := r.res.Procs[i]
	r.done[i] = true
	failed := r.isFailure(res)
	first := failed && r.res.Failed == nil && !r.killing
	if first {
		r.res.Failed = res
	}
	killRest := first && r.p.Graph.OnFailure == graph.KillRest && len(r.p.Procs) > 1
	var ready, skip []int
	for j, pr := range r.p.Procs {
		if r.done[j] || r.res.Procs[j].Pid != 0 || len(pr.After) == 0 || r.started(j) {
			continue
		}
		ok, all := true, true
		for _, d := range pr.After {
			if !r.done[d] {
				all = false
			} else if r.res.Procs[d].Status != 0 {
				ok = false
			}
		}
		switch {
		case !ok:
			skip = append(skip, j)
		case all:
			ready = append(ready, j)
		}
	}
	for _, j := range ready {
		r.res.Procs[j].Start = time.Now() // marks it as started
	}
	r.nleft--
	r.mu.Unlock()

	for _, j := range skip {
		r.mu.Lock()
		if r.done[j] {
			r.mu.Unlock()
			continue
		}
		r.res.Procs[j].Skipped = true
		r.res.Procs[j].Status = StatusFailure
		r.mu.Unlock()
		r.errorf("%s: not started: a stage it runs after failed", r.p.Procs[j].Node.ID)
		r.release(j)
		r.finish(j)
	}
	if killRest {
		r.errorf("%s failed (%s); ending the other stages", res.Node.ID, describe(res))
		r.killAll("failure policy kill-rest")
	}
	for _, j := range ready {
		r.start(j)
	}
	r.mu.Lock()
	if r.nleft == 0 {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	r.mu.Unlock()
}

func (r *run) started(j int) bool { return !r.res.Procs[j].Start.IsZero() }

// isFailure says whether a finished process counts as a failure of its own.
func (r *run) isFailure(res *ProcResult) bool {
	// A stage tubo ended for its own timeout failed; one ended because of
	// another's failure (or a cancel) did not.
	if res.Status == 0 || (res.Killed && !res.TimedOut) || res.Skipped {
		return false
	}
	if res.Signal == syscall.SIGPIPE && r.p.Graph.IgnoreSIGPIPE {
		return false
	}
	return true
}

// status computes the run's status from its processes, as sh does for a
// pipeline: the last one's, or with pipefail the last non-zero one.
func (r *run) status() Status {
	// Under kill-rest, the stages tubo ended died of its SIGTERM; the
	// run's status is that of the failure that ended them.
	if f := r.res.Failed; f != nil && r.p.Graph.OnFailure == graph.KillRest {
		return f.Status
	}
	var st Status
	procs := r.res.Procs
	if len(procs) > 0 {
		st = procs[len(procs)-1].Status
	}
	if r.p.Graph.Pipefail {
		st = 0
		for _, pr := range procs {
			if pr.Status != 0 && !(pr.Signal == syscall.SIGPIPE && r.p.Graph.IgnoreSIGPIPE) {
				st = pr.Status
			}
		}
	}
	if st == 0 {
		for _, b := range r.res.Builtins {
			switch {
			case b.Err == nil:
			case errors.Is(b.Err, syscall.EPIPE):
				if !r.p.Graph.IgnoreSIGPIPE {
					st = SignalStatus(syscall.SIGPIPE)
				}
			default:
				st = StatusFailure
			}
		}
	}
	return st
}

// inTmpDir reports whether path lies in the run's private directory, which
// is removed (and watched by the guardian) as a whole.
func (r *run) inTmpDir(path string) bool {
	return r.tmpDir != "" && strings.HasPrefix(path, r.tmpDir+string(filepath.Separator))
}

// cleanup closes whatever tubo still holds and removes the FIFOs it made.
func (r *run) cleanup() {
	for i := range r.pipes {
		closeFile(&r.pipes[i][0])
		closeFile(&r.pipes[i][1])
	}
	for i := range r.files {
		closeFile(&r.files[i])
	}
	for _, f := range r.p.FIFOs {
		// Only what tubo made is removed: a FIFO that already existed at
		// a path the pipeline named stays.
		if f.Remove && slices.Contains(r.made, f.Path) {
			if err := os.Remove(f.Path); err == nil {
				r.trace("rmfifo", f.Node.ID, 0, "unlink(%s)", f.Path)
				if !r.inTmpDir(f.Path) {
					guard.watchPath(f.Path, false)
				}
			}
		}
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
		guard.watchPath(r.tmpDir, false)
	}
}

// takeTerminal makes tubo's own process group the terminal's foreground
// group again after a run that was given the terminal.
func (r *run) takeTerminal() {
	if r.opt.TTY == nil || r.p.OwnGroups {
		return
	}
	reclaimTerminal(r.opt.TTY)
}

func readProcIO(pid int) ProcIO {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return ProcIO{}
	}
	var io ProcIO
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		var n int64
		fmt.Sscan(v, &n)
		switch k {
		case "rchar":
			io.Rchar = n
		case "wchar":
			io.Wchar = n
		case "read_bytes":
			io.ReadBytes = n
		case "write_bytes":
			io.WriteBytes = n
		}
	}
	io.Valid = true
	return io
}

// mergeEnv returns base with the NAME=VALUE pairs of add set on top.
func mergeEnv(base, add []string) []string {
	if len(add) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(add))
	seen := map[string]bool{}
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		seen[k] = true
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			out = append(out, kv)
		}
	}
	return append(out, add...)
}

func getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
