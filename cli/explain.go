package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/explain"
	"github.com/tubo-pipes/tubo/lookup"
	"github.com/tubo-pipes/tubo/plan"
)

// explainOptions tells explain what it can know of the tubo that would run
// the plan: this process's own descriptors (a run starts with the same
// runtime), what it inherited, how programs are found. Only a first
// pipeline starts the guardian.
func (a *app) explainOptions(first bool) explain.Options {
	var open []int
	if dir, err := os.Open("/proc/self/fd"); err == nil {
		self := int(dir.Fd())
		names, _ := dir.Readdirnames(-1)
		dir.Close()
		for _, name := range names {
			// The directory's own descriptor was open only while it read.
			if fd, err := strconv.Atoi(name); err == nil && fd != self {
				open = append(open, fd)
			}
		}
	}
	return explain.Options{
		Open:      open,
		Inherited: executor.InheritedFDs(),
		Guardian:  first && executor.Guarded,
		Lookup: func(pr *plan.Proc) (string, error) {
			// The stage's own PATH (a pipeline's path: puts its dirs in
			// front), as the executor looks it up.
			path := os.Getenv("PATH")
			for _, kv := range pr.Env {
				if v, ok := strings.CutPrefix(kv, "PATH="); ok {
					path = v
				}
			}
			return lookup.Program(pr.Argv[0], path, pr.Dir)
		},
	}
}

func (a *app) explainCmd() *cobra.Command {
	var sets []string
	var format string
	c := &cobra.Command{
		Use:   "explain LINE|FILE [--format text|dot|mermaid]",
		Short: "Show the plan without running it: pipes, fd tables after dup2, closes, exec argv",
		Args:  exactArgs(1, "explain needs one quoted line or one pipeline file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			graphs, err := a.graphsOf(args[0], sets)
			if err != nil {
				return err
			}
			for i, g := range graphs {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				var p *plan.Plan
				popt := plan.Options{}
				if sess := a.session(g); sess != nil {
					// The ssh commands as they would run; nothing connects.
					popt.Remote = sess
				}
				if p, err = plan.Build(g, popt); err != nil {
					return err
				}
				switch format {
				case "text":
					if len(graphs) > 1 {
						fmt.Fprintf(a.stdout, "# pipeline %d\n", i+1)
					}
					err = explain.Text(a.stdout, p, a.explainOptions(i == 0))
				case "dot":
					err = explain.DOT(a.stdout, p)
				case "mermaid":
					err = explain.Mermaid(a.stdout, p)
				default:
					return usagef("--format %s: unknown format (text, dot, mermaid)", format)
				}
				if err != nil {
					return err
				}
			}
			if format == "text" {
				return explain.Footer(a.stdout, a.explainOptions(false))
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text, dot or mermaid")
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	a.hostf.register(c)
	return c
}
