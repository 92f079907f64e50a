package record

import (
	"path/filepath"
	"strings"
)

// Where a record's paths are relative to, so that a record kept in a
// project survives moving the project.
//
// Write stores every path (the pipeline or script, the files read and
// written, executables, directories) relative to the base: the pipeline
// file's directory (a script's, or the run's directory for a line),
// when the path lies inside the project root. The root is the record
// file's own directory when the base lies inside it (the usual `tubo
// run --record run.json pipelines/x.yaml`), else the base itself; Base is
// then written relative to the record's directory. Other paths
// (/usr/bin/sort) stay absolute.
//
// Read puts the base back where the record is now. When the project has
// moved, argv and environment values and the run's directory that named
// the old root are rewritten to the new one, so a path the loader made
// absolute ({{file.x}}, a path: directory in PATH) compares equal.

// placeBase is the directory a record's relative paths are relative to.
func (m *Manifest) placeBase() string {
	switch {
	case m.Pipeline != nil:
		return filepath.Dir(m.absDir(m.Pipeline.Path))
	case m.Script != nil:
		return filepath.Dir(m.absDir(m.Script.Path))
	}
	return m.Dir
}

// absDir makes a path as FromRun recorded it absolute: relative ones
// are relative to the run's directory.
func (m *Manifest) absDir(p string) string {
	if filepath.IsAbs(p) || m.Dir == "" {
		return p
	}
	return filepath.Join(m.Dir, p)
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../")
}

// placed is a copy of m, as FromRun made it, with its paths relative to
// base where they lie inside root.
func (m *Manifest) placed(base, root string) *Manifest {
	c := *m
	rel := func(p string) string {
		if p == "" {
			return p
		}
		a := m.absDir(p)
		if !within(root, a) {
			return a
		}
		if r, err := filepath.Rel(base, a); err == nil {
			return r
		}
		return a
	}
	file := func(f *File) *File {
		if f == nil {
			return nil
		}
		g := *f
		g.Path = rel(f.Path)
		return &g
	}
	files := func(fs []*File) []*File {
		out := make([]*File, len(fs))
		for i, f := range fs {
			out[i] = file(f)
		}
		return out
	}
	c.Pipeline, c.Script = file(m.Pipeline), file(m.Script)
	c.Inputs, c.Outputs = files(m.Inputs), files(m.Outputs)
	c.Processes = make([]*Process, len(m.Processes))
	for i, p := range m.Processes {
		q := *p
		if q.Executable != "" {
			q.Executable = rel(p.Executable)
		}
		if q.Dir != "" {
			q.Dir = rel(p.Dir)
		}
		c.Processes[i] = &q
	}
	c.base, c.root = base, root
	return &c
}

// forWrite is m, as FromRun made it, placed for a record file at path:
// Base and Root say where its relative paths start.
func (m *Manifest) forWrite(path string) (*Manifest, error) {
	recDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	base := m.placeBase()
	root := base
	if within(recDir, base) && recDir != "/" {
		root = recDir
	}
	c := m.placed(base, root)
	c.Root, c.Base = root, base
	if root == recDir {
		if r, err := filepath.Rel(recDir, base); err == nil {
			c.Base = r
		}
	}
	return c, nil
}

// afterRead sets where a record read from path has its base now, and
// rewrites what named the old root when the project moved.
func (m *Manifest) afterRead(path string) error {
	if m.Base == "" {
		return nil // an older record: paths as recorded, relative to Dir
	}
	recDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return err
	}
	m.base, m.root = m.Base, m.Root
	if !filepath.IsAbs(m.Base) {
		m.base, m.root = filepath.Join(recDir, m.Base), recDir
	}
	if m.Root == "" || m.Root == m.root {
		return nil
	}
	moved := func(s string) string {
		if s == m.Root || strings.HasPrefix(s, m.Root+"/") {
			return m.root + s[len(m.Root):]
		}
		return strings.ReplaceAll(s, m.Root+"/", m.root+"/")
	}
	m.Dir = moved(m.Dir)
	for _, p := range m.Processes {
		for i, a := range p.Argv {
			p.Argv[i] = moved(a)
		}
		for i, kv := range p.Env {
			p.Env[i] = moved(kv)
		}
		p.Executable = moved(p.Executable)
		p.Dir = moved(p.Dir)
	}
	return nil
}

// Abs is a path of the record made absolute: against its base when it has
// one, else against the run's directory.
func (m *Manifest) Abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if m.base != "" {
		return filepath.Join(m.base, p)
	}
	return m.absDir(p)
}

// Moved says whether a read record's project is not where it was
// recorded.
func (m *Manifest) Moved() bool { return m.Root != "" && m.root != "" && m.Root != m.root }
