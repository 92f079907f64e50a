package live

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// keepAlive is how often an idle stream gets a comment line, so that a
// page notices a server that went away.
const keepAlive = 15 * time.Second

// view is what one page has been sent: the run it shows and the last
// figures of each node and edge, so that a tick carries only changes.
type view struct {
	run      int
	nodes    []NodeState
	edges    []EdgeState
	reported bool
}

// stream sends Server-Sent Events to one page until it goes away or the
// server closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "tubo live view: streaming unsupported", http.StatusInternalServerError)
		return
	}
	s.streams.Add(1)
	defer s.streams.Done()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	var v view
	for {
		s.mu.Lock()
		msgs := v.news(s.cur)
		wake, closing := s.changed, s.closed
		s.mu.Unlock()
		for _, m := range msgs {
			if err := writeEvent(w, m.name, m.data); err != nil {
				return
			}
		}
		if closing {
			writeEvent(w, "bye", map[string]bool{"closed": true})
			fl.Flush()
			return
		}
		if len(msgs) > 0 {
			fl.Flush()
		}
		select {
		case <-wake:
		case <-s.quit:
		case <-r.Context().Done():
			return
		case <-time.After(keepAlive):
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

type message struct {
	name string
	data any
}

// news is what the page must be sent to be up to date with cur, and
// records it as sent. The caller holds the server's lock.
func (v *view) news(cur *runState) []message {
	if cur == nil {
		return nil
	}
	var out []message
	if v.run != cur.id {
		*v = view{run: cur.id, nodes: make([]NodeState, len(cur.nodes)), edges: make([]EdgeState, len(cur.edges))}
		for i := range v.nodes {
			v.nodes[i].State = "?" // differs from any state: all are sent
		}
		for i := range v.edges {
			v.edges[i].Basis = "?"
		}
		out = append(out, message{"run", cur.info})
	}
	t := tick{Run: cur.id, Summary: cur.summary(), Nodes: []NodeState{}, Edges: []EdgeState{}}
	for i, nl := range cur.nodes {
		if nl.st != v.nodes[i] {
			v.nodes[i] = nl.st
			t.Nodes = append(t.Nodes, nl.st)
		}
	}
	for i, el := range cur.edges {
		if el.st != v.edges[i] {
			v.edges[i] = el.st
			t.Edges = append(t.Edges, el.st)
		}
	}
	out = append(out, message{"tick", t})
	if cur.ended && !v.reported {
		v.reported = true
		out = append(out, message{"report", json.RawMessage(cur.report)})
	}
	return out
}

// writeEvent writes one event; data is JSON on one line.
func writeEvent(w io.Writer, name string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	return err
}
