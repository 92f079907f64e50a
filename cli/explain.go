package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/explain"
	"github.com/tubo-pipes/tubo/plan"
)

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
					err = explain.Text(a.stdout, p)
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
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text, dot or mermaid")
	c.Flags().StringArrayVar(&sets, "set", nil, "override a parameter: `NAME=VALUE` (repeatable)")
	a.hostf.register(c)
	return c
}
