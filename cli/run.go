package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/cache"
	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/explain"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/plan"
)

// runFlags are the flags of tubo run.
type runFlags struct {
	sets   []string
	record string
	jobs   int
	list   bool
	dryRun bool
	force  []string // "*" for every stage
	tag    bool
}

func (a *app) runCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run FILE [STAGE…] [--set NAME=VALUE]…",
		Short: "Run a YAML pipeline file (or only some stages and what they need)",
		Long: `Run a YAML pipeline file. Naming stages after the file runs those stages
and everything they need (what feeds them, what they run after), nothing
else. tubo run FILE --help lists the file's params and stages.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("run needs one pipeline file: tubo run pipelines/primes.yaml")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.jobs < 0 {
				return usagef("--jobs %d: want a number of processes ≥ 1", f.jobs)
			}
			if f.list {
				return a.listPipeline(args[0])
			}
			g, err := a.loadPipelineOpts(args[0], pipeline.Options{Set: f.sets, Jobs: f.jobs, Targets: args[1:]})
			if err != nil {
				return err
			}
			c, err := a.prepareCache(args[0], g, f.force)
			if err != nil {
				return err
			}
			defer c.Close()
			if f.dryRun {
				return a.dryRun(g, c)
			}
			a.warn(g)
			a.warnTerminal(g)
			a.tag = f.tag
			if err := startLogs(g); err != nil {
				return err
			}
			start := time.Now()
			p, res, err := a.execGraph(g, a.stdout)
			if err != nil {
				return err
			}
			if err := c.Record(res); err != nil {
				fmt.Fprintf(a.stderr, "tubo: warning: %v (the next run runs these stages again)\n", err)
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
	c.Flags().BoolVar(&f.list, "list", false, "list the file's stages and params, with their descriptions, and run nothing")
	c.Flags().BoolVarP(&f.dryRun, "dry-run", "n", false, "print every process's argv, environment, directory and descriptors, and run nothing")
	c.Flags().StringArrayVar(&f.force, "force", nil, "run stages whose outputs are up to date anyway: all of them, or `STAGE` with --force=STAGE (repeatable)")
	c.Flags().Lookup("force").NoOptDefVal = "*"
	c.Flags().BoolVar(&f.tag, "tag", false, "prefix every line a stage writes to stderr with its name (`esclavo[1]: …`), whole lines only")
	// tubo run FILE --help is the file's own help: its params and stages.
	defaultHelp := c.HelpFunc()
	c.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		rest := cmd.Flags().Args()
		if cmd != c || len(rest) == 0 {
			defaultHelp(cmd, args)
			return
		}
		if err := a.pipelineHelp(cmd, rest[0]); err != nil {
			a.printErr(err)
		}
	})
	return c
}

// listPipeline prints a file's stages and params (tubo run FILE --list).
func (a *app) listPipeline(path string) error {
	if _, err := pipelineFile(path); err != nil {
		return err
	}
	info, err := pipeline.Describe(path)
	if err != nil {
		return &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	info.WriteList(a.stdout)
	return nil
}

// pipelineHelp is tubo run FILE --help: how to run this file.
func (a *app) pipelineHelp(cmd *cobra.Command, path string) error {
	if _, err := pipelineFile(path); err != nil {
		return err
	}
	info, err := pipeline.Describe(path)
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "Usage: tubo run %s [STAGE…] [--set NAME=VALUE]… [flags]\n", path)
	if info.Description != "" {
		fmt.Fprintf(w, "\n%s\n", info.Description)
	}
	fmt.Fprintln(w)
	if len(info.Params) == 0 {
		fmt.Fprintln(w, "The file has no params.")
	}
	info.WriteList(w)
	fmt.Fprintf(w, "\nNamed stages run with what they need, and nothing else.\n\nFlags:\n%s", cmd.LocalFlags().FlagUsages())
	return nil
}

// dryRun prints the plan of a run as tubo explain does (every process's
// argv, environment additions, directory and descriptor table, in the
// order they would start) and runs nothing.
func (a *app) dryRun(g *graph.Graph, c *cache.Run) error {
	if c != nil && len(c.Cached)+len(c.Unneeded) > 0 {
		// What would not start is not planned: say so, and leave it out.
		fmt.Fprintf(a.stdout, "cached (outputs up to date): %s\n", strings.Join(c.Cached, ", "))
		if len(c.Unneeded) > 0 {
			fmt.Fprintf(a.stdout, "not needed (they only feed cached stages): %s\n", strings.Join(c.Unneeded, ", "))
		}
		drop := map[string]bool{}
		for _, n := range g.Nodes {
			drop[n.ID] = n.Cached
		}
		g.Drop(drop)
	}
	popt := plan.Options{PipeSize: a.obs.pipeSize}
	if sess := a.session(g); sess != nil {
		popt.Remote = sess // the ssh commands as they would run; nothing connects
	}
	p, err := plan.Build(g, popt)
	if err != nil {
		return &executor.ExitError{Status: executor.StatusUsage, Err: err}
	}
	p.OwnGroups = true // as execGraph runs it
	return explain.Text(a.stdout, p, a.explainOptions(true))
}

// prepareCache decides which stages are up to date (package cache); nil
// when no stage declares outputs. The caller closes it.
func (a *app) prepareCache(path string, g *graph.Graph, force []string) (*cache.Run, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	opt := cache.Options{
		Dir:  filepath.Dir(abs),
		Name: filepath.Base(abs),
		Wait: func(lock string) {
			fmt.Fprintf(a.stderr, "tubo: waiting for another run of %s to finish (it holds %s)\n", path, lock)
		},
	}
	var names []string
	known := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Kind == graph.Process {
			known[n.ID], known[n.Name()] = true, true
			names = append(names, n.Name())
		}
	}
	for _, s := range force {
		switch {
		case s == "*":
			opt.Force = true
		case !known[s]:
			return nil, usagef("--force=%s: no stage named %q%s", s, s, ast.DidYouMean(s, names))
		default:
			opt.ForceStages = append(opt.ForceStages, s)
		}
	}
	c, err := cache.Prepare(g, opt)
	if err != nil {
		return nil, &executor.ExitError{Status: executor.StatusFailure, Err: err}
	}
	return c, nil
}

// startLogs makes the file's logs: directory and starts each stage's log
// empty: the stages append to it, so a retried stage keeps every attempt.
func startLogs(g *graph.Graph) error {
	if g.LogDir == "" {
		return nil
	}
	if err := os.MkdirAll(g.LogDir, 0o755); err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	for _, n := range g.Nodes {
		if n.Kind == graph.File && n.Log {
			if err := os.WriteFile(n.Path, nil, 0o644); err != nil {
				return fmt.Errorf("logs: %w", err)
			}
		}
	}
	return nil
}

// logTails gives the report the end of each stage's log (logs: DIR) when
// the stage wrote there and not to tubo's stderr: "why it failed" is then
// in the report too, not only in the file.
func logTails(g *graph.Graph, res *executor.Result, max int) {
	if g.LogDir == "" || max <= 0 {
		return
	}
	logOf := map[string]string{}
	for _, e := range g.Edges {
		if n := g.Node(e.To.Node); n != nil && n.Log {
			logOf[e.From.Node] = n.Path
		}
	}
	for _, pr := range res.Procs {
		path := logOf[pr.Node.ID]
		if path == "" || pr.StderrTail != "" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		st, _ := f.Stat()
		off := int64(0)
		if st != nil && st.Size() > int64(max) {
			off = st.Size() - int64(max)
		}
		buf := make([]byte, max)
		n, _ := f.ReadAt(buf, off)
		f.Close()
		s := string(buf[:n])
		if off > 0 {
			// The first line kept is the end of a longer one.
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
			}
		}
		pr.StderrTail = strings.ToValidUTF8(s, "\uFFFD")
	}
}
