package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/remote"
	"github.com/tubo-pipes/tubo/render"
	"github.com/tubo-pipes/tubo/runner"
	"github.com/tubo-pipes/tubo/validate"
)

func (a *app) checkCmd() *cobra.Command {
	var sets []string
	var script string
	c := &cobra.Command{
		Use:   "check FILE|LINE | check -f SCRIPT",
		Short: "Validate a pipeline file, a shell line or a script without running anything",
		Args: func(cmd *cobra.Command, args []string) error {
			if script != "" {
				return exactArgs(0, "check -f SCRIPT takes no other argument")(cmd, args)
			}
			return exactArgs(1, "check needs one pipeline file, one quoted line, or -f SCRIPT")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if script != "" {
				src, err := readScript(script)
				if err != nil {
					return err
				}
				if err := runner.Check(script, src); err != nil {
					return &executor.ExitError{Status: executor.StatusUsage, Err: err}
				}
				fmt.Fprintf(a.stdout, "%s: ok\n", script)
				return nil
			}
			file, err := pipelineFile(args[0])
			if err != nil {
				return err
			}
			if !file {
				if err := runner.Check("", args[0]); err != nil {
					return &executor.ExitError{Status: executor.StatusUsage, Err: err}
				}
				fmt.Fprintln(a.stdout, "ok")
				return nil
			}
			g, err := a.loadPipeline(args[0], sets)
			if err != nil {
				return err
			}
			nwarn := a.warn(g)
			for _, w := range validate.CycleWarnings(g) {
				fmt.Fprintf(a.stderr, "tubo: warning: %s\n", w)
				nwarn++
			}
			procs, fifos, builtins := count(g)
			fmt.Fprintf(a.stdout, "%s: ok: %d processes, %d FIFOs, %d builtin nodes, %d edges%s\n", args[0], procs, fifos, builtins, len(g.Edges), warnings(nwarn))
			if info, err := pipeline.Describe(args[0]); err == nil {
				info.WriteList(a.stdout)
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	a.hostf.register(c)
	c.Flags().StringVarP(&script, "file", "f", "", "check the shell script `SCRIPT` (as tubo -f would run it)")
	return c
}

// readScript reads the script of -f; a missing one is bad input (2).
func readScript(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", usagef("%s: no such file", path)
	} else if err != nil {
		return "", usagef("%v", err)
	}
	return string(b), nil
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
	a.hostf.register(c)
	return c
}

// graphsOf loads a pipeline file, or plans a shell line's pipelines.
func (a *app) graphsOf(arg string, sets []string) ([]*graph.Graph, error) {
	file, err := pipelineFile(arg)
	if err != nil {
		return nil, err
	}
	if file {
		g, err := a.loadPipeline(arg, sets)
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

// loadPipeline reads a YAML pipeline with the command line's hosts; any
// error in it is bad input (2).
func (a *app) loadPipeline(path string, sets []string) (*graph.Graph, error) {
	hosts, err := a.hostf.hosts()
	if err != nil {
		return nil, err
	}
	return loadPipelineWith(path, pipeline.Options{Set: sets, Hosts: hosts})
}

// loadPipelineOpts is a.loadPipeline with more load options.
func (a *app) loadPipelineOpts(path string, opt pipeline.Options) (*graph.Graph, error) {
	hosts, err := a.hostf.hosts()
	if err != nil {
		return nil, err
	}
	opt.Hosts = hosts
	return loadPipelineWith(path, opt)
}

// loadPipeline reads a YAML pipeline; any error in it is bad input (2).
func loadPipeline(path string, sets []string) (*graph.Graph, error) {
	return loadPipelineWith(path, pipeline.Options{Set: sets})
}

// loadPipelineWith is loadPipeline with every load option.
func loadPipelineWith(path string, opt pipeline.Options) (*graph.Graph, error) {
	if _, err := pipelineFile(path); err != nil {
		return nil, err
	}
	g, err := pipeline.Load(path, opt)
	if err != nil {
		return nil, &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	return g, nil
}

// execGraph plans and runs a graph with the observers the flags asked for.
func (a *app) execGraph(g *graph.Graph, stdout *os.File) (*plan.Plan, *executor.Result, error) {
	p, sess, err := a.planGraph(g)
	if err != nil {
		return nil, nil, err
	}
	res, err := a.execPlan(g, p, sess, stdout)
	if err != nil {
		return nil, nil, err
	}
	return p, res, nil
}

// planGraph plans a graph as execGraph runs it; sess is its hosts' session
// (nil without remote stages).
func (a *app) planGraph(g *graph.Graph) (*plan.Plan, *remote.Session, error) {
	sess := a.session(g)
	popt := plan.Options{PipeSize: a.obs.pipeSize}
	if sess != nil {
		popt.Remote = sess
	}
	p, err := plan.Build(g, popt)
	if err != nil {
		return nil, nil, &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	// Each stage of a graph gets a process group of its own, so a timeout
	// or kill-rest ends a stage together with its descendants.
	p.OwnGroups = true
	return p, sess, nil
}

// execPlan runs what planGraph planned.
func (a *app) execPlan(g *graph.Graph, p *plan.Plan, sess *remote.Session, stdout *os.File) (*executor.Result, error) {
	a.obs.stdout = a.stdout
	if err := a.obs.start(a.stderr); err != nil {
		return nil, err
	}
	defer a.obs.close()
	sig := catchSignals()
	a.signals = sig
	a.obs.sig = sig
	defer sig.stop()
	defer catchInfo(a.obs.picture)()
	sig.jobControl(false)
	opt := executor.Options{
		Stdin: a.stdin, Stdout: stdout, Stderr: a.stderr,
		Signals: sig.forward, Grace: a.obs.grace, Trace: a.obs.event,
		SkipProcIO: !a.obs.wantsIO(),
		StderrTail: a.obs.stderrTail(),
		Tag:        a.tag,
	}
	if sess != nil {
		if a.obs.tracer != nil {
			// --trace shows the master connections too, tubo's
			// children like the stages.
			sess.Trace = a.obs.tracer.event
		}
		// Every host answers (in parallel) before any stage starts.
		if err := sess.Connect(sig.ctx); err != nil {
			// A Ctrl-C while connecting ends tubo as 128+N.
			return nil, sig.override(connectError(err))
		}
		defer sess.Close()
		opt.Remote = sess
	}
	a.obs.before(p)
	start := time.Now()
	res, err := executor.Run(sig.ctx, p, opt)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	if sess != nil {
		// The hosts clean up (and say so) before the report is written.
		sess.Close()
	}
	logTails(g, res, a.obs.stderrTail())
	a.obs.after(g, p, res, start, end)
	return res, nil
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

// pipelineFile says whether arg names a pipeline file rather than a shell
// line: an existing file, or a name ending in .yaml or .yml. A missing
// one is an error (with the closest pipeline file of its directory), not
// a shell line that would check as "ok" and run nothing.
func pipelineFile(arg string) (bool, error) {
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		return true, nil
	}
	if strings.ContainsAny(arg, " \t\n|;&<>()$`'\"") || !(strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")) {
		return false, nil
	}
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return true, usagef("%s: is a directory, not a pipeline file", arg)
	}
	hint := ""
	dir := filepath.Dir(arg)
	if names, err := filepath.Glob(filepath.Join(dir, "*.y*ml")); err == nil {
		var bases []string
		for _, n := range names {
			bases = append(bases, filepath.Base(n))
		}
		if s := ast.Suggest(filepath.Base(arg), bases); s != "" {
			hint = "; did you mean " + filepath.Join(dir, s) + "?"
		}
	}
	return true, usagef("%s: no such file or directory%s", arg, hint)
}

func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s", hint)
		}
		return nil
	}
}
