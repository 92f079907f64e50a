package remote

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// conn is one host's master connection, whose session is the agent.
type conn struct {
	s    *Session
	host *graph.Host
	id   int    // among the run's connections
	ctl  string // the control socket

	proc *os.Process
	// reqs queues requests for the agent; a goroutine writes them to its
	// stdin, which it closes when reqs is closed.
	reqs chan string
	done chan struct{} // closed when the master has exited

	mu      sync.Mutex
	closing bool                   // Close began: an exit now is no loss
	lost    bool                   // the master exited before Close
	waiting map[string]chan string // token → who waits for its end record
	tail    []string               // ssh's last lines on stderr
	ready   bool                   // the agent said ready
	errDone chan struct{}          // closed when stderr is drained
}

// start runs the master and waits for the agent's "ready".
func (c *conn) start(ctx context.Context) error {
	argv := append(c.s.sshArgs(c, true), c.agentLine())
	path, err := executor.LookPath(argv[0], os.Getenv("PATH"), "")
	if err != nil {
		return fmt.Errorf("%s: %v", c.host.Name, err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return err
	}
	// A process group of its own keeps a Ctrl-C at the terminal (sent to
	// tubo's group) from cutting the connection under the run; Pdeathsig
	// ends it with tubo, which ends the agent's stdin and so every stage
	// on the host.
	c.proc, err = executor.Spawn(path, argv, &os.ProcAttr{
		Files: []*os.File{inR, outW, errW},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	// The child has its ends; tubo's copies would keep the pipes open.
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return fmt.Errorf("%s: starting ssh: %v", c.host.Name, err)
	}
	executor.WatchGroup(c.proc.Pid, true)
	c.s.trace("start", c, fmt.Sprintf("master connection %d to %s, its session tubo's agent: %s 'AGENT'",
		c.id, c.host.Name, graph.QuoteArgv(argv[:len(argv)-1])))
	c.done = make(chan struct{})
	c.errDone = make(chan struct{})
	c.waiting = map[string]chan string{}
	c.reqs = make(chan string, 4096)
	go c.writeRequests(inW)
	go c.readStderr(errR)
	go c.wait()
	lines := readLines(outR)
	go func() { <-c.done; outR.Close() }()
	select {
	case line, ok := <-lines:
		if ok && strings.HasPrefix(line, "ready ") {
			c.mu.Lock()
			c.ready = true
			c.mu.Unlock()
			go c.readReplies(lines)
			return nil
		}
		c.kill()
		<-c.done
		<-c.errDone
		return c.failure(line)
	case <-ctx.Done():
		c.kill()
		<-c.done
		<-c.errDone
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%s (%s): no answer within %s", c.host.Name, c.where(), ConnectTimeout)
		}
		return fmt.Errorf("%s: %v", c.host.Name, ctx.Err())
	}
}

// where is the host as ssh was given it, with the port.
func (c *conn) where() string {
	if c.host.Port != 0 {
		return fmt.Sprintf("%s port %d", c.host.SSH, c.host.Port)
	}
	return c.host.SSH
}

// failure explains a master that exited before its agent was ready.
func (c *conn) failure(stdout string) error {
	c.mu.Lock()
	tail := append([]string(nil), c.tail...)
	c.mu.Unlock()
	msg := strings.Join(tail, "; ")
	if msg == "" {
		msg = strings.TrimSpace(stdout)
	}
	if msg == "" {
		msg = "ssh exited without a word"
	}
	return fmt.Errorf("%s (%s): cannot connect: %s", c.host.Name, c.where(), msg)
}

// wait reaps the master. Exiting before Close means the connection was
// lost: the run is told once, and each stage on the host fails with it.
func (c *conn) wait() {
	st, _ := c.proc.Wait()
	c.mu.Lock()
	lost := c.ready && !c.closing
	c.lost = lost

	for tok, ch := range c.waiting {
		close(ch)
		delete(c.waiting, tok)
	}
	c.mu.Unlock()
	if st != nil {
		how := "closed"
		if lost {
			how = "lost"
		}
		c.s.trace("exit", c, fmt.Sprintf("%s (connection %s)", st, how))
	}
	executor.WatchGroup(c.proc.Pid, false)
	close(c.done)
	if lost {
		<-c.errDone
		c.s.reportLost(c.host.Name)
	}
}

func (c *conn) kill() { syscall.Kill(-c.proc.Pid, syscall.SIGKILL) }

// readStderr keeps ssh's last lines for an error, and after the agent is
// ready passes them on, prefixed with the host.
func (c *conn) readStderr(r *os.File) {
	defer close(c.errDone)
	defer r.Close()
	for line := range readLines(r) {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		c.mu.Lock()
		c.tail = append(c.tail, line)
		if len(c.tail) > 5 {
			c.tail = c.tail[1:]
		}
		ready := c.ready
		c.mu.Unlock()
		if ready {
			fmt.Fprintf(c.s.stderr(), "tubo: %s: %s\n", c.host.Name, line)
		}
	}
}

// writeRequests writes the queued requests to the agent, and closes its
// stdin when the queue is closed.
func (c *conn) writeRequests(w *os.File) {
	defer w.Close()
	for req := range c.reqs {
		if _, err := w.WriteString(req + "\n"); err != nil {
			// The agent is gone; drain the queue so senders never block.
			for range c.reqs {
			}
			return
		}
	}
}

// send queues a request; false when the connection is gone or closing,
// or the queue is full.
func (c *conn) send(req string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.lost || c.reqs == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	case c.reqs <- req:
		return true
	default:
		return false
	}
}

// ask asks the agent for a stage's end record and waits for the answer.
// false means the agent could not answer (the connection is gone) or did
// not within the bound.
func (c *conn) ask(token string) (string, bool) {
	ch := make(chan string, 1)
	c.mu.Lock()
	if c.waiting == nil || c.lost {
		c.mu.Unlock()
		return "", false
	}
	c.waiting[token] = ch
	c.mu.Unlock()
	if !c.send("end " + token) {
		c.forget(token)
		return "", false
	}
	select {
	case reply, ok := <-ch:
		return reply, ok
	case <-time.After(askTimeout):
		c.forget(token)
		return "", false
	}
}

// askTimeout bounds the wait for an agent's answer, which normally takes
// one round trip.
const askTimeout = 10 * time.Second

func (c *conn) forget(token string) {
	c.mu.Lock()
	delete(c.waiting, token)
	c.mu.Unlock()
}

// readReplies hands each "end TOKEN …" line to whoever asked for it.
func (c *conn) readReplies(lines <-chan string) {
	for line := range lines {
		f := strings.SplitN(line, " ", 3)
		if len(f) < 2 || f[0] != "end" {
			continue
		}
		rest := ""
		if len(f) == 3 {
			rest = f[2]
		}
		c.mu.Lock()
		ch := c.waiting[f[1]]
		delete(c.waiting, f[1])
		c.mu.Unlock()
		if ch != nil {
			ch <- rest
		}
	}
}

// isLost says whether the connection was lost, waiting a moment for the
// master to notice what the stage's client has already seen.
func (c *conn) isLost() bool {
	select {
	case <-c.done:
	case <-time.After(time.Second):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// close closes the agent's stdin and waits for the master to exit,
// killing it if the host does not let go within a few seconds.
func (c *conn) close() {
	if c.proc == nil {
		return
	}
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if already {
		<-c.done
		return
	}
	close(c.reqs)
	select {
	case <-c.done:
	case <-time.After(closeTimeout):
		c.kill()
		<-c.done
	}
	<-c.errDone
}

// closeTimeout bounds the end of a session: the agent ends leftover
// stages (TERM, then KILL a second later) before it exits.
const closeTimeout = 5 * time.Second

func signalName(sig syscall.Signal) string { return unix.SignalName(sig) }
