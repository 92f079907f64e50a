// Package pipeline is tubo's YAML front end: it reads a pipeline file,
// checks it, substitutes its parameters and expands replicas, and produces
// a graph.Graph for validation, rendering, planning and execution.
//
// Nothing in a pipeline file ever reaches a shell unquoted: `run:` argv
// elements are exec'd as they are after placeholder substitution, and
// values substituted into a `shell:` line are shell-quoted. See
// docs/format.md for the format.
package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/validate"
)

// Options tune a load.
type Options struct {
	// Set overrides parameters, each "name=value", in order (the last one
	// for a name wins).
	Set []string
	// Self is the tubo executable; unused by the loader (shell stages are
	// turned into `tubo -c LINE` by the planner).
	Self string
	// Env is the environment whose PATH tails each stage's PATH and is
	// searched for programs; nil means os.Environ().
	Env []string
	// SkipLookup skips checking that each stage's program exists on its
	// PATH (for `tubo graph`, or files whose programs are not built yet).
	SkipLookup bool
	// TempDir is the private FIFO directory to use; "" means a fresh
	// random path under os.TempDir(). Tests set it for stable output.
	TempDir string
}

// Load reads, checks and expands a pipeline file into a graph. Errors are
// an *ErrorList whose entries print as FILE:LINE:COL: message; callers exit
// with status 2.
func Load(path string, opt Options) (*graph.Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, &ErrorList{Errors: []*Error{{Pos: graph.Pos{File: path}, Msg: fmt.Sprintf("file is %d bytes; pipeline files are limited to %d bytes", st.Size(), MaxFileSize)}}}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return LoadBytes(path, data, opt)
}

// LoadBytes is Load for a file already in memory; name is used in
// positions and its directory is the pipeline's directory.
func LoadBytes(name string, data []byte, opt Options) (*graph.Graph, error) {
	l := newLoader(name, opt)
	g := l.load(data)
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	return g, nil
}

var topKeys = []string{
	"version", "name", "description", "params", "path", "env",
	"on_failure", "pipefail", "timeout", "sigpipe_is_failure",
	"fifos", "files", "tees", "merges", "stages", "edges",
}

// loader holds the state of one load.
type loader struct {
	opt  Options
	errs *errs
	path string // the file as named
	dir  string // its directory, absolute
	env  []string
	g    *graph.Graph

	param      map[string]*param
	paramOrder []string

	names   map[string]string // every declared name → what it is
	fifos   map[string]*fifoDecl
	files   map[string]*fileDecl
	builts  map[string]*builtinDecl
	stages  map[string]*stageDecl
	order   []*stageDecl
	edges   []edgeSpec
	binDirs []string // from path:, absolute
	envAll  []string // from env:, NAME=VALUE
}

func newLoader(name string, opt Options) *loader {
	dir := filepath.Dir(name)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	return &loader{
		opt: opt, errs: &errs{file: name}, path: name, dir: dir, env: env,
		g:      &graph.Graph{},
		names:  map[string]string{},
		fifos:  map[string]*fifoDecl{},
		files:  map[string]*fileDecl{},
		builts: map[string]*builtinDecl{},
		stages: map[string]*stageDecl{},
	}
}

func (l *loader) load(data []byte) *graph.Graph {
	root := l.parseDoc(data)
	if root == nil {
		return nil
	}
	top, _ := l.mapping(root, "pipeline", topKeys)
	g := l.g
	g.Pipefail, g.OnFailure, g.IgnoreSIGPIPE = true, graph.KillRest, true
	g.Name = strings.TrimSuffix(filepath.Base(l.path), filepath.Ext(l.path))
	if v := top.get("version"); v != nil {
		if s, ok := l.scalar(v, "version"); ok && s != "1" {
			l.errs.add(v, "version: this tubo reads version 1 pipeline files, not %s", quote(s))
		}
	}
	if v := top.get("name"); v != nil {
		if s, ok := l.scalar(v, "name"); ok {
			g.Name = s
		}
	}
	if v := top.get("description"); v != nil {
		l.scalar(v, "description")
	}
	l.params(top.get("params"))
	if l.errs.n() > 0 {
		// Everything below substitutes params; stop before a cascade.
		return nil
	}
	for _, name := range l.paramOrder {
		g.Params = append(g.Params, graph.Param{Name: name, Value: l.param[name].text()})
	}
	l.options(top)
	l.declareFIFOs(top.get("fifos"))
	l.declareFiles(top.get("files"))
	l.declareBuiltins(top.get("tees"), graph.Tee)
	l.declareBuiltins(top.get("merges"), graph.Merge)
	l.declareStages(top.get("stages"))
	if l.errs.n() > 0 {
		return nil
	}
	l.topEdges(top.get("edges"))
	l.buildEdges()
	if l.errs.n() > 0 {
		return nil
	}
	l.implicitTees()
	l.spillDiamonds()
	l.finishProcs()
	l.checkSplitWidths()
	if l.errs.n() > 0 {
		return nil
	}
	if err := validate.Graph(g); err != nil {
		if el, ok := err.(*validate.ErrorList); ok {
			l.errs.list.Errors = append(l.errs.list.Errors, el.Errors...)
		} else {
			l.errs.add(nil, "%v", err)
		}
		return nil
	}
	if !l.opt.SkipLookup {
		l.lookupPrograms()
	}
	return g
}

// options reads the run-wide settings.
func (l *loader) options(top fields) {
	g := l.g
	onlyArgs := &scope{onlyArgs: true}
	if v := top.get("on_failure"); v != nil {
		if s, ok := l.scalar(v, "on_failure"); ok {
			switch s {
			case "kill-rest":
				g.OnFailure = graph.KillRest
			case "let-finish":
				g.OnFailure = graph.LetFinish
			default:
				l.errs.add(v, "on_failure: want kill-rest or let-finish, not %s%s", quote(s), didYouMean(s, []string{"kill-rest", "let-finish"}))
			}
		}
	}
	if v := top.get("pipefail"); v != nil {
		g.Pipefail, _ = l.boolean(v, "pipefail")
	}
	if v := top.get("sigpipe_is_failure"); v != nil {
		b, _ := l.boolean(v, "sigpipe_is_failure")
		g.IgnoreSIGPIPE = !b
	}
	if v := top.get("timeout"); v != nil {
		g.Timeout = l.duration(v, onlyArgs, "timeout")
	}
	if v := top.get("path"); v != nil {
		list, nodes, _ := l.strList(v, "path")
		for i, s := range list {
			if e, ok := l.expand(nodes[i], s, onlyArgs); ok {
				if e == "" || strings.ContainsRune(e, ':') {
					l.errs.add(nodes[i], "path: %s cannot be a PATH entry (empty or contains ':')", quote(e))
					continue
				}
				l.binDirs = append(l.binDirs, l.resolve(e))
			}
		}
	}
	if v := top.get("env"); v != nil {
		l.envAll = l.envMap(v, onlyArgs, "env")
	}
}

// duration reads a Go duration ("1m30s"); it must be positive.
func (l *loader) duration(n *yaml.Node, sc *scope, what string) time.Duration {
	s, ok := l.scalar(n, what)
	if !ok {
		return 0
	}
	if s, ok = l.expand(n, s, sc); !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		l.errs.add(n, "%s: %s is not a positive duration like 30s or 1m30s", what, quote(s))
		return 0
	}
	return d
}

// envMap reads a mapping of environment variables into NAME=VALUE pairs.
func (l *loader) envMap(n *yaml.Node, sc *scope, what string) []string {
	f, _ := l.mapping(n, what, nil)
	var out []string
	for _, fl := range f.list {
		if !validEnvName(fl.name) {
			l.errs.add(fl.key, "%s: %s is not a valid environment variable name", what, quote(fl.name))
			continue
		}
		v, ok := l.scalar(fl.val, what+": "+fl.name)
		if !ok {
			continue
		}
		if v, ok = l.expand(fl.val, v, sc); ok {
			out = append(out, fl.name+"="+v)
		}
	}
	return out
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// resolve makes a path from the file absolute, relative to the pipeline's
// directory.
func (l *loader) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.dir, p)
}

// declare claims a name in the one namespace that stages, fifos, files,
// tees and merges share.
func (l *loader) declare(key *yaml.Node, name, kind string) bool {
	if !validName(name) {
		l.errs.add(key, "%s %s: names are letters, digits, _ and -, starting with a letter or _", kind, quote(name))
		return false
	}
	if prev, dup := l.names[name]; dup {
		l.errs.add(key, "%s %s: the name is already used by a %s", kind, name, prev)
		return false
	}
	l.names[name] = kind
	return true
}

// tempDir is the private FIFO directory: a fresh path that the executor
// creates (mode 0700) and removes.
func (l *loader) tempDir() string {
	if l.g.TempDir != "" {
		return l.g.TempDir
	}
	if l.opt.TempDir != "" {
		l.g.TempDir = l.opt.TempDir
		return l.g.TempDir
	}
	var b [8]byte
	rand.Read(b[:])
	l.g.TempDir = filepath.Join(os.TempDir(), "tubo-"+hex.EncodeToString(b[:]))
	return l.g.TempDir
}
