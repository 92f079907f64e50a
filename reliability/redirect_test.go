package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRedirectedPipeEnds runs a three-stage line with one redirection on
// one stage, for every redirection form at the first, middle and last
// stage, under tubo and under the reference shell (dash; bash for its own
// forms), and compares stdout, stderr (as a set of lines: stages write it
// concurrently) and the exit status. A redirection that takes a stage's
// descriptor away from its pipe must not leave tubo holding that pipe end:
// the reader would never see EOF (`echo hi >/dev/null | wc -l` hung), the
// writer never get SIGPIPE (`seq 1000000 | wc -l </dev/null` hung). Every
// run is bounded (process group killed, WaitDelay), so a hang is a
// failure, not a stuck test.
func TestRedirectedPipeEnds(t *testing.T) {
	bash, _ := exec.LookPath("bash")
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Fatal("dash is needed (CI installs it): ", err)
	}
	// The first stage writes more than any pipe holds, so a writer that
	// never gets SIGPIPE blocks; the others read to the end.
	stages := []string{
		`sh -c 'seq 300000; echo first-err >&2'`,
		`sh -c 'cat; echo mid-err >&2'`,
		`sh -c 'wc -l; echo last-err >&2'`,
	}
	forms := []struct {
		redir string
		bash  bool   // bash syntax: compare with bash
		body  string // here-document body
	}{
		{redir: ">f"},
		{redir: ">>f"},
		{redir: "2>&1"},
		{redir: ">&2"},
		{redir: "1>/dev/null"},
		{redir: "<in"},
		{redir: "<>f"},
		{redir: "0</dev/null"},
		{redir: "1>&-"},
		{redir: "0<&-"},
		{redir: "2>&-"},
		{redir: "3>f 1>&3 3>&-"},
		{redir: "&>f", bash: true},
		{redir: "<<<word", bash: true},
		{redir: "<<EOF", body: "here\ndoc\n"},
		{redir: "<<-EOF", body: "\tindented\n"},
	}
	for _, f := range forms {
		for pos, where := range []string{"first", "middle", "last"} {
			parts := slices.Clone(stages)
			parts[pos] += " " + f.redir
			line := strings.Join(parts, " | ") + "; echo st=$?; wc -c <f"
			if f.body != "" {
				line += "\n" + f.body + "EOF\n"
			}
			ref, refName := dash, "dash"
			if f.bash {
				if bash == "" {
					t.Fatal("bash is needed for ", f.redir)
				}
				ref, refName = bash, "bash"
			}
			t.Run(f.redir+"/"+where, func(t *testing.T) {
				t.Parallel()
				want := runLine(t, refName, ref, "-c", line)
				got := runLine(t, "tubo", tubo, "-c", line)
				if got != want {
					t.Errorf("line %q\n%s", line, diffWords(refName, want, "tubo", got))
				}
			})
		}
	}
}

// runLine runs one shell in a fresh directory holding f ("old") and in
// (two lines), with stdin /dev/null, bounded in time, and describes what
// it did: stdout, sorted stderr lines, exit status.
func runLine(t *testing.T, name, shell string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "f", "old\n")
	writeFile(t, dir, "in", "x\ny\n")
	cmd := exec.Command(shell, args...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	st, err := runBounded(cmd, 10*time.Second)
	if err != nil {
		t.Fatalf("%s %q: %v\nstdout so far: %q\nstderr so far: %q", name, args, err, stdout.String(), stderr.String())
	}
	// Stages write stderr concurrently, and a message may reach it in
	// pieces (seq writes 4 KiB blocks), so two messages can interleave
	// anywhere: compare stderr's bytes as a multiset (sorted). The shells
	// name themselves in their own messages.
	e := strings.ReplaceAll(stderr.String(), "tubo: ", "")
	e = strings.ReplaceAll(e, filepath.Base(shell)+": ", "")
	eb := []byte(e)
	slices.Sort(eb)
	errs := strings.Fields(string(eb))
	b, _ := os.ReadFile(filepath.Join(dir, "f"))
	return "stdout:\n" + stdout.String() + "stderr: " + strings.Join(errs, " ") + "\nstatus " + itoa(st) + "\nf: " + itoa(len(b)) + " bytes\n"
}

// diffWords shows where two descriptions first differ, with some context
// (a description may hold megabytes of seq output).
func diffWords(an, a, bn, b string) string {
	wa, wb := strings.Fields(a), strings.Fields(b)
	i := 0
	for i < len(wa) && i < len(wb) && wa[i] == wb[i] {
		i++
	}
	from := max(0, i-8)
	show := func(w []string) string {
		s := strings.Join(w[min(from, len(w)):min(i+8, len(w))], " ")
		if len(s) > 400 {
			s = s[:400] + "…"
		}
		return s
	}
	return fmt.Sprintf("first difference at word %d of %d/%d:\n--- %s: … %s …\n--- %s: … %s …", i, len(wa), len(wb), an, show(wa), bn, show(wb))
}
