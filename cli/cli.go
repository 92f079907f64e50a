// Package cli is tubo's command line: it parses flags with cobra, reads the
// pipeline (a shell line, a script, or a YAML file), and hands it to the
// runner or the executor. main is only os.Exit(cli.Main(...)).
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/progress"
	"github.com/tubo-pipes/tubo/runner"
)

// Version is set at build time with -ldflags "-X …/cli.Version=…".
var Version = "0.1.0-dev"

// setGuardPath tells the executor once where tubo is, to start its
// guardian; Main may run many times in one process (the tests do).
var setGuardPath sync.Once

// Main runs tubo with the given arguments (without the program name) and
// returns the exit status.
func Main(args []string, stdin, stdout, stderr *os.File) int {
	if len(args) > 0 && args[0] == executor.GuardArg {
		return executor.GuardMain()
	}
	setGuardPath.Do(func() {
		if exe, err := os.Executable(); err == nil {
			executor.GuardPath = exe
		}
	})
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
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

	command string // -c
	file    string // -f
	errexit bool   // -e
	options []string
	obs     observe
	hostf   hostFlags
	signals *signals
	tag     bool // tubo run --tag: stage names before stderr lines
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
		Use:   "tubo [flags] ['LINE' | -c LINE | -f FILE]",
		Short: "Run shell lines and YAML pipelines as real process graphs",
		Long: `tubo runs pipelines as real process graphs: every stage is forked and
exec'd with its descriptors wired by pipe and dup2, data flows through
kernel pipes, and every child is waited on, reaped and reported.

  tubo 'ls | sort'              run a shell-style line
  tubo -c 'LINE' [ARG0 ARG…]    the same, sh style
  tubo -f script.tubo [ARG…]    run a file of lines (works from a #! line)
  tubo run pipelines/primes.yaml --set hi=5000
                                run a YAML process graph
  tubo check FILE               validate a YAML pipeline without running it
  tubo graph FILE               draw the expanded graph (DOT or Mermaid)

With no arguments tubo reads lines from stdin; on a terminal it prompts
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
	// Flags end at the first argument, so `tubo -f script -x` hands -x to
	// the script and `tubo 'ls -l'` never parses -l.
	root.Flags().SetInterspersed(false)
	root.Flags().StringVarP(&a.command, "command", "c", "", "run `LINE` (further arguments become $0, $1, …)")
	root.Flags().StringVarP(&a.file, "file", "f", "", "run the lines of `FILE` (for #! lines: #!/usr/bin/env -S tubo -f)")
	root.Flags().BoolVarP(&a.errexit, "errexit", "e", false, "exit on the first failing command (set -e)")
	root.Flags().StringArrayVarP(&a.options, "option", "o", nil, "set a shell option: pipefail, errexit")
	a.obs.flags(root)
	root.AddCommand(a.runCmd(), a.checkCmd(), a.graphCmd(), a.explainCmd(), a.verifyCmd())
	completeFlags(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	return root
}

// runShell runs a shell line, a script file, lines from stdin, or, on a
// terminal with nothing else to run, an interactive session.
func (a *app) runShell(cmd *cobra.Command, args []string) error {
	interactive := len(args) == 0 && !cmd.Flags().Changed("command") && a.file == "" && term.IsTerminal(int(a.stdin.Fd()))
	var src string
	cfg, err := a.runnerConfig()
	if err != nil {
		return err
	}
	defer a.obs.close()
	if cfg.Pipefail, cfg.Errexit, err = a.shellOptions(); err != nil {
		return err
	}
	if interactive {
		return a.interactive(cfg)
	}
	if src, cfg.Name, cfg.Args, err = a.shellSource(cmd, args); err != nil {
		return err
	}
	sig := catchSignals()
	a.signals = sig
	a.obs.sig = sig
	defer sig.stop()
	defer catchInfo(a.obs.picture)()
	sig.jobControl(cfg.TTY != nil)
	cfg.Signals = sig.forward
	return sig.override(runner.New(cfg).Run(sig.ctx, src))
}

// shellOptions reads -o and -e.
func (a *app) shellOptions() (pipefail, errexit bool, err error) {
	for _, o := range a.options {
		switch o {
		case "pipefail":
			pipefail = true
		case "errexit":
			errexit = true
		default:
			return false, false, usagef("-o %s: unknown option (known: pipefail, errexit)", o)
		}
	}
	return pipefail, errexit || a.errexit, nil
}

// shellSource finds the lines to run and their name for error positions.
func (a *app) shellSource(cmd *cobra.Command, args []string) (src, name string, params []string, err error) {
	switch {
	case a.command != "" || cmd.Flags().Changed("command"):
		// sh -c LINE NAME ARGS…: the first extra argument is $0.
		if len(args) > 0 {
			name, params = args[0], args[1:]
		}
		return a.command, name, params, nil
	case a.file != "":
		b, err := os.ReadFile(a.file)
		if err != nil {
			return "", "", nil, usagef("%v", err)
		}
		return string(b), a.file, args, nil
	case len(args) == 1:
		return args[0], "", nil, nil
	case len(args) > 1:
		return "", "", nil, usagef("too many arguments: quote the whole line, as in tubo 'ls | sort', or use -c LINE ARGS…")
	}
	b, err := io.ReadAll(a.stdin)
	if err != nil {
		return "", "", nil, err
	}
	return string(b), "", nil, nil
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
