// Package record writes reproducible run records and checks them.
//
// A record (a Manifest, written as JSON by `tubo --record FILE`) says what
// was run and with what: the pipeline file and its sha256 (or the shell
// line), the parameters, each process's argv, resolved executable and that
// executable's sha256, the environment variables the pipeline set, how each
// process ended, and the sha256 of every file the run read or wrote.
//
// Verify (`tubo verify FILE`) checks the inputs, executables and pipeline
// file against the record, re-runs the pipeline, and reports what differs.
package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Format is the version of the record format that Write writes.
const Format = 1

// Manifest is a record of one run.
type Manifest struct {
	Format      int       `json:"format"`
	TuboVersion string    `json:"tubo_version"`
	Time        time.Time `json:"time"`
	// Dir is the directory the run started in.
	Dir string `json:"dir"`
	// Base is the directory the record's relative paths are relative to
	// (the pipeline file's, a script's, or Dir for a line), itself
	// relative to the record file's directory when it lies inside it;
	// Root is the project root the paths were placed in, as it was (see
	// place.go). An older record has neither: its paths are relative to
	// Dir.
	Base string `json:"base,omitempty"`
	Root string `json:"root,omitempty"`
	// base and root are Base and Root made absolute where the record is
	// now (Read); "" for a record FromRun made.
	base, root string
	// Name is the pipeline's name; "" for a shell line.
	Name string `json:"name,omitempty"`
	// Pipeline is the pipeline file, for a run of one; nil for a shell line.
	Pipeline *File `json:"pipeline,omitempty"`
	// Shell is the shell line, for a run of one (tubo 'LINE', tubo -c).
	Shell string `json:"shell,omitempty"`
	// Script is the script file, for a run of one (tubo -f SCRIPT,
	// tubo SCRIPT); Args are the positional parameters a shell line or
	// script was given.
	Script *File    `json:"script,omitempty"`
	Args   []string `json:"args,omitempty"`
	// Params are the pipeline's parameters as the run resolved them: the
	// --set values and the defaults of the others.
	Params map[string]string `json:"params,omitempty"`
	// Status is the run's exit status.
	Status    int        `json:"status"`
	Processes []*Process `json:"processes"`
	// Inputs are the files the run read: file source nodes and `<`
	// redirections. Outputs are the files it wrote: file sink nodes and
	// `>`, `>>`, `<>` redirections. Both are hashed after the run.
	Inputs  []*File `json:"inputs"`
	Outputs []*File `json:"outputs"`
}

// Process is one process of a recorded run.
type Process struct {
	// Node is the graph node's ID; in the record of a shell line or
	// script, which runs one graph per pipeline, "N/ID" for the Nth
	// pipeline run (from 1).
	Node string   `json:"node"`
	Argv []string `json:"argv"`
	// Executable is the program that was run, resolved on PATH and made
	// absolute; "" if none was found.
	Executable string `json:"executable,omitempty"`
	// SHA256 is the executable file's hash (for a script, the script's).
	SHA256 string `json:"sha256,omitempty"`
	Dir    string `json:"dir,omitempty"`
	// Env is what the pipeline set explicitly (Node.Env), NAME=VALUE.
	Env    []string `json:"env,omitempty"`
	Status int      `json:"status"`
	Signal string   `json:"signal,omitempty"`
	// Error says why the process did not start.
	Error string `json:"error,omitempty"`
}

// File is a file and what it held.
type File struct {
	// Path is as the pipeline named it; relative paths are relative to
	// Manifest.Dir.
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size"`
	// Missing is set when the file did not exist; Note says why a file
	// was not hashed (not a regular file, unreadable).
	Missing bool   `json:"missing,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Write writes a manifest as indented JSON, replacing path atomically.
func Write(path string, m *Manifest) error {
	m, err := m.forWrite(path)
	if err != nil {
		return err
	}
	// Lines and paths keep their < > & as written (no \u003c).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tubo-record-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Read reads a manifest that Write wrote.
func Read(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a tubo record: %v", path, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: record format %d, this tubo reads %d", path, m.Format, Format)
	}
	if err := m.afterRead(path); err != nil {
		return nil, err
	}
	return &m, nil
}

// abs makes a path from the record absolute (Abs).
func (m *Manifest) abs(path string) string { return m.Abs(path) }
