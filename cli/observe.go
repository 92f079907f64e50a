package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/live"
	"github.com/tubo-pipes/tubo/plan"
	"github.com/tubo-pipes/tubo/progress"
	"github.com/tubo-pipes/tubo/report"
	"github.com/tubo-pipes/tubo/stall"
)

// DefaultPipeSize is the pipe buffer tubo asks for on every edge. On
// `cat | cat | wc -c` over 2 GiB (docs/performance.md, "Pipe sizing"),
// 256 KiB and 1 MiB pipes go as fast on an idle machine, 256 KiB with 4%
// less CPU, and 256 KiB is 20–27% faster when the machine is busy (three
// 1 MiB pipes do not fit the 2 MiB L2 cache); the kernel's 64 KiB is
// 5–6% slower. And a quarter of the memory a full pipe pins.
const DefaultPipeSize = 256 << 10

// observe holds the flags that watch a run (--trace, --progress, --report,
// --report-json) and turns executor events and results into what they
// ask for. One observe serves every pipeline of a run.
type observe struct {
	trace      bool
	progress   progress.Mode
	report     bool
	reportJSON string
	pipeSize   int
	grace      time.Duration
	ui         string        // --ui: the address to serve the live view on; "" for none
	uiLinger   time.Duration // --ui-linger
	reportHTML string        // --report-html FILE
	stallAfter stallAfter
	onStall    onStall

	stderr *os.File
	stdout *os.File // what the stages write to: may be the same terminal
	tracer *tracer
	prog   *progress.Progress
	json   *os.File
	live   *live.Server
	html   htmlReports
	nruns  int
	// sig is the running command's signal handling, which a stall under
	// --on-stall fail ends the run through.
	sig *signals

	mu   sync.Mutex
	dog  *stall.Watchdog // the watchdog of the pipeline running now
	dogs map[*stall.Watchdog]bool
}

func (o *observe) flags(c *cobra.Command) {
	f := c.PersistentFlags()
	f.BoolVar(&o.trace, "trace", false, "log every pipe, mkfifo, start, exit and signal to stderr as it happens")
	f.Var(&o.progress, "progress", "live progress on stderr: never, auto (when stderr is a terminal) or always")
	f.BoolVar(&o.report, "report", false, "print a table of every stage (status, times, CPU, RSS, bytes) to stderr after the run")
	f.StringVar(&o.reportJSON, "report-json", "", "write the run report as JSON to `FILE` (docs/report.schema.json; one document per pipeline, one per line)")
	f.IntVar(&o.pipeSize, "pipe-size", DefaultPipeSize, "pipe buffer size in `BYTES` for every edge (F_SETPIPE_SZ, capped by /proc/sys/fs/pipe-max-size); 0 keeps the kernel's 64 KiB")
	f.DurationVar(&o.grace, "grace", 2*time.Second, "time between SIGTERM and SIGKILL when tubo ends a stage")
	f.StringVar(&o.ui, "ui", "", "serve a live view of the run in a browser on `ADDR` (default "+live.DefaultAddr+": loopback, a free port); tubo prints its address")
	f.Lookup("ui").NoOptDefVal = live.DefaultAddr
	f.DurationVar(&o.uiLinger, "ui-linger", 0, "keep the live view up for `DURATION` after the run ends (implies --ui; ^C ends it sooner)")
	f.StringVar(&o.reportHTML, "report-html", "", "write the run report as one self-contained HTML page to `FILE` (graph, stages, edges, timeline, parameters)")
	o.stallAfter.d = stall.DefaultAfter
	f.Var(&o.stallAfter, "stall-after", "report a stall (who waits on what) when no stage has used CPU or moved a byte for `DURATION`; 0 turns it off (a pipeline file's stall_after: replaces the default)")
	f.Var(&o.onStall, "on-stall", "what a stall does: warn (print the diagnosis and go on, the default) or fail (print it and end the run with status 124)")
}

// watching says whether a flag asked to observe the pipelines of a run.
func (o *observe) watching() bool {
	return o.trace || o.report || o.reportJSON != "" || o.progress == progress.Always || o.stallAfter.set
}

// wantsIO says whether anything will show per-stage byte counts, which
// the executor reads from /proc/PID/io only when asked.
func (o *observe) wantsIO() bool {
	return o.report || o.reportJSON != "" || o.reportHTML != "" || o.ui != "" || o.progress != progress.Never
}

// start opens what the flags need; call once before the first pipeline.
func (o *observe) start(stderr *os.File) error {
	o.stderr = stderr
	if o.trace {
		o.tracer = newTracer(stderr)
		if o.progress == progress.Auto {
			// The trace and a redrawn progress area would fight over the
			// terminal; an explicit --progress=always still wins.
			o.progress = progress.Never
		}
	}
	if o.reportJSON != "" {
		f, err := os.Create(o.reportJSON)
		if err != nil {
			return usagef("--report-json: %v", err)
		}
		o.json = f
	}
	if o.reportHTML != "" && o.html.f == nil {
		f, err := os.Create(o.reportHTML)
		if err != nil {
			return usagef("--report-html: %v", err)
		}
		o.html.f = f
	}
	if o.uiLinger > 0 && o.ui == "" {
		o.ui = live.DefaultAddr
	}
	if o.ui != "" && o.live == nil {
		srv, err := live.Listen(live.Options{Addr: o.ui})
		if err != nil {
			return usagef("--ui: %v", err)
		}
		o.live = srv
		fmt.Fprintf(stderr, "tubo: live view at %s\n", srv.URL())
	}
	return nil
}

// close finishes what start opened: the HTML report is written, and the
// live view stops, after its linger time.
func (o *observe) close() {
	if o.json != nil {
		o.json.Close()
		o.json = nil
	}
	if o.html.f != nil {
		if err := o.html.write(); err != nil {
			fmt.Fprintf(o.stderr, "tubo: --report-html: %v\n", err)
		}
	}
	if o.live != nil {
		linger(o.stderr, o.uiLinger)
		o.live.Close()
		o.live = nil
	}
}

// before is called with each pipeline's plan just before it starts.
func (o *observe) before(p *plan.Plan) {
	o.prog = progress.New(o.stderr, o.progress)
	o.prog.Plan(p)
	dog := o.startWatchdog(p)
	o.prog.Watch(dog.Live)
	o.prog.Share(o.stdout)
	o.mu.Lock()
	if o.dogs == nil {
		o.dogs = map[*stall.Watchdog]bool{}
	}
	o.dog = dog
	o.dogs[dog] = true
	o.mu.Unlock()
	if o.live != nil {
		o.live.Begin(p.Graph, dog.Live)
	}
}

// event is the executor's Trace callback.
func (o *observe) event(e executor.Event) {
	if o.tracer != nil {
		o.tracer.event(e)
	}
	if o.prog != nil {
		o.prog.Event(e)
	}
	if o.live != nil {
		o.live.Event(e)
	}
	o.mu.Lock()
	dog := o.dog
	o.mu.Unlock()
	if dog != nil {
		dog.Event(e)
	}
}

// after is called with each pipeline's result.
func (o *observe) after(g *graph.Graph, p *plan.Plan, res *executor.Result, start, end time.Time) {
	o.mu.Lock()
	dog := o.dog
	o.dog = nil
	delete(o.dogs, dog)
	o.mu.Unlock()
	if dog != nil {
		dog.Stop()
	}
	if o.prog != nil {
		o.prog.Finish(res)
		o.prog = nil
	}
	o.nruns++
	if !o.report && o.json == nil && o.html.f == nil && o.live == nil && !isGraphRun(g) {
		// Nothing below reads the report: a shell line's pipeline,
		// unobserved.
		return
	}
	rep := report.New(res, start, end, report.WithGraph(g))
	if o.report {
		report.Text(o.stderr, rep)
	}
	if o.json != nil {
		if err := writeJSONLine(o.json, rep); err != nil {
			fmt.Fprintf(o.stderr, "tubo: --report-json: %v\n", err)
		}
	}
	if o.html.f != nil {
		o.html.add(rep)
	}
	if o.live != nil {
		o.live.Finish(rep)
	}
	// A failed multi-stage graph gets a short account on every failure;
	// for a one-command shell pipeline the command's own message says it.
	if rep.Failed() && !o.report && isGraphRun(g) {
		report.Short(o.stderr, rep)
	}
}

// writeJSONLine writes one report as one line (JSON Lines), so a shell
// line with several pipelines gives one document per pipeline.
func writeJSONLine(w io.Writer, rep *report.Report) error {
	var doc, line bytes.Buffer
	if err := report.JSON(&doc, rep); err != nil {
		return err
	}
	if err := json.Compact(&line, doc.Bytes()); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err := w.Write(line.Bytes())
	return err
}

// isGraphRun tells a YAML graph from a shell pipeline: a shell pipeline
// keeps sh's silence about a failing command.
func isGraphRun(g *graph.Graph) bool { return g.IgnoreSIGPIPE || g.OnFailure == graph.KillRest }
