package pipeline

import (
	"strings"

	"github.com/tubo-pipes/tubo/lookup"
)

// lookupPrograms checks that each stage's program exists on its PATH, as
// the executor will search it, so a missing one is reported before
// anything starts.
func (l *loader) lookupPrograms() {
	basePath := getenv(l.env, "PATH")
	for _, d := range l.order {
		seen := map[string]bool{}
		for _, n := range d.nodes {
			if n.Shell != "" || len(n.Argv) == 0 || seen[n.Argv[0]] {
				continue
			}
			seen[n.Argv[0]] = true
			path := getenv(n.Env, "PATH")
			if path == "" {
				path = basePath
			}
			if _, err := lookup.Program(n.Argv[0], path, n.Dir); err != nil {
				at := d.decl.RunNode
				if len(d.decl.Run) > 0 {
					at = d.decl.Run[0].Node
				}
				hint := ""
				if len(l.binDirs) > 0 {
					hint = " (searched " + strings.Join(l.binDirs, ", ") + " and $PATH; are the programs built?)"
				}
				l.errs.add(at, "stage %s: %v%s", d.name, err, hint)
			}
		}
	}
}
