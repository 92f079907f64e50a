package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/record"
	"github.com/tubo-pipes/tubo/remote"
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
		Short: "Re-run a recorded pipeline and say which inputs, executables or outputs differ",
		Long: `Re-run a recorded pipeline and say which inputs, executables or outputs differ.

A record is checked before anything runs: the pipeline file must be the
recorded one (same sha256), only the files and programs the pipeline itself
uses are read, and an output on disk whose content is not what the record
says the run wrote is not overwritten without --force.`,
		Args: exactArgs(1, "verify needs one record file, as written by tubo run --record FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := record.Read(args[0])
			if err != nil {
				return &executor.ExitError{Status: executor.StatusUsage, Err: err}
			}
			if m.Pipeline == nil {
				return usagef("%s: only records of pipeline files can be re-run", args[0])
			}
			file := m.Pipeline.Path
			if !filepath.IsAbs(file) && m.Dir != "" {
				file = filepath.Join(m.Dir, file)
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
