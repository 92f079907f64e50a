package record

import (
	"fmt"
	"strings"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// Run is one pipeline that a shell line or script ran: a shell runs a
// graph per pipeline, as its statements reach them.
type Run struct {
	G   *graph.Graph
	P   *plan.Plan
	Res *executor.Result
	// Dir is the shell's directory when it ran the pipeline (after a
	// cd); "" means the run's (Source.Dir).
	Dir string
}

// FromRuns records a shell line or script (src.Shell or src.Script): the
// processes of every pipeline it ran, in order, each named "N/ID" for the
// Nth pipeline, and every file any of them read or wrote (a file one
// wrote is an output), hashed as they are now. status is the shell's
// exit status.
func FromRuns(runs []Run, status int, src Source) (*Manifest, error) {
	m, err := FromRun(nil, &plan.Plan{}, nil, src)
	if err != nil {
		return nil, err
	}
	m.Status, m.Args = status, src.Args
	if src.Script != "" {
		m.Script = hashFile(src.Script, m.absDir(src.Script))
	}
	inputs, outputs := map[string]bool{}, map[string]bool{}
	for k, r := range runs {
		// A pipeline runs where the shell was then (after a cd): its
		// relative paths are relative to that directory.
		dir := m.Dir
		if r.Dir != "" {
			dir = m.absDir(r.Dir)
		}
		one, err := FromRun(r.G, r.P, r.Res, Source{Dir: dir})
		if err != nil {
			return nil, err
		}
		for _, f := range append(append([]*File(nil), one.Inputs...), one.Outputs...) {
			f.Path = one.absDir(f.Path)
		}
		for _, p := range one.Processes {
			p.Node = fmt.Sprintf("%d/%s", k+1, p.Node)
			m.Processes = append(m.Processes, p)
		}
		for _, f := range one.Outputs {
			if a := m.absDir(f.Path); !outputs[a] {
				outputs[a] = true
				m.Outputs = append(m.Outputs, f)
			}
		}
		for _, f := range one.Inputs {
			if a := m.absDir(f.Path); !inputs[a] {
				inputs[a] = true
				m.Inputs = append(m.Inputs, f)
			}
		}
	}
	// A file one pipeline read and a later one wrote is an output.
	kept := m.Inputs[:0]
	for _, f := range m.Inputs {
		if !outputs[m.absDir(f.Path)] {
			kept = append(kept, f)
		}
	}
	m.Inputs = kept
	return m, nil
}

// verifyShell re-runs the record of a shell line or script. Its script
// must be the recorded one; an output the record lists that is on disk
// with a content the record does not vouch for is not overwritten
// without rr.Force. A shell decides what it opens only as it runs, so the
// files compared before the re-run are the record's; after it, the
// re-run's record is compared with this one.
func verifyShell(m *Manifest, rr Rerun) (*Diff, error) {
	d := &Diff{}
	if rr.Shell == nil {
		return d, &RefusedError{"this record is of a shell line or script, and nothing here re-runs those"}
	}
	if m.Script != nil {
		now := hashFile(m.Script.Path, m.abs(m.Script.Path))
		if _, ok := fileChange(KindPipeline, m.Script, now, "changed"); ok {
			d.add(Change{KindPipeline, m.Script.Path, "not the recorded script: the record says " + describe(m.Script) + ", the file is " + presence(now)})
			return d, &RefusedError{"the script is not the one recorded; read it, and run it with tubo -f if you trust it"}
		}
	}
	var overwrite []string
	for _, out := range m.Outputs {
		now := hashFile(out.Path, m.abs(out.Path))
		if now.Missing || now.SHA256 == "" && now.Note != "" && now.Note == out.Note {
			continue
		}
		if c, ok := fileChange(KindOutput, out, now, "on disk, not what the run wrote"); ok {
			overwrite = append(overwrite, out.Path)
			d.add(c)
		}
	}
	if len(overwrite) > 0 && !rr.Force {
		return d, &RefusedError{fmt.Sprintf("it would overwrite %s, whose content is not what the record says the run wrote; --force re-runs anyway", strings.Join(overwrite, ", "))}
	}
	runs, status, err := rr.Shell()
	if err != nil {
		return d, err
	}
	src := Source{Version: m.TuboVersion, Shell: m.Shell, Dir: m.Dir, Args: m.Args}
	if m.Script != nil {
		src.Script = m.abs(m.Script.Path)
	}
	now, err := FromRuns(runs, status, src)
	if err != nil {
		return d, err
	}
	d.add(Compare(m, m.alike(now))...)
	d.sort()
	return d, nil
}
