package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// runFile writes src as p.yaml in a fresh directory, loads it and runs it.
func runFile(t *testing.T, src string, set ...string) (dir, out, errs string, res *executor.Result) {
	t.Helper()
	dir = t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path, Options{Set: set})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, res = runGraph(t, g)
	return dir, out, errs, res
}

func proc(t *testing.T, res *executor.Result, id string) *executor.ProcResult {
	t.Helper()
	for _, pr := range res.Procs {
		if pr.Node.ID == id {
			return pr
		}
	}
	t.Fatalf("no process %s", id)
	return nil
}

// ok_exit: a diff that finds a difference (exit 1) is not a failure when
// the stage says so; the status shown stays 1.
func TestOKExit(t *testing.T) {
	src := `
stages:
  mka: {run: [sh, -c, 'echo one > a.txt; echo two > b.txt'], cwd: .}
  cmp:
    run: [diff, a.txt, b.txt]
    cwd: .
    after: [mka]
    {{ok}}
`
	for _, tt := range []struct {
		ok     string
		status executor.Status
	}{{"ok_exit: [0, 1]", 0}, {"", 1}, {"ok_exit: [0]", 1}} {
		_, out, _, res := runFile(t, strings.ReplaceAll(src, "{{ok}}", tt.ok))
		if res.Status != tt.status {
			t.Errorf("%q: run status %d; want %d", tt.ok, res.Status, tt.status)
		}
		if pr := proc(t, res, "cmp"); pr.Status != 1 || pr.OK != (tt.status == 0) {
			t.Errorf("%q: cmp status %d OK %v", tt.ok, pr.Status, pr.OK)
		}
		if !strings.Contains(out, "< one") {
			t.Errorf("%q: diff output %q", tt.ok, out)
		}
	}
}

// on_failure per stage: ignore counts the failure as a success (what runs
// after it runs, the run succeeds); let-finish on one stage keeps the
// run's kill-rest from ending the others; kill-rest on one stage ends the
// others in a let-finish run.
func TestStageOnFailure(t *testing.T) {
	_, out, _, res := runFile(t, `
stages:
  flaky: {run: [sh, -c, 'exit 4'], on_failure: ignore}
  next: {run: [echo, next ran], after: [flaky]}
`)
	if res.Status != 0 || out != "next ran\n" || proc(t, res, "flaky").Status != 4 {
		t.Errorf("ignore: status %d, out %q", res.Status, out)
	}
	_, out, _, res = runFile(t, `
stages:
  quick: {run: [sh, -c, 'exit 3'], on_failure: let-finish}
  slow: {run: [sh, -c, 'sleep 0.2; echo slow finished']}
`)
	if res.Status != 3 || out != "slow finished\n" || proc(t, res, "slow").Killed {
		t.Errorf("let-finish stage in a kill-rest run: status %d, out %q", res.Status, out)
	}
	_, out, _, res = runFile(t, `
on_failure: let-finish
stages:
  quick: {run: [sh, -c, 'exit 3'], on_failure: kill-rest}
  slow: {run: [sh, -c, 'sleep 30; echo slow finished']}
`)
	// slow is killed, or never started if quick failed first.
	if slow := proc(t, res, "slow"); res.Status != 3 || out != "" || !slow.Killed && !slow.Skipped {
		t.Errorf("kill-rest stage in a let-finish run: status %d, out %q, slow %+v", res.Status, out, proc(t, res, "slow"))
	}
}

// after: waits for an outcome: success (the default), failure, any. A
// stage whose outcome did not happen is not needed (status 0, no
// failure), and neither is one that waits for it.
func TestAfterOutcomes(t *testing.T) {
	src := `
on_failure: let-finish
stages:
  probe: {run: [sh, -c, 'exit {{code}}']}
  onok: {run: [echo, on success], after: [probe]}
  onfail: {run: [echo, on failure], after: {probe: failure}}
  always: {run: [echo, always], after: [{probe: any}]}
  chained: {run: [echo, chained], after: [onfail]}
params: {code: 0}
`
	_, out, errs, res := runFile(t, src, "code=0")
	if res.Status != 0 || sortLines(out) != "always\non success\n" {
		t.Errorf("probe succeeds: status %d, out %q, stderr %q", res.Status, out, errs)
	}
	for _, id := range []string{"onfail", "chained"} {
		if pr := proc(t, res, id); !pr.Skipped || !pr.NotNeeded || pr.Status != 0 || !pr.OK {
			t.Errorf("probe succeeds: %s: %+v", id, pr)
		}
	}
	if strings.Contains(errs, "not started") {
		t.Errorf("a stage that is not needed is reported: %q", errs)
	}
	_, out, _, res = runFile(t, src, "code=5")
	if res.Status != 5 || sortLines(out) != "always\nchained\non failure\n" {
		t.Errorf("probe fails: status %d, out %q", res.Status, out)
	}
	if pr := proc(t, res, "onok"); !pr.Skipped || pr.NotNeeded || pr.Status != executor.StatusFailure {
		t.Errorf("probe fails: onok %+v", pr)
	}
}

func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i := range lines {
		for j := i + 1; j < len(lines); j++ {
			if lines[j] < lines[i] {
				lines[i], lines[j] = lines[j], lines[i]
			}
		}
	}
	return strings.Join(lines, "")
}

// A cleanup stage (after: {x: failure}) still runs when x's failure ends
// the run under kill-rest, and is not killed with the rest.
func TestCleanupRunsUnderKillRest(t *testing.T) {
	_, out, _, res := runFile(t, `
stages:
  work: {run: [sh, -c, 'sleep 30']}
  fails: {run: [sh, -c, 'sleep 0.05; exit 7']}
  cleanup: {run: [sh, -c, 'sleep 0.3; echo cleaned up'], after: {fails: failure}}
`)
	if res.Status != 7 || out != "cleaned up\n" {
		t.Errorf("status %d, out %q", res.Status, out)
	}
	if !proc(t, res, "work").Killed || proc(t, res, "cleanup").Killed || proc(t, res, "cleanup").Status != 0 {
		t.Errorf("work %+v\ncleanup %+v", proc(t, res, "work"), proc(t, res, "cleanup"))
	}
}

// retries: a stage that fails twice and then succeeds is run three
// times, after the delays asked for, and each attempt is kept.
func TestRetries(t *testing.T) {
	src := `
files:
  out: {path: out.txt}
stages:
  fetch:
    run: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n"; [ $n -ge {{ok_at}} ]']
    cwd: .
    retries: 2
    retry_delay: 20ms
    backoff: 3
    stdout: out
params: {ok_at: 3}
`
	dir, _, errs, res := runFile(t, src)
	pr := proc(t, res, "fetch")
	if res.Status != 0 || len(pr.Attempts) != 2 || pr.Status != 0 {
		t.Fatalf("status %d, attempts %d; stderr %q", res.Status, len(pr.Attempts), errs)
	}
	// Each attempt truncates its output file: only the last one's remains.
	if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(got) != "try 3\n" {
		t.Errorf("out.txt = %q", got)
	}
	// The waits are at least 20ms, then 60ms.
	if gap := pr.Attempts[1].Start.Sub(pr.Attempts[0].End); gap < 20e6 {
		t.Errorf("first delay %s", gap)
	}
	if gap := pr.Start.Sub(pr.Attempts[1].End); gap < 60e6 {
		t.Errorf("second delay %s (backoff 3)", gap)
	}
	if !strings.Contains(errs, "fetch: attempt 1 of 3 failed (exit 1); retrying in 20ms") || !strings.Contains(errs, "attempt 2 of 3 failed (exit 1); retrying in 60ms") {
		t.Errorf("stderr %q", errs)
	}
	// Out of attempts: the run fails with the last attempt's status.
	_, _, _, res = runFile(t, src, "ok_at=9")
	if pr := proc(t, res, "fetch"); res.Status != 1 || len(pr.Attempts) != 2 || pr.OK {
		t.Errorf("exhausted: status %d, attempts %d", res.Status, len(pr.Attempts))
	}
}

// The graph carries the new settings, for check, graph and explain.
func TestFailureKeysInGraph(t *testing.T) {
	g, err := LoadBytes("p.yaml", []byte(`
stages:
  a: {run: [x], ok_exit: [0, 1, 2], on_failure: ignore, retries: 3, retry_delay: 1s, backoff: 2}
  b: {run: [y], after: [a, {c: any}]}
  c: {run: [z]}
`), Options{SkipLookup: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := g.Node("a"), g.Node("b")
	if len(a.OKExit) != 3 || a.OnFailure == nil || *a.OnFailure != graph.Ignore || a.Retries != 3 || a.RetryDelay != 1e9 || a.Backoff != 2 {
		t.Errorf("a: %+v", a)
	}
	if len(b.After) != 2 || b.AfterOutcome["c"] != graph.Any || b.AfterOutcome["a"] != graph.Success {
		t.Errorf("b: after %v %v", b.After, b.AfterOutcome)
	}
}

// pipelines/retry.yaml: the download fails twice, succeeds on the third
// attempt, and alert is not needed; with every attempt failing, alert
// runs and the run exits with the download's status.
func TestRunRetryPipeline(t *testing.T) {
	out := t.TempDir()
	g := loadFile(t, "../../pipelines/retry.yaml", "out="+out)
	stdout, errs, res := runGraph(t, g)
	if res.Status != 0 || strings.TrimSpace(stdout) != "5" {
		t.Fatalf("status %d, stdout %q, stderr %q", res.Status, stdout, errs)
	}
	if pr := proc(t, res, "fetch"); len(pr.Attempts) != 2 {
		t.Errorf("fetch ran %d times", len(pr.Attempts)+1)
	}
	if pr := proc(t, res, "alert"); !pr.NotNeeded {
		t.Errorf("alert: %+v", pr)
	}
	g = loadFile(t, "../../pipelines/retry.yaml", "out="+out, "fail=9")
	stdout, _, res = runGraph(t, g)
	if res.Status != 22 || stdout != "the download failed; the mirror is down\n" || len(proc(t, res, "fetch").Attempts) != 3 {
		t.Errorf("failing: status %d, stdout %q", res.Status, stdout)
	}
}
