package stall

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// world is one reading of every process that matters to a run: the live
// stages, what they started, strays left behind in their process groups,
// any process holding one of the graph's pipes or FIFOs, and tubo's own
// threads.
type world struct {
	procs  map[int]*proc
	stage  map[int]string // pid → the stage it is (a stage's own pid)
	owner  map[int]string // pid → the stage it belongs to (descendants, strays)
	orphan map[int]bool   // pid was left behind: its stage has exited
	// holders of each pipe inode and each FIFO (by dev and inode).
	pipes map[uint64][]holder
	fifos map[devIno][]holder
	// fifoNode maps a FIFO's dev and inode to its node.
	fifoNode map[devIno]*graph.Node
	// pipeIndex maps a pipe inode to its index in the plan.
	pipeIndex map[uint64]int
	self      int
	tasks     []*proc // tubo's own threads
}

type devIno struct{ dev, ino uint64 }

type holder struct {
	pid, fd       int
	reads, writes bool
}

// gather reads the world. full also scans every process on the machine for
// strays and for holders of the graph's pipes; otherwise only the stages
// and their descendants are read (cheap enough for every sample).
func (w *Watchdog) gather(full bool) *world {
	wd := &world{
		procs: map[int]*proc{}, stage: map[int]string{}, owner: map[int]string{}, orphan: map[int]bool{},
		pipes: map[uint64][]holder{}, fifos: map[devIno][]holder{}, fifoNode: map[devIno]*graph.Node{},
		pipeIndex: map[uint64]int{}, self: os.Getpid(),
	}
	w.mu.Lock()
	type live struct {
		node string
		pid  int
	}
	var lives []live
	// The process groups of the stages, live or not: a stray found in
	// one belongs to the stage that left it, the exited stage of that
	// group started last before it (a shell line's stages share a group).
	type member struct {
		node  string
		pid   int
		ended bool
	}
	groups := map[int][]member{}
	shared := 0 // the run's one group, when the stages share one
	for _, s := range w.stages {
		if s.pgid != 0 && !w.p.OwnGroups {
			shared = s.pgid
		}
	}
	for _, s := range w.stages {
		if s.pid != 0 && !s.ended {
			lives = append(lives, live{s.node, s.pid})
		}
		pgid := s.pgid
		switch {
		case s.pid == 0:
			continue
		case w.p.OwnGroups:
			pgid = s.pid
		case pgid == 0:
			pgid = shared
		}
		if pgid != 0 {
			groups[pgid] = append(groups[pgid], member{s.node, s.pid, s.ended})
		}
	}
	ownerIn := func(pgid, pid int) (string, bool) {
		ms, ok := groups[pgid]
		if !ok {
			return "", false
		}
		best, bestPid := ms[0].node, -1
		for _, m := range ms {
			if m.ended && m.pid < pid && m.pid > bestPid {
				best, bestPid = m.node, m.pid
			}
		}
		return best, true
	}
	for ino, i := range w.inoPipe {
		wd.pipeIndex[ino] = i
	}
	extra := make(map[int]string, len(w.extra))
	for pid, owner := range w.extra {
		extra[pid] = owner
	}
	w.mu.Unlock()
	wd.findFIFOs(w.p)

	var add func(pid int, owner string)
	add = func(pid int, owner string) {
		if _, ok := wd.procs[pid]; ok || pid == wd.self {
			return
		}
		p, ok := readProc(pid)
		if !ok {
			return
		}
		wd.procs[pid] = &p
		if owner != "" {
			wd.owner[pid] = owner
		}
		for _, c := range children(pid) {
			add(c, owner)
		}
	}
	for _, l := range lives {
		wd.stage[l.pid] = l.node
		add(l.pid, l.node)
	}
	for pid, owner := range extra {
		add(pid, owner)
	}
	if full {
		for _, pid := range allPids() {
			if _, ok := wd.procs[pid]; ok || pid == wd.self {
				continue
			}
			p, ok := readProc(pid)
			if !ok || p.state == 'Z' {
				continue
			}
			if node, ok := ownerIn(p.pgid, pid); ok {
				wd.procs[pid] = &p
				wd.owner[pid] = node
				continue
			}
			// Anything else matters only if it holds one of the graph's
			// pipes or FIFOs: read its descriptors to see.
			p.readFDs()
			if wd.holdsGraph(w, &p) {
				wd.procs[pid] = &p
			}
		}
	}
	// Whose is each process: a stage's own pid, else the stage of its
	// nearest ancestor that is one (already set by add), else none.
	w.mu.Lock()
	for pid, node := range wd.owner {
		if s := w.byNode[node]; s != nil && s.ended && wd.stage[pid] == "" {
			wd.orphan[pid] = true
		}
	}
	w.mu.Unlock()
	for _, p := range wd.procs {
		if p.fds == nil {
			p.readFDs()
		}
	}
	// tubo itself: its descriptors (builtins' pipe ends, ends kept for
	// stages not started yet) and its threads (a blocked FIFO open).
	me, _ := readProc(wd.self)
	me.pid = wd.self
	me.readFDs()
	wd.procs[wd.self] = &me
	if tasks, err := os.ReadDir(procDir(wd.self) + "task"); err == nil {
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if tp, ok := readProc(tid); ok && tp.sys >= 0 {
				tp.pid = tid
				wd.tasks = append(wd.tasks, &tp)
			}
		}
	}
	wd.index(w.p)
	return wd
}

// holdsGraph reports whether p holds a pipe or FIFO of the graph.
func (wd *world) holdsGraph(w *Watchdog, p *proc) bool {
	for _, d := range p.fds {
		if d.pipe() {
			if _, ok := wd.pipeIndex[d.ino]; ok {
				return true
			}
		}
		if d.fifo && wd.fifoNode[devIno{d.dev, d.ino}] != nil {
			return true
		}
	}
	return false
}

// index learns which pipe each inode is (from the stages' planned
// descriptors) and who holds each pipe and FIFO.
func (wd *world) index(p *plan.Plan) {
	for _, pr := range p.Procs {
		for pid, node := range wd.stage {
			if node != pr.Node.ID {
				continue
			}
			q := wd.procs[pid]
			if q == nil {
				continue
			}
			for _, fd := range pr.FDs {
				if fd.Src.Kind != plan.PipeRead && fd.Src.Kind != plan.PipeWrite {
					continue
				}
				if d, ok := q.fds[fd.Num]; ok && d.pipe() {
					wd.pipeIndex[d.ino] = fd.Src.Index
				}
			}
		}
	}
	for pid, q := range wd.procs {
		for fd, d := range q.fds {
			h := holder{pid: pid, fd: fd, reads: d.reads(), writes: d.writes()}
			switch {
			case d.pipe():
				wd.pipes[d.ino] = append(wd.pipes[d.ino], h)
			case d.fifo:
				di := devIno{d.dev, d.ino}
				wd.fifos[di] = append(wd.fifos[di], h)
			}
		}
	}
}

// findFIFOs learns the inode of every FIFO node.
func (wd *world) findFIFOs(p *plan.Plan) {
	for _, n := range p.Graph.Nodes {
		if n.Kind != graph.FIFO || n.Path == "" {
			continue
		}
		if st, err := os.Stat(n.Path); err == nil {
			if di, ok := statDevIno(st); ok {
				wd.fifoNode[di] = n
			}
		}
	}
}

// fifoByPath finds the FIFO node a path names, as the process pid sees it
// (a relative path is taken from its working directory).
func (wd *world) fifoByPath(pid int, path string) *graph.Node {
	if path == "" {
		return nil
	}
	if !filepath.IsAbs(path) {
		if cwd, err := os.Readlink(procDir(pid) + "cwd"); err == nil {
			path = filepath.Join(cwd, path)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if di, ok := statDevIno(st); ok {
		return wd.fifoNode[di]
	}
	return nil
}

// who names the process pid for a reader: its stage, "tubo", or "pid N
// (command), left behind by STAGE".
func (wd *world) who(pid int) string {
	if pid == wd.self {
		return "tubo"
	}
	if node, ok := wd.stage[pid]; ok {
		return node
	}
	s := "pid " + strconv.Itoa(pid)
	if q := wd.procs[pid]; q != nil {
		s += " (" + cmdline(q) + ")"
	}
	if owner := wd.owner[pid]; owner != "" {
		if wd.orphan[pid] {
			s += ", left behind by " + owner
		} else {
			s += ", started by " + owner
		}
	}
	return s
}

func isTTYPath(link string) bool {
	return strings.HasPrefix(link, "/dev/pts/") || strings.HasPrefix(link, "/dev/tty") || link == "/dev/console"
}
