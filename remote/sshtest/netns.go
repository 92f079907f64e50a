package sshtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Namespaces are named tubo-t<PID>-<K> and their veth ends tt<PID>h<K>
// (this side) and tt<PID>n<K> (theirs), K counting every namespace this
// process makes: unique, and recognisable as stale once that process is
// gone.
var nsSeq atomic.Int32

func nsName(k int) string { return fmt.Sprintf("tubo-t%d-%d", os.Getpid(), k) }

func vethNames(k int) (here, there string) {
	// Interface names are at most 15 bytes: tt + 6 digits + h + 4 digits.
	p := os.Getpid() % 1000000
	return fmt.Sprintf("tt%dh%d", p, k%10000), fmt.Sprintf("tt%dn%d", p, k%10000)
}

// newNamespace makes a namespace for host hI with a veth pair to this namespace, on a
// /30 of its own in 10.0.0.0/8 not already in use here, and returns the
// server to run in it (not started yet).
func newNamespace(i int) (*Server, error) {
	// Test processes run at once (go test ./... runs packages in
	// parallel): one at a time picks a free subnet and sets it up, so two
	// never take the same one, and the first `ip netns add` of a fresh
	// machine (which makes /run/netns a mount point) is not raced.
	unlock, err := lockNetns()
	if err != nil {
		return nil, err
	}
	defer unlock()
	k := int(nsSeq.Add(1))
	ns := nsName(k)
	here, there := vethNames(k)
	subnet, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	hostAddr, nsAddr := subnet+".1", subnet+".2"
	if err := ip("netns", "add", ns); err != nil {
		return nil, err
	}
	s := &Server{Name: "h" + strconv.Itoa(i), Addr: nsAddr, Netns: ns}
	steps := [][]string{
		{"link", "add", here, "type", "veth", "peer", "name", there},
		{"link", "set", there, "netns", ns},
		{"addr", "add", hostAddr + "/30", "dev", here},
		{"link", "set", here, "up"},
		{"-n", ns, "addr", "add", nsAddr + "/30", "dev", there},
		{"-n", ns, "link", "set", there, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	}
	for _, st := range steps {
		if err := ip(st...); err != nil {
			return s, err
		}
	}
	return s, nil
}

// lockNetns takes a lock that every test process of this machine shares
// (flock on a file in /run, where network namespaces live too; making
// them needs root), released by the function it returns.
func lockNetns() (func(), error) {
	f, err := os.OpenFile("/run/tubo-sshtest-netns.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the namespace lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("the namespace lock: %v", err)
	}
	return func() { f.Close() }, nil
}

// freeSubnet picks 10.X.Y (a /30 at .0) that no address here uses.
func freeSubnet() (string, error) {
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		return "", fmt.Errorf("ip addr show: %v", err)
	}
	for range 100 {
		s := fmt.Sprintf("10.%d.%d", 200+rand.IntN(50), rand.IntN(256))
		if !strings.Contains(string(out), " "+s+".") {
			return s, nil
		}
	}
	return "", fmt.Errorf("no free 10.x.y.0/30 for a test namespace")
}

func deleteNamespace(ns string) {
	// Deleting the namespace deletes the veth end in it, and with it the
	// pair. Processes still inside would keep it alive: kill them first.
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
}

// sweepStale deletes the namespaces (and so the veth pairs) of test
// processes that died without cleaning up.
func sweepStale() {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		var pid, i int
		if n, _ := fmt.Sscanf(e.Name(), "tubo-t%d-%d", &pid, &i); n != 2 || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			continue
		}
		deleteNamespace(e.Name())
	}
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
