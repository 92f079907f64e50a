package cli

import (
	"testing"
)

// TestSubcommandNames: shellInvocation tells a subcommand from a shell
// line by the names in subcommands, without building the commands; each
// name must be the one its function builds, and addSubcommands builds
// all of them but once.
func TestSubcommandNames(t *testing.T) {
	a := &app{}
	root := a.rootCmd()
	if n := len(root.Commands()); n != 0 {
		t.Fatalf("rootCmd built %d subcommands; they are built only when needed", n)
	}
	for _, s := range subcommands {
		c := s.build(a)
		if c.Name() != s.name || len(c.Aliases) != 0 {
			t.Errorf("subcommands says %q; its function builds %q (aliases %q)", s.name, c.Name(), c.Aliases)
		}
		if !isSubcommand(s.name) {
			t.Errorf("isSubcommand(%q) = false", s.name)
		}
	}
	a.addSubcommands(root, []string{"help"})
	a.addSubcommands(root, []string{"help"})
	if n := len(root.Commands()); n != len(subcommands) {
		t.Errorf("addSubcommands twice left %d commands, want %d", n, len(subcommands))
	}
	a = &app{}
	root = a.rootCmd()
	a.addSubcommands(root, []string{"run", "p.yaml"})
	if cs := root.Commands(); len(cs) != 1 || cs[0].Name() != "run" {
		t.Errorf("tubo run FILE built %v, want only run", cs)
	}
}
