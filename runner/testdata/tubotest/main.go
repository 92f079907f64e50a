// Command tubotest is a stand-in for the tubo binary in the runner's tests:
// `tubotest -c LINE` runs LINE with the runner, as `tubo -c LINE` will, and
// `tubotest --shell-stage N` runs a child stage, so the tests (and the
// children they start) do not depend on the CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/runner"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == runner.StageArg {
		os.Exit(runner.StageMain(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	var err error
	switch {
	case len(os.Args) >= 3 && os.Args[1] == "-c":
		cfg := runner.Config{CatchSignals: true, Command: true}
		if len(os.Args) > 3 {
			cfg.Arg0, cfg.Args = os.Args[3], os.Args[4:]
		}
		err = runner.New(cfg).RunScript(context.Background(), os.Args[2])
	case len(os.Args) == 1:
		err = runner.New(runner.Config{CatchSignals: true, FromStdin: true}).RunReader(context.Background(), os.Stdin)
	default:
		fmt.Fprintln(os.Stderr, "usage: tubotest -c LINE [ARG0 ARG…] | tubotest < SCRIPT")
		os.Exit(2)
	}
	var ee *executor.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(os.Stderr, "tubo: %v\n", ee.Err)
		}
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tubo: %v\n", err)
		os.Exit(1)
	}
}
