package remote

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
)

// ParseSpec reads one host as GNU parallel's --sshlogin writes it:
// [SLOTS/][user@]host[:port], or ":" for this machine. IPv6 addresses
// with a port go in brackets: [::1]:2222. The returned host has no name;
// SSH is "" for this machine.
func ParseSpec(spec string) (*graph.Host, error) {
	h := &graph.Host{}
	s := strings.TrimSpace(spec)
	if i := strings.IndexByte(s, '/'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 1 || n > 65536 {
			return nil, fmt.Errorf("%q: slots before '/' must be a number from 1 to 65536", spec)
		}
		h.Slots, s = n, s[i+1:]
	}
	if s == ":" || graph.IsLocal(s) && s != "" {
		return h, nil
	}
	if s == "" {
		return nil, fmt.Errorf("%q: no host", spec)
	}
	if strings.ContainsAny(s, " \t") {
		return nil, fmt.Errorf("%q: a host is [user@]host[:port]; put ssh options in the host's options (or ~/.ssh/config), not in the host", spec)
	}
	user, hostport := "", s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user, hostport = s[:i+1], s[i+1:]
	}
	host, port := hostport, ""
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return nil, fmt.Errorf("%q: missing ']' after an IPv6 address", spec)
		}
		host, port = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if hostport[end+1:] != "" && !strings.HasPrefix(hostport[end+1:], ":") {
			return nil, fmt.Errorf("%q: want [address]:port", spec)
		}
	case strings.Count(hostport, ":") == 1:
		host, port, _ = strings.Cut(hostport, ":")
	case strings.Count(hostport, ":") > 1 && net.ParseIP(hostport) == nil:
		return nil, fmt.Errorf("%q: put an IPv6 address in brackets to give a port: [::1]:22", spec)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%q: port %q is not a number from 1 to 65535", spec, port)
		}
		h.Port = p
	}
	if err := checkDest(user + host); err != nil {
		return nil, fmt.Errorf("%q: %v", spec, err)
	}
	h.SSH = user + host
	return h, nil
}

// checkDest refuses a destination that ssh would read as an option or
// that could not be a host name.
func checkDest(dest string) error {
	host := dest[strings.LastIndexByte(dest, '@')+1:]
	switch {
	case host == "":
		return fmt.Errorf("no host after '@'")
	case strings.HasPrefix(dest, "-"):
		return fmt.Errorf("a host cannot start with '-'")
	}
	for _, r := range dest {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("control character in the host")
		}
	}
	return nil
}

// ParseNamed reads NAME=SPEC, as --host gives it.
func ParseNamed(arg string) (*graph.Host, error) {
	name, spec, ok := strings.Cut(arg, "=")
	if !ok {
		return nil, fmt.Errorf("--host %s: want NAME=[SLOTS/][user@]host[:port], e.g. n1=8/me@10.0.0.5:22", arg)
	}
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("--host %s: %v", arg, err)
	}
	h, err := ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("--host %s: %v", arg, err)
	}
	h.Name = name
	if h.SSH == "" && !graph.IsLocal(name) {
		return nil, fmt.Errorf("--host %s: only local can name this machine", arg)
	}
	h.Pos = graph.Pos{File: "--host " + arg}
	return h, nil
}

// CheckName says what is wrong with a host name, or nil. Names are what
// on: and the report use: letters, digits, '_', '-' and '.', so that a
// host name like node1.example.org or 10.0.0.5 can be its own name.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if name == "all" {
		return fmt.Errorf("all is not a host name: on: all means every host")
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("host name %q: use letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// ReadHostsFile reads a --hosts file: one host per line, as
// [NAME=][SLOTS/][user@]host[:port] (GNU parallel's --sshloginfile, with
// an optional name), ":" for this machine; blank lines and lines starting
// with # are skipped. A host without a name is named after its host part,
// with -2, -3, … for repeats.
func ReadHostsFile(path string) ([]*graph.Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHosts(path, f)
}

func readHosts(path string, r io.Reader) ([]*graph.Host, error) {
	var hosts []*graph.Host
	taken := map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		pos := graph.Pos{File: path, Line: line, Col: 1}
		if len(hosts) >= maxHosts {
			return nil, &graph.Error{Pos: pos, Msg: fmt.Sprintf("more than %d hosts", maxHosts)}
		}
		name, spec, named := "", text, false
		if i := strings.IndexByte(text, '='); i >= 0 {
			name, spec, named = text[:i], text[i+1:], true
			if err := CheckName(name); err != nil {
				return nil, &graph.Error{Pos: pos, Msg: err.Error()}
			}
		}
		h, err := ParseSpec(spec)
		if err != nil {
			return nil, &graph.Error{Pos: pos, Msg: err.Error()}
		}
		if !named {
			name = graph.Local
			if h.SSH != "" {
				name = hostPart(h.SSH)
			}
			for base, n := name, 2; taken[name]; n++ {
				name = base + "-" + strconv.Itoa(n)
			}
		}
		if h.SSH == "" && !graph.IsLocal(name) {
			return nil, &graph.Error{Pos: pos, Msg: fmt.Sprintf("%s: only local can name this machine", name)}
		}
		if taken[name] {
			return nil, &graph.Error{Pos: pos, Msg: fmt.Sprintf("host %s is listed twice", name)}
		}
		taken[name] = true
		h.Name, h.Pos = name, pos
		hosts = append(hosts, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts in the file", path)
	}
	return hosts, nil
}

// maxHosts bounds a hosts file; each host costs a connection.
const maxHosts = 1024

// hostPart is the host of a destination, without the user, and made into
// a valid name.
func hostPart(dest string) string {
	h := dest[strings.LastIndexByte(dest, '@')+1:]
	var b strings.Builder
	for _, r := range h {
		if CheckName(string(r)) != nil {
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Place spreads n replicas over hosts, in proportion to their slots, and
// returns each replica's host name. Replicas are dealt in rounds: in each
// round every host in turn takes one replica, while that round is below
// its slots, so with n1 at 2 slots and n2 at 1 the order is n1, n2, n1;
// replica i takes the i-th place of that order, and a count larger than
// all the slots starts the order again. Slots weigh, they do not limit:
// the replicas of a streaming stage all run at once.
func Place(n int, hosts []*graph.Host) []string {
	if len(hosts) == 0 {
		return make([]string, n)
	}
	var order []string
	for round := 0; ; round++ {
		added := false
		for _, h := range hosts {
			if round < slots(h) {
				order = append(order, h.Name)
				added = true
			}
		}
		if !added || len(order) >= n {
			break
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = order[i%len(order)]
	}
	return out
}

func slots(h *graph.Host) int {
	if h.Slots <= 0 {
		return 1
	}
	return h.Slots
}

// StatusUnreachable is tubo's exit status when a host cannot be reached
// or refuses tubo before the run: ssh's own status for that, 255.
const StatusUnreachable = 255
