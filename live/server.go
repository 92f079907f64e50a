// Package live serves a run's process graph to a browser while the run
// lasts: the graph that `tubo graph` draws, each node coloured by its state
// with its pid, CPU, memory and bytes, each edge with the bytes that passed
// so far and its throughput, refreshed a few times a second over
// Server-Sent Events, and the run's report when it ends.
//
// The server is safe by default: it listens on loopback unless given an
// address, every request must carry the run's random token, it answers
// only GET and HEAD (nothing a request says changes the run), the page it
// serves loads nothing from any other host, and it stops with tubo (or
// after the linger time).
//
// It learns the stages' pids from the executor's trace events, like
// package progress, and samples /proc/PID/stat and /proc/PID/io for the
// figures; the final ones come from the run's report.
package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/procstat"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stall"
	"github.com/tubo-pipes/tubo/web"
)

// DefaultAddr is where the server listens when no address is given: the
// loopback interface, on a port the kernel picks.
const DefaultAddr = "127.0.0.1:0"

// Interval is how often running stages are sampled and the page updated.
const Interval = 250 * time.Millisecond

// Options configure a Server.
type Options struct {
	// Addr is the host:port to listen on; "" means DefaultAddr. A port of
	// 0 lets the kernel pick a free one.
	Addr string
}

// Server is the live view of one tubo invocation: one pipeline after
// another for a shell script, one for `tubo run`. Its methods may be
// called from any goroutine.
type Server struct {
	ln       net.Listener
	http     *http.Server
	token    string
	loopback bool
	url      string

	mu      sync.Mutex
	cur     *runState // nil before the first pipeline
	runs    int
	changed chan struct{} // closed (and replaced) whenever there is news
	closed  bool
	quit    chan struct{} // closed by Close: streams say bye and end
	sampled chan struct{} // closed when the sampler has stopped
	streams sync.WaitGroup
}

// Listen starts serving on opt.Addr with a fresh random token. The page
// is at URL().
func Listen(opt Options) (*Server, error) {
	addr := opt.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("live: %q: want HOST:PORT, such as 127.0.0.1:8080 or :8080", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, fmt.Errorf("live: no random token: %w", err)
	}
	s := &Server{
		ln: ln, token: hex.EncodeToString(tok),
		changed: make(chan struct{}), quit: make(chan struct{}), sampled: make(chan struct{}),
	}
	ip := net.ParseIP(host)
	s.loopback = ip != nil && ip.IsLoopback()
	s.url = "http://" + urlHost(host, ln.Addr().(*net.TCPAddr).Port) + "/#" + s.token
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln)
	go s.sample()
	return s, nil
}

// urlHost is the host:port to print: the address listened on, or
// 127.0.0.1 for "all interfaces" (which includes loopback).
func urlHost(host string, port int) string {
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(port))
}

// URL is the address of the page, token included (after the #, so that
// the browser never sends it in the clear to anything but the page).
func (s *Server) URL() string { return s.url }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Token is the run's token; every request must carry it.
func (s *Server) Token() string { return s.token }

// Begin shows a new pipeline: its graph replaces the last one's. stalls,
// when not nil, gives the stall detector's latest picture of the run
// (stall.Watchdog.Live), from which nodes and edges are marked stalled.
func (s *Server) Begin(g *graph.Graph, stalls func() *stall.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	s.cur = newRun(s.runs, g, time.Now())
	s.cur.stalls = stalls
	s.notify()
}

// Event is the executor's Trace callback.
func (s *Server) Event(e executor.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.event(e)
	}
}

// Finish shows the pipeline's result: the exact figures of the report,
// and the report itself.
func (s *Server) Finish(rep *report.Report) {
	var doc, line bytes.Buffer
	if err := report.JSON(&doc, rep); err == nil {
		json.Compact(&line, doc.Bytes())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && !s.cur.ended {
		s.cur.finish(rep, line.Bytes(), rep.End)
		s.notify()
	}
}

// Close stops the server: every open page is sent what is left and a
// "bye", then the listener and the connections are closed. It may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	s.mu.Unlock()
	<-s.sampled
	// The streams end on quit; give them a moment to send their last
	// events, then close whatever is left.
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	return err
}

// notify wakes every stream. The caller holds s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// sample reads /proc for the running stages every Interval. The reads
// happen without the lock. With very many stages a round can take a
// while: the next one then waits ten times as long as the last took, so
// sampling never takes more than a tenth of a core.
func (s *Server) sample() {
	defer close(s.sampled)
	wait := Interval
	for {
		select {
		case <-s.quit:
			return
		case <-time.After(wait):
		}
		s.mu.Lock()
		r := s.cur
		var pids map[*nodeLive]int
		if r != nil && !r.ended {
			pids = r.running()
		}
		s.mu.Unlock()
		if r == nil || r.ended {
			continue
		}
		t0 := time.Now()
		got := make(map[*nodeLive]procstat.Sample, len(pids))
		for nl, pid := range pids {
			got[nl] = procstat.Read(pid)
		}
		var st *stall.Report
		if r.stalls != nil {
			st = r.stalls()
		}
		took := time.Since(t0)
		s.mu.Lock()
		r.sampled(got, pids, time.Now())
		r.stalled(st)
		s.notify()
		s.mu.Unlock()
		wait = max(Interval, 10*took)
	}
}

// ServeHTTP checks the token, the host and the method, then serves the
// page, its assets and the event stream.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", web.LiveCSP())
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !s.hostOK(r.Host) {
		http.Error(w, "tubo live view: unexpected Host header", http.StatusForbidden)
		return
	}
	if !s.tokenOK(r) {
		s.forbidden(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "tubo live view: read-only", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/":
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(web.LivePage)
	case "/tubo.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(web.Script)
	case "/tubo.css":
		h.Set("Content-Type", "text/css; charset=utf-8")
		w.Write(web.Style)
	case "/events":
		s.stream(w, r)
	case "/report.json":
		s.mu.Lock()
		var doc []byte
		if s.cur != nil {
			doc = s.cur.report
		}
		s.mu.Unlock()
		if doc == nil {
			http.Error(w, "tubo live view: the run has not ended", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", "application/json")
		w.Write(doc)
	default:
		http.NotFound(w, r)
	}
}

// forbidden answers a request without the token with 403. For the page
// itself the body is the loader, which holds nothing of the run: in a
// browser it takes the token from the address's #fragment (which
// browsers never send) and asks for the rest with it.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write(web.LivePage)
		return
	}
	http.Error(w, "tubo live view: this needs the run's token: open the address tubo printed (http://HOST:PORT/#TOKEN)", http.StatusForbidden)
}

// tokenOK checks the token in the query (?token=, as EventSource and
// script tags can send it) or in an Authorization: Bearer header.
func (s *Server) tokenOK(r *http.Request) bool {
	got := r.URL.Query().Get("token")
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = a
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// hostOK refuses, on a loopback server, a Host header that is not a
// loopback name: a page of another site that a rebinding DNS points at
// 127.0.0.1 would send its own.
func (s *Server) hostOK(hostport string) bool {
	if !s.loopback {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
