package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/runner"
)

// runIn runs line with the runner in this process, with stdout and stderr
// in files, and returns them and the status.
func runIn(t *testing.T, dir, line string, cfg runner.Config) result {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	cfg.Stdin, cfg.Stdout, cfg.Stderr = devnull, out, errf
	cfg.Dir = dir
	if cfg.Env == nil {
		cfg.Env = []string{"LC_ALL=C", "PATH=" + fixedPath, "HOME=" + dir}
	}
	if cfg.Self == "" {
		cfg.Self = tubo
	}
	runErr := runner.New(cfg).Run(context.Background(), line)
	code := 0
	if runErr != nil {
		ee, ok := runErr.(*executor.ExitError)
		if !ok {
			t.Fatalf("Run returned %T %v, want *executor.ExitError", runErr, runErr)
		}
		code = ee.ExitCode()
		if ee.Err != nil {
			errf.WriteString(ee.Err.Error() + "\n")
		}
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return result{string(o), string(e), code}
}

// children lists the processes whose parent is this test process, with
// their state letter (Z for a zombie).
func children(t *testing.T) map[int]string {
	t.Helper()
	me := strconv.Itoa(os.Getpid())
	kids := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at ')'.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			kids[pid] = f[0]
		}
	}
	return kids
}

// TestNoZombies runs failing, signalled and early-ending pipelines in this
// process and checks that none of the processes they started is left,
// zombie or alive, and that no goroutine is left behind.
func TestNoZombies(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreTopFunction("github.com/tubo-pipes/tubo/executor.spawner"))
	lines := []struct {
		line string
		code int
	}{
		{`ls | sort | nonexistent_lp`, 127},
		{`yes | head -n 1`, 0},
		{`set -o pipefail; yes | head -n 1`, 141},
		{`sh -c 'kill -9 $$' | cat`, 0},
		{`cat | sh -c 'kill -TERM $$'`, 143},
		{`cat < missing | wc -l`, 0},
		{`(exit 3) | false`, 1},
		{`x=$(yes | head -c 10000 | wc -c); test $x = 10000`, 0},
		{`{ echo a; false; } | sort > out`, 0},
		{`cat <<EOF | head -c 1` + "\n" + strings.Repeat("long line\n", 20000) + "EOF", 0},
		{`exit 4`, 4},
	}
	dir := t.TempDir()
	for _, c := range lines {
		got := runIn(t, dir, c.line, runner.Config{})
		if got.code != c.code {
			t.Errorf("%.40q: status %d, want %d (stderr %q)", c.line, got.code, c.code, got.stderr)
		}
		// Reaping is synchronous: Run returns after every wait.
		for pid, state := range children(t) {
			t.Errorf("%.40q: child %d left behind, state %s", c.line, pid, state)
		}
	}
}

// TestYesHeadEndsPromptly: `yes | head -n 1` ends as soon as head does
// (yes gets SIGPIPE because tubo holds no copy of the pipe's read end).
func TestYesHeadEndsPromptly(t *testing.T) {
	start := time.Now()
	got := runIn(t, t.TempDir(), `yes | head -n 1`, runner.Config{})
	if got.code != 0 || got.stdout != "y\n" {
		t.Fatalf("got %+v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
