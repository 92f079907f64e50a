package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/lookup"
)

// What must exist before a run starts: each stage's program, and each
// file that a stage reads and no stage writes. Both are checked at load
// time (unless Options.SkipLookup), so that a run never starts half a
// graph and then fails on a missing program or input.

// lookupPrograms checks that each stage's program exists on its PATH, as
// the executor will search it, so a missing one is reported before
// anything starts.
func (l *loader) lookupPrograms() {
	basePath := getenv(l.env, "PATH")
	inGraph := map[*graph.Node]bool{} // not pruned away by targets
	for _, n := range l.g.Nodes {
		inGraph[n] = true
	}
	for _, d := range l.order {
		seen := map[string]bool{}
		for _, n := range d.nodes {
			// A remote program is looked up on its host, when it starts
			// (127 there, as sh would say).
			if !inGraph[n] || n.Shell != "" || n.Host != "" || len(n.Argv) == 0 || seen[n.Argv[0]] {
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

// checkInputs refuses a file that stages read when it does not exist and
// nothing in the graph can make it: no edge writes it, and no stage names
// it in a value ({{file.NAME}}), which would let the stage write it by
// itself.
func (l *loader) checkInputs() {
	written := map[string]bool{}
	read := map[string]bool{}
	builtinReader := map[string]string{} // file → a builtin that reads it
	for _, e := range l.g.Edges {
		written[e.To.Node] = true
		read[e.From.Node] = true
		if to := l.g.Node(e.To.Node); to != nil && to.Kind != graph.Process && to.Kind != graph.File {
			builtinReader[e.From.Node] = to.Kind.String() + " " + to.ID
		}
	}
	for _, f := range l.file.Files {
		d := l.files[f.Name]
		if d == nil || d.node.Kind != graph.File || !read[f.Name] || written[f.Name] {
			continue
		}
		if _, err := os.Stat(d.path); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		switch b := builtinReader[f.Name]; {
		case b != "":
			// Builtins open their files when the run starts, before any
			// stage has run.
			l.errs.add(f.Path.Node, "file %s: %s does not exist, and %s opens it when the run starts, before any stage can make it; read it through a stage (cat) that runs after the one that makes it", f.Name, d.path, b)
		case !d.named:
			l.errs.add(f.Path.Node, "file %s: %s does not exist, and no stage writes it", f.Name, d.path)
		}
	}
	made := map[string]bool{}
	for _, n := range l.g.Nodes {
		if n.Kind == graph.File && written[n.ID] {
			made[n.Path] = true
		}
	}
	// Declared inputs (inputs:) must exist or be some stage's output.
	for _, n := range l.g.Nodes {
		for _, p := range n.Outputs {
			made[p] = true
		}
	}
	for _, n := range l.g.Nodes {
		for _, p := range n.Inputs {
			if made[p] || strings.ContainsAny(p, "*?[") {
				continue
			}
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				l.errs.addPos(n.Pos, "stage %s: inputs: %s does not exist, and no stage makes it (outputs:)", n.ID, p)
			}
		}
	}
	for _, n := range l.inputs {
		if made[n.Path] || l.g.Node(n.ID) == nil {
			continue
		}
		if _, err := os.Stat(n.Path); errors.Is(err, fs.ErrNotExist) {
			l.errs.addPos(n.Pos, "%s: %s does not exist, and no stage writes it", strings.TrimSuffix(n.ID, ".stdin.file"), n.Path)
		}
	}
}

// sharedPaths refuses two file nodes that write the same path unless both
// append: each open truncates the file, and the writers overwrite each
// other (typically every copy of a foreach stage writing out.txt).
func (l *loader) sharedPaths() {
	type writer struct {
		file *graph.Node
		from string
	}
	writers := map[string][]writer{}
	var order []string
	for _, e := range l.g.Edges {
		n := l.g.Node(e.To.Node)
		if n == nil || n.Kind != graph.File {
			continue
		}
		ws := writers[n.Path]
		if len(ws) > 0 && ws[len(ws)-1].file == n {
			continue // the same node: validation counts its writers
		}
		if len(ws) == 0 {
			order = append(order, n.Path)
		}
		writers[n.Path] = append(ws, writer{n, e.From.Node})
	}
	for _, path := range order {
		ws := writers[path]
		if len(ws) < 2 {
			continue
		}
		appendAll := true
		for _, w := range ws {
			appendAll = appendAll && w.file.Append
		}
		if !appendAll {
			l.errs.addPos(ws[1].file.Pos, "%s and %s both write %s, and each open truncates it; give each its own file (out/{{item.stem}}.txt) or append: true", ws[0].from, ws[1].from, path)
		}
	}
}
