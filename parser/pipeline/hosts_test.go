package pipeline

import (
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
)

func placement(g *graph.Graph) string {
	var out []string
	for _, n := range g.Nodes {
		if n.Kind == graph.Process {
			h := n.Host
			if h == "" {
				h = "local"
			}
			out = append(out, n.ID+"@"+h)
		}
	}
	return strings.Join(out, " ")
}

func TestPlacement(t *testing.T) {
	hosts := "hosts:\n  n1: {ssh: me@10.0.0.1, slots: 2}\n  n2: \"other:2222\"\n"
	tests := []struct {
		name, src string
		cli       []*graph.Host
		want      string
	}{
		{"no on: stays here", hosts + "stages:\n  w: {run: [true], replicas: 2}\n", nil, "w[0]@local w[1]@local"},
		{"one host", hosts + "stages:\n  w: {run: [true], on: n2}\n", nil, "w@n2"},
		{"spread by slots", hosts + "stages:\n  w: {run: [true], replicas: 5, on: [n1, n2, local]}\n", nil,
			"w[0]@n1 w[1]@n2 w[2]@local w[3]@n1 w[4]@n1"},
		{"all", hosts + "stages:\n  w: {run: [true], replicas: 3, on: all}\n", nil, "w[0]@n1 w[1]@n2 w[2]@n1"},
		{"all without hosts is here", "stages:\n  w: {run: [true], replicas: 2, on: all}\n", nil, "w[0]@local w[1]@local"},
		{"localhost is local", hosts + "stages:\n  w: {run: [true], on: localhost}\n", nil, "w@local"},
		{"command-line hosts spread replicas", "stages:\n  one: {run: [true]}\n  w: {run: [true], replicas: 3}\n",
			[]*graph.Host{{Name: "a", SSH: "a"}, {Name: "b", SSH: "b"}}, "one@local w[0]@a w[1]@b w[2]@a"},
		{"command line replaces a file host", hosts + "stages:\n  w: {run: [true], on: n1}\n",
			[]*graph.Host{{Name: "n1", SSH: "elsewhere"}}, "w@n1"},
		{"param in on", "params: {where: n2}\n" + hosts + "stages:\n  w: {run: [true], on: \"{{where}}\"}\n", nil, "w@n2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := LoadBytes("p.yaml", []byte(tt.src), Options{SkipLookup: true, Hosts: tt.cli})
			if err != nil {
				t.Fatal(err)
			}
			if got := placement(g); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHostFields(t *testing.T) {
	src := "params: {u: me}\nhosts:\n  n1: {ssh: \"{{u}}@10.0.0.1:2200\", slots: 4, sessions: 32, options: [-o, Compression=no]}\n  n2: 8/x@[::1]:22\n  local: {slots: 3}\nstages:\n  w: {run: [true], on: n1}\n"
	g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true})
	if err != nil {
		t.Fatal(err)
	}
	n1, n2, local := g.Host("n1"), g.Host("n2"), g.Host("local")
	if n1.SSH != "me@10.0.0.1" || n1.Port != 2200 || n1.Slots != 4 || n1.Sessions != 32 || strings.Join(n1.Options, " ") != "-o Compression=no" {
		t.Errorf("n1 = %+v", n1)
	}
	if n2.SSH != "x@::1" || n2.Port != 22 || n2.Slots != 8 {
		t.Errorf("n2 = %+v", n2)
	}
	if local == nil || local.SSH != "" || local.Slots != 3 {
		t.Errorf("local = %+v", local)
	}
}

// A remote stage gets path: dirs to put in front of the host's PATH
// (only the host knows it), not this machine's PATH.
func TestRemotePathDirs(t *testing.T) {
	src := "path: [/opt/bin]\nhosts: {n1: h}\nstages:\n  w: {run: [true], on: n1}\n  l: {run: [true]}\n"
	g, err := LoadBytes("p.yaml", []byte(src), Options{SkipLookup: true, Env: []string{"PATH=/usr/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	w, l := g.Node("w"), g.Node("l")
	if strings.Join(w.PathDirs, ":") != "/opt/bin" || getenv(w.Env, "PATH") != "" {
		t.Errorf("remote: dirs %q env %q", w.PathDirs, w.Env)
	}
	if getenv(l.Env, "PATH") != "/opt/bin:/usr/bin" {
		t.Errorf("local: env %q", l.Env)
	}
}

func TestHostErrors(t *testing.T) {
	hosts := "hosts:\n  n1: me@h\n"
	tests := []struct{ name, src, want string }{
		{"unknown host", hosts + "stages:\n  w: {run: [true], on: n2}\n",
			`p.yaml:4:24: stage w: on: no host named "n2"; did you mean "n1"?`},
		{"no hosts at all", "stages:\n  w: {run: [true], on: n1}\n",
			`p.yaml:2:24: stage w: on: no host named "n1" (declare it under hosts:, or give --hosts FILE or --host n1=[user@]host)`},
		{"all with others", hosts + "stages:\n  w: {run: [true], replicas: 2, on: [n1, all]}\n",
			`p.yaml:4:42: stage w: on: all already means every host; give it alone`},
		{"twice", hosts + "stages:\n  w: {run: [true], replicas: 2, on: [n1, n1]}\n",
			`p.yaml:4:42: stage w: on: host n1 is listed twice`},
		{"shell stage remote", hosts + "stages:\n  w: {shell: 'true', on: n1}\n",
			`p.yaml:4:26: stage w: on: n1: a shell: stage runs in tubo's own shell, which host n1 does not have; use run: [sh, -c, LINE]`},
		{"fd 3 on a remote stage", hosts + "stages:\n  a: {run: [echo]}\n  w: {run: [cat], on: n1, fds: {3: a}}\n",
			`p.yaml:5:36: w: fd 3: a stage on host n1 has only fds 0, 1 and 2 (an ssh session carries stdin, stdout and stderr); run it here, or send that stream through its stdin`},
		{"no ssh", "hosts:\n  n1: {slots: 2}\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:3: host n1: ssh: is required: the destination, as ssh takes it ([user@]host or a ~/.ssh/config alias)`},
		{"bad port", "hosts:\n  n1: {ssh: h, port: 70000}\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:22: host n1: port: want a whole number from 1 to 65535, not "70000"`},
		{"option-like destination", "hosts:\n  n1: {ssh: -oProxyCommand=x}\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:13: host n1: ssh: "-oProxyCommand=x": a host cannot start with '-'`},
		{"local with ssh", "hosts:\n  local: {ssh: h}\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:16: host local: this machine needs no ssh: (only slots:)`},
		{"unknown host key", "hosts:\n  n1: {ssh: h, slot: 2}\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:16: host n1: unknown key "slot"; did you mean "slots"?`},
		{"all as a name", "hosts:\n  all: h\nstages:\n  w: {run: [true]}\n",
			`p.yaml:2:3: host all: all is not a host name: on: all means every host`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := load(t, tt.src)
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
