// Command bench compares tubo with the tools a user would reach for instead
// (dash, bash, GNU parallel, sort -m, a one-read-per-record merge, the
// lab's sequential maestro) and checks the performance targets of the
// issue. Each case runs both sides in this one process, alternating
// tubo, other, tubo, other … so that drift in the machine's load hits both
// alike, and reports medians of whole-process wall time.
//
//	go run ./bench            # full run (make bench)
//	go run ./bench -quick     # smoke run: small inputs, one run per side
//	go run ./bench -n 9 -only 'merge'
//
// Run it from the repository root after `make build`. Results are printed
// as a Markdown table for docs/performance.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// scratch is the temporary directory to remove on every way out, "" for
// none (or -keep); os.Exit skips deferred calls, so exit removes it.
var scratch string

// atExit runs on every way out, before the scratch directory goes: the
// remote rows' test hosts stop there.
var atExit []func()

func exit(code int) {
	for _, f := range atExit {
		f()
	}
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	os.Exit(code)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	exit(1)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == rssProbeArg {
		rssProbe(os.Args[2:])
		return
	}
	n := flag.Int("n", 5, "measured runs per side and case (start-up cases run 4× as many)")
	quick := flag.Bool("quick", false, "smoke run: small inputs and one run per side")
	only := flag.String("only", "", "run only cases whose name matches this `regexp`")
	keep := flag.Bool("keep", false, "keep the temporary directory with data and generated YAML")
	flag.Parse()

	b := &bench{n: *n, sz: fullSizes}
	if *quick {
		b.n, b.sz = 1, quickSizes
	}
	if b.n < 1 {
		fatalf("-n must be at least 1")
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fatalf("-only: %v", err)
		}
	}
	// Whatever started the harness may have left descriptors open without
	// close-on-exec; they would reach every process measured, and tubo
	// passes inherited descriptors on to each stage as sh does. Measure
	// from a clean table, as a user at a terminal would have.
	closeOnExecAll()
	b.root = repoRoot()
	b.binDir = filepath.Join(b.root, "bin")
	b.tubo = filepath.Join(b.binDir, "tubo")
	for _, exe := range []string{"tubo", "maestro", "esclavo"} {
		if _, err := os.Stat(filepath.Join(b.binDir, exe)); err != nil {
			fatalf("%s missing: run `make build` first", filepath.Join(b.binDir, exe))
		}
	}
	for _, tool := range []string{"dash", "bash", "parallel", "sort", "head", "wc", "cat", "tee", "seq", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			fatalf("%s not found (make bench installs dash and parallel)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "tubo-bench-")
	if err != nil {
		fatalf("%v", err)
	}
	b.dir = dir
	if *keep {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", dir)
	} else {
		scratch = dir
		defer os.RemoveAll(dir)
	}
	b.onebyone = filepath.Join(dir, "onebyone")
	build := exec.Command("go", "build", "-o", b.onebyone, "./bench/baseline/onebyone")
	build.Dir, build.Stdout, build.Stderr = b.root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fatalf("building the onebyone baseline: %v", err)
	}
	b.heapmerge = b.buildC("heapmerge")
	b.teesplice = b.buildC("teesplice")

	began := time.Now()
	info := machine(b)
	match := func(name string) bool { return filter == nil || filter.MatchString(name) }

	// The case constructors write their data and YAML; skip those that
	// are filtered out before generating anything large.
	type lazy struct {
		name  string
		pairs func() []*pair
	}
	one := func(f func() *pair) func() []*pair { return func() []*pair { return []*pair{f()} } }
	groups := []lazy{
		{"start + reap", b.startPairs},
		{"start + reap 100-stage, one competing busy loop", one(b.start100Busy)},
		{"script loop", one(b.scriptLoop)},
		{"fan-in", one(b.fanIn1024)},
		{"start + reap 100-stage, fd 251 inherited", one(b.start100Inherited)},
		{"200 replicas", one(b.replicas200)},
		{"cat | cat | wc -c", b.catPairs},
		{"teed to 3", one(b.tee3)},
		{"teed to 3 `wc -c` readers, spill on", one(b.tee3Spill)},
		{"teed to 2 `wc -c` readers and a file", one(b.tee3File)},
		{"teed to 2 `wc -c` readers and a file, against C tee(2)+splice(2)", one(b.tee3FileC)},
		{"ordered merge text", one(b.textMerge)},
		{"ordered merge int32", one(b.int32Merge)},
		{"ordered merge int32, k = 2", one(b.int32Merge2)},
		{"primes.yaml", b.primesPairs},
		{"scattered to 4 copies", b.scatterPairs},
		{"remote replicas", b.remoteReplicaPairs},
		{"remote cat", b.remoteCatPairs},
		{"shell loops (bench/shell.go)", b.shellPairs},
	}
	var outs []outcome
	for _, g := range groups {
		if !match(g.name) {
			continue
		}
		for _, p := range g.pairs() {
			if !match(g.name) && !match(p.name) {
				continue
			}
			fmt.Fprintf(os.Stderr, "bench: %s (%d runs each) …", p.name, p.runs)
			t0 := time.Now()
			o := measure(p)
			fmt.Fprintf(os.Stderr, " %s\n", time.Since(t0).Round(time.Millisecond))
			if o.err != nil {
				warnf("%s: %v", p.name, o.err)
			}
			outs = append(outs, o)
		}
	}

	var rss *rssResult
	if match("peak RSS") {
		fmt.Fprintf(os.Stderr, "bench: peak RSS, 100-stage line …\n")
		r := b.rss100(max(4*b.n, 3))
		if r.err != nil {
			warnf("peak RSS: %v", r.err)
		}
		rss = &r
	}
	var scale []*scaleCase
	if match("scale") {
		for _, c := range b.scaleCases() {
			fmt.Fprintf(os.Stderr, "bench: %s …\n", c.name)
			b.runScale(c, max(b.n, 1))
			if c.err != nil {
				warnf("%s: %v", c.name, c.err)
			}
			scale = append(scale, c)
		}
	}
	info = append(info, [2]string{"load average at end", strings.TrimSpace(readOr("/proc/loadavg"))})
	report(os.Stdout, b, info, outs, rss, scale, time.Since(began))
	for _, f := range atExit {
		f()
	}
	atExit = nil
	failed := slices.ContainsFunc(outs, func(o outcome) bool { return o.err != nil })
	if failed || (rss != nil && rss.err != nil) || slices.ContainsFunc(scale, func(c *scaleCase) bool { return c.err != nil }) {
		exit(1)
	}
}

// closeOnExecAll sets FD_CLOEXEC on every descriptor above 2.
func closeOnExecAll() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func readOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return string(b)
}

// repoRoot finds the directory of tubo's go.mod from the working directory
// upwards.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		fatalf("%v", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tubo-pipes/tubo\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			fatalf("run from inside the tubo repository")
		}
		dir = parent
	}
}

// buildC builds the C baseline bench/baseline/NAME/NAME.c with cc -O2
// into the temp dir and returns its path, or "" when there is no C
// compiler or the build fails (the rows that need it then say so).
func (b *bench) buildC(name string) string {
	cc, err := exec.LookPath("cc")
	if err != nil {
		return ""
	}
	exe := filepath.Join(b.dir, name)
	build := exec.Command(cc, "-O2", "-o", exe, filepath.Join(b.root, "bench", "baseline", name, name+".c"))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		warnf("building bench/baseline/%s: %v", name, err)
		return ""
	}
	return exe
}
