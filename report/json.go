package report

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/tubo-pipes/tubo/graph"
)

// JSON writes the report as one indented JSON object in the schema
// docs/report.schema.json: snake_case names, durations in seconds (float),
// times in RFC 3339 with nanoseconds, statuses as integers with signal
// names beside them, and null for what is unknown or does not apply.
func JSON(w io.Writer, r *Report) error {
	if r == nil {
		return errNil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(toJSON(r))
}

type jsonReport struct {
	SchemaVersion int           `json:"schema_version"`
	Pipeline      string        `json:"pipeline"`
	Start         *time.Time    `json:"start"`
	End           *time.Time    `json:"end"`
	WallSeconds   float64       `json:"wall_seconds"`
	Status        int           `json:"status"`
	Signal        *string       `json:"signal"`
	TimedOut      bool          `json:"timed_out"`
	FirstFailure  *string       `json:"first_failure"`
	UserSeconds   float64       `json:"user_seconds"`
	SystemSeconds float64       `json:"system_seconds"`
	Stages        []jsonStage   `json:"stages"`
	Builtins      []jsonBuiltin `json:"builtins"`
	Edges         []jsonEdge    `json:"edges"`
	Params        jsonParams    `json:"params"`
}

// jsonParams is an object of the parameters, written in declaration
// order (a map would sort them).
type jsonParams []graph.Param

func (ps jsonParams) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type jsonStage struct {
	Node          string      `json:"node"`
	Group         string      `json:"group"`
	Argv          []string    `json:"argv"`
	Path          *string     `json:"path"`
	Pid           *int        `json:"pid"`
	State         State       `json:"state"`
	Status        int         `json:"status"`
	Signal        *string     `json:"signal"`
	Reason        *string     `json:"reason"`
	Start         *time.Time  `json:"start"`
	End           *time.Time  `json:"end"`
	WallSeconds   float64     `json:"wall_seconds"`
	UserSeconds   float64     `json:"user_seconds"`
	SystemSeconds float64     `json:"system_seconds"`
	MaxRSSBytes   *int64      `json:"max_rss_bytes"`
	ReadBytes     *int64      `json:"read_bytes"`
	WrittenBytes  *int64      `json:"written_bytes"`
	TimedOut      bool        `json:"timed_out"`
	KilledByTubo  bool        `json:"killed_by_tubo"`
	Skipped       bool        `json:"skipped"`
	NotStarted    bool        `json:"not_started"`
	FirstFailure  bool        `json:"first_failure"`
	OK            bool        `json:"ok"`
	NotNeeded     bool        `json:"not_needed"`
	Cached        bool        `json:"cached"`
	Attempts      []jsonTry   `json:"attempts"`
	Item          *string     `json:"item"`
	Host          string      `json:"host"`
	StderrTail    *string     `json:"stderr_tail"`
	Remote        *jsonRemote `json:"remote"`
}

// jsonRemote is what a remote stage's host said about it.
type jsonRemote struct {
	Known           bool     `json:"known"`
	Status          *int     `json:"status"`
	WallStepSeconds *float64 `json:"wall_step_seconds"`
	ConnectionLost  bool     `json:"connection_lost"`
}

// jsonTry is one earlier, failed run of a retried stage.
type jsonTry struct {
	Pid         int        `json:"pid"`
	Status      int        `json:"status"`
	Signal      *string    `json:"signal"`
	TimedOut    bool       `json:"timed_out"`
	Start       *time.Time `json:"start"`
	End         *time.Time `json:"end"`
	WallSeconds float64    `json:"wall_seconds"`
}

type jsonBuiltin struct {
	Node     string  `json:"node"`
	Kind     string  `json:"kind"`
	BytesIn  int64   `json:"bytes_in"`
	BytesOut int64   `json:"bytes_out"`
	Error    *string `json:"error"`
	// ReaderGone: it stopped because its reader went away (see
	// Builtin.ReaderGone).
	ReaderGone bool `json:"reader_gone,omitempty"`
}

type jsonEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Via   string `json:"via"`
	Bytes *int64 `json:"bytes"`
	Basis Basis  `json:"basis"`
}

func toJSON(r *Report) jsonReport {
	j := jsonReport{
		SchemaVersion: SchemaVersion,
		Pipeline:      r.Pipeline,
		Start:         timePtr(r.Start),
		End:           timePtr(r.End),
		WallSeconds:   r.Wall.Seconds(),
		Status:        r.Status,
		Signal:        strPtr(SignalName(r.Signal)),
		TimedOut:      r.TimedOut,
		FirstFailure:  strPtr(r.FirstFailure),
		UserSeconds:   r.User.Seconds(),
		SystemSeconds: r.System.Seconds(),
		Stages:        []jsonStage{},
		Builtins:      []jsonBuiltin{},
		Edges:         []jsonEdge{},
		Params:        jsonParams(r.Params),
	}
	for _, s := range r.Stages {
		js := jsonStage{
			Node:          s.Node,
			Group:         s.Group,
			Argv:          s.Argv,
			Path:          strPtr(s.Path),
			State:         s.State,
			Status:        s.Status,
			Signal:        strPtr(SignalName(s.Signal)),
			Reason:        strPtr(s.Reason),
			Start:         timePtr(s.Start),
			End:           timePtr(s.End),
			WallSeconds:   s.Wall.Seconds(),
			UserSeconds:   s.User.Seconds(),
			SystemSeconds: s.System.Seconds(),
			TimedOut:      s.TimedOut,
			KilledByTubo:  s.KilledByTubo,
			Skipped:       s.State == Skipped,
			NotStarted:    s.State == NotStarted,
			FirstFailure:  s.FirstFailure,
			OK:            s.OK,
			NotNeeded:     s.NotNeeded,
			Cached:        s.Cached,
			StderrTail:    strPtr(s.StderrTail),
			Attempts:      []jsonTry{},
			Item:          strPtr(s.Item),
		}
		for _, a := range s.Attempts {
			js.Attempts = append(js.Attempts, jsonTry{Pid: a.Pid, Status: a.Status, Signal: strPtr(SignalName(a.Signal)), TimedOut: a.TimedOut, Start: timePtr(a.Start), End: timePtr(a.End), WallSeconds: a.Wall.Seconds()})
		}
		if js.Argv == nil {
			js.Argv = []string{}
		}
		js.Host = s.HostName()
		if rm := s.Remote; rm != nil {
			jr := &jsonRemote{Known: rm.Known, ConnectionLost: rm.Lost}
			if rm.Known {
				st, step := rm.Status, rm.WallStep.Seconds()
				jr.Status, jr.WallStepSeconds = &st, &step
			}
			js.Remote = jr
		}
		if s.Pid != 0 {
			js.Pid = &s.Pid
		}
		if s.MaxRSS > 0 {
			js.MaxRSSBytes = &s.MaxRSS
		}
		if s.IOKnown {
			js.ReadBytes, js.WrittenBytes = &s.Read, &s.Written
		}
		j.Stages = append(j.Stages, js)
	}
	for _, b := range r.Builtins {
		j.Builtins = append(j.Builtins, jsonBuiltin{Node: b.Node, Kind: b.Kind, BytesIn: b.BytesIn, BytesOut: b.BytesOut, Error: strPtr(b.Err), ReaderGone: b.ReaderGone})
	}
	for _, e := range r.Edges {
		je := jsonEdge{From: e.From, To: e.To, Via: e.Via, Basis: e.Basis}
		if e.Basis != Unknown {
			je.Bytes = &e.Bytes
		}
		j.Edges = append(j.Edges, je)
	}
	return j
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
