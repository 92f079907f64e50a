package remote

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
)

func TestParseSpec(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"host", "host port 0 slots 0"},
		{"me@host", "me@host port 0 slots 0"},
		{"me@host:2222", "me@host port 2222 slots 0"},
		{"8/me@10.0.0.5:22", "me@10.0.0.5 port 22 slots 8"},
		{"[::1]:2222", "::1 port 2222 slots 0"},
		{"me@[fe80::1]", "me@fe80::1 port 0 slots 0"},
		{"::1", "::1 port 0 slots 0"},
		{"a@b@host", "a@b@host port 0 slots 0"},
		{":", "local port 0 slots 0"},
		{"4/:", "local port 0 slots 4"},
		{"localhost", "local port 0 slots 0"},
		{"-oProxyCommand=x", `error: "-oProxyCommand=x": a host cannot start with '-'`},
		{"0/host", `error: "0/host": slots before '/' must be a number from 1 to 65536`},
		{"host:0", `error: "host:0": port "0" is not a number from 1 to 65535`},
		{"host:http", `error: "host:http": port "http" is not a number from 1 to 65535`},
		{"ssh -p 22 host", `error: "ssh -p 22 host": a host is [user@]host[:port]; put ssh options in the host's options (or ~/.ssh/config), not in the host`},
		{"fe80::1:22x", `error: "fe80::1:22x": put an IPv6 address in brackets to give a port: [::1]:22`},
		{"[::1", `error: "[::1": missing ']' after an IPv6 address`},
		{"me@", `error: "me@": no host after '@'`},
		{"", `error: "": no host`},
		{"a\x01b", `error: "a\x01b": control character in the host`},
	} {
		h, err := ParseSpec(tt.in)
		got := ""
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case h.SSH == "":
			got = fmt.Sprintf("local port %d slots %d", h.Port, h.Slots)
		default:
			got = fmt.Sprintf("%s port %d slots %d", h.SSH, h.Port, h.Slots)
		}
		if got != tt.want {
			t.Errorf("ParseSpec(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestReadHosts(t *testing.T) {
	hosts, err := readHosts("hosts", strings.NewReader("# cluster\n\n8/me@n1.example.org\nme@n1.example.org:2222\nbig=16/other\n:\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		got = append(got, fmt.Sprintf("%s=%d/%s:%d@%s", h.Name, h.Slots, h.SSH, h.Port, h.Pos))
	}
	want := "n1.example.org=8/me@n1.example.org:0@hosts:3:1 n1.example.org-2=0/me@n1.example.org:2222@hosts:4:1 big=16/other:0@hosts:5:1 local=0/:0@hosts:6:1"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	for _, tt := range []struct{ in, want string }{
		{"a=h\na=h2\n", "hosts:2:1: host a is listed twice"},
		{"x=:\n", "hosts:1:1: x: only local can name this machine"},
		{"all=h\n", "hosts:1:1: all is not a host name: on: all means every host"},
		{"bad name=h\n", `hosts:1:1: host name "bad name": use letters, digits, '_', '-' and '.'`},
		{"h:99999\n", `hosts:1:1: "h:99999": port "99999" is not a number from 1 to 65535`},
		{"# nothing\n", "hosts: no hosts in the file"},
	} {
		_, err := readHosts("hosts", strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestPlace(t *testing.T) {
	h := func(name string, slots int) *graph.Host { return &graph.Host{Name: name, Slots: slots} }
	for _, tt := range []struct {
		n     int
		hosts []*graph.Host
		want  string
	}{
		{4, []*graph.Host{h("a", 0), h("b", 0)}, "a b a b"},
		{6, []*graph.Host{h("a", 2), h("b", 1)}, "a b a a b a"},
		{14, []*graph.Host{h("n1", 8), h("n2", 4), h("local", 2)}, "n1 n2 local n1 n2 local n1 n2 n1 n2 n1 n1 n1 n1"},
		{3, []*graph.Host{h("a", 8), h("b", 8)}, "a b a"},
		{1, []*graph.Host{h("a", 1), h("b", 5)}, "a"},
		{5, []*graph.Host{h("only", 3)}, "only only only only only"},
	} {
		if got := strings.Join(Place(tt.n, tt.hosts), " "); got != tt.want {
			t.Errorf("Place(%d, …) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestCommandRefusesWhatCannotCross(t *testing.T) {
	g := &graph.Graph{Hosts: []*graph.Host{{Name: "n1", SSH: "h"}}}
	g.Add(&graph.Node{ID: "a", Kind: graph.Process, Argv: []string{"x"}, Host: "n1"})
	s := New(g)
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"-rf"}, `program "-rf": a remote program's name cannot start with '-' or hold '='`},
		{[]string{"A=b"}, `program "A=b": a remote program's name cannot start with '-' or hold '='`},
		{[]string{"echo", "a\x00b"}, `"a\x00b": a NUL byte cannot cross to a remote host`},
	} {
		_, err := s.Command(&graph.Node{ID: "a", Argv: tt.argv, Host: "n1"}, "s0")
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.argv, err, tt.want)
		}
	}
}
