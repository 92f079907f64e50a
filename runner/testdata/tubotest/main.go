// Command tubotest is a stand-in for the tubo binary in the runner's tests:
// `tubotest -c LINE` runs LINE with the runner, as `tubo -c LINE` will, so
// the tests (and the subshells they start) do not depend on the CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/runner"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "-c" {
		fmt.Fprintln(os.Stderr, "usage: tubotest -c LINE")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	err := runner.New(runner.Config{Signals: sigs}).Run(context.Background(), os.Args[2])
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
