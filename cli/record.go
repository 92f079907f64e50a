package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/record"
	"github.com/tubo-pipes/tubo/remote"
	"github.com/tubo-pipes/tubo/runner"
)

// recordRun writes the manifest of a finished `tubo run` to path. The
// params are the graph's as resolved: the --set values and the defaults of
// the others, so that verify re-runs with the same values even if it
// cannot tell a default from a choice.
func recordRun(path, file string, sets []string, g *graph.Graph, p *plan.Plan, res *executor.Result, start time.Time) error {
	params := setsMap(sets)
	for _, pr := range g.Params {
		params[pr.Name] = pr.Value
	}
	m, err := record.FromRun(g, p, res, record.Source{
		Version: Version, PipelineFile: file, Params: params, Time: start,
	})
	if err != nil {
		return err
	}
	return record.Write(path, m)
}

func setsMap(sets []string) map[string]string {
	m := map[string]string{}
	for _, s := range sets {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return m
}

func (a *app) verifyCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "verify RECORD",
		Short: "Re-run a recorded pipeline, line or script and say which inputs, executables or outputs differ",
		Long: `Re-run a recorded pipeline and say which inputs, executables or outputs differ.

A record is checked before anything runs: the pipeline file (or script)
must be the recorded one (same sha256), only the files and programs the
pipeline itself uses are read, and an output on disk whose content is not
what the record says the run wrote is not overwritten without --force.
Paths are found relative to where the record is, so a record kept in its
project still verifies after the project moved.`,
		Args: exactArgs(1, "verify needs one record file, as written by tubo run --record FILE or tubo --record FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := record.Read(args[0])
			if err != nil {
				return &executor.ExitError{Status: executor.StatusUsage, Err: err}
			}
			file := ""
			if m.Pipeline != nil {
				file = m.Abs(m.Pipeline.Path)
			}
			var sets []string
			for k, v := range m.Params {
				sets = append(sets, k+"="+v)
			}
			var sess *remote.Session
			rr := record.Rerun{
				Force: force,
				Plan: func() (*graph.Graph, *plan.Plan, error) {
					g, err := loadPipeline(file, sets)
					if err != nil {
						return nil, nil, err
					}
					p, s, err := a.planGraph(g)
					sess = s
					return g, p, err
				},
				Shell: func() ([]record.Run, int, error) {
					ctx := cmd.Context()
					if ctx == nil {
						ctx = context.Background()
					}
					return a.rerunShell(ctx, m)
				},
				Run: func(g *graph.Graph, p *plan.Plan) (*executor.Result, error) {
					// The re-run's own output is not the point: only the
					// files it writes are compared.
					null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
					if err != nil {
						return nil, err
					}
					defer null.Close()
					return a.execPlan(g, p, sess, null)
				},
			}
			d, err := record.Verify(m, rr)
			var refused *record.RefusedError
			if errors.As(err, &refused) {
				d.Write(a.stdout)
				return &executor.ExitError{Status: executor.StatusFailure, Err: fmt.Errorf("%s: %v", args[0], err)}
			}
			if err != nil {
				return err
			}
			if d.Empty() {
				fmt.Fprintf(a.stdout, "%s: the run is reproduced: same pipeline, inputs, executables, statuses and outputs\n", args[0])
				return nil
			}
			d.Write(a.stdout)
			return &executor.ExitError{Status: executor.StatusFailure}
		},
	}
	c.Flags().BoolVar(&force, "force", false, "re-run even if that overwrites an output whose content is not what the record says the run wrote")
	return c
}

// shellRecord collects the pipelines a shell line or script runs, for
// --record.
type shellRecord struct {
	src  record.Source
	runs []record.Run
	// dir is the shell's directory now (Runner.Dir), set once the
	// runner exists.
	dir func() string
}

// runOf is one pipeline as the shell ran it, where it ran it.
func (rec *shellRecord) runOf(g *graph.Graph, p *plan.Plan, res *executor.Result) record.Run {
	r := record.Run{G: g, P: p, Res: res}
	if rec.dir != nil {
		r.Dir = rec.dir()
	}
	return r
}

// recordShell makes cfg report every pipeline it runs to a record of the
// line (src) or of the script cfg.Name.
func (a *app) recordShell(cfg *runner.Config, src string, line bool, args []string) *shellRecord {
	rec := &shellRecord{src: record.Source{Version: Version, Args: cfg.Args, Time: time.Now()}}
	if line {
		rec.src.Shell = src
	} else {
		rec.src.Script = cfg.Name
	}
	after := cfg.AfterRun
	cfg.AfterRun = func(g *graph.Graph, p *plan.Plan, res *executor.Result, start, end time.Time) {
		rec.runs = append(rec.runs, rec.runOf(g, p, res))
		if after != nil {
			after(g, p, res, start, end)
		}
	}
	return rec
}

func (rec *shellRecord) write(path string, status int) error {
	m, err := record.FromRuns(rec.runs, status, rec.src)
	if err != nil {
		return err
	}
	return record.Write(path, m)
}

// exitStatus is the status tubo exits with for err, as exitCode gives
// it, without printing anything.
func exitStatus(err error) int {
	var ee *executor.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return int(executor.StatusUsage)
}

// rerunShell runs a recorded line or script again, in the recorded
// directory, with its output thrown away, and returns every pipeline it
// ran and its exit status.
func (a *app) rerunShell(ctx context.Context, m *record.Manifest) ([]record.Run, int, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, err
	}
	defer null.Close()
	rec := &shellRecord{}
	cfg := runner.Config{
		Stdin: null, Stdout: null, Stderr: a.stderr, Dir: m.Dir, Args: m.Args,
		AfterRun: func(g *graph.Graph, p *plan.Plan, res *executor.Result, _, _ time.Time) {
			rec.runs = append(rec.runs, rec.runOf(g, p, res))
		},
	}
	src := m.Shell
	if m.Script != nil {
		cfg.Name = m.Abs(m.Script.Path)
		b, err := os.ReadFile(cfg.Name)
		if err != nil {
			return nil, 0, err
		}
		src = string(b)
	}
	r := runner.New(cfg)
	rec.dir = r.Dir
	err = r.RunScript(ctx, src)
	return rec.runs, exitStatus(err), nil
}
