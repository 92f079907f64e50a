package live

import (
	"time"

	"github.com/tubo-pipes/tubo/web"
)

// What the page is sent over Server-Sent Events, as JSON. A "run" event
// starts a pipeline (the graph to draw), "tick" events carry the figures
// that changed, a "report" event the run's final JSON report, and "bye"
// says that tubo is done and the server closes.

// runInfo is a "run" event: what is drawn once per pipeline.
type runInfo struct {
	Run    int       `json:"run"`  // 1 for the first pipeline of this tubo, then 2, …
	Name   string    `json:"name"` // the pipeline's name; "" for a shell line
	Start  time.Time `json:"start"`
	Params []param   `json:"params"`
	web.Drawing
}

type param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NodeState is what is known of a node at one moment. Figures that are
// not known are -1.
type NodeState struct {
	ID     string `json:"id"`
	State  string `json:"state"`            // Waiting, Running, …
	Detail string `json:"detail,omitempty"` // "exit 3", "SIGPIPE", why it did not start
	Pid    int    `json:"pid,omitempty"`
	// CPU is user + system seconds: from /proc/PID/stat while it runs,
	// from the rusage once reaped.
	CPU float64 `json:"cpu"`
	// RSS is the resident set now while it runs, the peak (maxrss) once
	// reaped.
	RSS int64 `json:"rss"`
	// Read and Written are rchar and wchar of /proc/PID/io; for a tee or
	// merge, its bytes in and out once it is done.
	Read    int64   `json:"read"`
	Written int64   `json:"written"`
	Start   float64 `json:"start,omitempty"` // seconds since the run started
	End     float64 `json:"end,omitempty"`
	// Stalled is set when the stall detector says the run is stuck and
	// this stage is blocked; Stall says on what, and who holds the other
	// end.
	Stalled bool   `json:"stalled,omitempty"`
	Stall   string `json:"stall,omitempty"`
}

// EdgeState is what is known of the bytes along one edge.
type EdgeState struct {
	I int `json:"i"`
	// Bytes so far, -1 when unknown, on the Basis the report uses:
	// "writer_wchar" is an estimate (an upper bound), "exact" is counted.
	Bytes int64   `json:"bytes"`
	Basis string  `json:"basis"`
	Rate  float64 `json:"rate"` // bytes per second lately, on the same basis
	// Idle is how many seconds the count has not moved while its writer
	// runs.
	Idle float64 `json:"idle,omitempty"`
	// Buffered is how many bytes wait in the pipe now, of Capacity; -1
	// when unknown (from the stall detector).
	Buffered int64 `json:"buffered"`
	Capacity int64 `json:"capacity"`
	// Stalled is set, with what waits on the edge in Stall, when the
	// stall detector says the run is stuck and a process waits on it.
	Stalled bool   `json:"stalled,omitempty"`
	Stall   string `json:"stall,omitempty"`
}

// Summary counts the processes of the run.
type Summary struct {
	Elapsed float64 `json:"elapsed"` // seconds
	Running int     `json:"running"`
	Waiting int     `json:"waiting"`
	Done    int     `json:"done"`
	Failed  int     `json:"failed"`
	Ended   bool    `json:"ended"`
	// Stalled says why the run is stuck, one sentence per cause, while
	// the stall detector finds it stalled; empty otherwise.
	Stalled []string `json:"stalled,omitempty"`
}

// tick is a "tick" event: the nodes and edges whose figures changed since
// the last one this client was sent.
type tick struct {
	Run     int         `json:"run"`
	Summary Summary     `json:"summary"`
	Nodes   []NodeState `json:"nodes"`
	Edges   []EdgeState `json:"edges"`
}
