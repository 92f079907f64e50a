package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// Remote stages are measured against two test hosts: sshd servers in
// network namespaces of their own (sshtest), reached through veth pairs,
// which the bench starts itself (root and ip netns needed; without them
// the rows are skipped with the reason) and stops on every way out.

// remoteHosts starts the test hosts once; nil (with a warning) where the
// machine cannot.
func (b *bench) remoteHosts() *sshtest.Env {
	if b.hosts != nil || b.hostsErr != nil {
		return b.hosts
	}
	// MaxSessions high enough that each host is one connection, for tubo
	// (sessions: below) and for parallel -M alike.
	b.hosts, b.hostsErr = sshtest.StartMain(sshtest.Options{Namespaced: 2, MaxSessions: 256})
	if b.hostsErr != nil {
		warnf("remote rows skipped: %v", b.hostsErr)
		return nil
	}
	atExit = append(atExit, b.hosts.Stop)
	return b.hosts
}

// hostsYAML is a hosts: section for the two test hosts.
func hostsYAML(e *sshtest.Env) string {
	var s strings.Builder
	s.WriteString("hosts:\n")
	for i, name := range []string{"h1", "h2"} {
		srv := e.Server(name)
		fmt.Fprintf(&s, "  n%d: {ssh: %q, port: %d, sessions: 256}\n", i+1, "root@"+srv.Addr, srv.Port)
	}
	return s.String()
}

func (b *bench) remoteReplicaPairs() []*pair {
	e := b.remoteHosts()
	if e == nil {
		return nil
	}
	return []*pair{b.remoteReplicas(e, false), b.remoteReplicas(e, true)}
}

func (b *bench) remoteCatPairs() []*pair {
	e := b.remoteHosts()
	if e == nil {
		return nil
	}
	return []*pair{b.remoteCat(e)}
}

// remoteReplicas: 200 replicas of /bin/true spread over the two hosts,
// against GNU parallel running the same 200 jobs on the same hosts with
// --sshlogin: as a user would first write it (a connection per job, the
// default number of jobs per host, the host's cores), or with 16 jobs per
// host. (parallel -M, its own shared connections, was slower here than
// either: its control masters start with --sshdelay to stay within sshd's
// MaxStartups.)
func (b *bench) remoteReplicas(e *sshtest.Env, best bool) *pair {
	y := b.writeFile("remote-replicas.yaml", hostsYAML(e)+`stages:
  t:
    run: [/bin/true]
    replicas: 200
    on: all
`)
	var logins []string
	for _, name := range []string{"h1", "h2"} {
		srv := e.Server(name)
		login := fmt.Sprintf("root@%s:%d", srv.Addr, srv.Port)
		if best {
			login = "16/" + login
		}
		logins = append(logins, "--sshlogin", login)
	}
	argv := append([]string{"parallel", "--ssh", strings.Join(e.SSH, " ")}, logins...)
	argv = append(argv, "/bin/true", ":::")
	for i := 1; i <= 200; i++ {
		argv = append(argv, strconv.Itoa(i))
	}
	p := &pair{
		name:   "200 remote replicas of `/bin/true` over 2 hosts",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, env: []string{e.SSHEnv()}, check: wantOutput("")},
		other:  &command{label: "parallel --sshlogin", argv: argv, check: wantOutput("")},
		target: 3, goal: "≥ 3× `parallel --sshlogin` on the same hosts",
		runs: b.n,
	}
	if best {
		p.name += ", parallel with 16 jobs per host"
		p.other.label = "parallel --sshlogin 16/…"
		p.target, p.goal = 0, "(for comparison)"
	}
	return p
}

// remoteCat: 1 GiB through a remote cat, tubo's stage against the plain
// `head | ssh host cat | wc -c` a user would type, connection set-up
// included on both sides.
func (b *bench) remoteCat(e *sshtest.Env) *pair {
	n := b.sz.remoteBytes
	srv := e.Server("h1")
	y := b.writeFile("remote-cat.yaml", hostsYAML(e)+fmt.Sprintf(`stages:
  gen: {run: [head, -c, %q, /dev/zero]}
  cat: {run: [cat], on: n1}
  count: {run: [wc, -c]}
edges:
  - gen -> cat -> count
`, sizeArg(n)))
	ssh := strings.Join(e.SSH, " ")
	line := fmt.Sprintf("head -c %s /dev/zero | %s -p %d root@%s cat | wc -c", sizeArg(n), ssh, srv.Port, srv.Addr)
	want := strconv.FormatInt(n, 10) + "\n"
	host := hostCPU(srv)
	return &pair{
		name:   "1 GiB through a remote `cat`",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, env: []string{e.SSHEnv()}, check: wantOutput(want), elsewhere: host},
		other:  &command{label: "ssh host cat", argv: []string{"dash", "-c", line}, check: wantOutput(want), elsewhere: host},
		target: 0.95, goal: "≤ 5% slower than `ssh host cat`",
		bytes: n, runs: b.n, cpu: true,
	}
}

// hostCPU counts the CPU time that srv's sshd has spent on sessions that
// ended: the listener's reaped children's user + system time (its
// connection processes, which reaped the sessions' programs: the remote
// cat). It first waits, up to a few seconds, for the listener to have
// reaped every connection, so that a run's host side is counted whole.
func hostCPU(srv *sshtest.Server) func() time.Duration {
	pid := srv.Listener()
	return func() time.Duration {
		for deadline := time.Now().Add(5 * time.Second); len(sshtest.Descendants(pid)) > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		st := string(b)
		// Fields after the command name (which may hold spaces): state is
		// field 3, cutime and cstime are fields 16 and 17.
		f := strings.Fields(st[strings.LastIndexByte(st, ')')+1:])
		if len(f) < 15 {
			return 0
		}
		cu, _ := strconv.ParseInt(f[13], 10, 64)
		cs, _ := strconv.ParseInt(f[14], 10, 64)
		return time.Duration(cu+cs) * time.Second / clockTicks
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture tubo builds for.
const clockTicks = 100
