package executor

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// No stage survives tubo, however tubo ends. Two mechanisms cover it:
//
//  1. Every stage is started with Pdeathsig = SIGKILL (see spawn.go), so
//     the processes tubo forked die when tubo does, even of SIGKILL.
//  2. Pdeathsig does not reach a stage's own children. For those, tubo
//     starts one guardian: a copy of itself (GuardArg) in a process group
//     of its own, reading from a pipe whose only writer is tubo. tubo
//     writes "+PGID" when a stage's process group appears and "-PGID" when
//     it is gone. When the read returns EOF, tubo has exited by whatever
//     path, and the guardian sends SIGKILL to every group still listed,
//     which takes the descendants that stayed in a stage's group with it.
//     tubo also lists the paths it must remove ("r" + quoted path, "R" once
//     removed): the private FIFO directory and the FIFOs it made, which the
//     guardian removes after the kill.

// GuardArg is the first argument that makes tubo act as the guardian.
const GuardArg = "__tubo_guard"

// GuardPath is the tubo executable to start as the guardian; "" disables
// the guardian (Pdeathsig still covers direct children).
var GuardPath string

type guardian struct {
	once sync.Once
	mu   sync.Mutex
	w    *os.File // nil if the guardian could not start
}

var guard guardian

func (g *guardian) start() {
	path := GuardPath
	if path == "" {
		return
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return
	}
	r, w := os.NewFile(uintptr(fds[0]), "guard-r"), os.NewFile(uintptr(fds[1]), "guard-w")
	// tubo may write at once: the pipe holds the lines until the guardian
	// reads them, and tubo keeps the read end open until it has started,
	// so no write can fail. Starting it (a fork and exec of tubo) then
	// overlaps with the stages' own starts.
	g.w = w
	go func() {
		defer r.Close()
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return
		}
		defer null.Close()
		// No Pdeathsig here: the guardian must outlive tubo. Its own
		// process group keeps a signal sent to tubo's group (Ctrl-C) from
		// ending it.
		p, err := os.StartProcess(path, []string{"tubo", GuardArg}, &os.ProcAttr{
			Files: []*os.File{r, null, null},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		})
		if err == nil {
			p.Release()
		}
	}()
}

// watch tells the guardian that a process group exists (add) or is gone.
func (g *guardian) watch(pgid int, add bool) {
	g.once.Do(g.start)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return
	}
	op := '-'
	if add {
		op = '+'
	}
	fmt.Fprintf(g.w, "%c%d\n", op, pgid)
}

// watchPath tells the guardian that tubo made path (add) and must remove
// it, or that it has removed it.
func (g *guardian) watchPath(path string, add bool) {
	g.once.Do(g.start)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return
	}
	op := 'R'
	if add {
		op = 'r'
	}
	fmt.Fprintf(g.w, "%c%s\n", op, strconv.Quote(path))
}

// GuardMain is the guardian's whole life: follow the list of live groups
// and paths on stdin until EOF, then kill and remove what is left.
func GuardMain() int {
	groups := map[int]bool{}
	paths := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		if line[0] == 'r' || line[0] == 'R' {
			if path, err := strconv.Unquote(line[1:]); err == nil {
				if line[0] == 'r' {
					paths[path] = true
				} else {
					delete(paths, path)
				}
			}
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		if line[0] == '+' {
			groups[pgid] = true
		} else {
			delete(groups, pgid)
		}
	}
	defer func() {
		for path := range paths {
			os.RemoveAll(path)
		}
	}()
	if len(groups) == 0 {
		return 0
	}
	// SIGTERM first so well-behaved descendants can clean up, SIGKILL
	// shortly after: the promise is "gone within a second".
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGTERM)
	}
	time.Sleep(300 * time.Millisecond)
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return 0
}
