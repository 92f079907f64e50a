package explain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/cli"
)

// The test binary is also tubo: with TUBO_TEST_AS_TUBO set it runs
// cli.Main, so explain and the run come from the same tubo.
func TestMain(m *testing.M) {
	if os.Getenv("TUBO_TEST_AS_TUBO") != "" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// straceCase is a line or a pipeline file, run and explained alike.
type straceCase struct {
	name  string
	args  []string          // tubo's arguments: a line, or run FILE
	files map[string]string // files to create in the case's directory
	extra int               // descriptors tubo inherits above 2 (fd 3, 4, …)
}

var root = func() string { r, _ := filepath.Abs(".."); return r }()

func yamlCase(name string) straceCase {
	return straceCase{name: name, args: []string{"run", filepath.Join(root, "pipelines", name+".yaml")}}
}

var straceCases = []straceCase{
	// The lab's exercises.
	yamlCase("fifo"), // 1: producers and a consumer over a FIFO
	{name: "heredoc", args: []string{"cat <<EOF\nthe first message sent through a pipe!!\nEOF"}}, // 2
	{name: "ls-sort", args: []string{"ls | sort"}},                                               // 3 and 4
	yamlCase("primes"), // 5: a merge
	yamlCase("lssort"),
	// Fan-in on descriptors 3 and 4, a tee to three readers and a file,
	// an ordered text merge.
	yamlCase("fds"),
	yamlCase("fanout"),
	yamlCase("textmerge"),
	// Redirections.
	{name: "redirections", args: []string{"ls /nonexistent >out.txt 2>&1; sort <in.txt 2>err.txt | wc -c >>out.txt; cat <>in.txt 3<in.txt 1>&2 2>&-"},
		files: map[string]string{"in.txt": "b\na\n"}},
	{name: "inherited", args: []string{"ls | sort 4>&-"}, extra: 2},
	{name: "missing", args: []string{"no-such-program-xyz | wc -l"}},
	{name: "big-heredoc", args: []string{"wc -c <<EOF\n" + strings.Repeat("0123456789abcdef\n", 400) + "EOF"}},
}

// TestExplainMatchesStrace runs each case under strace -f, rebuilds every
// child's descriptor table at its execve from the trace, and compares it
// with the table `tubo explain` printed for that child: same descriptors,
// each the same pipe end, file (path and flags) or inherited descriptor.
func TestExplainMatchesStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("strace is not installed: .ci/run must install it")
		}
		t.Skip("strace is not installed (.ci/run installs it)")
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "esclavo")); err != nil {
		t.Skip("the example programs are not built (make build)")
	}
	for _, c := range straceCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range c.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			eargs := c.args
			if eargs[0] == "run" {
				eargs = eargs[1:]
			}
			out, errs := runTubo(t, dir, c.extra, nil, append([]string{"explain"}, eargs...)...)
			if errs != "" {
				t.Fatalf("tubo explain: %s", errs)
			}
			want := parseExplain(t, out, dir)
			trace := filepath.Join(dir, "trace.txt")
			runTubo(t, dir, c.extra, []string{strace, "-f", "-qq", "-yy", "-s", "4096", "-o", trace, "-e",
				"trace=execve,clone,clone3,fork,vfork,open,openat,openat2,creat,pipe,pipe2,dup,dup2,dup3,fcntl,close,close_range"}, c.args...)
			b, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			got := parseStrace(t, string(b), c.extra)
			compareTables(t, want, got, out)
		})
	}
}

// runTubo runs the test binary as tubo (under prefix, a tracer) in dir,
// with extra inherited descriptors, and returns its stdout and stderr.
func runTubo(t *testing.T, dir string, extra int, prefix []string, args ...string) (string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(slices.Clone(prefix), exe), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUBO_TEST_AS_TUBO=1", "LC_ALL=C", "PATH="+filepath.Join(root, "bin")+":"+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	for i := 0; i < extra; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not end", argv)
	}
	return stdout.String(), stderr.String()
}

// child is one process's descriptor table at execve, keyed by argv.
type child struct {
	argv  []string
	table map[int]string // fd → what it is, in a form both sides share
}

func (c child) String() string {
	var fds []int
	for fd := range c.table {
		fds = append(fds, fd)
	}
	sort.Ints(fds)
	var b strings.Builder
	fmt.Fprintf(&b, "%q:", c.argv)
	for _, fd := range fds {
		fmt.Fprintf(&b, " %d=%s", fd, c.table[fd])
	}
	return b.String()
}

var (
	forkLine  = regexp.MustCompile(`^ *\d+\. fork (\+ exec |tubo's guardian)`)
	noExec    = regexp.MustCompile(`^      no execve: `)
	fdLine    = regexp.MustCompile(`^      fd (\d+) (.*)$`)
	execLine  = regexp.MustCompile(`^      execve\((".*?"), (\[.*\])\)$`)
	pipeWords = regexp.MustCompile(`(read|write) end of pipe (\[\d+, \d+\])`)
	fileWords = regexp.MustCompile(`^= (.*) opened ([A-Z_|]+), dup2`)
	inhWords  = regexp.MustCompile(`^= tubo's fd (\d+)\b`)
	tmpDir    = regexp.MustCompile(`/tmp/tubo-[0-9a-f]+`)
)

// guardianArgv stands for the argv of tubo's guardian, which is forked
// without exec: its table is compared as it is once it has set itself up.
const guardianArgv = "(the guardian: no execve)"

// parseExplain reads the children's tables from explain's text.
func parseExplain(t *testing.T, text, dir string) []child {
	var out []child
	var cur *child
	for _, line := range strings.Split(text, "\n") {
		switch {
		case forkLine.MatchString(line):
			out = append(out, child{table: map[int]string{}})
			cur = &out[len(out)-1]
		case cur == nil:
		case fdLine.MatchString(line):
			m := fdLine.FindStringSubmatch(line)
			fd, _ := strconv.Atoi(m[1])
			cur.table[fd] = explainKey(t, m[2], dir)
		case execLine.MatchString(line):
			m := execLine.FindStringSubmatch(line)
			if err := json.Unmarshal([]byte(m[2]), &cur.argv); err != nil {
				t.Fatalf("explain's argv %s: %v", m[2], err)
			}
			cur = nil
		case noExec.MatchString(line):
			cur.argv = []string{guardianArgv}
			cur = nil
		}
	}
	return out
}

func explainKey(t *testing.T, s, dir string) string {
	switch {
	case strings.Contains(s, "the guardian's pipe"):
		return "pipe guardian r"
	case pipeWords.MatchString(s):
		m := pipeWords.FindStringSubmatch(s)
		return "pipe " + m[2] + " " + m[1][:1]
	case s == "= /dev/null" || strings.HasPrefix(s, "= /dev/null (no input"):
		return "null"
	case fileWords.MatchString(s):
		m := fileWords.FindStringSubmatch(s)
		path := m[1]
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if path == os.DevNull {
			return "null"
		}
		return "file " + tmpDir.ReplaceAllString(path, "TMP") + " " + normFlags(m[2])
	case inhWords.MatchString(s):
		return "tubo " + inhWords.FindStringSubmatch(s)[1]
	}
	t.Fatalf("explain's fd entry %q: not understood", s)
	return ""
}

// normFlags keeps the flags that matter to a child: the access mode and
// O_APPEND (O_CREAT and O_TRUNC are done by then).
func normFlags(s string) string {
	var keep []string
	for _, f := range strings.Split(s, "|") {
		switch f {
		case "O_RDONLY", "O_WRONLY", "O_RDWR", "O_APPEND":
			keep = append(keep, f)
		}
	}
	sort.Strings(keep)
	return strings.Join(keep, "|")
}

// desc is what a descriptor of a traced process refers to.
type desc struct {
	key     string // "pipe INO r", "file PATH FLAGS", "tubo N", "null"
	cloexec bool
}

type fdTable map[int]*desc

func (ft fdTable) clone() fdTable {
	c := fdTable{}
	for fd, d := range ft {
		dd := *d
		c[fd] = &dd
	}
	return c
}

var (
	callRe    = regexp.MustCompile(`^(\d+) +([a-z0-9_]+)\((.*)$`)
	resumedRe = regexp.MustCompile(`^(\d+) +<\.\.\. ([a-z0-9_]+) resumed>(.*)$`)
	retRe     = regexp.MustCompile(`\) += (-?\d+)(<(.*)>)?(?: .*)?$`)
	fdArg     = regexp.MustCompile(`^(\d+)(<.*>)?$`)
	pipeRes   = regexp.MustCompile(`^\[(\d+)<pipe:\[(\d+)\]>, (\d+)<pipe:\[(\d+)\]>\]`)
	openPath  = regexp.MustCompile(`^(?:[^,]+, )?"((?:[^"\\]|\\.)*)", ([A-Z_|]+)`)
)

// parseStrace replays a trace of tubo and returns the table of each of
// its children at their execve.
func parseStrace(t *testing.T, text string, extra int) []child {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	// Join each unfinished call with its resumption. A call takes effect
	// where it returns (another thread may close and reuse a number
	// meanwhile), except a clone: its child runs before the clone returns
	// in the parent, with a copy of the table from the call; and a close:
	// the number is free as soon as the call starts (another thread's open
	// may return it before the close returns).
	type call struct {
		pid        int
		name, args string // args up to and including the return
		moved      bool   // taken effect later, where it was resumed
	}
	var calls []call
	pending := map[int]int{} // pid → index in calls
	for _, l := range lines {
		if m := resumedRe.FindStringSubmatch(l); m != nil {
			pid, _ := strconv.Atoi(m[1])
			if i, ok := pending[pid]; ok {
				calls[i].args += m[3]
				delete(pending, pid)
				if n := calls[i].name; n != "clone" && n != "clone3" && n != "fork" && n != "vfork" && n != "close" && n != "close_range" {
					calls = append(calls, calls[i])
					calls[i].moved = true
				}
			}
			continue
		}
		m := callRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		args, unfinished := strings.CutSuffix(m[3], " <unfinished ...>")
		calls = append(calls, call{pid: pid, name: m[2], args: args})
		if unfinished {
			pending[pid] = len(calls) - 1
		}
	}
	tables := map[int]fdTable{} // pid (thread) → its table; threads share one
	tgid := map[int]int{}
	parent := map[int]int{} // process → the process that forked it
	fork := map[int]bool{}  // process → forked without CLONE_VM
	var rootPid int
	var out []child
	for i, c := range calls {
		if i == 0 {
			rootPid = c.pid
			ft := fdTable{}
			for fd := 0; fd < 3+extra; fd++ {
				ft[fd] = &desc{key: "tubo " + strconv.Itoa(fd)}
			}
			for _, fd := range leaked() {
				if fd >= 3+extra {
					ft[fd] = &desc{key: "tubo " + strconv.Itoa(fd)}
				}
			}
			tables[c.pid] = ft
			tgid[c.pid] = c.pid
		}
		ft := tables[c.pid]
		if ft == nil || c.moved {
			continue // a process of no interest (a grandchild's, forked before we knew)
		}
		rm := retRe.FindStringSubmatch(c.args)
		if rm == nil {
			continue
		}
		ret, _ := strconv.Atoi(rm[1])
		if ret < 0 {
			continue
		}
		args := c.args[:len(c.args)-len(rm[0])]
		argFD := func(n int) int {
			parts := splitArgs(args)
			if n >= len(parts) {
				return -1
			}
			fm := fdArg.FindStringSubmatch(strings.TrimSpace(parts[n]))
			if fm == nil {
				return -1
			}
			fd, _ := strconv.Atoi(fm[1])
			return fd
		}
		get := func(fd int) *desc {
			if d, ok := ft[fd]; ok {
				return d
			}
			return &desc{key: "unknown " + strconv.Itoa(fd)}
		}
		switch c.name {
		case "clone", "clone3", "fork", "vfork":
			if ret == 0 {
				continue
			}
			if strings.Contains(args, "CLONE_THREAD") || strings.Contains(args, "CLONE_FILES") {
				tables[ret] = ft
				tgid[ret] = tgid[c.pid]
			} else {
				tables[ret] = ft.clone()
				tgid[ret] = ret
				parent[ret] = tgid[c.pid]
				// A fork that copies tubo's memory (no CLONE_VM, unlike
				// every stage's vfork) makes the guardian.
				fork[ret] = !strings.Contains(args, "CLONE_VM")
			}
		case "execve":
			p := tgid[c.pid]
			if p == rootPid {
				continue // tubo itself
			}
			if parent[p] != rootPid {
				continue
			}
			var argv []string
			if am := regexp.MustCompile(`^"(?:[^"\\]|\\.)*", (\[.*?\]), `).FindStringSubmatch(args); am != nil {
				json.Unmarshal([]byte(am[1]), &argv)
			}
			ch := child{argv: argv, table: map[int]string{}}
			for fd, d := range ft {
				if !d.cloexec {
					ch.table[fd] = d.key
				}
			}
			out = append(out, ch)
			parent[p] = 0 // only its first exec
		case "open", "openat", "openat2", "creat":
			om := openPath.FindStringSubmatch(args)
			path := ""
			flags := ""
			if om != nil {
				flags = om[2]
			}
			if rm[3] != "" {
				path = rm[3]
				if i := strings.Index(path, "<"); i >= 0 {
					path = path[:i] // /dev/null<char 1:3>
				}
			}
			key := "file " + tmpDir.ReplaceAllString(path, "TMP") + " " + normFlags(flags)
			if path == os.DevNull {
				key = "null"
			}
			ft[ret] = &desc{key: key, cloexec: strings.Contains(flags, "O_CLOEXEC")}
		case "pipe", "pipe2":
			pm := pipeRes.FindStringSubmatch(args)
			if pm == nil {
				continue
			}
			r, _ := strconv.Atoi(pm[1])
			w, _ := strconv.Atoi(pm[3])
			ce := strings.Contains(args, "O_CLOEXEC")
			ft[r] = &desc{key: "pipe " + pm[2] + " r", cloexec: ce}
			ft[w] = &desc{key: "pipe " + pm[4] + " w", cloexec: ce}
		case "dup":
			d := *get(argFD(0))
			d.cloexec = false
			ft[ret] = &d
		case "dup2", "dup3":
			d := *get(argFD(0))
			d.cloexec = strings.Contains(args, "O_CLOEXEC")
			ft[ret] = &d
		case "fcntl":
			fd := argFD(0)
			switch {
			case strings.Contains(args, "F_DUPFD_CLOEXEC"):
				d := *get(fd)
				d.cloexec = true
				ft[ret] = &d
			case strings.Contains(args, "F_DUPFD"):
				d := *get(fd)
				d.cloexec = false
				ft[ret] = &d
			case strings.Contains(args, "F_SETFD"):
				if d, ok := ft[fd]; ok {
					d.cloexec = strings.Contains(args, "FD_CLOEXEC")
				}
			}
		case "close":
			delete(ft, argFD(0))
		case "close_range":
			parts := splitArgs(args)
			lo, _ := strconv.Atoi(strings.TrimSpace(parts[0]))
			hi, _ := strconv.ParseUint(strings.TrimSpace(parts[1]), 0, 64)
			for fd := range ft {
				if fd >= lo && uint64(fd) <= hi {
					if strings.Contains(args, "CLOSE_RANGE_CLOEXEC") {
						ft[fd].cloexec = true
					} else {
						delete(ft, fd)
					}
				}
			}
		}
	}
	// A child of tubo forked without CLONE_VM that never exec'd is its
	// guardian: its table is the one it keeps for life (after its own
	// dup3 and close_range).
	for p, par := range parent {
		if par == rootPid && fork[p] && tables[p] != nil {
			ch := child{argv: []string{guardianArgv}, table: map[int]string{}}
			for fd, d := range tables[p] {
				ch.table[fd] = d.key
			}
			out = append(out, ch)
		}
	}
	return out
}

// leaked lists this test process's own descriptors above 2 that are not
// close-on-exec: every child it starts gets them, tubo included.
func leaked() []int {
	var out []int
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			out = append(out, fd)
		}
	}
	return out
}

// splitArgs splits a call's arguments at top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{' || c == '<' || c == '(':
			depth++
		case c == ']' || c == '}' || c == '>' || c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// compareTables pairs explain's children with the traced ones by argv and
// compares their tables. Pipes are matched up by the first child that
// shows each: explain's [5, 6] must be the same kernel pipe everywhere.
func compareTables(t *testing.T, want, got []child, explained string) {
	t.Helper()
	pipes := map[string]string{} // explain's "[5, 6]" → the kernel's inode
	inodes := map[string]string{}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for j, g := range got {
			if used[j] || !slices.Equal(normArgv(w.argv), normArgv(g.argv)) {
				continue
			}
			used[j], found = true, true
			if msg := sameTable(w, g, pipes, inodes); msg != "" {
				t.Errorf("%q: %s\nexplain: %s\nstrace:  %s", w.argv, msg, w, g)
			}
			break
		}
		if !found {
			// The guardian too: it runs before the first stage is forked.
			t.Errorf("explain shows %q started; strace saw no such execve", w.argv)
		}
	}
	for j, g := range got {
		if !used[j] {
			t.Errorf("strace saw %q exec'd; explain does not show it", g.argv)
		}
	}
	if t.Failed() {
		t.Logf("explain printed:\n%s", explained)
	}
}

// normArgv makes tubo's own path in argv[0] comparable: the guardian and
// shell stages run the test binary.
func normArgv(argv []string) []string {
	out := slices.Clone(argv)
	exe, _ := os.Executable()
	for i, a := range out {
		if a == exe {
			out[i] = "TUBO"
		}
		out[i] = tmpDir.ReplaceAllString(out[i], "TMP")
	}
	return out
}

func sameTable(w, g child, pipes, inodes map[string]string) string {
	var msgs []string
	for fd, wk := range w.table {
		gk, ok := g.table[fd]
		if !ok {
			msgs = append(msgs, fmt.Sprintf("fd %d: explain says %s, the kernel has it closed", fd, wk))
			continue
		}
		if strings.HasPrefix(wk, "pipe ") && strings.HasPrefix(gk, "pipe ") {
			wf, gf := strings.Fields(wk), strings.Fields(gk)
			wid, wend := strings.Join(wf[1:len(wf)-1], " "), wf[len(wf)-1]
			gid, gend := gf[1], gf[2]
			if wend != gend {
				msgs = append(msgs, fmt.Sprintf("fd %d: explain says the %s end, the kernel has the %s end", fd, wend, gend))
			}
			if p, ok := pipes[wid]; ok && p != gid {
				msgs = append(msgs, fmt.Sprintf("fd %d: explain's pipe %s is two kernel pipes", fd, wid))
			}
			if q, ok := inodes[gid]; ok && q != wid {
				msgs = append(msgs, fmt.Sprintf("fd %d: kernel pipe %s is explain's %s and %s", fd, gid, q, wid))
			}
			pipes[wid], inodes[gid] = gid, wid
			continue
		}
		if wk != gk {
			msgs = append(msgs, fmt.Sprintf("fd %d: explain says %s, the kernel has %s", fd, wk, gk))
		}
	}
	for fd, gk := range g.table {
		if _, ok := w.table[fd]; !ok {
			msgs = append(msgs, fmt.Sprintf("fd %d: the kernel has %s, explain does not show it", fd, gk))
		}
	}
	sort.Strings(msgs)
	return strings.Join(msgs, "; ")
}
