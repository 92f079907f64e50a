// Package remote runs stages on other hosts through OpenSSH, with the same
// guarantees as local ones.
//
// For each host that a stage is placed on, tubo starts one ssh master
// connection (ControlMaster, its socket in a private 0700 directory) whose
// own session runs tubo's agent: a POSIX sh script that makes the run's
// directory on the host, writes the stage wrapper into it, and then takes
// tubo's requests on its stdin. Each remote stage is then a local ssh
// client that multiplexes a session over that connection (no new TCP
// connection or key exchange) and whose stdin, stdout and stderr are the
// remote program's: the planner wires them like any local process's fds
// 0–2. The wrapper registers the session's process group with the agent,
// runs the program, and records its status and times.
//
// No remote process outlives the run: tubo signals a remote stage through
// the agent (kill-rest, timeouts, forwarded SIGINT/SIGTERM), and when the
// agent's stdin ends — tubo closed it, or tubo died and its ssh processes
// with it (Pdeathsig), or the connection dropped — the agent ends every
// stage still registered. Nothing in the user's ssh configuration is
// weakened: ~/.ssh/config, the agent and known_hosts apply as they would
// to `ssh HOST`; tubo adds BatchMode=yes (no prompts; a host's own
// options come first and can say otherwise) and its control socket.
package remote

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

//go:embed agent.sh
var agentScript string

//go:embed wrapper.sh
var wrapperScript string

// ConnectTimeout bounds how long Connect waits for a host to answer,
// authenticate and start the agent.
var ConnectTimeout = 30 * time.Second

// Session is one run's remote side.
type Session struct {
	// Dir is the private local directory of the control sockets: a fresh
	// path that Connect creates with mode 0700 and Close removes.
	Dir string
	// Token names the run on every host: its directory there is
	// ${TMPDIR:-/tmp}/tubo-TOKEN, made by the agent with mode 0700.
	Token string
	// SSH is the ssh command: a program and any options of its own, e.g.
	// ["ssh", "-F", "cluster.conf"]; nil means ssh on PATH.
	SSH []string
	// Stderr gets what the hosts' ssh masters say after they connected
	// ("tubo: n1: …"), and lost connections; nil means os.Stderr.
	Stderr io.Writer
	// Trace, when set, gets a start and an exit event for each master
	// connection (Node "HOST/ssh"), as the executor's Options.Trace does
	// for stages; nil traces nothing.
	Trace func(executor.Event)

	hosts []*graph.Host
	// conns holds each host's connections, in order; a host gets one for
	// every Sessions-1 of its stages (one session is the agent's).
	conns  map[string][]*conn
	all    []*conn
	closed sync.Once
	// lostMu guards lost: the hosts already reported as lost, once each
	// however many of their connections drop.
	lostMu sync.Mutex
	lost   map[string]bool
	placed map[string]int // host → stages given a connection so far
	stages map[string]*conn
}

// New returns the session of a graph, or nil when no node is placed on a
// remote host. Nothing is started: explain can show the plan of a run
// that never connects.
func New(g *graph.Graph) *Session {
	s := &Session{conns: map[string][]*conn{}, placed: map[string]int{}, stages: map[string]*conn{}}
	count := map[string]int{}
	for _, n := range g.Nodes {
		if n.Kind == graph.Process && n.Host != "" {
			count[n.Host]++
		}
	}
	for _, h := range g.Hosts {
		if count[h.Name] > 0 && h.SSH != "" {
			s.hosts = append(s.hosts, h)
		}
	}
	if len(s.hosts) == 0 {
		return nil
	}
	s.Dir = filepath.Join(controlBase(), "tubo-ssh-"+randomHex(6))
	s.Token = randomHex(8)
	for _, h := range s.hosts {
		for range h.Connections(count[h.Name]) {
			c := &conn{s: s, host: h, id: len(s.all), ctl: filepath.Join(s.Dir, strconv.Itoa(len(s.all)))}
			s.conns[h.Name] = append(s.conns[h.Name], c)
			s.all = append(s.all, c)
		}
	}
	return s
}

// connFor returns the connection for the next stage placed on host: the
// stages fill the host's connections in turn, up to its sessions but the
// agent's each.
func (s *Session) connFor(host string) *conn {
	cs := s.conns[host]
	if len(cs) == 0 {
		return nil
	}
	i := s.placed[host] / cs[0].host.PerConnection()
	s.placed[host]++
	return cs[min(i, len(cs)-1)]
}

// controlBase is where the control directory goes: the temporary
// directory, unless its path is so long that a socket in it would not
// fit in sun_path (108 bytes, and ssh adds 17 for the temporary name it
// binds first); then /tmp.
func controlBase() string {
	base := os.TempDir()
	if len(base)+len("/tubo-ssh-")+12+len("/0000")+17 >= 108 {
		return "/tmp"
	}
	return base
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Hosts are the hosts that the graph's stages are placed on.
func (s *Session) Hosts() []*graph.Host { return s.hosts }

func (s *Session) ssh() []string {
	if len(s.SSH) > 0 {
		return s.SSH
	}
	return []string{"ssh"}
}

// sshArgs are the options of every ssh that tubo runs for host h, before
// the destination: the control socket first (so no option of the host's
// can move it), then the host's own options, then tubo's defaults, which
// the host's options override (ssh keeps the first value it is given).
func (s *Session) sshArgs(c *conn, master bool) []string {
	h := c.host
	// No terminal (it would mangle binary data), no escape character, and
	// no RemoteCommand from the user's config: tubo gives the command.
	args := append(append([]string(nil), s.ssh()...), "-T", "-e", "none", "-o", "RemoteCommand=none")
	if master {
		args = append(args, "-o", "ControlMaster=yes", "-o", "ControlPersist=no")
	} else {
		// A client whose master is gone must fail, not open a connection
		// of its own: that one would have no agent behind it.
		args = append(args, "-o", "ControlMaster=no", "-o", "ProxyCommand=false")
	}
	args = append(args, "-o", "ControlPath="+c.ctl)
	args = append(args, h.Options...)
	args = append(args, "-o", "BatchMode=yes")
	if h.Port != 0 {
		args = append(args, "-p", strconv.Itoa(h.Port))
	}
	return append(args, "--", h.SSH)
}

// Command is the local ssh command that runs node n on its host (see
// plan.Remote): a session over the host's master connection whose
// remote command line starts the wrapper with the stage's token, its
// directory, PATH dirs and environment, and its argv, each word quoted
// for the remote POSIX login shell so that it arrives as one literal
// argument whatever it holds.
func (s *Session) Command(n *graph.Node, token string) ([]string, error) {
	c := s.stages[token]
	if c == nil {
		if c = s.connFor(n.Host); c == nil {
			return nil, fmt.Errorf("no host named %s", n.Host)
		}
		s.stages[token] = c
	}
	if len(n.Argv) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	if a := n.Argv[0]; strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
		return nil, fmt.Errorf("program %q: a remote program's name cannot start with '-' or hold '='", a)
	}
	words := []string{token, n.Host, n.Dir, strings.Join(n.PathDirs, ":"), strconv.Itoa(n.Retries)}
	for _, e := range n.Env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("environment entry %q is not NAME=VALUE", e)
		}
	}
	words = append(words, n.Env...)
	words = append(words, "--")
	words = append(words, n.Argv...)
	for _, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			return nil, fmt.Errorf("%q: a NUL byte cannot cross to a remote host", w)
		}
	}
	line := `exec sh "${TMPDIR:-/tmp}/tubo-` + c.token() + `/run" ` + QuoteArgs(words)
	return append(s.sshArgs(c, false), line), nil
}

// agentLine is the remote command line of a connection's own session.
func (c *conn) agentLine() string {
	return "exec sh -c " + Quote(stripComments(agentScript)) + " tubo-agent " + c.token() + " " +
		Quote(strings.TrimRight(stripComments(wrapperScript), "\n"))
}

// token names the connection's directory on its host. It is unique in
// the run, not only on the host: two hosts may share a /tmp (two names
// for one machine, or network namespaces of one).
func (c *conn) token() string { return c.s.Token + "-" + strconv.Itoa(c.id) }

// stripComments drops the lines that are only a comment, to keep the
// command line that crosses to every host short.
func stripComments(script string) string {
	var b strings.Builder
	for line := range strings.Lines(script) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// Connect starts every host's master connection and agent, all at once,
// and returns when each one is ready or has failed. Any failure is an
// error naming each host that failed and why (ssh's own words); nothing
// is left running then.
func (s *Session) Connect(ctx context.Context) error {
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating the private directory for ssh control sockets: %w", err)
	}
	executor.WatchPath(s.Dir, true)
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	errs := make([]error, len(s.all))
	var wg sync.WaitGroup
	for _, h := range s.hosts {
		// A host's connections start a few at a time: sshd drops new
		// connections at random past MaxStartups (10 unauthenticated).
		slots := make(chan struct{}, 4)
		for _, c := range s.conns[h.Name] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				errs[slices.Index(s.all, c)] = c.start(ctx)
			}()
		}
	}
	wg.Wait()
	var failed []error
	reported := map[*graph.Host]bool{}
	for i, err := range errs {
		// One error per host is enough: its other connections fail alike.
		if h := s.all[i].host; err != nil && !reported[h] {
			reported[h] = true
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		s.Close()
		return errors.Join(failed...)
	}
	return nil
}

// Signal sends sig to the process group of p on its host, through the
// host's agent (see executor.Remote). It reports false when the
// connection is gone or the request cannot be queued.
func (s *Session) Signal(p *plan.Proc, sig syscall.Signal) bool {
	c := s.stages[p.Token]
	if c == nil {
		return false
	}
	switch sig {
	case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		// The stage's group on its host is orphaned (its leader's parent,
		// sshd, is in another session), and the kernel discards these
		// for an orphaned group: SIGSTOP stops it as Ctrl-Z means to.
		sig = syscall.SIGSTOP
	}
	name := strings.TrimPrefix(signalName(sig), "SIG")
	if name == "" {
		return false
	}
	ends := 0
	switch sig {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGKILL,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGPIPE:
		ends = int(sig)
	}
	return c.send(fmt.Sprintf("signal %s %s %d", p.Token, name, ends))
}

// Ended asks p's host how its program ended (see executor.Remote).
func (s *Session) Ended(p *plan.Proc, res *executor.ProcResult) {
	c := s.stages[p.Token]
	rr := &executor.RemoteResult{Host: p.Host}
	res.Remote = rr
	if c == nil {
		return
	}
	if reply, ok := c.ask(p.Token); ok {
		parseEnd(reply, rr)
		return
	}
	rr.Lost = c.isLost()
}

// Close ends the session: each agent's stdin is closed, so it ends
// whatever is still registered and removes the run's directory on its
// host; each master then exits, and the control directory is removed.
// It waits for all of that, a few seconds at most.
func (s *Session) Close() { s.closed.Do(s.close) }

func (s *Session) close() {
	var wg sync.WaitGroup
	for _, c := range s.all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close()
		}()
	}
	wg.Wait()
	if s.Dir != "" {
		os.RemoveAll(s.Dir)
		executor.WatchPath(s.Dir, false)
	}
}

// reportLost says once per host that its connection was lost.
func (s *Session) reportLost(host string) {
	s.lostMu.Lock()
	defer s.lostMu.Unlock()
	if s.lost == nil {
		s.lost = map[string]bool{}
	}
	if !s.lost[host] {
		s.lost[host] = true
		fmt.Fprintf(s.stderr(), "tubo: %s: connection lost\n", host)
	}
}

func (s *Session) trace(kind string, c *conn, detail string) {
	if s.Trace == nil {
		return
	}
	s.Trace(executor.Event{Time: time.Now(), Kind: kind, Node: c.host.Name + "/ssh", Pid: c.proc.Pid, Pgid: c.proc.Pid, Detail: detail})
}

func (s *Session) stderr() io.Writer {
	if s.Stderr != nil {
		return s.Stderr
	}
	return os.Stderr
}

// parseEnd reads the agent's answer about one stage:
//
//	STATUS CLOCK START END USER SYS USER0 SYS0
//
// where CLOCK says what START and END are (uptime: seconds from
// /proc/uptime; date: whole seconds) and the times are the CPU times of
// the wrapper's children as its sh's `times` printed them at the end and
// at the start. "none" means the wrapper never wrote its record.
func parseEnd(reply string, rr *executor.RemoteResult) {
	f := strings.Fields(reply)
	if len(f) < 4 {
		return
	}
	st, err := strconv.Atoi(f[0])
	if err != nil {
		return
	}
	rr.Known, rr.Status = true, executor.Status(st)
	w0, err0 := strconv.ParseFloat(f[2], 64)
	w1, err1 := strconv.ParseFloat(f[3], 64)
	if err0 == nil && err1 == nil && w1 >= w0 {
		rr.Wall = time.Duration((w1 - w0) * float64(time.Second)).Round(time.Millisecond)
		rr.WallStep = time.Second
		if f[1] == "uptime" {
			rr.WallStep = 10 * time.Millisecond
		}
	}
	if len(f) >= 8 {
		rr.User = max(0, shTime(f[4])-shTime(f[6]))
		rr.System = max(0, shTime(f[5])-shTime(f[7]))
	}
}

// shTime reads a duration as the times builtin prints it: 1m2.345s.
func shTime(s string) time.Duration {
	m, rest, ok := strings.Cut(strings.TrimSuffix(s, "s"), "m")
	if !ok {
		return 0
	}
	mins, err1 := strconv.Atoi(m)
	secs, err2 := strconv.ParseFloat(rest, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(mins)*time.Minute + time.Duration(secs*float64(time.Second))
}

// readLines sends each line of r to a channel, closed at EOF.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 4096), 1<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}
