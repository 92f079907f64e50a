// Command tubo runs shell lines and YAML pipelines as real process graphs.
// See the README, or run tubo --help.
package main

import (
	"os"

	"github.com/tubo-pipes/tubo/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
