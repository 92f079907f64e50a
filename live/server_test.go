package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/live"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stall"
	"github.com/tubo-pipes/tubo/stream"
)

func init() { executor.Builtins = stream.RunNode }

func listen(t *testing.T) *live.Server {
	t.Helper()
	s, err := live.Listen(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, method, url string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func TestURLAndLoopback(t *testing.T) {
	s := listen(t)
	addr := s.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() {
		t.Errorf("listens on %v by default, not loopback", addr)
	}
	if want := "http://127.0.0.1:" + itoa(addr.Port) + "/#" + s.Token(); s.URL() != want {
		t.Errorf("URL %q, want %q", s.URL(), want)
	}
	if len(s.Token()) != 32 {
		t.Errorf("token %q: want 128 random bits in hex", s.Token())
	}
	if other := listen(t); other.Token() == s.Token() {
		t.Error("two servers share a token")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Every request needs the token; the page without it is a 403 whose body
// holds nothing of the run.
func TestTokenRequired(t *testing.T) {
	s := listen(t)
	g := &graph.Graph{Name: "secret-name"}
	g.Add(&graph.Node{ID: "stage-x", Argv: []string{"true"}})
	s.Begin(g, nil)
	base := "http://" + s.Addr().String()
	tok := "?token=" + s.Token()
	for _, path := range []string{"/", "/tubo.js", "/tubo.css", "/events", "/report.json", "/nothing"} {
		for _, q := range []string{"", "?token=", "?token=" + strings.Repeat("0", 32)} {
			code, body := get(t, "GET", base+path+q, nil)
			if code != http.StatusForbidden {
				t.Errorf("GET %s%s: %d, want 403", path, q, code)
			}
			if strings.Contains(body, "secret-name") || strings.Contains(body, "stage-x") {
				t.Errorf("GET %s%s without the token tells of the run: %q", path, q, body)
			}
		}
	}
	for path, want := range map[string]int{"/": 200, "/tubo.js": 200, "/tubo.css": 200, "/report.json": 404, "/nothing": 404} {
		if code, _ := get(t, "GET", base+path+tok, nil); code != want {
			t.Errorf("GET %s with the token: %d, want %d", path, code, want)
		}
	}
	if code, _ := get(t, "GET", base+"/", map[string]string{"Authorization": "Bearer " + s.Token()}); code != 200 {
		t.Errorf("GET / with a bearer token: %d", code)
	}
	// Read-only: nothing but GET and HEAD, even with the token.
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if code, _ := get(t, m, base+"/events"+tok, nil); code != http.StatusMethodNotAllowed {
			t.Errorf("%s with the token: %d, want 405", m, code)
		}
	}
	// A rebinding DNS name pointed at 127.0.0.1 is refused.
	if code, _ := get(t, "GET", base+"/"+tok, map[string]string{"Host": "evil.example:80"}); code != http.StatusForbidden {
		t.Errorf("Host evil.example: %d, want 403", code)
	}
	code, _ := get(t, "GET", base+"/"+tok, map[string]string{"Host": "localhost:1"})
	if code != 200 {
		t.Errorf("Host localhost: %d, want 200", code)
	}
}

// The page may load nothing from another host: the policy says so.
func TestContentSecurityPolicy(t *testing.T) {
	s := listen(t)
	resp, err := http.Get("http://" + s.Addr().String() + "/?token=" + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("CSP %q allows another host", csp)
	}
}

func TestNothingListensAfterClose(t *testing.T) {
	s, err := live.Listen(live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	host := s.Addr().String()
	// A page that is connected gets a "bye" and its stream ends.
	resp, err := http.Get("http://" + host + "/events?token=" + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() { b, _ := io.ReadAll(resp.Body); done <- string(b) }()
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-done:
		if !strings.Contains(b, "event: bye") {
			t.Errorf("the stream ended without a bye: %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end when the server closed")
	}
	notListening(t, host)
}

func TestListenErrors(t *testing.T) {
	for _, addr := range []string{"nonsense", "127.0.0.1:99999"} {
		if s, err := live.Listen(live.Options{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("Listen(%q) did not fail", addr)
		}
	}
}

// event is one Server-Sent Event.
type event struct {
	name string
	data json.RawMessage
}

// events reads a stream's events into a channel.
func events(t *testing.T, s *live.Server) <-chan event {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + "/events?token=" + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ch := make(chan event, 1000)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				e.data = json.RawMessage(line[len("data: "):])
			case line == "" && e.name != "":
				ch <- e
				e = event{}
			}
		}
	}()
	return ch
}

type nodeState struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Detail  string `json:"detail"`
	Pid     int    `json:"pid"`
	Written int64  `json:"written"`
}

type edgeState struct {
	I     int    `json:"i"`
	Bytes int64  `json:"bytes"`
	Basis string `json:"basis"`
}

type tick struct {
	Run   int         `json:"run"`
	Nodes []nodeState `json:"nodes"`
	Edges []edgeState `json:"edges"`
}

// The stream follows a real run: the graph first, then ticks that take
// the stages from waiting to running to their end, the bytes of the
// edge growing as an estimate, and the final report with exact figures.
func TestStreamFollowsARun(t *testing.T) {
	s := listen(t)
	ev := events(t, s)
	g := &graph.Graph{Name: "slow", Pipefail: true}
	g.Add(&graph.Node{ID: "zeros", Argv: []string{"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do head -c 100000 /dev/zero; sleep 0.1; done"}, StdinNull: true})
	g.Add(&graph.Node{ID: "count", Argv: []string{"wc", "-c"}})
	g.Add(&graph.Node{ID: "bad", Argv: []string{"sh", "-c", "exit 4"}, StdinNull: true})
	g.Connect(graph.Endpoint{Node: "zeros", FD: 1}, graph.Endpoint{Node: "count", FD: 0}, graph.Pos{})
	pl, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	defer out.Close()
	s.Begin(g, nil)
	start := time.Now()
	res, err := executor.Run(context.Background(), pl, executor.Options{Stdout: out, Stderr: out, Trace: s.Event})
	if err != nil {
		t.Fatal(err)
	}
	rep := report.New(res, start, time.Now(), report.WithGraph(g))
	s.Finish(rep)

	states := map[string][]string{}
	var grew []int64
	var final edgeState
	var sawRun, sawReport bool
	timeout := time.After(30 * time.Second)
	for !sawReport {
		select {
		case e, ok := <-ev:
			if !ok {
				t.Fatal("the stream ended early")
			}
			switch e.name {
			case "run":
				var info struct {
					Run   int    `json:"run"`
					Name  string `json:"name"`
					DOT   string `json:"dot"`
					Nodes []struct{ ID, Kind string }
				}
				json.Unmarshal(e.data, &info)
				sawRun = info.Run == 1 && info.Name == "slow" && strings.Contains(info.DOT, `"zeros" -> "count"`) && len(info.Nodes) == 3
			case "tick":
				var tk tick
				if err := json.Unmarshal(e.data, &tk); err != nil {
					t.Fatal(err)
				}
				for _, n := range tk.Nodes {
					if l := states[n.ID]; len(l) == 0 || l[len(l)-1] != n.State {
						states[n.ID] = append(l, n.State)
					}
				}
				for _, ed := range tk.Edges {
					if ed.Basis == "writer_wchar" && ed.Bytes > 0 && (len(grew) == 0 || grew[len(grew)-1] != ed.Bytes) {
						grew = append(grew, ed.Bytes)
					}
					final = ed
				}
			case "report":
				var r struct {
					Status int `json:"status"`
				}
				json.Unmarshal(e.data, &r)
				if r.Status != 4 {
					t.Errorf("report status %d, want 4", r.Status)
				}
				sawReport = true
			}
		case <-timeout:
			t.Fatalf("no report; states %v", states)
		}
	}
	if !sawRun {
		t.Error("no run event with the graph first")
	}
	for id, want := range map[string]string{"zeros": "exited", "count": "exited", "bad": "failed"} {
		l := states[id]
		if len(l) == 0 || l[len(l)-1] != want || !contains(l, "running") && id != "bad" {
			t.Errorf("%s went through %v, want running then %s", id, l, want)
		}
	}
	if len(grew) < 3 {
		t.Errorf("the edge's estimate took the values %v: it should grow while data flows", grew)
	}
	if final.Bytes != 800000 || final.Basis != "writer_wchar" {
		t.Errorf("final edge %+v, want 800000 bytes on the writer's wchar", final)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// A stage blocked on a FIFO that nobody writes stalls the run: the stall
// detector's picture marks it and the edge its reader waits on.
func TestStreamShowsStall(t *testing.T) {
	s := listen(t)
	ev := events(t, s)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "nobody-writes")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	g := &graph.Graph{Name: "stuck"}
	g.Add(&graph.Node{ID: "reader", Argv: []string{"cat", fifo}, StdinNull: true})
	g.Add(&graph.Node{ID: "count", Argv: []string{"wc", "-c"}})
	g.Connect(graph.Endpoint{Node: "reader", FD: 1}, graph.Endpoint{Node: "count", FD: 0}, graph.Pos{})
	pl, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dog := stall.New(pl, stall.Options{After: 300 * time.Millisecond})
	defer dog.Stop()
	s.Begin(g, dog.Live)
	out, _ := os.Create(filepath.Join(dir, "out"))
	defer out.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := executor.Start(ctx, pl, executor.Options{Stdout: out, Stderr: out, Grace: 100 * time.Millisecond, Trace: func(e executor.Event) { s.Event(e); dog.Event(e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Wait()
	var nodeStall, edgeStall string
	deadline := time.After(30 * time.Second)
	for nodeStall == "" || edgeStall == "" {
		select {
		case e := <-ev:
			if e.name != "tick" {
				continue
			}
			var tk struct {
				Nodes []struct {
					ID      string `json:"id"`
					Stalled bool   `json:"stalled"`
					Stall   string `json:"stall"`
				} `json:"nodes"`
				Edges []struct {
					Stalled bool   `json:"stalled"`
					Stall   string `json:"stall"`
				} `json:"edges"`
			}
			json.Unmarshal(e.data, &tk)
			for _, n := range tk.Nodes {
				if n.Stalled && n.ID == "reader" {
					nodeStall = n.Stall
				}
			}
			for _, ed := range tk.Edges {
				if ed.Stalled {
					edgeStall = ed.Stall
				}
			}
		case <-deadline:
			t.Fatalf("no stall shown: node %q, edge %q", nodeStall, edgeStall)
		}
	}
	t.Logf("reader: %s; edge: %s", nodeStall, edgeStall)
	if !strings.Contains(nodeStall, "open") {
		t.Errorf("reader's stall says %q, not that it is blocked in open", nodeStall)
	}
	if !strings.Contains(edgeStall, "count") {
		t.Errorf("the edge's stall says %q, not that count waits on it", edgeStall)
	}
	cancel()
}

// A tee's edges are counted exactly while the run lives, not only in the
// final report: the tee adds to its live counts as the bytes move.
func TestStreamCountsTeeEdges(t *testing.T) {
	s := listen(t)
	ev := events(t, s)
	g := &graph.Graph{Name: "teed"}
	g.Add(&graph.Node{ID: "zeros", Argv: []string{"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do head -c 100000 /dev/zero; sleep 0.15; done"}, StdinNull: true})
	g.Add(&graph.Node{ID: "t", Kind: graph.Tee})
	g.Add(&graph.Node{ID: "a", Argv: []string{"wc", "-c"}})
	g.Add(&graph.Node{ID: "b", Argv: []string{"wc", "-c"}})
	g.Connect(graph.Endpoint{Node: "zeros", FD: 1}, graph.Endpoint{Node: "t"}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "t"}, graph.Endpoint{Node: "a", FD: 0}, graph.Pos{})
	g.Connect(graph.Endpoint{Node: "t"}, graph.Endpoint{Node: "b", FD: 0}, graph.Pos{})
	pl, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	defer out.Close()
	s.Begin(g, nil)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := executor.Run(context.Background(), pl, executor.Options{Stdout: out, Stderr: out, Trace: s.Event})
		if err != nil {
			t.Error(err)
			return
		}
		s.Finish(report.New(res, start, time.Now(), report.WithGraph(g)))
	}()
	defer func() { <-done }()
	grew := map[int][]int64{} // edge → the exact counts it showed while running
	timeout := time.After(30 * time.Second)
	for reported := false; !reported; {
		select {
		case e, ok := <-ev:
			if !ok {
				t.Fatal("the stream ended early")
			}
			switch e.name {
			case "tick":
				var tk tick
				if err := json.Unmarshal(e.data, &tk); err != nil {
					t.Fatal(err)
				}
				for _, ed := range tk.Edges {
					if l := grew[ed.I]; ed.Basis == "exact" && ed.Bytes > 0 && (len(l) == 0 || l[len(l)-1] != ed.Bytes) {
						grew[ed.I] = append(l, ed.Bytes)
					}
				}
			case "report":
				reported = true
			}
		case <-timeout:
			t.Fatal("no report")
		}
	}
	for i := range g.Edges {
		l := grew[i]
		if len(l) < 3 || l[len(l)-1] != 800000 {
			t.Errorf("edge %d (%s → %s) counted %v; want it to grow while data flows, up to 800000", i, g.Edges[i].From.Node, g.Edges[i].To.Node, l)
		}
	}
}
