package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/convert"
	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/parser/pipeline"
)

func (a *app) convertCmd() *cobra.Command {
	var sets []string
	var script string
	c := &cobra.Command{
		Use:   "convert 'LINE' | convert -f SCRIPT | convert FILE.yaml",
		Short: "Print the pipeline file of a shell line, or the shell line of a pipeline file",
		Long: `tubo convert 'LINE' prints the pipeline file that does what the line does:
a stage per command, redirections as in-place files, here-documents as
stdin data, && and ; as after:. A command that needs the shell at run time
($VAR, globs, 2>&1, a loop) becomes a shell: stage with its own text.

tubo convert FILE.yaml prints the shell line of a file whose graph is one
linear pipeline with files, and says why not otherwise.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if script != "" {
				return exactArgs(0, "convert -f SCRIPT takes no other argument")(cmd, args)
			}
			return exactArgs(1, "convert needs one quoted line, one pipeline file, or -f SCRIPT")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, src := "", ""
			if script != "" {
				var err error
				if src, err = readScript(script); err != nil {
					return err
				}
				name = script
			} else {
				file, err := pipelineFile(args[0])
				if err != nil {
					return err
				}
				if file {
					// The programs and input files need not be here:
					// the line may run elsewhere.
					g, err := a.loadPipelineOpts(args[0], pipeline.Options{Set: sets, SkipLookup: true})
					if err != nil {
						return err
					}
					line, notes, err := convert.ToLine(g)
					if err != nil {
						return &executor.ExitError{Status: executor.StatusUsage, Err: fmt.Errorf("%s: no shell line does the same:%w", args[0], err)}
					}
					for _, n := range notes {
						fmt.Fprintf(a.stderr, "tubo: note: %s\n", n)
					}
					fmt.Fprintln(a.stdout, line)
					return nil
				}
				src = args[0]
			}
			out, err := convert.FromLine(name, src)
			if err != nil {
				return &executor.ExitError{Status: executor.StatusUsage, Err: err}
			}
			fmt.Fprint(a.stdout, out)
			return nil
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "a parameter of the pipeline file: `NAME=VALUE` (repeatable)")
	c.Flags().StringVarP(&script, "file", "f", "", "convert the shell script `SCRIPT`")
	return c
}
