package live_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests run bin/tubo (make build) as a user would, and look
// at its pages in Debian's chromium, headless, driven by chromedp.
// Screenshots go to $TUBO_ARTIFACTS (default: a new directory under the
// system's temp dir; the test logs each path); with -readme the live view of
// pipelines/primes.yaml also replaces docs/live-view.png.

var readme = flag.Bool("readme", false, "write the primes screenshot to docs/live-view.png")

// root is the repository, bin/ and pipelines/ in it.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "bin", "tubo")); err != nil {
		t.Skip("bin/tubo not built (run make build)")
	}
	return r
}

// artifacts is where screenshots are kept after the test: $TUBO_ARTIFACTS,
// or a fresh directory under the system's temp dir (one per test run, so
// that runs side by side keep their own).
func artifacts(t *testing.T) string {
	t.Helper()
	artifactsOnce.Do(func() {
		artifactsDir = os.Getenv("TUBO_ARTIFACTS")
		if artifactsDir == "" {
			artifactsDir, artifactsErr = os.MkdirTemp("", "tubo-artifacts-")
			return
		}
		artifactsErr = os.MkdirAll(artifactsDir, 0o755)
	})
	if artifactsErr != nil {
		t.Fatal(artifactsErr)
	}
	return artifactsDir
}

var (
	artifactsOnce sync.Once
	artifactsDir  string
	artifactsErr  error
)

// chromium is the browser, or a skip where it is not installed. CI
// installs it (.ci/run), so there its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI must have it (.ci/run installs it)")
	}
	t.Skip("chromium is not installed (apt-get install chromium): no browser test")
	return ""
}

// requests are the URLs a tab asked for, from the browser's own network
// events.
type requests struct {
	mu   sync.Mutex
	urls []string
}

func (r *requests) listen(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSent); ok {
		r.mu.Lock()
		r.urls = append(r.urls, e.Request.URL)
		r.mu.Unlock()
	}
}

// elsewhere lists the requests to anywhere but origin (data: and blob:
// URLs are the page's own).
func (r *requests) elsewhere(origin string) (out []string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.urls {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			out = append(out, u)
		}
	}
	return out, len(r.urls)
}

// browser starts a headless chromium with a fresh profile and returns a
// context for one tab. Everything ends when the test does.
func browser(t *testing.T, bound time.Duration) context.Context {
	return browserWatching(t, bound, nil)
}

// browserWatching is browser, with the tab's requests recorded in reqs.
func browserWatching(t *testing.T, bound time.Duration, reqs *requests) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	copts := []chromedp.ContextOption{chromedp.WithLogf(t.Logf)}
	if reqs != nil {
		copts = append(copts, chromedp.WithListener(reqs.listen))
	}
	ctx, cancelB := chromedp.NewContext(actx, copts...)
	ctx, cancelT := context.WithTimeout(ctx, bound)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as NAME.png among the artifacts and
// returns its path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	return saveShot(t, ctx, name, chromedp.FullScreenshot(100))
}

// saveShot saves what shot takes as NAME.png among the artifacts.
func saveShot(t *testing.T, ctx context.Context, name string, shot chromedp.Action[[]byte]) string {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// tubo is a tubo started with --ui, and the address it printed.
type tubo struct {
	cmd    *exec.Cmd
	url    string // as printed: http://127.0.0.1:PORT/#TOKEN
	base   string // http://127.0.0.1:PORT
	token  string
	host   string // 127.0.0.1:PORT
	stderr chan string
}

var liveAt = regexp.MustCompile(`^tubo: live view at (http://([^/]+)/#([0-9a-f]+))$`)

// startTubo runs bin/tubo with args in dir and waits for the live view's
// address on its stderr. The rest of its stderr is collected; Wait
// returns it.
func startTubo(t *testing.T, dir string, args ...string) *tubo {
	t.Helper()
	r := root(t)
	cmd := exec.Command(filepath.Join(r, "bin", "tubo"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(r, "bin")+":"+os.Getenv("PATH"))
	cmd.Stdout = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tb := &tubo{cmd: cmd, stderr: make(chan string, 1)}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		tb.Wait()
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errp)
		var rest strings.Builder
		sent := false
		for sc.Scan() {
			if !sent {
				first <- sc.Text()
				sent = true
				continue
			}
			rest.WriteString(sc.Text() + "\n")
		}
		if !sent {
			first <- ""
		}
		tb.stderr <- rest.String()
	}()
	select {
	case line := <-first:
		m := liveAt.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("tubo's first line on stderr is %q, not the live view's address", line)
		}
		tb.url, tb.host, tb.token = m[1], m[2], m[3]
		tb.base = "http://" + tb.host
	case <-time.After(30 * time.Second):
		t.Fatal("tubo printed no address")
	}
	return tb
}

// Wait waits for tubo to exit and returns the rest of its stderr.
func (tb *tubo) Wait() (string, error) {
	select {
	case s := <-tb.stderr:
		err := tb.cmd.Wait()
		tb.stderr <- s
		return s, err
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("tubo did not exit")
	}
}

// end sends SIGINT to tubo, which ends its linger time, and waits.
func (tb *tubo) end(t *testing.T) string {
	t.Helper()
	tb.cmd.Process.Signal(syscall.SIGINT)
	s, err := tb.Wait()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("tubo: %v", err)
		}
	}
	return s
}

// notListening checks that nothing accepts connections at host any more.
func notListening(t *testing.T, host string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", host, time.Second)
	if err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after tubo exited", host)
	}
}

// evalInt evaluates a JavaScript expression that gives a number.
func evalInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return n
}

// waitJS polls a JavaScript condition until it holds, or fails the test
// after bound (a generous bound that only catches hangs).
func waitJS(t *testing.T, ctx context.Context, what, js string, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
			t.Fatalf("no %s after %s; the page says:\n%s", what, bound, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeFile writes a file in dir.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// flowing is a pipeline whose producer writes 100 KB every 50 ms into a
// counter until the file "stop" appears (or 60 s have passed), beside a
// stage that fails: the test sees bytes grow for as long as it needs.
const flowing = `version: 1
name: flowing
on_failure: let-finish
stages:
  produce:
    run: [sh, -c, "i=0; while [ ! -e stop ] && [ $i -lt 1200 ]; do head -c 100000 /dev/zero; sleep 0.05; i=$((i+1)); done"]
  count:
    run: [wc, -c]
    stdin: produce
  broken:
    run: [sh, -c, "sleep 0.5; echo broken on purpose >&2; exit 3"]
`

func TestLiveViewInBrowser(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "flowing.yaml", flowing)
	var reqs requests
	ctx := browserWatching(t, 3*time.Minute, &reqs)
	tb := startTubo(t, dir, "run", "--ui", "--ui-linger", "2m", "flowing.yaml")
	if err := chromedp.Do(ctx, chromedp.Navigate(tb.url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "drawing", `document.body.dataset.drawn === "1"`, 30*time.Second)
	for _, id := range []string{"produce", "count", "broken"} {
		waitJS(t, ctx, "node "+id, fmt.Sprintf(`!!document.querySelector('g.node[data-node=%q][data-state]')`, id), 10*time.Second)
	}
	// The edge produce → count is the graph's first: its estimate (the
	// writer's wchar) grows while data flows.
	edgeBytes := `+(document.querySelector('g.edge[data-edge="0"]')?.dataset.bytes ?? -1)`
	waitJS(t, ctx, "bytes on produce → count", edgeBytes+` > 0`, 20*time.Second)
	first := evalInt(t, ctx, edgeBytes)
	waitJS(t, ctx, "more bytes on produce → count", fmt.Sprintf(`%s > %d`, edgeBytes, first), 20*time.Second)
	waitJS(t, ctx, "produce running", `document.querySelector('g.node[data-node="produce"]').dataset.state === "running"`, 10*time.Second)
	waitJS(t, ctx, "broken failed", `document.querySelector('g.node[data-node="broken"]').dataset.state === "failed"`, 20*time.Second)
	screenshot(t, ctx, "live-flowing-running")
	writeFile(t, dir, "stop", "")
	// Then the nodes turn exited 0 and failed, and the report shows.
	waitJS(t, ctx, "the end of the run", `document.body.dataset.reported === "1"`, 60*time.Second)
	for id, want := range map[string]string{"produce": "exited", "count": "exited", "broken": "failed"} {
		waitJS(t, ctx, id+" "+want, fmt.Sprintf(`document.querySelector('g.node[data-node=%q]').dataset.state === %q`, id, want), 10*time.Second)
	}
	label, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('g.node[data-node="broken"]').textContent`))
	if !strings.Contains(label, "exit 3") {
		t.Errorf("the failed node says %q, not exit 3", label)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll('.report table.stages tbody tr').length`); n != 3 {
		t.Errorf("the final report lists %d stages, want 3", n)
	}
	// At the end the report's figure: the writer's wchar, which is all
	// head's 100000-byte blocks.
	final := evalInt(t, ctx, edgeBytes)
	if final <= first || final%100000 != 0 {
		t.Errorf("produce → count shows %d bytes at the end, want a multiple of 100000 above %d", final, first)
	}
	screenshot(t, ctx, "live-flowing-done")
	// The page asked only its own server for anything.
	if out, n := reqs.elsewhere(tb.base); len(out) > 0 || n < 3 {
		t.Errorf("of %d requests, these went elsewhere: %q", n, out)
	}
	rest := tb.end(t)
	if !strings.Contains(rest, "the live view stays up for 2m0s") {
		t.Errorf("tubo's stderr: %q", rest)
	}
	notListening(t, tb.host)
}

// The README's screenshot: the live view of pipelines/primes.yaml with 4
// workers, over a range big enough to watch them work.
func TestLiveViewPrimes(t *testing.T) {
	r := root(t)
	ctx := browser(t, 3*time.Minute)
	tb := startTubo(t, r, "run", "--ui", "--ui-linger", "2m", "pipelines/primes.yaml", "--set", "workers=4", "--set", "hi=12000000")
	if err := chromedp.Do(ctx, chromedp.Navigate(tb.url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "drawing", `document.body.dataset.drawn === "1"`, 30*time.Second)
	for i := 0; i < 4; i++ {
		waitJS(t, ctx, "worker node", fmt.Sprintf(`!!document.querySelector('g.node[data-node="esclavo[%d]"][data-state]')`, i), 10*time.Second)
	}
	// While they work, every worker's edge into the merge shows bytes
	// (the estimate from its wchar) and a throughput.
	waitJS(t, ctx, "bytes on every worker's edge", `[0,1,2,3].every(i => +document.querySelector('g.edge[data-edge="'+i+'"]').dataset.bytes > 0)`, time.Minute)
	waitJS(t, ctx, "workers running", `document.querySelectorAll('g.node.kind-process.st-running').length >= 3`, 10*time.Second)
	p := screenshot(t, ctx, "live-primes")
	waitJS(t, ctx, "the end of the run", `document.body.dataset.reported === "1"`, 2*time.Minute)
	waitJS(t, ctx, "all workers exited 0", `[...document.querySelectorAll('g.node.kind-process')].every(g => g.dataset.state === "exited")`, 10*time.Second)
	screenshot(t, ctx, "live-primes-done")
	if *readme {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r, "docs", "live-view.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tb.end(t)
	notListening(t, tb.host)
}

func TestReportHTMLInBrowser(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "flowing.yaml", strings.Replace(flowing, "-lt 1200", "-lt 5", 1))
	out := filepath.Join(dir, "report.html")
	r := root(t)
	cmd := exec.Command(filepath.Join(r, "bin", "tubo"), "run", "--report-html", out, "flowing.yaml")
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "broken on purpose") {
		t.Fatalf("tubo run: %v: %s", err, b)
	}
	var reqs requests
	ctx := browserWatching(t, 2*time.Minute, &reqs)
	u := url.URL{Scheme: "file", Path: out}
	if err := chromedp.Do(ctx, chromedp.Navigate(u.String())); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "drawing", `document.body.dataset.drawn === "true"`, 30*time.Second)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('table.stages tbody tr')].map(tr => [...tr.children].map(c => c.textContent))`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r[0]] = r[2]
	}
	want := map[string]string{"produce": "exit 0", "count": "exit 0", "broken": "exit 3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the report's stage table says %v, want %v (rows %q)", got, want, rows)
	}
	tail, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('table.stages tr[data-node="broken"] td.tail').textContent`))
	if tail != "broken on purpose\n" {
		t.Errorf("broken's stderr in the report is %q", tail)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll('.timeline .tl-bar').length`); n != 3 {
		t.Errorf("%d bars on the timeline, want 3", n)
	}
	if s := evalInt(t, ctx, `document.querySelectorAll('g.node.st-failed[data-node="broken"]').length`); s != 1 {
		t.Error("the graph does not show broken as failed")
	}
	screenshot(t, ctx, "report-flowing")
	// It is one file: the page asks for nothing but itself.
	if out, n := reqs.elsewhere("file://"); len(out) > 0 || n != 1 {
		t.Errorf("the report made %d requests; these went elsewhere: %q", n, out)
	}
}

// A 1000-stage line is drawn, every node coloured, within a bound that
// only catches a hang; the layout time is logged.
func TestLiveView1000Stages(t *testing.T) {
	const n = 1000
	line := "seq 1 100000" + strings.Repeat(" | cat", n-1)
	ctx := browser(t, 4*time.Minute)
	tb := startTubo(t, t.TempDir(), "--ui", "--ui-linger", "3m", line)
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(tb.url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "drawing", `document.body.dataset.drawn === "1"`, time.Minute)
	waitJS(t, ctx, "1000 coloured nodes", fmt.Sprintf(`document.querySelectorAll('g.node.kind-process[data-state]').length === %d`, n), time.Minute)
	layout := evalInt(t, ctx, `+document.body.dataset.layoutMs`)
	t.Logf("%d stages: drawn and coloured %.1fs after opening the page (layout %d ms)", n, time.Since(start).Seconds(), layout)
	waitJS(t, ctx, "the end of the run", `document.body.dataset.reported === "1"`, 2*time.Minute)
	if got := evalInt(t, ctx, `document.querySelectorAll('g.node.kind-process.st-exited').length`); got != n {
		t.Errorf("%d of %d nodes show exit 0 at the end", got, n)
	}
	saveShot(t, ctx, "live-1000", chromedp.CaptureScreenshot()) // the window: the page is 1000 rows long
	tb.end(t)
	notListening(t, tb.host)
}

// A stuck run shows as stuck: the stall detector's finding marks the
// blocked stage and the edge its reader waits on.
func TestLiveViewStall(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "nobody-writes"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "stuck.yaml", `version: 1
name: stuck
stages:
  reader:
    run: [cat, nobody-writes]
  count:
    run: [wc, -c]
    stdin: reader
`)
	ctx := browser(t, 2*time.Minute)
	tb := startTubo(t, dir, "run", "--ui", "--stall-after", "300ms", "stuck.yaml")
	if err := chromedp.Do(ctx, chromedp.Navigate(tb.url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "drawing", `document.body.dataset.drawn === "1"`, 30*time.Second)
	waitJS(t, ctx, "reader stalled", `!!document.querySelector('g.node.stalled[data-node="reader"]')`, 30*time.Second)
	waitJS(t, ctx, "the edge stalled", `!!document.querySelector('g.edge.stalled[data-edge="0"]')`, 10*time.Second)
	waitJS(t, ctx, "the stall's cause", `!document.querySelector(".stall-banner").hidden && document.querySelector(".stall-banner").textContent.includes("FIFO")`, 10*time.Second)
	tip, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('g.node[data-node="reader"] title').textContent`))
	if !strings.Contains(tip, "blocked in open(2)") {
		t.Errorf("reader's tooltip says %q", tip)
	}
	screenshot(t, ctx, "live-stall")
	tb.end(t) // ^C ends the stuck run
	notListening(t, tb.host)
}
