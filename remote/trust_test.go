package remote_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/remote"
	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// userConfig writes an ssh config of the user's, made from the test's
// own with the lines that start with one of drop left out and more
// appended, and returns the ssh command that uses it.
func userConfig(t *testing.T, env *sshtest.Env, drop []string, more string) []string {
	t.Helper()
	b, err := os.ReadFile(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && slices.Contains(drop, f[0]) {
			continue
		}
		keep = append(keep, l)
	}
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte(strings.Join(keep, "\n")+more), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"ssh", "-F", cfg}
}

func oneRemoteStage(env *sshtest.Env) *graph.Graph {
	g := &graph.Graph{Hosts: []*graph.Host{env.Servers[0].Host("n1")}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"echo", "reached"}, Host: "n1", StdinNull: true})
	return g
}

// tubo never weakens host-key checking: with ssh's defaults (no
// StrictHostKeyChecking of the user's), a host whose key is not known,
// or not the one known, is refused before any stage starts, and
// known_hosts is left as it was.
func TestHostKeyCheckingIsNeverWeakened(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	lo := env.Servers[0]
	other := filepath.Join(t.TempDir(), "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	otherPub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(otherPub))
	for _, c := range []struct {
		name, known, want string
	}{
		{"unknown", "", "Host key verification failed"},
		{"changed", fmt.Sprintf("[%s]:%d %s %s\n", lo.Addr, lo.Port, f[0], f[1]), "Host key verification failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			known := filepath.Join(t.TempDir(), "known_hosts")
			os.WriteFile(known, []byte(c.known), 0o600)
			g := oneRemoteStage(env)
			s := remote.New(g)
			s.SSH = userConfig(t, env, []string{"UserKnownHostsFile", "StrictHostKeyChecking", "LogLevel"},
				"\tUserKnownHostsFile "+known+"\n")
			err := s.Connect(context.Background())
			if err == nil {
				s.Close()
				t.Fatal("connected to a host whose key is not the known one")
			}
			if !strings.Contains(err.Error(), "n1 (root@127.0.0.1 port") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v", err)
			}
			if b, _ := os.ReadFile(known); string(b) != c.known {
				t.Fatalf("known_hosts changed to %q", b)
			}
		})
	}
}

// The user's ssh agent is used as `ssh HOST` would use it: here the only
// way to the key is an ssh-agent named by SSH_AUTH_SOCK in tubo's
// environment.
func TestTheUsersAgentHoldsTheKey(t *testing.T) {
	env := sshtest.Start(t, sshtest.Options{})
	for _, p := range []string{"ssh-agent", "ssh-add"} {
		if _, err := exec.LookPath(p); err != nil {
			sshtest.Skip(t, p+" is missing (Debian: apt-get install openssh-client)")
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	agent.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	agent.WaitDelay = 5 * time.Second
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { agent.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-agent.Process.Pid, syscall.SIGKILL); <-done })
	for began := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Since(began) > time.Minute {
			t.Fatal("ssh-agent made no socket")
		}
	}
	add := exec.Command("ssh-add", filepath.Join(env.Dir, "id"))
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	add.WaitDelay = 5 * time.Second
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	// No key file and no agent of the test's config: the user's agent
	// (and default key files, which the test server does not accept).
	env.SSH = userConfig(t, env, []string{"IdentityFile", "IdentitiesOnly", "IdentityAgent"}, "")
	res, out, errs := runGraph(t, env, oneRemoteStage(env), "")
	if res.Status != 0 || out != "reached\n" {
		t.Fatalf("status %d, out %q, err %q", res.Status, out, errs)
	}
}
