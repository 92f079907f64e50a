package cli

import (
	"slices"
	"testing"
)

// TestSubcommandNames: shellInvocation tells a subcommand from a shell
// line by subcommandNames, without building the commands; the list must
// name exactly what addSubcommands builds, aliases included.
func TestSubcommandNames(t *testing.T) {
	a := &app{}
	root := a.rootCmd()
	if len(root.Commands()) != 0 {
		t.Fatalf("rootCmd built %d subcommands; they are built only when needed", len(root.Commands()))
	}
	a.addSubcommands(root, false)
	var built []string
	for _, c := range root.Commands() {
		built = append(built, c.Name())
		built = append(built, c.Aliases...)
	}
	want := slices.Clone(subcommandNames)
	slices.Sort(built)
	slices.Sort(want)
	if !slices.Equal(built, want) {
		t.Errorf("addSubcommands builds %v; subcommandNames says %v", built, want)
	}
	a.addSubcommands(root, true)
	if n := len(root.Commands()); n != len(built) {
		t.Errorf("a second addSubcommands left %d commands, want %d", n, len(built))
	}
}
