package record

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

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
// Outputs are the exception: before the re-run one says what was on disk,
// after it what the re-run wrote.
func (d *Diff) add(cs ...Change) {
	for _, c := range cs {
		if c.Kind == KindOutput || !slices.ContainsFunc(d.Changes, func(o Change) bool { return o.Kind == c.Kind && o.Subject == c.Subject }) {
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

// Rerun says how Verify runs the recorded pipeline again.
type Rerun struct {
	// Plan loads the recorded pipeline file with the recorded parameters
	// and plans it. Nothing runs yet.
	Plan func() (*graph.Graph, *plan.Plan, error)
	// Run runs what Plan returned.
	Run func(*graph.Graph, *plan.Plan) (*executor.Result, error)
	// Shell re-runs the recorded shell line or script (a record without a
	// pipeline file) and returns every pipeline it ran and its exit
	// status; nil refuses such records.
	Shell func() ([]Run, int, error)
	// Force re-runs even when that overwrites an output whose content on
	// disk is not what the record says the run wrote.
	Force bool
}

// RefusedError is Verify's answer when it did not re-run the pipeline:
// the pipeline file is not the recorded one, or the re-run would
// overwrite a file the record does not vouch for.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "not re-run: " + e.Reason }

// Verify checks a record against the present and re-runs it. A record is
// input like any other (it may have been edited), so before anything runs:
//
//   - the pipeline file must have the recorded sha256, or Verify refuses
//     (RefusedError): it never runs a pipeline the record does not name;
//   - what the re-run will use is compared with the record: the files the
//     plan reads and writes, and the executables its processes resolve
//     to. Only those paths are read, each up to MaxHashed bytes: a record
//     cannot make verify read or hash any other file;
//   - an output that is on disk with a content the record does not vouch
//     for (edited since, or not in the record at all) would be overwritten
//     by the re-run: Verify refuses unless rr.Force.
//
// Then it re-runs and compares the argv, executables, statuses and outputs.
// The error is a refusal, or Plan's or Run's; the diff holds what was
// found up to then.
func Verify(m *Manifest, rr Rerun) (*Diff, error) {
	if m.Pipeline == nil {
		return verifyShell(m, rr)
	}
	d := &Diff{}
	if m.Pipeline != nil {
		now := hashFile(m.Pipeline.Path, m.abs(m.Pipeline.Path))
		if _, ok := fileChange(KindPipeline, m.Pipeline, now, "changed"); ok {
			// Not "→ sha256 …": the path comes from the record, and verify
			// tells nothing about a file it will not run.
			d.add(Change{KindPipeline, m.Pipeline.Path, "not the recorded file: the record says " + describe(m.Pipeline) + ", the file is " + presence(now)})
			return d, &RefusedError{"the pipeline file is not the one recorded; read it, and run it with tubo run if you trust it"}
		}
	}
	g, p, err := rr.Plan()
	if err != nil {
		return d, err
	}
	cs, overwrite := m.check(p)
	d.add(cs...)
	d.sort()
	if len(overwrite) > 0 && !rr.Force {
		return d, &RefusedError{fmt.Sprintf("it would overwrite %s, whose content is not what the record says the run wrote; --force re-runs anyway", strings.Join(overwrite, ", "))}
	}
	res, err := rr.Run(g, p)
	if err != nil {
		return d, err
	}
	src := Source{Version: m.TuboVersion, Shell: m.Shell, Params: m.Params, Dir: m.Dir}
	if m.Pipeline != nil {
		src.PipelineFile = m.abs(m.Pipeline.Path)
	}
	now, err := FromRun(g, p, res, src)
	if err != nil {
		return d, err
	}
	d.add(Compare(m, m.alike(now))...)
	d.sort()
	return d, nil
}

// alike places a re-run's record as m's paths are placed, so that the
// two compare path for path.
func (m *Manifest) alike(now *Manifest) *Manifest {
	if m.base == "" {
		return now
	}
	return now.placed(m.base, m.root)
}

// presence says "missing", "changed" or why it could not be read, and
// nothing of its content.
func presence(f *File) string {
	switch {
	case f.Missing:
		return "missing"
	case f.SHA256 == "" && f.Note != "":
		return f.Note
	}
	return "different"
}

// check compares what a planned re-run will use with the record (see
// Verify), and lists the outputs the re-run would overwrite although the
// record does not vouch for what they hold.
func (m *Manifest) check(p *plan.Plan) (cs []Change, overwrite []string) {
	reads, writes := m.planFiles(p)
	recIn, recOut := m.byAbs(m.Inputs), m.byAbs(m.Outputs)
	for _, f := range reads {
		now := hashFile(f.Path, f.abs)
		rec := recIn[f.abs]
		if rec == nil {
			cs = append(cs, Change{KindInput, f.Path, "new: not in the record"})
			continue
		}
		if c, ok := fileChange(KindInput, rec, now, "changed"); ok {
			cs = append(cs, c)
		}
	}
	for _, f := range writes {
		now := hashFile(f.Path, f.abs)
		rec := recOut[f.abs]
		switch {
		case now.Missing || now.SHA256 == "" && now.Note != "" && rec != nil && rec.Note == now.Note:
			// Nothing there to lose, or not a regular file (/dev/null).
		case rec == nil:
			overwrite = append(overwrite, f.Path)
			cs = append(cs, Change{KindOutput, f.Path, "on disk but not in the record: " + describe(now)})
		default:
			if c, ok := fileChange(KindOutput, rec, now, "on disk, not what the run wrote"); ok {
				overwrite = append(overwrite, f.Path)
				cs = append(cs, c)
			}
		}
	}
	planned := map[string]bool{}
	for _, f := range append(reads, writes...) {
		planned[f.abs] = true
	}
	for _, in := range m.Inputs {
		if !planned[m.abs(in.Path)] {
			cs = append(cs, Change{KindInput, in.Path, "not read by the pipeline: not checked"})
		}
	}
	for _, out := range m.Outputs {
		if !planned[m.abs(out.Path)] {
			cs = append(cs, Change{KindOutput, out.Path, "not written by the pipeline: not checked"})
		}
	}
	byNode := map[string]*Process{}
	for _, rp := range m.Processes {
		byNode[rp.Node] = rp
	}
	for _, pp := range p.Procs {
		rp := byNode[pp.Node.ID]
		if rp == nil || rp.Executable == "" || rp.SHA256 == "" || len(pp.Argv) == 0 {
			continue // the re-run's comparison says what is new or gone
		}
		exe, ok := m.resolve(pp)
		switch {
		case !ok:
			// Not found now: the re-run's status says so.
		case exe != m.abs(rp.Executable):
			cs = append(cs, Change{KindExecutable, rp.Node, fmt.Sprintf("%s now resolves to %s", rp.Executable, exe)})
		default:
			if now := hashFile(exe, exe); now.SHA256 != rp.SHA256 {
				cs = append(cs, exeChange(rp, now))
			}
		}
	}
	return cs, overwrite
}

// resolve finds the executable a planned process will run, as the executor
// will (its PATH, its directory), made absolute as FromRun records it.
func (m *Manifest) resolve(pp *plan.Proc) (string, bool) {
	path := os.Getenv("PATH")
	for _, kv := range pp.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	dir := m.abs(pp.Dir)
	exe, err := executor.LookPath(pp.Argv[0], path, dir)
	if err != nil {
		return "", false
	}
	if !filepath.IsAbs(exe) {
		exe = filepath.Join(dir, exe)
	}
	return exe, true
}

// byAbs indexes files by their absolute path.
func (m *Manifest) byAbs(fs []*File) map[string]*File {
	out := map[string]*File{}
	for _, f := range fs {
		out[m.abs(f.Path)] = f
	}
	return out
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
	if old.SHA256 == now.SHA256 && old.Size == now.Size && old.Missing == now.Missing && old.Note == now.Note {
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
	case f.SHA256 == "" && f.Note != "" && f.Size > 0:
		return fmt.Sprintf("%s (%d bytes)", f.Note, f.Size)
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
