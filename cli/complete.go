package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// Values that shell completion (tubo completion bash|zsh|fish) offers for
// flags and arguments, beside the commands and flag names cobra knows.

// completeValues offers fixed values for a flag.
func completeValues(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFlags registers the value completion of tubo's flags: every
// command that has one of them gets it.
func completeFlags(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, f := range map[string]cobra.CompletionFunc{
			"format":    completeValues("dot", "mermaid"),
			"progress":  completeValues("never", "auto", "always"),
			"on-stall":  completeValues("warn", "fail"),
			"ui":        cobra.NoFileCompletions,
			"ui-linger": cobra.NoFileCompletions,
			"set":       completeSet,
		} {
			if c.LocalFlags().Lookup(name) != nil || c == root && c.PersistentFlags().Lookup(name) != nil {
				// An error here is a flag registered twice: nothing to do.
				_ = c.RegisterFlagCompletionFunc(name, f)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "run":
			c.ValidArgsFunction = completeRunArgs
		case "check", "graph", "explain":
			c.ValidArgsFunction = completePipelineFile
		}
	}
}

// yamlFiles completes pipeline files.
func yamlFiles() ([]string, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

func completePipelineFile(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return yamlFiles()
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeRunArgs completes `run FILE STAGE…`: the file, then the names
// of its stages (as declared: a replicated stage is one name).
func completeRunArgs(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return yamlFiles()
	}
	f := completionFile(args[0])
	if f == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	seen := map[string]bool{}
	for _, a := range args[1:] {
		seen[a] = true
	}
	var out []string
	for _, s := range f.Stages {
		if !seen[s.Name] && strings.HasPrefix(s.Name, toComplete) {
			seen[s.Name] = true
			d := ""
			if s.Description != nil {
				d = s.Description.Text
			}
			out = append(out, s.Name+describe(d))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeSet completes --set NAME=: the parameters the pipeline file on
// the line declares, with their descriptions.
func completeSet(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 || strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	f := completionFile(args[0])
	if f == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, p := range f.Params {
		if strings.HasPrefix(p.Name, toComplete) {
			out = append(out, p.Name+"="+describe(p.Description))
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// describe is a candidate's description, after the tab cobra reads it at.
func describe(d string) string {
	if d == "" {
		return ""
	}
	d, _, _ = strings.Cut(d, "\n")
	return "\t" + d
}

// completionFile reads the declarations of the pipeline file being
// completed, without expanding anything (a param without a default is
// still listed); nil if it cannot be read at all.
func completionFile(path string) *ast.Pipeline {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f, _ := ast.Parse(data) // what could be read, despite errors elsewhere
	return f
}
