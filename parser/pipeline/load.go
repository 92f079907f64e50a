// Package pipeline is tubo's YAML front end: it reads a pipeline file
// (its syntax is package ast), substitutes its parameters, expands
// replicas, resolves references, and produces a graph.Graph for
// validation, rendering, planning and execution.
//
// Nothing in a pipeline file ever reaches a shell unquoted: `run:` argv
// elements are exec'd as they are after placeholder substitution, and
// values substituted into a `shell:` line are shell-quoted. See
// docs/format.md for the format.
//
// A load reports every problem it can in one pass: a declaration that
// cannot be built is left out (and marked broken, so that references to
// it are not reported again), and the rest is still built, validated and
// looked up.
package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
	"github.com/tubo-pipes/tubo/validate"
)

// MaxFileSize is the largest pipeline file accepted, in bytes.
const MaxFileSize = ast.MaxFileSize

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
	// Jobs, when above 0, replaces the file's max_parallel (--jobs N):
	// at most N copies of each replicated or foreach stage run at once.
	Jobs int
	// Targets, when not empty, keeps only these stages (names, or one
	// copy as name[i]) and what they need: `tubo run FILE STAGE…`.
	Targets []string
	// Hosts are hosts from the command line (--hosts, --host): they join
	// the file's hosts:, replacing one of the same name, and replicated
	// stages without on: are spread over all hosts.
	Hosts []*graph.Host
}

// Load reads, checks and expands a pipeline file into a graph. Errors are
// an *ErrorList whose entries print as FILE:LINE:COL: message; callers exit
// with status 2.
func Load(path string, opt Options) (*graph.Graph, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return LoadBytes(path, data, opt)
}

func posOf(path string) graph.Pos { return graph.Pos{File: path} }

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

// loader holds the state of one load.
type loader struct {
	opt  Options
	errs *errs
	path string // the file as named
	dir  string // its directory, absolute
	env  []string
	g    *graph.Graph
	file *ast.Pipeline
	data []byte // the file's bytes, for positions inside block scalars
	// checked holds the shell: lines already parsed (checkShell), so that
	// replicas of a stage are checked once.
	checked map[*ast.Scalar]bool

	param      map[string]*param
	paramOrder []string

	names map[string]string // every declared name → what it is
	// broken holds declared names (params, stages, nodes) that could not
	// be built; their problem is reported once, where it is, and
	// whatever refers to them is left out without another message.
	broken map[string]bool
	// incomplete holds nodes that lost a connection to a broken or
	// dangling reference, so validation does not count their edges.
	incomplete map[string]bool
	fifos      map[string]*fifoDecl
	files      map[string]*fileDecl
	builts     map[string]*builtinDecl
	stages     map[string]*stageDecl
	order      []*stageDecl
	edges      []edgeSpec
	binDirs    []string // from path:, absolute
	envAll     []string // from env:, NAME=VALUE
	expanded   int      // bytes produced by placeholder substitution so far
	// inline are the files that stages name in place ({file: PATH}), one
	// per copy, with their edges; inputs are those read.
	inline []inlineFile
	inputs []*graph.Node
	// direct are edges made between nodes tubo made (a scatter and the
	// copies it deals to).
	direct []*graph.Edge
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
		g:          &graph.Graph{},
		names:      map[string]string{},
		broken:     map[string]bool{},
		incomplete: map[string]bool{},
		fifos:      map[string]*fifoDecl{},
		files:      map[string]*fileDecl{},
		builts:     map[string]*builtinDecl{},
		stages:     map[string]*stageDecl{},
	}
}

func (l *loader) load(data []byte) *graph.Graph {
	l.data = data
	file, err := ast.Parse(data)
	l.errs.addAST(err)
	if file == nil {
		return nil
	}
	l.file = file
	g := l.g
	g.Pipefail, g.OnFailure, g.IgnoreSIGPIPE = true, graph.KillRest, true
	g.Name = strings.TrimSuffix(filepath.Base(l.path), filepath.Ext(l.path))
	if file.Name != nil {
		g.Name = file.Name.Text
	}
	l.params(file.Params)
	l.resolvedParams()
	l.options(file)
	l.declareHosts(file.Hosts)
	l.declareFIFOs(file.FIFOs)
	l.declareFiles(file.Files)
	l.declareTees(file.Tees)
	l.declareMerges(file.Merges)
	l.declareStages(file)
	l.placeStages()
	l.topEdges(file.Edges)
	l.buildEdges()
	l.implicitTees()
	l.reassembles()
	l.spillDiamonds()
	l.finishProcs()
	l.maxParallel()
	l.logs()
	l.sharedPaths()
	if len(l.opt.Targets) > 0 {
		l.prune(l.opt.Targets)
	}
	l.checkSplitWidths()
	l.errs.addList(validate.Check(g, validate.Options{Incomplete: l.incomplete}))
	if !l.opt.SkipLookup {
		l.lookupPrograms()
		l.checkInputs()
	}
	return g
}

// options reads the run-wide settings.
func (l *loader) options(f *ast.Pipeline) {
	g := l.g
	onlyArgs := &scope{onlyArgs: true}
	if f.OnFailure != nil {
		g.OnFailure = f.OnFailure.Value
	}
	if f.Pipefail != nil {
		g.Pipefail = f.Pipefail.Value
	}
	if f.SigpipeIsFailure != nil {
		g.IgnoreSIGPIPE = !f.SigpipeIsFailure.Value
	}
	if f.Timeout != nil {
		g.Timeout = l.duration(f.Timeout, onlyArgs, "timeout")
	}
	if f.StallAfter != nil {
		if v, ok := l.expand(f.StallAfter.Node, f.StallAfter.Text, onlyArgs); ok && (v == "0" || v == "0s") {
			g.StallAfter = -1 // off
		} else {
			g.StallAfter = l.duration(f.StallAfter, onlyArgs, "stall_after")
		}
	}
	g.FailOnStall = f.OnStall != nil && f.OnStall.Text == "fail"
	g.AllowCycles = f.Cycles != nil && f.Cycles.Text == "allow"
	for _, s := range f.Path {
		if e, ok := l.expand(s.Node, s.Text, onlyArgs); ok {
			if e == "" || strings.ContainsRune(e, ':') {
				l.errs.add(s.Node, "path: %s cannot be a PATH entry (empty or contains ':')", quote(e))
				continue
			}
			l.binDirs = append(l.binDirs, l.resolve(e))
		}
	}
	l.envAll = l.envVars(f.Env, onlyArgs)
}

// duration reads a Go duration ("1m30s"); it must be positive.
func (l *loader) duration(s *ast.Scalar, sc *scope, what string) time.Duration {
	v, ok := l.expand(s.Node, s.Text, sc)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.errs.add(s.Node, "%s: %s is not a positive duration like 30s or 1m30s", what, quote(v))
		return 0
	}
	return d
}

// envVars expands env: entries into NAME=VALUE pairs.
func (l *loader) envVars(vars []*ast.EnvVar, sc *scope) []string {
	var out []string
	for _, v := range vars {
		if s, ok := l.expand(v.Value.Node, v.Value.Text, sc); ok {
			out = append(out, v.Name+"="+s)
		}
	}
	return out
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
	if !ast.ValidName(name) {
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
