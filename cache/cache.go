// Package cache decides which stages of a pipeline are up to date, so that
// `tubo run` skips them, as make skips a target newer than its sources
// and Nextflow's -resume skips a task it has run before.
//
// A stage opts in by declaring outputs: (files or globs). Its key hashes
// what its outputs are made from: its argv or shell line, its directory
// and environment additions, the content of its executable, the content
// of its inputs (those it declares with inputs: and the files it reads
// through edges), and the keys of the stages that stream into it. When a
// stage's key is the one recorded by its last successful run and every
// output still has the content recorded then, the stage is cached: not
// started, and counted as a success. Content, not times, decides: a file
// that is touched but not changed keeps its stage cached (make would
// rebuild it).
//
// A stage that only streams into cached stages is not needed either and
// is skipped with them; one that also streams into a stage that runs must
// run, and so must every stage it streams into (a stream cannot be
// replayed). State lives next to the pipeline file, in .tubo/cache/, and
// a run holds a lock on it for its whole length, so concurrent runs of
// one pipeline take turns instead of racing for its outputs.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/lookup"
)

// Options tune a run's cache.
type Options struct {
	// Dir is the pipeline file's directory: the state goes in
	// Dir/.tubo/cache/.
	Dir string
	// Name names the pipeline's state files (the file's base name).
	Name string
	// Force re-runs every stage; ForceStages re-runs those stages (names,
	// or one copy as name[i]) and so everything that streams from them.
	Force       bool
	ForceStages []string
	// Env is the environment whose PATH finds the executables; nil means
	// os.Environ().
	Env []string
	// Wait is told once when the run must wait for another run of the
	// same pipeline to finish; nil says nothing.
	Wait func(lock string)
}

// Run is one run's use of the cache: the decision made before it (which
// stages are cached), and the record made after it.
type Run struct {
	g     *graph.Graph
	opt   Options
	dir   string // .tubo/cache
	lock  *os.File
	st    *state
	keys  map[string]string // node ID → key
	maker map[string]string // path → the node ID that makes it this run
	outs  map[string][]string
	files *hasher
	// Cached are the stages skipped because their outputs are up to date,
	// and Unneeded those skipped because they only fed cached stages.
	Cached, Unneeded []string
}

// Prepare decides which stages of g are cached and marks them
// (graph.Node.Cached); stages that only feed them are dropped from g. It
// returns nil, nil when no stage of g declares outputs. The caller must
// call Close, after Record.
func Prepare(g *graph.Graph, opt Options) (*Run, error) {
	if !declaresOutputs(g) {
		return nil, nil
	}
	if opt.Env == nil {
		opt.Env = os.Environ()
	}
	r := &Run{g: g, opt: opt, dir: filepath.Join(opt.Dir, ".tubo", "cache"), keys: map[string]string{}, outs: map[string][]string{}}
	if err := r.acquire(); err != nil {
		return nil, err
	}
	st, err := loadState(r.statePath())
	if err != nil {
		r.Close()
		return nil, err
	}
	r.st = st
	r.files = &hasher{st: st}
	if err := r.decide(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func declaresOutputs(g *graph.Graph) bool {
	for _, n := range g.Nodes {
		if n.Kind == graph.Process && len(n.Outputs) > 0 {
			return true
		}
	}
	return false
}

func (r *Run) statePath() string { return filepath.Join(r.dir, safeName(r.opt.Name)+".json") }

// safeName makes a file name of a pipeline name.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "pipeline"
	}
	return b.String()
}

// acquire takes the pipeline's lock, waiting for another run to release
// it: two runs that race for the same outputs would both run a stage and
// overwrite each other's files.
func (r *Run) acquire() error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	path := filepath.Join(r.dir, safeName(r.opt.Name)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == syscall.EWOULDBLOCK {
		if r.opt.Wait != nil {
			r.opt.Wait(path)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != nil {
			f.Close()
			return fmt.Errorf("cache: lock %s: %w", path, err)
		}
	} else if err != nil {
		f.Close()
		return fmt.Errorf("cache: lock %s: %w", path, err)
	}
	r.lock = f
	return nil
}

// Close releases the lock.
func (r *Run) Close() {
	if r != nil && r.lock != nil {
		r.lock.Close()
		r.lock = nil
	}
}

// decide computes every process's key and marks the cached stages.
func (r *Run) decide() error {
	g := r.g
	byID := map[string]*graph.Node{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	in := map[string][]*graph.Edge{}
	out := map[string][]*graph.Edge{}
	for _, e := range g.Edges {
		in[e.To.Node] = append(in[e.To.Node], e)
		out[e.From.Node] = append(out[e.From.Node], e)
	}
	// Files that stages of this run make: read before the run, they may
	// not exist yet, and their content is whatever their maker's key
	// makes.
	maker := map[string]string{}
	r.maker = maker
	for _, n := range g.Nodes {
		if n.Kind != graph.Process {
			continue
		}
		for _, p := range n.Outputs {
			if !hasGlob(p) {
				maker[p] = n.ID
			}
		}
		for _, e := range out[n.ID] {
			if to := byID[e.To.Node]; to.Kind == graph.File {
				maker[to.Path] = n.ID
			}
		}
	}
	forced := map[string]bool{}
	for _, s := range r.opt.ForceStages {
		for _, n := range g.Nodes {
			if n.ID == s || n.Kind == graph.Process && n.Name() == s {
				forced[n.ID] = true
			}
		}
	}
	// Keys, upstream first (stream edges have no cycles).
	var keyOf func(id string, seen map[string]bool) (string, error)
	keyOf = func(id string, seen map[string]bool) (string, error) {
		if k, ok := r.keys[id]; ok {
			return k, nil
		}
		if seen[id] {
			return "cycle", nil // a declared loop: its members are never cached
		}
		seen[id] = true
		n := byID[id]
		h := sha256.New()
		fmt.Fprintf(h, "tubo-cache-v1\x00%s\x00", n.Kind)
		if n.Kind == graph.Process {
			made := func(path string) (string, bool, error) {
				m, ok := maker[path]
				if !ok || m == id {
					return "", false, nil
				}
				k, err := keyOf(m, seen)
				return k, true, err
			}
			if err := r.ownKey(h, n, made); err != nil {
				return "", err
			}
		}
		if n.Kind == graph.Merge || n.Kind == graph.Scatter {
			fmt.Fprintf(h, "%+v\x00%+v\x00", n.Merge, n.Chunk)
		}
		for _, e := range in[id] {
			from := byID[e.From.Node]
			var k string
			var err error
			switch from.Kind {
			case graph.File:
				if m, ok := maker[from.Path]; ok && m != id {
					k, err = keyOf(m, seen)
					k = "made by " + k
				} else {
					k, err = r.fileKey(from.Path)
				}
			case graph.FIFO:
				// What comes through a FIFO is whatever writes it.
				var parts []string
				for _, fe := range in[from.ID] {
					pk, err := keyOf(fe.From.Node, seen)
					if err != nil {
						return "", err
					}
					parts = append(parts, pk)
				}
				k = strings.Join(parts, ",")
			default:
				k, err = keyOf(from.ID, seen)
			}
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "in %d<-%d %s\x00", e.To.FD, e.From.FD, k)
		}
		k := hex.EncodeToString(h.Sum(nil))
		r.keys[id] = k
		return k, nil
	}
	var fresh []string
	for _, n := range g.Nodes {
		if n.Kind != graph.Process {
			continue
		}
		k, err := keyOf(n.ID, map[string]bool{})
		if err != nil {
			return err
		}
		if len(n.Outputs) == 0 || r.opt.Force || forced[n.ID] {
			continue
		}
		outs, err := r.outputs(n, out[n.ID], byID)
		if err != nil {
			return err
		}
		r.outs[n.ID] = outs
		if r.st.fresh(n.ID, k, outs, r.files) {
			fresh = append(fresh, n.ID)
		}
	}
	skip := r.settle(fresh, byID, in, out)
	var drop = map[string]bool{}
	for _, n := range g.Nodes {
		if !skip[n.ID] {
			continue
		}
		if n.Kind == graph.Process {
			n.Cached = true
			if len(n.Outputs) > 0 {
				r.Cached = append(r.Cached, n.ID)
			} else {
				r.Unneeded = append(r.Unneeded, n.ID)
			}
			continue
		}
		drop[n.ID] = true
	}
	// Cached stages keep their nodes (the report shows them) but no
	// edges: nothing is opened or piped for them.
	for _, e := range g.Edges {
		if skip[e.From.Node] && byID[e.To.Node].Kind == graph.File {
			drop[e.To.Node] = true
		}
	}
	var edges []*graph.Edge
	for _, e := range g.Edges {
		if !skip[e.From.Node] && !skip[e.To.Node] {
			edges = append(edges, e)
		}
	}
	g.Edges = edges
	g.Drop(drop)
	return nil
}

// ownKey hashes what is the stage's own: how it runs and what it reads.
// made gives the key of the stage of this run that makes a file, if one
// does.
func (r *Run) ownKey(h io.Writer, n *graph.Node, made func(string) (string, bool, error)) error {
	for _, a := range n.Argv {
		fmt.Fprintf(h, "arg %d %s\x00", len(a), a)
	}
	fmt.Fprintf(h, "shell %d %s\x00dir %s\x00", len(n.Shell), n.Shell, n.Dir)
	for _, kv := range n.Env {
		fmt.Fprintf(h, "env %s\x00", kv)
	}
	for _, rd := range n.Redirs {
		fmt.Fprintf(h, "redir %s\x00", rd)
		if rd.Kind == graph.Data {
			h.Write(rd.Data) // a here-document's text is an input too
		}
	}
	if n.Shell == "" && len(n.Argv) > 0 {
		path := getenv(n.Env, "PATH")
		if path == "" {
			path = getenv(r.opt.Env, "PATH")
		}
		exe, err := lookup.Program(n.Argv[0], path, n.Dir)
		if err != nil {
			// It will fail to start: a key nobody has recorded.
			fmt.Fprintf(h, "exe missing %v\x00", err)
		} else {
			if !filepath.IsAbs(exe) && n.Dir != "" {
				exe = filepath.Join(n.Dir, exe)
			}
			eh, err := r.files.hash(exe)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "exe %s\x00", eh)
		}
	}
	ins, err := expand(n.Inputs)
	if err != nil {
		return fmt.Errorf("%s: inputs: %w", n.ID, err)
	}
	// A glob also covers what stages of this run will make: before the
	// first run those files do not exist yet.
	for _, pat := range n.Inputs {
		if hasGlob(pat) {
			ins = append(ins, r.madeMatching(pat)...)
		}
	}
	ins = dedup(ins)
	for _, p := range ins {
		k, ok, err := made(p)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(h, "input %s made by %s\x00", p, k)
			continue
		}
		fh, err := r.fileKey(p)
		if err != nil {
			return fmt.Errorf("%s: input %s: %w", n.ID, p, err)
		}
		fmt.Fprintf(h, "input %s %s\x00", p, fh)
	}
	return nil
}

// madeMatching lists the files this run's stages make that match a glob.
func (r *Run) madeMatching(pat string) []string {
	var out []string
	for p := range r.maker {
		if ok, _ := filepath.Match(pat, p); ok {
			out = append(out, p)
		}
	}
	return out
}

// fileKey is a file's content hash, or "missing" for a file that does not
// exist: a key no successful run has recorded (the stage will say what is
// missing when it runs).
func (r *Run) fileKey(path string) (string, error) {
	k, err := r.files.hash(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing", nil
	}
	return k, err
}

// outputs lists a stage's output files: what outputs: matches, and the
// files it writes through edges.
func (r *Run) outputs(n *graph.Node, out []*graph.Edge, byID map[string]*graph.Node) ([]string, error) {
	list, err := expand(n.Outputs)
	if err != nil {
		return nil, fmt.Errorf("%s: outputs: %w", n.ID, err)
	}
	for _, e := range out {
		if to := byID[e.To.Node]; to.Kind == graph.File && to.Path != os.DevNull {
			list = append(list, to.Path)
		}
	}
	sort.Strings(list)
	return dedup(list), nil
}

// settle turns the fresh stages into the set that is skipped: a fresh
// stage must run after all when it streams into one that runs (a stream
// cannot be replayed), which then must run too; and a stage, tee, merge,
// scatter or FIFO whose every stream consumer is skipped is not needed.
func (r *Run) settle(fresh []string, byID map[string]*graph.Node, in, out map[string][]*graph.Edge) map[string]bool {
	skip := map[string]bool{}
	for _, id := range fresh {
		skip[id] = true
	}
	streams := func(e *graph.Edge) bool {
		return byID[e.From.Node].Kind != graph.File && byID[e.To.Node].Kind != graph.File
	}
	for changed := true; changed; {
		changed = false
		// A skipped node whose stream reaches a node that runs must run.
		for id := range skip {
			for _, e := range out[id] {
				if streams(e) && !skip[e.To.Node] {
					delete(skip, id)
					changed = true
					break
				}
			}
		}
		// A node that streams only into skipped nodes is not needed,
		// unless it writes where no edge says (tubo's stdout or stderr)
		// or declares outputs of its own.
		for _, n := range r.g.Nodes {
			if skip[n.ID] || n.Kind == graph.File || len(n.Outputs) > 0 {
				continue
			}
			outs := out[n.ID]
			all := len(outs) > 0
			for _, e := range outs {
				if !streams(e) || !skip[e.To.Node] {
					all = false
				}
			}
			if all && (n.Kind != graph.Process || !writesOwnStdio(n, outs)) {
				skip[n.ID] = true
				changed = true
			}
		}
	}
	return skip
}

// writesOwnStdio says whether a process's stdout has no edge: it then
// writes to tubo's own, which someone reads. (Its stderr is diagnostics.)
func writesOwnStdio(n *graph.Node, outs []*graph.Edge) bool {
	has := map[int]bool{}
	for _, e := range outs {
		has[e.From.FD] = true
	}
	return !has[graph.Stdout]
}

// Record stores, for every stage with outputs that ran and succeeded, its
// key and the content of its outputs; a stage that failed loses its
// record, so the next run runs it. Cached stages keep theirs.
func (r *Run) Record(res *executor.Result) error {
	if r == nil {
		return nil
	}
	for _, pr := range res.Procs {
		n := pr.Node
		if len(n.Outputs) == 0 || n.Cached {
			continue
		}
		if !pr.OK || pr.Skipped || pr.Pid == 0 {
			delete(r.st.Stages, n.ID)
			continue
		}
		outs := r.outs[n.ID]
		if outs == nil {
			// Forced: the outputs were not listed before the run.
			var err error
			if outs, err = expand(n.Outputs); err != nil {
				return err
			}
		}
		// What the stage made now, globs matched again.
		now, err := expand(n.Outputs)
		if err != nil {
			return err
		}
		outs = dedup(append(append([]string(nil), now...), filesOnly(outs)...))
		rec := &stageRecord{Key: r.keys[n.ID], Outputs: map[string]string{}}
		complete := true
		for _, p := range outs {
			h, err := r.files.hash(p)
			if err != nil {
				// An output it declares but did not make: nothing to
				// keep, and the next run runs it again.
				complete = false
				break
			}
			rec.Outputs[p] = h
		}
		if complete {
			r.st.Stages[n.ID] = rec
		} else {
			delete(r.st.Stages, n.ID)
		}
	}
	return r.st.save(r.statePath())
}

// filesOnly keeps the paths that are not glob patterns.
func filesOnly(list []string) []string {
	var out []string
	for _, p := range list {
		if !hasGlob(p) {
			out = append(out, p)
		}
	}
	return out
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// expand matches globs (sorted); a plain path stays as it is, whether it
// exists or not.
func expand(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		if !hasGlob(p) {
			out = append(out, p)
			continue
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return dedup(out), nil
}

func dedup(sorted []string) []string {
	sort.Strings(sorted)
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
