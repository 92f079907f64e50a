package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/parser/pipeline"
)

// runFlags are the flags of tubo run.
type runFlags struct {
	sets   []string
	record string
	jobs   int
}

func (a *app) runCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run FILE [--set NAME=VALUE]…",
		Short: "Run a YAML pipeline file",
		Args:  exactArgs(1, "run needs one pipeline file: tubo run pipelines/primes.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.jobs < 0 {
				return usagef("--jobs %d: want a number of processes ≥ 1", f.jobs)
			}
			g, err := a.loadPipelineOpts(args[0], pipeline.Options{Set: f.sets, Jobs: f.jobs})
			if err != nil {
				return err
			}
			a.warn(g)
			a.warnTerminal(g)
			start := time.Now()
			p, res, err := a.execGraph(g, a.stdout)
			if err != nil {
				return err
			}
			if f.record != "" {
				if err := recordRun(f.record, args[0], f.sets, g, p, res, start); err != nil {
					return fmt.Errorf("--record: %w", err)
				}
			}
			if res.Status != 0 {
				return a.signals.override(&executor.ExitError{Status: res.Status})
			}
			return a.signals.override(nil)
		},
	}
	c.Flags().StringArrayVar(&f.sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	a.hostf.register(c)
	c.Flags().StringVar(&f.record, "record", "", "write a manifest of the run to `FILE` (hashes of the pipeline, executables, inputs and outputs) for tubo verify")
	c.Flags().IntVarP(&f.jobs, "jobs", "j", 0, "run at most `N` copies of each foreach or replicated stage at once (replaces the file's max_parallel)")
	return c
}
