// Package cli is tubo's command line: it parses flags with cobra, reads the
// pipeline (a shell line, a script, or a YAML file), and hands it to the
// runner or the executor. main is only os.Exit(cli.Main(...)).
package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/progress"
	"github.com/tubo-pipes/tubo/runner"
)

// Version is set at build time with -ldflags "-X …/cli.Version=…".
var Version = "0.1.0-dev"

// Main runs tubo with the given arguments (without the program name) and
// returns the exit status.
func Main(args []string, stdin, stdout, stderr *os.File) int {
	if err := pollerReady(); err != nil {
		fmt.Fprintf(stderr, "tubo: %v\n", err)
		return 2
	}
	if len(args) > 0 && args[0] == executor.GuardArg {
		return executor.GuardMain()
	}
	if len(args) > 0 && args[0] == runner.StageArg {
		// A shell stage: tubo re-executed to run a compound command,
		// function or builtin of a pipeline (runner/bridge.go).
		return runner.StageMain(args[1:], stdin, stdout, stderr)
	}
	// Every run of tubo has a guardian (executor/guard.go).
	executor.Guarded = true
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	if shellInvocation(root, args) {
		// sh's command line (-c LINE, -e, +x, SCRIPT ARG…): read by
		// runShell, which hands tubo's long options to cobra's flag set.
		// The subcommands are not built: a shell line is tubo's most
		// frequent run, and their flag sets cost more than the line.
		return a.exitCode(a.runShell(root, uiArgs(root, args)))
	}
	a.addSubcommands(root, args)
	root.SetArgs(uiArgs(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	return a.exitCode(err)
}

// app holds what every command shares: stdio and the global flags.
type app struct {
	stdin, stdout, stderr *os.File

	obs     observe
	hostf   hostFlags
	signals *signals
	tag     bool   // tubo run --tag: stage names before stderr lines
	record  string // tubo --record FILE 'LINE' (or -f SCRIPT): the run's record

	subsAdded bool // addSubcommands has run: root has run, check, graph, …
}

// usageError marks an error in how tubo was called (status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tubo [options] ['LINE' | SCRIPT [ARG…] | -c LINE [ARG0 ARG…]]",
		Short: "A POSIX shell whose every pipeline is a real process graph; YAML pipelines too",
		Long: `tubo is a POSIX shell (with the bash extensions scripts use every day)
whose every pipeline is a real process graph: each stage is forked and
exec'd with its descriptors wired by pipe and dup2, data flows through
kernel pipes, and every child is waited on, reaped and reported. It also
runs pipelines declared in YAML files.

  tubo 'ls | sort'              run a shell line
  tubo -c 'LINE' [ARG0 ARG…]    the same, sh style
  tubo script.sh [ARG…]         run a script, as sh script.sh does
  tubo -f script.sh [ARG…]      the same (for #! lines: #!/usr/bin/env -S tubo -f)
  tubo < script.sh              commands from stdin, a line at a time
  tubo run pipelines/primes.yaml --set hi=5000
                                run a YAML process graph
  tubo check FILE               validate a YAML pipeline without running it
  tubo graph FILE               draw the expanded graph (DOT or Mermaid)

Shell options are sh's: -e -u -x -v -n -f -C -a -b -m (and + to turn one
off), -o NAME and +o NAME (pipefail, noclobber, …), -O NAME for bash's
shopt, -s to read commands from stdin, -i for an interactive shell.

With no arguments tubo reads commands from stdin; on a terminal it prompts
for them, keeps variables and the directory from line to line, and gives
each pipeline the terminal while it runs.

When nothing moves (no stage uses CPU or moves a byte) for --stall-after
(10s), tubo prints who waits on what, from /proc, and goes on (or ends the
run with status 124 under --on-stall fail). SIGQUIT or SIGUSR1 sent to a
running tubo (kill -QUIT PID) prints the same live picture of the graph —
every stage's state, what it is blocked on, bytes per edge so far — and
the run carries on.`,
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          a.runShell,
	}
	a.obs.flags(root)
	root.Flags().StringVar(&a.record, "record", "", "write a record of the line's or script's run to `FILE` (every pipeline's processes, executables, inputs and outputs, hashed) for tubo verify")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	return root
}

// subcommands are tubo's commands beside the shell, by name, each built
// only when a command line needs it: shellInvocation tells `tubo run FILE`
// from a shell line by these names alone (TestSubcommandNames keeps each
// name equal to what its function builds).
var subcommands = []subcommand{
	{"run", (*app).runCmd},
	{"check", (*app).checkCmd},
	{"graph", (*app).graphCmd},
	{"explain", (*app).explainCmd},
	{"verify", (*app).verifyCmd},
	{"convert", (*app).convertCmd},
}

type subcommand struct {
	name  string                    // as the command line gives it
	build func(*app) *cobra.Command // makes it, flags included
}

// isSubcommand reports whether word names one of tubo's subcommands.
func isSubcommand(word string) bool {
	return slices.ContainsFunc(subcommands, func(s subcommand) bool { return s.name == word })
}

// addSubcommands builds into root, once, the subcommands a command line
// that is not a shell invocation (or the shell's --help) needs. A line
// that starts with a subcommand's name (tubo run FILE …) gets that one
// command and not cobra's completion command, which only help and the
// completion requests reach; anything else (help, completion,
// __complete, an unknown name that needs suggestions) gets them all.
// The flags' value completion is registered only for cobra's completion
// requests (__complete), the only runs that read it.
func (a *app) addSubcommands(root *cobra.Command, args []string) {
	if a.subsAdded {
		return
	}
	a.subsAdded = true
	for _, s := range subcommands {
		if len(args) > 0 && args[0] == s.name {
			root.AddCommand(s.build(a))
			root.CompletionOptions.DisableDefaultCmd = true
			return
		}
	}
	for _, s := range subcommands {
		root.AddCommand(s.build(a))
	}
	if isCompletion(args) {
		completeFlags(root)
	}
}

// isCompletion reports whether args are one of cobra's completion
// requests, which the scripts of `tubo completion SHELL` send.
func isCompletion(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// runnerConfig sets up a runner from the flags; the caller adds the
// source's name, arguments and signal handling.
func (a *app) runnerConfig() (runner.Config, error) {
	if a.obs.progress == progress.Auto {
		// A shell line may run an interactive program on the terminal
		// (less, vi): a redrawn progress area would write over it. Ask
		// for it with --progress=always.
		a.obs.progress = progress.Never
	}
	a.obs.stdout = a.stdout
	if err := a.obs.start(a.stderr); err != nil {
		return runner.Config{}, err
	}
	return runner.Config{
		Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr,
		TTY:        controllingTTY(a.stdin),
		Trace:      a.obs.event,
		PipeSize:   a.obs.pipeSize,
		Grace:      a.obs.grace,
		SkipProcIO: !a.obs.wantsIO(),
		StderrTail: a.obs.stderrTail(),
		BeforeRun:  a.obs.before,
		AfterRun:   a.obs.after,
	}, nil
}

// exitCode turns the error a command returned into tubo's exit status and
// prints it, as sh would: "tubo: message".
func (a *app) exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *executor.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			a.printErr(ee.Err)
		}
		return ee.ExitCode()
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		a.printErr(err)
		return int(executor.StatusUsage)
	}
	a.printErr(err)
	return int(executor.StatusFailure)
}

func (a *app) printErr(err error) {
	msg := strings.TrimRight(err.Error(), "\n")
	fmt.Fprintf(a.stderr, "tubo: %s\n", msg)
}

// controllingTTY returns stdin when it is a terminal whose foreground group
// is tubo's own, so the pipeline can be given the terminal; nil otherwise.
func controllingTTY(stdin *os.File) *os.File {
	if stdin == nil || !term.IsTerminal(int(stdin.Fd())) {
		return nil
	}
	if !isForeground(stdin) {
		return nil
	}
	return stdin
}
