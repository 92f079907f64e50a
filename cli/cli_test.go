package cli_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tubo-pipes/tubo/cli"
	"github.com/tubo-pipes/tubo/runner"
)

// The test binary is also tubo: testscript puts a copy of it named tubo on
// PATH, and running that copy runs cli.Main, as the real binary would.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == runner.StageArg {
		// A shell stage of a line run in this process (runCLI): the test
		// binary is the tubo that re-executes itself.
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"tubo": func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("LC_ALL", "C")
			env.Setenv("TUBO_ROOT", root)
			// The example programs (esclavo, fifo-producer, …) are built
			// by `make build` into bin/; pipelines find them through their
			// own path: entry.
			return nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
	})
}
