package cli

import (
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
)

// recordRun writes the manifest of a finished `tubo run` to path.
func recordRun(path, file string, sets []string, g *graph.Graph, p *plan.Plan, res *executor.Result, start time.Time) error {
	m, err := record.FromRun(g, p, res, record.Source{
		Version: Version, PipelineFile: file, Params: setsMap(sets), Time: start,
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
	return &cobra.Command{
		Use:   "verify RECORD",
		Short: "Re-run a recorded pipeline and say which inputs, executables or outputs differ",
		Args:  exactArgs(1, "verify needs one record file, as written by tubo run --record FILE"),
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
			rerun := func() (*graph.Graph, *plan.Plan, *executor.Result, error) {
				g, err := loadPipeline(file, sets)
				if err != nil {
					return nil, nil, nil, err
				}
				// The re-run's own output is not the point: only the files
				// it writes are compared.
				null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					return nil, nil, nil, err
				}
				defer null.Close()
				p, res, err := a.execGraph(g, null)
				return g, p, res, err
			}
			d, err := record.Verify(m, rerun)
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
}
