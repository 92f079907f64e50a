package record

import (
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// The kinds of change, in the order a Diff lists them.
const (
	KindPipeline   = "pipeline"
	KindParam      = "param"
	KindInput      = "input"
	KindExecutable = "executable"
	KindProcess    = "process"
	KindOutput     = "output"
)

// Change is one difference between a record and the present.
type Change struct {
	Kind    string // one of the Kind constants
	Subject string // the path or node it is about
	Detail  string // what differs, for a human
}

func (c Change) String() string { return c.Kind + " " + c.Subject + ": " + c.Detail }

// Diff is what differs between a recorded run and its re-run.
type Diff struct {
	Changes []Change
}

// Empty reports whether nothing differs.
func (d *Diff) Empty() bool { return d == nil || len(d.Changes) == 0 }

// Lines returns one human-readable line per change.
func (d *Diff) Lines() []string {
	if d == nil {
		return nil
	}
	out := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		out[i] = c.String()
	}
	return out
}

// Write writes the lines of the diff, or "no differences".
func (d *Diff) Write(w io.Writer) {
	if d.Empty() {
		fmt.Fprintln(w, "no differences")
		return
	}
	for _, l := range d.Lines() {
		fmt.Fprintln(w, l)
	}
}

// Of returns the changes of one kind.
func (d *Diff) Of(kind string) []Change {
	var out []Change
	for _, c := range d.Changes {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// add appends changes, skipping one whose kind and subject it already has:
// an input found changed before the re-run is not reported again after.
func (d *Diff) add(cs ...Change) {
	for _, c := range cs {
		if !slices.ContainsFunc(d.Changes, func(o Change) bool { return o.Kind == c.Kind && o.Subject == c.Subject }) {
			d.Changes = append(d.Changes, c)
		}
	}
}

func (d *Diff) sort() {
	order := []string{KindPipeline, KindParam, KindInput, KindExecutable, KindProcess, KindOutput}
	sort.SliceStable(d.Changes, func(i, j int) bool {
		return slices.Index(order, d.Changes[i].Kind) < slices.Index(order, d.Changes[j].Kind)
	})
}

// Rerun runs the recorded pipeline again, the same way, and returns what
// was run and its result.
type Rerun func() (*graph.Graph, *plan.Plan, *executor.Result, error)

// Verify checks a record against the present and re-runs it: first the
// pipeline file, the inputs and the executables are compared with the
// record (before the re-run can touch them), then rerun runs the pipeline
// again, and its argv, executables, statuses and outputs are compared. The
// error is rerun's; the diff holds what was found up to then.
func Verify(m *Manifest, rerun Rerun) (*Diff, error) {
	d := &Diff{}
	d.add(Check(m)...)
	g, p, res, err := rerun()
	if err != nil {
		d.sort()
		return d, err
	}
	src := Source{Version: m.TuboVersion, Shell: m.Shell, Params: m.Params, Dir: m.Dir}
	if m.Pipeline != nil {
		src.PipelineFile = m.Pipeline.Path
	}
	now, err := FromRun(g, p, res, src)
	if err != nil {
		d.sort()
		return d, err
	}
	d.add(Compare(m, now)...)
	d.sort()
	return d, nil
}

// Check compares the pipeline file, the inputs and the executables of a
// record with what they are now, without running anything.
func Check(m *Manifest) []Change {
	var cs []Change
	if m.Pipeline != nil {
		now := hashFile(m.Pipeline.Path, m.abs(m.Pipeline.Path))
		if c, ok := fileChange(KindPipeline, m.Pipeline, now, "changed"); ok {
			cs = append(cs, c)
		}
	}
	for _, in := range m.Inputs {
		now := hashFile(in.Path, m.abs(in.Path))
		if c, ok := fileChange(KindInput, in, now, "changed"); ok {
			cs = append(cs, c)
		}
	}
	for _, p := range m.Processes {
		if p.Executable == "" || p.SHA256 == "" {
			continue
		}
		now := hashFile(p.Executable, p.Executable)
		if now.SHA256 != p.SHA256 {
			cs = append(cs, exeChange(p, now))
		}
	}
	return cs
}

// Compare reports what differs between two records of the same pipeline:
// the pipeline, parameters, inputs, processes (argv, executable, env,
// status) and outputs.
func Compare(old, now *Manifest) []Change {
	var cs []Change
	if old.Pipeline != nil && now.Pipeline != nil {
		if c, ok := fileChange(KindPipeline, old.Pipeline, now.Pipeline, "changed"); ok {
			cs = append(cs, c)
		}
	}
	if old.Shell != now.Shell {
		cs = append(cs, Change{KindPipeline, "shell line", fmt.Sprintf("%q → %q", old.Shell, now.Shell)})
	}
	cs = append(cs, compareParams(old.Params, now.Params)...)
	cs = append(cs, compareFiles(KindInput, old.Inputs, now.Inputs, "changed")...)
	cs = append(cs, compareProcesses(old.Processes, now.Processes)...)
	if old.Status != now.Status {
		cs = append(cs, Change{KindProcess, "run status", fmt.Sprintf("%d → %d", old.Status, now.Status)})
	}
	cs = append(cs, compareFiles(KindOutput, old.Outputs, now.Outputs, "differs")...)
	return cs
}

func compareParams(old, now map[string]string) []Change {
	var keys []string
	for k := range old {
		keys = append(keys, k)
	}
	for k := range now {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var cs []Change
	for _, k := range keys {
		o, okO := old[k]
		n, okN := now[k]
		switch {
		case !okN:
			cs = append(cs, Change{KindParam, k, fmt.Sprintf("was %q, now unset", o)})
		case !okO:
			cs = append(cs, Change{KindParam, k, fmt.Sprintf("was unset, now %q", n)})
		case o != n:
			cs = append(cs, Change{KindParam, k, fmt.Sprintf("%q → %q", o, n)})
		}
	}
	return cs
}

func compareFiles(kind string, old, now []*File, verb string) []Change {
	var cs []Change
	matchUp(old, now, func(f *File) string { return f.Path },
		func(o, n *File) {
			if c, ok := fileChange(kind, o, n, verb); ok {
				cs = append(cs, c)
			}
		},
		func(o *File) { cs = append(cs, Change{kind, o.Path, "no longer used by the pipeline"}) },
		func(n *File) { cs = append(cs, Change{kind, n.Path, "new: not in the record"}) })
	return cs
}

func compareProcesses(old, now []*Process) []Change {
	var cs []Change
	matchUp(old, now, func(p *Process) string { return p.Node },
		func(o, n *Process) {
			switch {
			case !slices.Equal(o.Argv, n.Argv):
				cs = append(cs, Change{KindProcess, o.Node, fmt.Sprintf("argv %q → %q", o.Argv, n.Argv)})
			case !slices.Equal(o.Env, n.Env):
				cs = append(cs, Change{KindProcess, o.Node, fmt.Sprintf("env %q → %q", o.Env, n.Env)})
			case o.Executable != n.Executable:
				cs = append(cs, Change{KindExecutable, o.Node, fmt.Sprintf("%s now resolves to %s", orNone(o.Executable), orNone(n.Executable))})
			case o.SHA256 != n.SHA256:
				cs = append(cs, exeChange(o, &File{SHA256: n.SHA256, Missing: n.SHA256 == ""}))
			}
			if ended(o) != ended(n) {
				cs = append(cs, Change{KindProcess, o.Node + " status", fmt.Sprintf("%s → %s", ended(o), ended(n))})
			}
		},
		func(o *Process) { cs = append(cs, Change{KindProcess, o.Node, "no longer in the pipeline"}) },
		func(n *Process) { cs = append(cs, Change{KindProcess, n.Node, "new: not in the record"}) })
	return cs
}

// matchUp pairs the entries of a record with those of a re-run by key, in
// the record's order: both is called for a key in both, gone for one only
// in the record, added (after all others) for one only in the re-run.
func matchUp[T any](old, now []T, key func(T) string, both func(o, n T), gone, added func(T)) {
	byKey := map[string]T{}
	for _, n := range now {
		byKey[key(n)] = n
	}
	for _, o := range old {
		n, ok := byKey[key(o)]
		if !ok {
			gone(o)
			continue
		}
		delete(byKey, key(o))
		both(o, n)
	}
	for _, n := range now {
		if _, ok := byKey[key(n)]; ok {
			added(n)
		}
	}
}

// fileChange describes how a file differs from its record, if it does.
func fileChange(kind string, old, now *File, verb string) (Change, bool) {
	if old.SHA256 == now.SHA256 && old.Missing == now.Missing && old.Note == now.Note {
		return Change{}, false
	}
	return Change{kind, old.Path, verb + ": " + describe(old) + " → " + describe(now)}, true
}

// describe says what a file held: "sha256 1a2b3c4d5e6f (12 bytes)",
// "missing", or why it was not hashed.
func describe(f *File) string {
	switch {
	case f.Missing:
		return "missing"
	case f.SHA256 == "" && f.Note != "":
		return f.Note
	case f.SHA256 == "":
		return "not hashed"
	}
	return fmt.Sprintf("sha256 %s (%d bytes)", short(f.SHA256), f.Size)
}

// exeChange says that the executable a process ran is not what it was.
func exeChange(p *Process, now *File) Change {
	was := "sha256 " + short(p.SHA256)
	is := "missing"
	if now.SHA256 != "" {
		is = "sha256 " + short(now.SHA256)
	} else if !now.Missing && now.Note != "" {
		is = now.Note
	}
	return Change{KindExecutable, p.Executable, fmt.Sprintf("changed (run by %s): %s → %s", p.Node, was, is)}
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

func ended(p *Process) string {
	switch {
	case p.Error != "":
		return "not started (" + p.Error + ")"
	case p.Signal != "":
		return "killed by " + p.Signal
	}
	return fmt.Sprintf("exit %d", p.Status)
}

func orNone(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}
