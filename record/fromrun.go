package record

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// Source says what was run, beyond what the graph and plan say.
type Source struct {
	// Version is tubo's version.
	Version string
	// PipelineFile is the pipeline file that was run; "" for a shell line.
	PipelineFile string
	// Shell is the shell line that was run (tubo -c LINE, or the command
	// line); "" for a pipeline file.
	Shell string
	// Script is the script file that was run (tubo -f SCRIPT); "" for
	// none. Args are the positional parameters of a line or script.
	Script string
	Args   []string
	// Params are the resolved parameters: --set values and defaults.
	Params map[string]string
	// Dir is the run's directory (executor.Options.Dir); "" means tubo's
	// working directory.
	Dir string
	// Time is when the run started; zero means now.
	Time time.Time
}

// FromRun records a finished run: g and p are what was run (g may be nil,
// meaning p.Graph), res what became of it. It hashes the pipeline file,
// every executable, and every file the run read or wrote, as they are now.
func FromRun(g *graph.Graph, p *plan.Plan, res *executor.Result, src Source) (*Manifest, error) {
	if p == nil {
		return nil, errors.New("record: no plan")
	}
	if g == nil {
		g = p.Graph
	}
	dir := src.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Format:      Format,
		TuboVersion: src.Version,
		Time:        src.Time,
		Dir:         dir,
		Shell:       src.Shell,
		Params:      src.Params,
		Processes:   []*Process{},
		Inputs:      []*File{},
		Outputs:     []*File{},
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	m.Time = m.Time.UTC()
	if src.PipelineFile != "" {
		path, err := filepath.Abs(src.PipelineFile)
		if err != nil {
			return nil, err
		}
		m.Pipeline = hashFile(path, path)
	}
	if res != nil {
		m.Status = int(res.Status)
	}
	for i, pp := range p.Procs {
		var pr *executor.ProcResult
		if res != nil && i < len(res.Procs) {
			pr = res.Procs[i]
		}
		m.Processes = append(m.Processes, m.process(pp, pr))
	}
	if g != nil {
		m.Name = g.Name
	}
	// The plan holds every file the graph's file nodes and redirections
	// name, with the flags they are opened with.
	m.files(p)
	return m, nil
}

// process records one process: its argv, its executable and that file's
// hash, the environment the pipeline gave it, and how it ended.
func (m *Manifest) process(pp *plan.Proc, pr *executor.ProcResult) *Process {
	p := &Process{Node: pp.Node.ID, Argv: pp.Argv, Dir: pp.Dir, Env: pp.Env}
	if pr == nil {
		return p
	}
	p.Status = int(pr.Status)
	if pr.Signal != 0 {
		p.Signal = unix.SignalName(pr.Signal)
	}
	if pr.Err != nil {
		p.Error = pr.Err.Error()
	}
	if pr.Path != "" {
		exe := pr.Path
		if !filepath.IsAbs(exe) {
			// The executor keeps a relative path relative to the stage's
			// directory, which is relative to the run's.
			exe = filepath.Join(m.abs(pp.Dir), exe)
		}
		p.Executable = exe
		if f := hashFile(exe, exe); f.SHA256 != "" {
			p.SHA256 = f.SHA256
		}
	}
	return p
}

// files hashes every regular file the plan opens: those opened for writing
// are outputs, the others inputs. A file both read and written is an output.
func (m *Manifest) files(p *plan.Plan) {
	reads, writes := m.planFiles(p)
	for _, f := range reads {
		m.Inputs = append(m.Inputs, hashFile(f.Path, f.abs))
	}
	for _, f := range writes {
		m.Outputs = append(m.Outputs, hashFile(f.Path, f.abs))
	}
}

// planned is a file a plan opens: its path as the pipeline names it, and
// made absolute against the run's directory.
type planned struct{ Path, abs string }

// planFiles lists the files (not FIFOs) a plan opens, once each, in plan
// order: those it only reads, and those it writes (a file both read and
// written is written).
func (m *Manifest) planFiles(p *plan.Plan) (reads, writes []planned) {
	written := map[string]bool{}
	for _, pf := range p.Files {
		if pf.Flag&(os.O_WRONLY|os.O_RDWR) != 0 {
			written[m.abs(pf.Path)] = true
		}
	}
	seen := map[string]bool{}
	for _, pf := range p.Files {
		abs := m.abs(pf.Path)
		if pf.IsFIFO || seen[abs] {
			continue
		}
		seen[abs] = true
		if written[abs] {
			writes = append(writes, planned{pf.Path, abs})
		} else {
			reads = append(reads, planned{pf.Path, abs})
		}
	}
	return reads, writes
}

// hashFile records the file at abs under the name path.
func hashFile(path, abs string) *File {
	f := &File{Path: path}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.Missing = true
		return f
	case err != nil:
		f.Note = err.Error()
		return f
	case !st.Mode().IsRegular():
		f.Note = "not a regular file (" + fileType(st.Mode()) + ")"
		return f
	case st.Size() > MaxHashed:
		f.Size, f.Note = st.Size(), tooBig()
		return f
	}
	sum, n, err := sha256File(abs)
	if err != nil {
		f.Note = err.Error()
		return f
	}
	f.SHA256, f.Size = sum, n
	return f
}

// MaxHashed is the largest file a record hashes (4 GiB), so that neither
// recording nor verify reads without bound: a larger one is recorded and
// compared by size only, with a note that says so.
var MaxHashed int64 = 4 << 30

// tooBig is the note of a file over MaxHashed.
func tooBig() string {
	return fmt.Sprintf("not hashed: over the bound of %d bytes, compared by size", MaxHashed)
}

func sha256File(path string) (string, int64, error) {
	r, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	h := sha256.New()
	// Bounded even if the file grows while it is read.
	n, err := io.CopyN(h, r, MaxHashed+1)
	if err != nil && err != io.EOF {
		return "", 0, err
	}
	if n > MaxHashed {
		return "", 0, errors.New(tooBig())
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return fmt.Sprintf("mode %v", m)
}
