// Package plan decides which descriptor goes where. It turns a graph into
// plain data: the pipes and FIFOs to create, the files to open, and for each
// process the fd table it will see after the dup2s. The plan is the one place
// that makes those decisions, so `tubo explain` prints exactly what the
// executor will do, and tests can check fd wiring without starting anything.
package plan

import (
	"fmt"
	"os"
	"sort"

	"github.com/tubo-pipes/tubo/graph"
)

// Plan is everything the executor needs to run a graph.
type Plan struct {
	Graph *graph.Graph

	// TempDir is the private directory (mode 0700) the executor creates for
	// FIFOs that have no path of their own; "" when none is needed.
	TempDir string
	// Pipes are created with pipe2(O_CLOEXEC), in this order.
	Pipes []Pipe
	// FIFOs are created with mkfifo(0600) before any process starts.
	FIFOs []FIFO
	// Files are opened by tubo before the process that uses them starts, in
	// this order, so `cmd <missing >out` never creates out, as in sh.
	Files []File
	Procs []*Proc
	// Builtins are the tee and merge nodes that run inside tubo.
	Builtins []*Builtin
	// OwnGroups puts each process in a process group of its own; false puts
	// all processes of the run in one group, like a shell job.
	OwnGroups bool
}

// Pipe is one pipe(2) to create.
type Pipe struct {
	// Why says what the pipe connects, for explain and trace output.
	Why string
	// Size is the buffer size to ask for with F_SETPIPE_SZ; 0 keeps the
	// kernel's default (64 KiB).
	Size int
	// Data, when non-nil, is written into the pipe by tubo: the body of a
	// here-document or here-string.
	Data []byte
	// Edge is the graph edge the pipe carries; nil for a here-document,
	// whose reader is To.
	Edge *graph.Edge
	// To is the endpoint that reads the pipe (Edge.To, or the stage and
	// descriptor of a here-document).
	To graph.Endpoint
}

// FIFO is a named pipe to create.
type FIFO struct {
	Node *graph.Node
	Path string
	// Remove unlinks the FIFO after the run; false leaves it (keep: true).
	Remove bool
}

// File is a path that tubo opens on behalf of one process or builtin.
type File struct {
	Path string
	Flag int
	Perm os.FileMode
	// IsFIFO means opening may block until the other side opens, so the
	// executor opens it without holding up anything else.
	IsFIFO bool
	Pos    graph.Pos
	// Edge is the graph edge whose FIFO or file end this opens; nil for
	// a path that a redirection names (`>out.txt`, `<in`).
	Edge *graph.Edge
}

// SourceKind says where a child's descriptor comes from.
type SourceKind int

const (
	Inherit   SourceKind = iota // tubo's own descriptor FD, passed as is
	PipeRead                    // the read end of Pipes[Index]
	PipeWrite                   // the write end of Pipes[Index]
	OpenFile                    // Files[Index], opened by tubo
	Closed                      // closed in the child
	DevNull                     // /dev/null, read-only
)

// Source is what one descriptor of a child (or of a builtin) refers to.
type Source struct {
	Kind  SourceKind
	Index int // PipeRead, PipeWrite, OpenFile: index into Pipes or Files
	FD    int // Inherit: tubo's own descriptor number
}

// FD is one entry of a process's descriptor table after the dup2s.
type FD struct {
	Num int    // the descriptor number in the child
	Src Source // what it refers to
	Why string // the reason for this entry: "stdout → sort:0", "2>&1", …
}

// Proc is one process to start.
type Proc struct {
	Node *graph.Node
	Argv []string // as exec'd; Argv[0] is still looked up on PATH
	Dir  string
	Env  []string // added to the run's base environment
	// FDs is the child's descriptor table, sorted by Num. Descriptors that
	// are not listed are closed, except those tubo itself inherited, which
	// pass through as in sh.
	FDs []FD
	// Files lists, in order, the indexes into Plan.Files that this process
	// needs opened before it starts.
	Files []int
	// After holds indexes into Plan.Procs that must exit 0 first.
	After []int
	// Owned lists every pipe end and file tubo opens for this process,
	// whether or not a redirection later replaced it in FDs (`echo hi
	// >/dev/null | wc -l` never uses its pipe's write end): tubo closes its
	// copies of all of them once the process has started, or failed to.
	Owned []Source
	// Host is the remote host the process runs on (Node.Host); "" means
	// here. For a remote process Argv is the local ssh client's, whose
	// stdin, stdout and stderr carry the remote program's fds 0–2, and
	// Dir and Env are empty: the remote command line carries them.
	Host string
	// Token names the remote process to its host's agent ("s3"); "" for
	// a local one.
	Token string
}

// Remote turns a remote process into the local ssh command that runs it
// (see package remote); plan only decides which token names it.
type Remote interface {
	Command(n *graph.Node, token string) ([]string, error)
}

// Builtin is a tee or merge node run inside tubo.
type Builtin struct {
	Node    *graph.Node
	Inputs  []Source
	Outputs []Source
	Files   []int // indexes into Plan.Files opened for it
}

// Options tune planning.
type Options struct {
	// Self is the path of the tubo executable, used to run shell-line stages
	// as `tubo -c LINE`; "" means os.Executable().
	Self string
	// PipeSize is the default pipe buffer size for every edge; 0 keeps the
	// kernel default.
	PipeSize int
	// Remote builds the ssh command of each process placed on another
	// host; a graph with such a process cannot be planned without it.
	Remote Remote
}

// Build plans a graph. The graph must have been validated; Build reports
// only what validation cannot see (such as a dup of a closed descriptor).
func Build(g *graph.Graph, opt Options) (*Plan, error) {
	p := &Plan{Graph: g}
	b := &builder{p: p, opt: opt, procIndex: map[string]int{}, nodes: make(map[string]*graph.Node, len(g.Nodes))}
	for _, n := range g.Nodes {
		b.nodes[n.ID] = n
		if n.Kind == graph.FIFO {
			p.FIFOs = append(p.FIFOs, FIFO{Node: n, Path: n.Path, Remove: !n.Keep})
		}
	}
	p.TempDir = g.TempDir
	if err := b.edges(); err != nil {
		return nil, err
	}
	for _, n := range g.Nodes {
		switch n.Kind {
		case graph.Process:
			if err := b.proc(n); err != nil {
				return nil, err
			}
		case graph.Tee, graph.Merge, graph.Scatter:
			b.builtin(n)
		}
	}
	for _, pr := range p.Procs {
		for _, dep := range pr.Node.After {
			i, ok := b.procIndex[dep]
			if !ok {
				return nil, fmt.Errorf("%s: %s: after: no process named %q", pr.Node.Pos, pr.Node.ID, dep)
			}
			pr.After = append(pr.After, i)
		}
	}
	return p, nil
}

type builder struct {
	p         *Plan
	opt       Options
	procIndex map[string]int
	// ends maps each endpoint of an edge to the source its owner sees.
	ends map[graph.Endpoint][]endRef
	// nodes finds a node by ID, and sides lists, per node ID, the ends of
	// edges at that node in the order of the edges: a long line is
	// planned in time linear in its length, not quadratic.
	nodes map[string]*graph.Node
	sides map[string][]graph.Endpoint
}

type endRef struct {
	src Source
	why string
}

// edges turns every edge into a pipe or a file open, and records what each
// endpoint gets.
func (b *builder) edges() error {
	b.ends = map[graph.Endpoint][]endRef{}
	b.sides = map[string][]graph.Endpoint{}
	g := b.p.Graph
	for _, e := range g.Edges {
		for _, side := range []graph.Endpoint{e.From, e.To} {
			b.sides[side.Node] = append(b.sides[side.Node], side)
		}
		from, to := b.nodes[e.From.Node], b.nodes[e.To.Node]
		if from == nil || to == nil {
			return fmt.Errorf("%s: edge %s → %s: unknown node", e.Pos, e.From, e.To)
		}
		why := fmt.Sprintf("%s → %s", label(from, e.From), label(to, e.To))
		switch {
		case isPath(from):
			// The reader opens the file or FIFO itself: no pipe between them.
			fi := b.file(from, os.O_RDONLY, e)
			b.ends[e.To] = append(b.ends[e.To], endRef{Source{Kind: OpenFile, Index: fi}, "reads " + from.Path})
		case isPath(to):
			flag := os.O_WRONLY
			if to.Kind == graph.File {
				flag |= os.O_CREATE
				if to.Append {
					flag |= os.O_APPEND
				} else {
					flag |= os.O_TRUNC
				}
			}
			fi := b.file(to, flag, e)
			b.ends[e.From] = append(b.ends[e.From], endRef{Source{Kind: OpenFile, Index: fi}, "writes " + to.Path})
		default:
			size := e.PipeSize
			if size == 0 {
				size = b.opt.PipeSize
			}
			b.p.Pipes = append(b.p.Pipes, Pipe{Why: why, Size: size, Edge: e, To: e.To})
			pi := len(b.p.Pipes) - 1
			b.ends[e.From] = append(b.ends[e.From], endRef{Source{Kind: PipeWrite, Index: pi}, "→ " + label(to, e.To)})
			b.ends[e.To] = append(b.ends[e.To], endRef{Source{Kind: PipeRead, Index: pi}, "← " + label(from, e.From)})
		}
	}
	return nil
}

func isPath(n *graph.Node) bool { return n.Kind == graph.File || n.Kind == graph.FIFO }

func label(n *graph.Node, ep graph.Endpoint) string {
	if n.Kind == graph.Process {
		return fmt.Sprintf("%s:%d", n.ID, ep.FD)
	}
	return n.ID
}

func (b *builder) file(n *graph.Node, flag int, e *graph.Edge) int {
	b.p.Files = append(b.p.Files, File{Path: n.Path, Flag: flag, Perm: 0o666, IsFIFO: n.Kind == graph.FIFO, Pos: e.Pos, Edge: e})
	return len(b.p.Files) - 1
}

// proc computes one process's descriptor table: the standard three, then the
// edges, then the redirections in order, as a shell would in the child.
func (b *builder) proc(n *graph.Node) error {
	pr := &Proc{Node: n, Dir: n.Dir, Env: n.Env}
	if n.Shell != "" {
		self := b.opt.Self
		if self == "" {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("%s: cannot find the tubo executable to run a shell stage: %v", n.Pos, err)
			}
			self = exe
		}
		pr.Argv = []string{self, "-c", n.Shell}
	} else {
		pr.Argv = n.Argv
	}
	if n.Host != "" {
		if err := b.remote(n, pr); err != nil {
			return err
		}
	}
	table := map[int]FD{
		0: {Num: 0, Src: Source{Kind: Inherit, FD: 0}, Why: "inherited stdin"},
		1: {Num: 1, Src: Source{Kind: Inherit, FD: 1}, Why: "inherited stdout"},
		2: {Num: 2, Src: Source{Kind: Inherit, FD: 2}, Why: "inherited stderr"},
	}
	if n.StdinNull {
		table[0] = FD{Num: 0, Src: Source{Kind: DevNull}, Why: "no input: /dev/null"}
	}
	for _, side := range b.sides[n.ID] {
		refs := b.ends[side]
		if len(refs) == 0 {
			continue
		}
		// An endpoint may appear on several edges only for merges and
		// tees; a process endpoint has exactly one (validation checks).
		table[side.FD] = FD{Num: side.FD, Src: refs[0].src, Why: refs[0].why}
		pr.Owned = append(pr.Owned, refs[0].src)
		if refs[0].src.Kind == OpenFile {
			pr.Files = appendOnce(pr.Files, refs[0].src.Index)
		}
	}
	for _, r := range n.Redirs {
		switch r.Kind {
		case graph.Open:
			b.p.Files = append(b.p.Files, File{Path: r.Path, Flag: r.Flag, Perm: 0o666, Pos: r.Pos})
			fi := len(b.p.Files) - 1
			pr.Files = append(pr.Files, fi)
			table[r.FD] = FD{Num: r.FD, Src: Source{Kind: OpenFile, Index: fi}, Why: r.String()}
			pr.Owned = append(pr.Owned, Source{Kind: OpenFile, Index: fi})
		case graph.Dup:
			src, ok := table[r.Src]
			if !ok {
				// Not in the table: one of tubo's own inherited descriptors
				// (the executor checks that it is open).
				src = FD{Src: Source{Kind: Inherit, FD: r.Src}}
			}
			if src.Src.Kind == Closed {
				return &Error{Pos: r.Pos, Msg: fmt.Sprintf("%d: bad file descriptor", r.Src)}
			}
			table[r.FD] = FD{Num: r.FD, Src: src.Src, Why: r.String()}
		case graph.Close:
			table[r.FD] = FD{Num: r.FD, Src: Source{Kind: Closed}, Why: r.String()}
		case graph.Data:
			b.p.Pipes = append(b.p.Pipes, Pipe{Why: fmt.Sprintf("here-document → %s:%d", n.ID, r.FD), Data: r.Data,
				To: graph.Endpoint{Node: n.ID, FD: r.FD}})
			table[r.FD] = FD{Num: r.FD, Src: Source{Kind: PipeRead, Index: len(b.p.Pipes) - 1}, Why: r.String()}
			pr.Owned = append(pr.Owned, Source{Kind: PipeRead, Index: len(b.p.Pipes) - 1})
		}
	}
	for _, fd := range table {
		pr.FDs = append(pr.FDs, fd)
	}
	sort.Slice(pr.FDs, func(i, j int) bool { return pr.FDs[i].Num < pr.FDs[j].Num })
	b.procIndex[n.ID] = len(b.p.Procs)
	b.p.Procs = append(b.p.Procs, pr)
	return nil
}

// builtin collects a tee's or merge's inputs and outputs in edge order.
func (b *builder) builtin(n *graph.Node) {
	bi := &Builtin{Node: n}
	for _, e := range b.p.Graph.Edges {
		if e.To.Node == n.ID {
			ref := b.take(e.To)
			bi.Inputs = append(bi.Inputs, ref.src)
			if ref.src.Kind == OpenFile {
				bi.Files = append(bi.Files, ref.src.Index)
			}
		}
		if e.From.Node == n.ID {
			ref := b.take(e.From)
			bi.Outputs = append(bi.Outputs, ref.src)
			if ref.src.Kind == OpenFile {
				bi.Files = append(bi.Files, ref.src.Index)
			}
		}
	}
	if n.Kind == graph.Merge && len(bi.Outputs) == 0 {
		// A merge connected to nothing writes to tubo's own stdout, like
		// the last stage of a shell pipeline.
		bi.Outputs = []Source{{Kind: Inherit, FD: 1}}
	}
	b.p.Builtins = append(b.p.Builtins, bi)
}

// take pops the next source recorded for a builtin's endpoint; builtin
// endpoints may carry several edges, taken in declaration order.
func (b *builder) take(ep graph.Endpoint) endRef {
	refs := b.ends[ep]
	ref := refs[0]
	b.ends[ep] = refs[1:]
	return ref
}

func appendOnce(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Error is a planning error at a place in the source.
type Error = graph.Error

// Label names one end of an edge as explain, trace and the stall report
// print it: NODE:FD for a process, the node's ID for a FIFO, file, tee or
// merge.
func (p *Plan) Label(ep graph.Endpoint) string {
	if n := p.Graph.Node(ep.Node); n != nil {
		return label(n, ep)
	}
	return ep.String()
}
