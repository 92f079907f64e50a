package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tubo-pipes/tubo/executor"
)

// tracer prints executor events as they happen, with the time since the
// first one: "+0.001234 start sort[412] sort".
type tracer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func newTracer(w io.Writer) *tracer { return &tracer{w: w} }

func (t *tracer) event(e executor.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		t.start = e.Time
	}
	who := e.Node
	if e.Pid != 0 {
		who = fmt.Sprintf("%s[%d]", e.Node, e.Pid)
	}
	if who != "" {
		who += " "
	}
	fmt.Fprintf(t.w, "tubo: +%.6f %-6s %s%s\n", e.Time.Sub(t.start).Seconds(), e.Kind, who, e.Detail)
}
