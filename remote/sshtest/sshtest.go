// Package sshtest starts real OpenSSH servers for tests: one on 127.0.0.1
// at a free port, and, where the machine allows it (root, `ip netns`),
// more in network namespaces of their own, each joined to this one by a
// veth pair, so that "another host" is another network address. Every
// server has a generated host key, config and authorized key in a
// temporary directory; no system configuration is read or touched. The
// client side is an ssh config file (and a TUBO_SSH value that uses it)
// with the key and a known_hosts file that holds exactly the servers'
// key: host-key checking stays on.
//
// Namespaces, veth pairs and servers are removed when the test ends, and
// leftovers of a test process that died are swept at the next start.
package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
)

// Sshd is where the OpenSSH server is; Debian's openssh-server puts it
// there, and .ci/run installs it.
var Sshd = "/usr/sbin/sshd"

// Options shape an Env.
type Options struct {
	// Namespaced is how many servers to start in network namespaces of
	// their own besides the loopback one; 0 starts only the loopback one.
	Namespaced int
	// MaxSessions is each server's MaxSessions; 0 keeps sshd's default
	// (10), which tubo assumes of a host that says nothing.
	MaxSessions int
}

// Env is a set of running servers and what a client needs to reach them.
type Env struct {
	Dir string
	// Config is an ssh_config that names the client key and the
	// known_hosts file; SSH is the ssh command that uses it, as tubo's
	// --ssh or TUBO_SSH take it.
	Config string
	SSH    []string
	// Servers are the loopback server first, then the namespaced ones.
	Servers []*Server
	ownDir  bool // Stop removes Dir (StartMain made it)
}

// Server is one running sshd.
type Server struct {
	Name string // "lo", "h1", "h2", …
	Addr string // its IPv4 address
	Port int
	// Netns is the network namespace it runs in; "" for this one.
	Netns string
	cmd   *exec.Cmd
	log   *syncWriter
}

// Spec is the server as a --hosts line writes it: root@ADDR:PORT.
func (s *Server) Spec() string { return fmt.Sprintf("%s@%s:%d", user(), s.Addr, s.Port) }

// Host is the server as a graph host named name.
func (s *Server) Host(name string) *graph.Host {
	return &graph.Host{Name: name, SSH: user() + "@" + s.Addr, Port: s.Port}
}

// Log is what sshd said so far (it logs errors to stderr with -e).
func (s *Server) Log() string {
	if s.log == nil {
		return ""
	}
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.w.String()
}

func user() string {
	if u := os.Getenv("USER"); u != "" && os.Geteuid() != 0 {
		return u
	}
	return "root"
}

// CanNamespace says why namespaced hosts cannot be made here, or "".
func CanNamespace() string {
	if os.Geteuid() != 0 {
		return "network namespaces need root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip command (iproute2)"
	}
	return ""
}

// Available says why no server can be started here, or "".
func Available() string {
	if _, err := os.Stat(Sshd); err != nil {
		return Sshd + " is missing (Debian: apt-get install openssh-server)"
	}
	for _, p := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			return p + " is missing (Debian: apt-get install openssh-client)"
		}
	}
	return ""
}

// Start starts the servers; it skips the test (with the reason; under CI
// it fails) where the machine cannot run them, and stops them all when
// the test ends.
func Start(t testing.TB, opt Options) *Env {
	t.Helper()
	if why := Unavailable(opt); why != "" {
		Skip(t, why)
	}
	e, err := start(opt, t.TempDir())
	if e != nil {
		t.Cleanup(e.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// StartMain is Start for a TestMain or a benchmark, outside a test: the
// caller must call Stop. Where Unavailable(opt) gives a reason, that is
// the error.
func StartMain(opt Options) (*Env, error) {
	if why := Unavailable(opt); why != "" {
		return nil, errors.New(why)
	}
	dir, err := os.MkdirTemp("", "tubo-sshtest-")
	if err != nil {
		return nil, err
	}
	e, err := start(opt, dir)
	if e == nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e.ownDir = true
	if err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func start(opt Options, dir string) (*Env, error) {
	e := &Env{Dir: dir}
	hostKey := filepath.Join(dir, "host_key")
	clientKey := filepath.Join(dir, "id")
	for _, k := range []string{hostKey, clientKey} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tubo-test", "-f", k).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		return nil, err
	}
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return nil, err
	}
	sweepStale()
	if os.Geteuid() == 0 {
		// sshd's privilege-separation directory, which Debian's init
		// script would make; an empty root-owned directory.
		os.MkdirAll("/run/sshd", 0o755)
	}
	lo := &Server{Name: "lo", Addr: "127.0.0.1"}
	e.Servers = append(e.Servers, lo)
	for i := 1; i <= opt.Namespaced; i++ {
		s, err := newNamespace(i)
		if s != nil {
			e.Servers = append(e.Servers, s)
		}
		if err != nil {
			return e, err
		}
	}
	var known strings.Builder
	for _, s := range e.Servers {
		if err := e.startServer(s, hostKey, opt); err != nil {
			return e, err
		}
		fields := strings.Fields(string(hostPub))
		// known_hosts writes a host on port 22 bare, any other bracketed.
		name := fmt.Sprintf("[%s]:%d", s.Addr, s.Port)
		if s.Port == 22 {
			name = s.Addr
		}
		fmt.Fprintf(&known, "%s %s %s\n", name, fields[0], fields[1])
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(known.String()), 0o600); err != nil {
		return e, err
	}
	e.Config = filepath.Join(dir, "ssh_config")
	config := fmt.Sprintf(`Host *
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	LogLevel ERROR
`, clientKey, knownHosts)
	if err := os.WriteFile(e.Config, []byte(config), 0o600); err != nil {
		return e, err
	}
	e.SSH = []string{"ssh", "-F", e.Config}
	return e, nil
}

// startServer writes the server's config and starts sshd in the
// foreground (-D), logging to stderr (-e), and waits until it accepts
// connections. Its sessions get SHLVL=1: bash, as a login shell run by
// sshd, sources ~/.bashrc only at shell level 1, so the tests do not
// depend on (or wait for) what the machine's own dotfiles do.
func (e *Env) startServer(s *Server, hostKey string, opt Options) error {
	for attempt := 0; ; attempt++ {
		if s.Netns == "" {
			s.Port = freePort()
		} else {
			s.Port = 22
		}
		cfg := filepath.Join(e.Dir, "sshd_config."+s.Name)
		maxSessions := ""
		if opt.MaxSessions > 0 {
			maxSessions = fmt.Sprintf("MaxSessions %d\n", opt.MaxSessions)
		}
		conf := fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
PidFile none
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 100:30:200
SetEnv SHLVL=1
%s%sLogLevel ERROR
`, s.Addr, s.Port, hostKey, filepath.Join(e.Dir, "authorized_keys"), maxSessions, noPenalties(e.Dir, hostKey))
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			return err
		}
		argv := []string{Sshd, "-D", "-e", "-f", cfg}
		if s.Netns != "" {
			argv = append([]string{"ip", "netns", "exec", s.Netns}, argv...)
		}
		s.log = &syncWriter{w: &bytes.Buffer{}}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = s.log, s.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting sshd: %v", err)
		}
		s.cmd = cmd
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if waitListening(s, exited) {
			return nil
		}
		s.stop()
		if attempt == 3 {
			return fmt.Errorf("sshd %s at %s:%d did not start: %s", s.Name, s.Addr, s.Port, s.Log())
		}
	}
}

// noPenalties is the line that turns off OpenSSH 9.8's per-source
// penalties, where this sshd has them (older ones refuse the keyword).
// A test kills connection processes on purpose (a lost connection), and
// sshd would take that for a crash and refuse the test's next
// connections from the same address for 90 s.
func noPenalties(dir, hostKey string) string {
	penaltiesOnce.Do(func() {
		cfg := filepath.Join(dir, "sshd_config.probe")
		conf := fmt.Sprintf("HostKey %s\nPidFile none\nUsePAM no\nPerSourcePenalties no\n", hostKey)
		if os.WriteFile(cfg, []byte(conf), 0o600) != nil {
			return
		}
		defer os.Remove(cfg)
		cmd := exec.Command(Sshd, "-t", "-f", cfg)
		cmd.WaitDelay = 5 * time.Second
		if cmd.Run() == nil {
			penaltiesLine = "PerSourcePenalties no\n"
		}
	})
	return penaltiesLine
}

var (
	penaltiesOnce sync.Once
	penaltiesLine string
)

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func waitListening(s *Server, exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := dial(s)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// dial connects to the server from this namespace (the veth pair routes
// to the namespaced ones).
func dial(s *Server) (net.Conn, error) {
	return net.DialTimeout("tcp", net.JoinHostPort(s.Addr, strconv.Itoa(s.Port)), time.Second)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 20000 + rand.IntN(20000)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Stop stops every server (and whatever their sessions left), and
// removes the namespaces and veth pairs.
func (e *Env) Stop() {
	for _, s := range e.Servers {
		s.stop()
		if s.Netns != "" {
			deleteNamespace(s.Netns)
		}
	}
	if e.ownDir {
		os.RemoveAll(e.Dir)
	}
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// sshd's connection processes make sessions of their own: kill every
	// descendant, then the listener.
	for _, pid := range Descendants(s.cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Process.Kill()
	s.cmd = nil
}

// Listener is the pid of the server's sshd listener (for tests that look
// for what its sessions left behind), or 0.
func (s *Server) Listener() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Host returns the server named name ("lo", "h1", …), or nil.
func (e *Env) Server(name string) *Server {
	for _, s := range e.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Run runs a command line on a server through ssh, as a test's own probe
// (ps, ls), and returns its output.
func (e *Env) Run(s *Server, line string) (string, error) {
	args := append(append([]string(nil), e.SSH[1:]...), "-o", "BatchMode=yes", "-p", strconv.Itoa(s.Port), user()+"@"+s.Addr, line)
	cmd := exec.Command(e.SSH[0], args...)
	cmd.WaitDelay = 5 * time.Second
	// A probe that hangs fails within its own bound.
	timer := time.AfterFunc(30*time.Second, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// HostsFile writes a --hosts file with the given servers, as
// NAME=SLOTS/user@addr:port lines, and returns its path.
func (e *Env) HostsFile(slots int, servers ...*Server) string {
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "%s=%d/%s\n", s.Name, slots, s.Spec())
	}
	path := filepath.Join(e.Dir, fmt.Sprintf("hosts-%d", rand.Int64()))
	os.WriteFile(path, []byte(b.String()), 0o600)
	return path
}

// SSHEnv is the TUBO_SSH=… environment entry that makes tubo use the
// test config.
func (e *Env) SSHEnv() string { return "TUBO_SSH=" + strings.Join(e.SSH, " ") }
