// Package docs holds tubo's documentation. Its test runs every command the
// documentation shows, so that no page drifts from what tubo really does.
//
// A command is a line beginning with "$ " inside a ```console block (a
// line ending in a backslash continues it). The lines after it, up to the
// next command or the end of the block, are its expected output: stdout
// and stderr together, as a terminal shows them. In an expected line, "…"
// matches any run of characters, and a line that is only "…" matches any
// number of lines, so pids and times need not be pinned. A block opened
// as ```console unordered compares each command's lines as a set, for
// stages that run at the same time.
//
// Each page runs in a sandbox of its own: a copy of pipelines/, links to
// bin/ and examples/, a fresh HOME, and a PATH of tubo's bin/ plus links to
// a fixed list of standard tools, so that a page's output never depends on
// what else happens to be installed (an `lp` on the machine, say). The
// commands of one page run in order, and each sees the status of the one
// before it as $?.
package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// tools are the programs a documented command may use besides tubo and the
// repository's own programs. A tool missing on the machine fails the test
// with its name: .ci/run installs what is needed.
var tools = []string{
	"sh", "bash", "dash", "env", "cat", "ls", "sort", "tr", "head", "tail", "seq", "wc",
	"printf", "echo", "grep", "sed", "awk", "cut", "uniq", "tee", "true", "false",
	"sleep", "mkdir", "rm", "rmdir", "touch", "cp", "mv", "ln", "test", "[", "diff", "cmp",
	"sha256sum", "gzip", "od", "yes", "kill", "stat", "find", "xargs", "mkfifo",
	"chmod", "id", "basename", "dirname", "tac", "paste", "join", "comm", "expr",
	"timeout", "pwd", "readlink", "realpath", "dd", "fold", "nl", "wait", "factor",
}

// hostsMarker in a page gives its sandbox two test hosts (sshd servers
// in network namespaces; root and ip netns needed, else the page is
// skipped with the reason, or fails under CI): hosts.txt lists them as
// n1 and n2, with 2 slots each, and TUBO_SSH names an ssh config that
// reaches them.
const hostsMarker = "<!-- docs_test: hosts -->"

// pending lists the pages (or "page:line" commands) not yet made runnable
// as written, each with the reason; the test skips them. The list only
// shrinks.
var pending = map[string]string{}

type command struct {
	line      int // where the command is, for messages
	text      string
	want      []string
	unordered bool
}

func TestDocs(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "tubo")); err != nil {
		sshtest.Skip(t, "bin/tubo not built (run make build)")
	}
	pages := []string{"README.md", "pipelines/README.md", "examples/README.md"}
	for _, glob := range []string{"docs/*.md", "docs/*/*.md"} {
		m, _ := filepath.Glob(filepath.Join(root, glob))
		for _, p := range m {
			rel, _ := filepath.Rel(root, p)
			pages = append(pages, rel)
		}
	}
	toolDir := toolLinks(t)
	var hosts *sshtest.Env
	var hostsErr error
	defer func() {
		if hosts != nil {
			hosts.Stop()
		}
	}()
	for _, page := range pages {
		cmds, err := parsePage(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		if len(cmds) == 0 {
			continue
		}
		t.Run(page, func(t *testing.T) {
			if why, ok := pending[page]; ok {
				t.Skip("pending: " + why)
			}
			box := sandbox(t, root)
			var env []string
			if b, _ := os.ReadFile(filepath.Join(root, page)); bytes.Contains(b, []byte(hostsMarker)) {
				opt := sshtest.Options{Namespaced: 2}
				if why := sshtest.Unavailable(opt); why != "" {
					sshtest.Skip(t, "the page runs stages on test hosts: "+why)
				}
				if hosts == nil && hostsErr == nil {
					hosts, hostsErr = sshtest.StartMain(opt)
				}
				if hostsErr != nil {
					t.Fatal("starting the page's test hosts: " + hostsErr.Error())
				}
				env = hostsSandbox(t, box, hosts)
			}
			prev := 0
			for _, c := range cmds {
				if why, ok := pending[page+":"+strconv.Itoa(c.line)]; ok {
					t.Logf("%s:%d: pending: %s", page, c.line, why)
					continue
				}
				got, st := runCommand(t, box, toolDir, root, c.text, prev, env)
				prev = st
				if msg := compare(c.want, got, c.unordered); msg != "" {
					t.Errorf("%s:%d: $ %s\n%s\n--- got:\n%s", page, c.line, c.text, msg, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// parsePage finds the commands of one page.
func parsePage(path string) ([]command, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cmds []command
	var cur *command
	in, unordered := false, false
	indent := 0 // the fence's own indentation, taken off every line of the block
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if !in {
				indent = len(line) - len(strings.TrimLeft(line, " "))
				info := strings.Fields(strings.TrimPrefix(trimmed, "```"))
				in = len(info) > 0 && info[0] == "console"
				unordered = in && slices.Contains(info[1:], "unordered")
			} else {
				in = false
			}
			cur = nil
			continue
		}
		if !in {
			continue
		}
		// Blocks may be indented inside a list item.
		body := line
		if len(line)-len(strings.TrimLeft(line, " ")) >= indent {
			body = line[indent:]
		}
		if strings.HasPrefix(body, "$ ") {
			cmds = append(cmds, command{line: n, text: strings.TrimPrefix(body, "$ "), unordered: unordered})
			cur = &cmds[len(cmds)-1]
			for strings.HasSuffix(cur.text, `\`) && sc.Scan() {
				n++
				cur.text += "\n" + strings.TrimLeft(sc.Text(), " ")
			}
			continue
		}
		if cur != nil {
			cur.want = append(cur.want, strings.TrimRight(body, " "))
		}
	}
	return cmds, sc.Err()
}

// toolLinks makes a directory of links to the allowed tools.
func toolLinks(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range tools {
		p, err := exec.LookPath(name)
		if err != nil {
			if name == "wait" {
				continue // a shell builtin only, on some systems
			}
			t.Fatalf("documented commands need %s, which is not installed", name)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sandbox makes the directory a page's commands run in.
func sandbox(t *testing.T, root string) string {
	box := t.TempDir()
	for _, d := range []string{"bin", "examples", "docs"} {
		if err := os.Symlink(filepath.Join(root, d), filepath.Join(box, d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(box, "pipelines"), os.DirFS(filepath.Join(root, "pipelines"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(box, "home"), 0o700); err != nil {
		t.Fatal(err)
	}
	return box
}

// runCommand runs one command with bash in the sandbox, stdout and stderr
// merged, with $? set to the previous command's status.
func runCommand(t *testing.T, box, toolDir, root, text string, prev int, env []string) ([]string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(toolDir, "bash"), "-c", "(exit "+strconv.Itoa(prev)+"); "+text)
	cmd.Dir = box
	cmd.Env = []string{
		"PATH=" + filepath.Join(root, "bin") + ":" + toolDir,
		"HOME=" + filepath.Join(box, "home"),
		"LC_ALL=C.UTF-8", "TZ=UTC", "TERM=dumb", "NO_COLOR=1",
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	// The whole group goes on a timeout, and a stray process holding the
	// output pipe cannot keep the test waiting.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	st := 0
	if ee, ok := err.(*exec.ExitError); ok {
		st = ee.ExitCode()
		if st < 0 {
			st = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
	} else if err != nil {
		t.Errorf("$ %s: %v", text, err)
	}
	if ctx.Err() != nil {
		t.Errorf("$ %s: still running after 20 seconds", text)
	}
	s := strings.TrimRight(out.String(), "\n")
	if s == "" {
		return nil, st
	}
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines, st
}

// compare matches actual output against the documented lines; "" means
// they agree.
func compare(want, got []string, unordered bool) string {
	for len(want) > 0 && want[len(want)-1] == "" {
		want = want[:len(want)-1]
	}
	if unordered {
		w, g := slices.Clone(want), slices.Clone(got)
		slices.Sort(w)
		slices.Sort(g)
		want, got = w, g
	}
	if matchLines(want, got) {
		return ""
	}
	return fmt.Sprintf("--- documented:\n%s", strings.Join(want, "\n"))
}

func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "…" {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && matchLine(want[0], got[0]) && matchLines(want[1:], got[1:])
}

// matchLine matches one line, with "…" standing for any run of characters.
func matchLine(want, got string) bool {
	parts := strings.Split(want, "…")
	if len(parts) == 1 {
		return want == got
	}
	if !strings.HasPrefix(got, parts[0]) {
		return false
	}
	got = got[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(got, p)
		}
		j := strings.Index(got, p)
		if j < 0 {
			return false
		}
		got = got[j+len(p):]
	}
	return true
}

func TestMatchLine(t *testing.T) {
	for _, tt := range []struct {
		want, got string
		ok        bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"pid …", "pid 42", true},
		{"… 0.…s", "x 0.01s", true},
		{"…", "", true},
		{"a…b…c", "aXbYc", true},
		{"a…b…c", "aXbY", false},
	} {
		if got := matchLine(tt.want, tt.got); got != tt.ok {
			t.Errorf("matchLine(%q, %q) = %v", tt.want, tt.got, got)
		}
	}
	if !matchLines([]string{"x", "…", "z"}, []string{"x", "1", "2", "z"}) || matchLines([]string{"x", "…", "z"}, []string{"x", "1"}) {
		t.Error("matchLines with a … line")
	}
}

// hostsSandbox writes hosts.txt into a page's sandbox and returns the
// environment that reaches the hosts.
func hostsSandbox(t *testing.T, box string, e *sshtest.Env) []string {
	var list strings.Builder
	for i, name := range []string{"h1", "h2"} {
		fmt.Fprintf(&list, "n%d=2/%s\n", i+1, e.Server(name).Spec())
	}
	if err := os.WriteFile(filepath.Join(box, "hosts.txt"), []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ssh, err := exec.LookPath(e.SSH[0])
	if err != nil {
		t.Fatal(err)
	}
	return []string{"TUBO_SSH=" + strings.Join(append([]string{ssh}, e.SSH[1:]...), " ")}
}
