package progress_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/progress"
)

// slowReader is `head -c 50000000 /dev/zero | (sleep 1; cat >/dev/null)`
// as two stages: the writer is held up for a second, then runs at speed.
func slowReader() *graph.Graph {
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "zeros", Argv: []string{"head", "-c", "50000000", "/dev/zero"}, StdinNull: true})
	g.Add(&graph.Node{ID: "slow", Argv: []string{"sh", "-c", "sleep 1; cat >/dev/null"}})
	g.Connect(graph.Endpoint{Node: "zeros", FD: 1}, graph.Endpoint{Node: "slow", FD: 0}, graph.Pos{})
	return g
}

// runWith runs g with p following it, then finishes p.
func runWith(t *testing.T, g *graph.Graph, p *progress.Progress) *executor.Result {
	t.Helper()
	pl, err := plan.Build(g, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	out, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	defer out.Close()
	p.Plan(pl)
	res, err := executor.Run(context.Background(), pl, executor.Options{Stdin: null, Stdout: out, Stderr: out, Trace: p.Event})
	if err != nil {
		t.Fatal(err)
	}
	p.Finish(res)
	return res
}

// onPTY runs g with progress on the tty side of a new pseudo-terminal and
// returns everything the terminal received.
func onPTY(t *testing.T, g *graph.Graph, mode progress.Mode) string {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the tty side is closed
		got <- b
	}()
	p := progress.New(tty, mode)
	if !p.On() {
		t.Fatalf("progress is off on a terminal in mode %s", mode)
	}
	runWith(t, g, p)
	tty.Close()
	select {
	case b := <-got:
		return string(b)
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	return ""
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestLiveOnTerminal(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "")
	t.Setenv("CLICOLOR", "")
	t.Setenv("CI", "") // termenv assumes no colors under CI
	out := onPTY(t, slowReader(), progress.Auto)
	for _, want := range []string{"zeros", "slow", "running", "wrote", "/s", "\x1b[2K"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	// While the reader sleeps the writer has filled the pipe: at least
	// some KiB are shown written before the end.
	if !regexp.MustCompile(`zeros .*running.*wrote [0-9.]+(KiB|MiB)`).MatchString(out) {
		t.Errorf("no byte count for the running writer:\n%q", out)
	}
	// The last line is the summary, with the exact total from the result.
	last := lastLine(out)
	if !regexp.MustCompile(`^tubo: 2 stages in [0-9.]+s: zeros exit 0 \(wrote 47\.7MiB\), slow exit 0 \(wrote 47\.7MiB\)$`).MatchString(last) {
		t.Errorf("final line %q", last)
	}
	if !sgr.MatchString(out) {
		t.Errorf("no colors on a 256-color terminal:\n%q", out)
	}
}

func TestNoColor(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "1")
	t.Setenv("CI", "")
	out := onPTY(t, slowReader(), progress.Auto)
	if m := sgr.FindString(out); m != "" {
		t.Errorf("color sequence %q with NO_COLOR set:\n%q", m, out)
	}
	if !strings.Contains(out, "zeros") || !strings.Contains(out, "running") {
		t.Errorf("no live area:\n%q", out)
	}
}

func TestKilledStage(t *testing.T) {
	t.Setenv("TERM", "xterm")
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "yes", Argv: []string{"yes"}, StdinNull: true})
	g.Add(&graph.Node{ID: "one", Argv: []string{"sh", "-c", "sleep 1.1; head -n 1 >/dev/null"}})
	g.Connect(graph.Endpoint{Node: "yes", FD: 1}, graph.Endpoint{Node: "one", FD: 0}, graph.Pos{})
	out := onPTY(t, g, progress.Always)
	if last := lastLine(out); !regexp.MustCompile(`yes killed SIGPIPE \(wrote [0-9.]+(KiB|MiB)\), one exit 0`).MatchString(last) {
		t.Errorf("final line %q", last)
	}
}

func TestOffWhenNotATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := progress.New(f, progress.Auto)
	if p.On() {
		t.Fatal("progress is on for a regular file in mode auto")
	}
	g := slowReader()
	g.Nodes[1].Argv = []string{"sh", "-c", "sleep 0.6; cat >/dev/null"}
	runWith(t, g, p)
	if st, _ := f.Stat(); st.Size() != 0 {
		b, _ := os.ReadFile(f.Name())
		t.Errorf("wrote %q to a regular file in mode auto", b)
	}
}

func TestNever(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if progress.New(tty, progress.Never).On() {
		t.Error("progress is on in mode never")
	}
}

func TestAlwaysOnAFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := slowReader()
	g.Nodes[1].Argv = []string{"sh", "-c", "sleep 0.6; cat >/dev/null"}
	runWith(t, g, progress.New(f, progress.Always))
	b, _ := os.ReadFile(f.Name())
	if !bytes.Contains(b, []byte("zeros")) || sgr.Match(b) {
		t.Errorf("mode always on a file (no colors expected): %q", b)
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]progress.Mode{"never": progress.Never, "auto": progress.Auto, "always": progress.Always} {
		var m progress.Mode
		if err := m.Set(s); err != nil || m != want || m.String() != s {
			t.Errorf("Set(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := progress.ParseMode("sometimes"); err == nil {
		t.Error("ParseMode accepts sometimes")
	}
}

// lastLine is the last non-empty line a terminal shows, after the last
// cursor movement or line erase.
func lastLine(out string) string {
	lines := strings.Split(strings.ReplaceAll(out, "\r", ""), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if j := strings.LastIndex(l, "\x1b["); j >= 0 {
			// Drop everything up to the end of the last control sequence.
			k := strings.IndexAny(l[j+2:], "ABCDEFGHJKm")
			l = l[j+2+k+1:]
		}
		if l != "" {
			return l
		}
	}
	return ""
}

// A run shorter than a second leaves no summary line behind.
func TestShortRunNoSummary(t *testing.T) {
	t.Setenv("TERM", "xterm")
	g := &graph.Graph{}
	g.Add(&graph.Node{ID: "quick", Argv: []string{"true"}, StdinNull: true})
	out := onPTY(t, g, progress.Always)
	if strings.Contains(out, "tubo: 1 stages") {
		t.Errorf("a summary for a short run:\n%q", out)
	}
}
