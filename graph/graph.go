// Package graph holds tubo's process graph: the one model that both front
// ends (a shell line, a YAML pipeline file) produce and that validation,
// rendering, planning and execution consume.
//
// A graph is a set of nodes (processes, named FIFOs, files, and the builtin
// tee and merge stream nodes) joined by edges that go from one node's file
// descriptor to another's. Every node and edge remembers where in the source
// it came from, so any later error can name FILE:LINE:COL.
package graph

import (
	"fmt"
	"time"
)

// Pos is a place in a pipeline's source. The zero Pos means "unknown".
type Pos struct {
	File string // "" for a line given on the command line
	Line int    // 1-based; 0 means unknown
	Col  int    // 1-based; 0 means unknown
}

// String formats the position as FILE:LINE:COL, LINE:COL without a file, or
// "?" when nothing is known.
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "?"
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether the position names at least a file or a line.
func (p Pos) IsValid() bool { return p.File != "" || p.Line > 0 }

// Kind says what a node is.
type Kind int

const (
	Process Kind = iota // a program that tubo forks and execs
	FIFO                // a named pipe that tubo creates with mkfifo
	File                // a regular file used as a source or a sink
	Tee                 // builtin fan-out: one input copied to every output
	Merge               // builtin fan-in: several inputs into one output
	// Scatter is a builtin fan-out that copies nothing twice: its one
	// input is cut into consecutive chunks (Node.Chunk), dealt
	// round-robin to its outputs in edge order.
	Scatter
)

func (k Kind) String() string {
	switch k {
	case Process:
		return "process"
	case FIFO:
		return "fifo"
	case File:
		return "file"
	case Tee:
		return "tee"
	case Merge:
		return "merge"
	case Scatter:
		return "scatter"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Node is one vertex of the graph. Which fields matter depends on Kind; the
// others stay at their zero value.
type Node struct {
	ID   string // unique within the graph, e.g. "esclavo[1]"
	Kind Kind
	Pos  Pos

	// Group is the name of the declaration that produced the node; replicas
	// of one stage share it ("esclavo"). Empty means the same as ID.
	Group string

	// Process fields.
	Argv []string // program and arguments, after expansion; Argv[0] is looked up on PATH
	// Shell, when set, is a shell line that tubo runs through its own shell
	// front end (as `tubo -c Shell`) instead of Argv.
	Shell string
	// Dir is the working directory; "" means tubo's own.
	Dir string
	// Env lists NAME=VALUE pairs that the stage gets on top of tubo's
	// environment; nil adds nothing.
	Env []string
	// Timeout ends the stage (SIGTERM, then SIGKILL after the run's grace
	// period) when it runs longer; 0 means no limit.
	Timeout time.Duration
	// After names nodes that must exit with status 0 before this one starts;
	// nil means start at once.
	After []string
	// AfterOutcome says, for a node named in After, what it must end with
	// for this one to start (see Outcome); a node not in the map must
	// succeed, and nil means every one must.
	AfterOutcome map[string]Outcome
	// OKExit lists the exit statuses that count as success (a diff that
	// finds a difference exits 1); nil means only 0. The status shown
	// stays the one the process exited with.
	OKExit []int
	// OnFailure is what this stage's failure does to the run; nil means
	// the graph's OnFailure.
	OnFailure *Policy
	// Retries is how many more times a stage that fails is started again
	// (after RetryDelay, each delay Backoff times the one before); 0
	// means it is never retried. Only stages without live streams (their
	// inputs and outputs are files or nothing) can be retried.
	Retries    int
	RetryDelay time.Duration
	// Backoff multiplies the delay before each further retry; 0 or 1
	// keeps it constant.
	Backoff float64
	// Redirs are sh-style redirections, applied in order after the edges are
	// wired (so `2>&1` sees the pipe that an edge put on fd 1).
	Redirs []Redir
	// Replica is this copy's index (0-based) among Replicas copies; Replicas
	// is 0 for a stage that was not replicated.
	Replica, Replicas int
	// Item is the foreach item this copy was made for; "" when the stage
	// has no foreach.
	Item string
	// MaxParallel bounds how many nodes of this node's Group run at once
	// (the others wait for a turn, as with parallel -j); 0 means no bound.
	MaxParallel int
	// Inputs and Outputs are the files (absolute paths or globs) a stage
	// declares it reads and makes, for up-to-date skipping (package
	// cache); nil declares none, and a stage without Outputs always runs.
	Inputs, Outputs []string
	// Cached is set (by package cache) when the stage is up to date: the
	// executor does not start it and counts it as a success.
	Cached bool
	// StdinNull gives the process /dev/null on fd 0 when no edge feeds it;
	// false means it inherits tubo's stdin.
	StdinNull bool
	// Host is the name of the Graph.Hosts entry the process runs on,
	// through OpenSSH; "" runs it here, as a child of tubo. On a remote
	// host, Dir, Env and PathDirs apply there, and Argv[0] is looked up
	// on that host's PATH.
	Host string
	// PathDirs are directories put in front of the PATH the process would
	// otherwise get; nil adds none. Local processes get them folded into
	// Env by the front end; a remote one gets them in front of the remote
	// PATH, which only the remote side knows.
	PathDirs []string

	// FIFO and File fields.
	Path string // "" for a FIFO means a fresh name in tubo's private directory
	// Keep leaves a FIFO in place after the run; false removes it.
	Keep bool
	// Append opens a sink file with O_APPEND instead of truncating it.
	Append bool
	// Log marks a file that holds a stage's stderr for the file's logs:
	// directory (Graph.LogDir); false for other files.
	Log bool

	// Merge fields.
	Merge MergeSpec

	// Scatter fields.
	// Chunk is how a scatter cuts its input: chunk k goes to output k mod
	// the number of outputs.
	Chunk ChunkSpec

	// Tee fields.
	// FailOnReaderExit makes a reader that exits early fail the run; false
	// drops that reader and keeps feeding the others.
	FailOnReaderExit bool
	// Spill lets a tee run ahead of a slow reader: that reader's backlog is
	// buffered in memory, then in a temporary file, so a full pipe never
	// holds back the other readers. A tee whose branches meet again (a
	// diamond) needs it; false keeps the zero-copy path.
	Spill bool
}

// Name is the node's group name, or its ID if it has none.
func (n *Node) Name() string {
	if n.Group != "" {
		return n.Group
	}
	return n.ID
}

// MergeMode says how a merge node combines its inputs.
type MergeMode int

const (
	Concat     MergeMode = iota // all of input 1, then all of input 2, …
	Interleave                  // whole records in the order they arrive
	Ordered                     // k-way merge of inputs that are each sorted
	// Reassemble reads back, in chunk order, what a scatter's outputs
	// became: chunk k from input k mod the number of inputs, of the
	// size MergeSpec.Chunk says (each input writes one record per
	// record it read).
	Reassemble
)

func (m MergeMode) String() string {
	return [...]string{"concat", "interleave", "ordered", "reassemble"}[m]
}

// ChunkUnit is what a scatter's chunk size counts.
type ChunkUnit int

const (
	ChunkLines   ChunkUnit = iota // lines ending in '\n'
	ChunkBytes                    // bytes
	ChunkRecords                  // fixed-width binary records (ChunkSpec.Width)
)

func (u ChunkUnit) String() string { return [...]string{"lines", "bytes", "records"}[u] }

// ChunkSpec is how a scatter cuts its input, and how a reassembling merge
// reads the chunks back. The zero value means no chunking.
type ChunkSpec struct {
	By ChunkUnit
	// Size is the units in one chunk (the last chunk may have fewer).
	Size int
	// Width is the bytes of one record with By: ChunkRecords (4 or 8).
	Width int
	// Stage is the stage whose copies the chunks go through, for
	// messages ("work[2] wrote …"); "" if unknown.
	Stage string
}

// Bytes is the length of a chunk in bytes, or 0 for lines.
func (c ChunkSpec) Bytes() int64 {
	switch c.By {
	case ChunkBytes:
		return int64(c.Size)
	case ChunkRecords:
		return int64(c.Size) * int64(c.Width)
	}
	return 0
}

// RecordFormat says what one record of a merge input is.
type RecordFormat int

const (
	Lines RecordFormat = iota // text lines ending in '\n'
	Int32                     // 4-byte signed integers
	Int64                     // 8-byte signed integers
)

func (r RecordFormat) String() string {
	return [...]string{"lines", "int32", "int64"}[r]
}

// Width is the size in bytes of one binary record, or 0 for lines.
func (r RecordFormat) Width() int {
	switch r {
	case Int32:
		return 4
	case Int64:
		return 8
	}
	return 0
}

// ByteOrder of binary records.
type ByteOrder int

const (
	HostOrder ByteOrder = iota
	LittleEndian
	BigEndian
)

func (b ByteOrder) String() string {
	return [...]string{"host", "little", "big"}[b]
}

// MergeSpec configures a merge node. The zero value concatenates lines.
type MergeSpec struct {
	Mode   MergeMode
	Record RecordFormat
	Order  ByteOrder // for binary records
	// Numeric orders text lines by the number at their start instead of
	// byte-wise; unused for binary records, which always compare as numbers.
	Numeric bool
	// Text writes binary records as decimal text lines; false writes them in
	// the input's binary form.
	Text bool
	// Chunk is, for Reassemble, the chunking of the scatter whose outputs
	// the inputs read; zero otherwise.
	Chunk ChunkSpec
}

// Well-known descriptors of a process endpoint.
const (
	Stdin  = 0
	Stdout = 1
	Stderr = 2
)

// Endpoint is one end of an edge: a node and, for processes, a descriptor.
// FIFO, File, Tee and Merge nodes ignore FD on their side except that the
// order of a merge's inputs is the order of its edges.
type Endpoint struct {
	Node string
	FD   int
}

func (e Endpoint) String() string { return fmt.Sprintf("%s:%d", e.Node, e.FD) }

// Edge carries bytes from one endpoint to another through a kernel pipe (or,
// for FIFO and file nodes, through the file itself).
type Edge struct {
	From, To Endpoint
	Pos      Pos
	// PipeSize asks for this pipe's buffer size in bytes (F_SETPIPE_SZ); 0
	// means the run's default.
	PipeSize int
}

// Policy says what a run does when one process fails.
type Policy int

const (
	// LetFinish lets the other stages run to their end, as sh does.
	LetFinish Policy = iota
	// KillRest ends every other stage on the first failure.
	KillRest
	// Ignore counts the failure as a success: the run does not fail
	// because of it and what runs after it still runs (make's `-cmd`).
	Ignore
)

func (p Policy) String() string { return [...]string{"let-finish", "kill-rest", "ignore"}[p] }

// Outcome is what a stage must have ended with for a stage that runs
// after it to start.
type Outcome int

const (
	// Success: it exited with a status it accepts (OKExit), or failed
	// under on_failure: ignore.
	Success Outcome = iota
	// Failure: it failed, could not start, or was not started because
	// a stage it needed failed.
	Failure
	// Any: it ended, however.
	Any
)

func (o Outcome) String() string { return [...]string{"success", "failure", "any"}[o] }

// Graph is a whole process graph.
type Graph struct {
	Name  string
	Nodes []*Node
	Edges []*Edge

	// Pipefail makes the run's status the last non-zero status of any
	// process instead of the status of the last process.
	Pipefail bool
	// IgnoreSIGPIPE counts a process killed by SIGPIPE as a success: its
	// reader finished early, which is how `yes | head` ends. Shell lines
	// keep sh's rule (141 is a failure under pipefail).
	IgnoreSIGPIPE bool
	// OnFailure is the failure policy; the zero value lets the rest finish.
	OnFailure Policy
	// Timeout bounds the whole run; 0 means no limit.
	Timeout time.Duration
	// Params are the pipeline's parameters as resolved for this run (the
	// --set values and the defaults of the others), in the order they are
	// declared; nil for a shell line or a pipeline without params.
	Params []Param
	// StallAfter is how long no stage may use CPU or move a byte before
	// tubo reports a stall (stall_after:); 0 means tubo's default (10s),
	// a negative value turns the watchdog off.
	StallAfter time.Duration
	// FailOnStall ends a stalled run with the diagnosis and a non-zero
	// status (on_stall: fail); false only reports the stall.
	FailOnStall bool
	// AllowCycles lets loops of pipes through (cycles: allow, as
	// pipexec runs a driver talking to bc both ways): validation warns
	// about each one, with what deadlocks it, instead of refusing it;
	// false refuses them.
	AllowCycles bool
	// LogDir is the directory the run makes, before anything starts, for
	// the stages' stderr logs (logs: DIR); "" when there are none.
	LogDir string
	// TempDir is a fresh path that the executor creates with mode 0700 to
	// hold FIFOs that have no path of their own, and removes afterwards;
	// "" when no FIFO needs it.
	TempDir string
	// Hosts are the machines that processes may run on (Node.Host names
	// one), in declaration order; nil means every process runs here.
	Hosts []*Host
}

// Local is the name of the machine tubo runs on; "localhost" means the
// same. A process placed there runs without ssh.
const Local = "local"

// IsLocal reports whether a host name means the machine tubo runs on.
func IsLocal(name string) bool { return name == "" || name == Local || name == "localhost" }

// Host is a machine that stages run on through OpenSSH.
type Host struct {
	Name string // what on: and the report call it
	// SSH is the destination given to ssh: "host", "user@host", or a
	// Host alias from ~/.ssh/config.
	SSH string
	// Port is the TCP port; 0 leaves it to ssh (its config, else 22).
	Port int
	// Slots weighs the host when replicas are spread: a host with 4 slots
	// gets 4 replicas for each one a 1-slot host gets. 0 means 1.
	Slots int
	// Sessions is how many sessions tubo opens over one connection to
	// the host, its agent's included: sshd's MaxSessions, whose default
	// (and the meaning of 0) is 10. A host with more stages gets more
	// connections.
	Sessions int
	// Options are extra arguments for ssh, such as ["-o",
	// "Compression=no"]; they come before tubo's own options, so they win
	// where both set one.
	Options []string
	Pos     Pos
}

// PerConnection is how many stages on h share one ssh connection: its
// Sessions but the one that tubo's agent takes.
func (h *Host) PerConnection() int {
	if h.Sessions <= 0 {
		return 9
	}
	return max(1, h.Sessions-1)
}

// Connections is how many ssh connections tubo opens to h for that many
// stages.
func (h *Host) Connections(stages int) int {
	per := h.PerConnection()
	return (stages + per - 1) / per
}

// Host returns the host with the given name, or nil (also for local).
func (g *Graph) Host(name string) *Host {
	for _, h := range g.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Param is one resolved parameter: its value as one string (an int in
// decimal, a bool as true or false, a list joined with commas).
type Param struct{ Name, Value string }

// Node returns the node with the given ID, or nil.
func (g *Graph) Node(id string) *Node {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Add appends a node and returns it.
func (g *Graph) Add(n *Node) *Node {
	g.Nodes = append(g.Nodes, n)
	return n
}

// Connect appends an edge from one endpoint to another.
func (g *Graph) Connect(from, to Endpoint, pos Pos) *Edge {
	e := &Edge{From: from, To: to, Pos: pos}
	g.Edges = append(g.Edges, e)
	return e
}

// Inputs returns the edges that end at node id, in declaration order.
func (g *Graph) Inputs(id string) []*Edge {
	var in []*Edge
	for _, e := range g.Edges {
		if e.To.Node == id {
			in = append(in, e)
		}
	}
	return in
}

// Outputs returns the edges that start at node id, in declaration order.
func (g *Graph) Outputs(id string) []*Edge {
	var out []*Edge
	for _, e := range g.Edges {
		if e.From.Node == id {
			out = append(out, e)
		}
	}
	return out
}

// Error is a problem at a place in a pipeline's source, from any phase
// (parsing, validation, planning). It prints as FILE:LINE:COL: message,
// LINE:COL: message for a command line, or just the message when the
// place is unknown.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if e.Pos.IsValid() {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Msg
}
