package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/render"
	"github.com/tubo-pipes/tubo/runner"
)

func (a *app) runCmd() *cobra.Command {
	var sets []string
	var recordFile string
	c := &cobra.Command{
		Use:   "run FILE [--set NAME=VALUE]…",
		Short: "Run a YAML pipeline file",
		Args:  exactArgs(1, "run needs one pipeline file: tubo run pipelines/primes.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := loadPipeline(args[0], sets)
			if err != nil {
				return err
			}
			a.warn(g)
			start := time.Now()
			p, res, err := a.execGraph(g, a.stdout)
			if err != nil {
				return err
			}
			if recordFile != "" {
				if err := recordRun(recordFile, args[0], sets, g, p, res, start); err != nil {
					return fmt.Errorf("--record: %w", err)
				}
			}
			if res.Status != 0 {
				return a.signals.override(&executor.ExitError{Status: res.Status})
			}
			return a.signals.override(nil)
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	c.Flags().StringVar(&recordFile, "record", "", "write a manifest of the run to `FILE` (hashes of the pipeline, executables, inputs and outputs) for tubo verify")
	return c
}

func (a *app) checkCmd() *cobra.Command {
	var sets []string
	c := &cobra.Command{
		Use:   "check FILE|LINE",
		Short: "Validate a pipeline file (or a shell line) without running anything",
		Args:  exactArgs(1, "check needs one pipeline file or one quoted line"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isFile(args[0]) {
				if err := runner.Check("", args[0]); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "ok")
				return nil
			}
			g, err := loadPipeline(args[0], sets)
			if err != nil {
				return err
			}
			nwarn := a.warn(g)
			procs, fifos, builtins := count(g)
			fmt.Fprintf(a.stdout, "%s: ok: %d processes, %d FIFOs, %d builtin nodes, %d edges%s\n", args[0], procs, fifos, builtins, len(g.Edges), warnings(nwarn))
			return nil
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	return c
}

func (a *app) graphCmd() *cobra.Command {
	var sets []string
	var format string
	c := &cobra.Command{
		Use:   "graph FILE|LINE [--format dot|mermaid]",
		Short: "Draw the expanded process graph as DOT or Mermaid",
		Args:  exactArgs(1, "graph needs one pipeline file or one quoted line"),
		RunE: func(cmd *cobra.Command, args []string) error {
			graphs, err := a.graphsOf(args[0], sets)
			if err != nil {
				return err
			}
			// A line of several pipelines (`a; b && c`) is one drawing,
			// each pipeline a cluster of it.
			name := "tubo"
			if len(graphs) > 0 && graphs[0].Name != "" {
				name = graphs[0].Name
			}
			switch format {
			case "dot":
				err = render.DOTPipelines(a.stdout, name, graphs)
			case "mermaid":
				err = render.MermaidPipelines(a.stdout, name, graphs)
			default:
				return usagef("--format %s: unknown format (dot, mermaid)", format)
			}
			if err != nil {
				return &executor.ExitError{Status: executor.StatusUsage, Err: err}
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "dot", "output `FORMAT`: dot or mermaid")
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	return c
}

// graphsOf loads a pipeline file, or plans a shell line's pipelines.
func (a *app) graphsOf(arg string, sets []string) ([]*graph.Graph, error) {
	if isFile(arg) {
		g, err := loadPipeline(arg, sets)
		if err != nil {
			return nil, err
		}
		return []*graph.Graph{g}, nil
	}
	gs, err := runner.New(runner.Config{Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr}).Pipelines(arg)
	if err != nil {
		return nil, &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	return gs, nil
}

// loadPipeline reads a YAML pipeline; any error in it is bad input (2).
func loadPipeline(path string, sets []string) (*graph.Graph, error) {
	g, err := pipeline.Load(path, pipeline.Options{Set: sets})
	if err != nil {
		return nil, &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	return g, nil
}

// execGraph plans and runs a graph with the observers the flags asked for.
func (a *app) execGraph(g *graph.Graph, stdout *os.File) (*plan.Plan, *executor.Result, error) {
	p, err := plan.Build(g, plan.Options{PipeSize: a.obs.pipeSize})
	if err != nil {
		return nil, nil, &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	// Each stage of a graph gets a process group of its own, so a timeout
	// or kill-rest ends a stage together with its descendants.
	p.OwnGroups = true
	a.obs.stdout = a.stdout
	if err := a.obs.start(a.stderr); err != nil {
		return nil, nil, err
	}
	defer a.obs.close()
	sig := catchSignals()
	a.signals = sig
	a.obs.sig = sig
	defer sig.stop()
	defer catchInfo(a.obs.picture)()
	opt := executor.Options{
		Stdin: a.stdin, Stdout: stdout, Stderr: a.stderr,
		Signals: sig.forward, Grace: a.obs.grace, Trace: a.obs.event,
		SkipProcIO: !a.obs.wantsIO(),
	}
	a.obs.before(p)
	start := time.Now()
	res, err := executor.Run(sig.ctx, p, opt)
	if err != nil {
		return nil, nil, err
	}
	a.obs.after(g, p, res, start, time.Now())
	return p, res, nil
}

func count(g *graph.Graph) (procs, fifos, builtins int) {
	for _, n := range g.Nodes {
		switch n.Kind {
		case graph.Process:
			procs++
		case graph.FIFO:
			fifos++
		case graph.Tee, graph.Merge:
			builtins++
		}
	}
	return
}

func isFile(arg string) bool {
	st, err := os.Stat(arg)
	return err == nil && !st.IsDir()
}

func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s", hint)
		}
		return nil
	}
}
