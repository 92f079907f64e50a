package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tubo-pipes/tubo/cli"
	"github.com/tubo-pipes/tubo/remote/sshtest"
)

// sizes are the workloads; -quick shrinks them for a smoke run.
type sizes struct {
	catBytes   int64 // through cat | cat | wc -c
	teeBytes   int64 // teed to three readers
	textLines  int   // lines per sorted text file (8 files)
	int32Recs  int   // records per sorted int32 file (8 files)
	primesHi   int   // primes.yaml on [1, primesHi]
	longStages int   // the long pipeline
	fanIn      int   // the wide fan-in
	// remoteBytes go through a remote cat (bench/remote.go).
	remoteBytes int64
}

var fullSizes = sizes{
	catBytes: 2 << 30, teeBytes: 1 << 30,
	textLines: 1_500_000, int32Recs: 1_000_000, primesHi: 10_000_000,
	longStages: 1000, fanIn: 256, remoteBytes: 1 << 30,
}

var quickSizes = sizes{
	catBytes: 64 << 20, teeBytes: 64 << 20,
	textLines: 50_000, int32Recs: 50_000, primesHi: 500_000,
	longStages: 1000, fanIn: 256, remoteBytes: 64 << 20,
}

// bench holds what every case needs.
type bench struct {
	root     string // repository root
	tubo     string // bin/tubo
	binDir   string // bin/
	dir      string // private temp dir for data and generated YAML
	onebyone string // the one-read-per-record baseline, built at start
	// heapmerge is the C heap-merge baseline, built with cc at start; ""
	// when there is no C compiler (its row then says so).
	heapmerge string
	// teesplice is the C tee(2)+splice(2) baseline, built like heapmerge.
	teesplice string
	n         int
	sz        sizes
	// hosts are the remote rows' test hosts, started on first use; nil
	// with hostsErr saying why they could not be.
	hosts    *sshtest.Env
	hostsErr error
}

func (b *bench) path(name string) string { return filepath.Join(b.dir, name) }

// writeFile writes a generated file into the temp dir and returns its path.
func (b *bench) writeFile(name, text string) string {
	p := b.path(name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		fatalf("%v", err)
	}
	return p
}

// pipeline joins n copies of stage with " | ".
func pipeline(stage string, n int) string {
	return strings.TrimSuffix(strings.Repeat(stage+" | ", n), " | ")
}

func sizeArg(n int64) string {
	if n%(1<<30) == 0 {
		return strconv.FormatInt(n>>30, 10) + "G"
	}
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + "M"
	}
	return strconv.FormatInt(n, 10)
}

// --- start-up: 1, 10, 100, 1000 stages ---------------------------------

// startN is start + reap of an n-stage /bin/true line against dash; ratio
// is the ceiling on tubo's time ÷ dash's.
func (b *bench) startN(n int, ratio float64) *pair {
	line := pipeline("/bin/true", n)
	name := fmt.Sprintf("start + reap %d-stage `/bin/true | … | /bin/true`", n)
	if n == 1 {
		name = "start + reap 1 stage `/bin/true`"
	}
	runs := 4 * b.n
	if n >= 1000 {
		runs = b.n
	}
	return &pair{
		name: name,
		// -c as for dash: `tubo /bin/true` would read /bin/true as a
		// pipeline file.
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "-c", line}, check: wantOutput("")},
		other:  &command{label: "dash", argv: []string{"dash", "-c", line}, check: wantOutput("")},
		target: 1 / ratio, goal: fmt.Sprintf("≤ %.1f× dash's time", ratio),
		runs: runs,
	}
}

func (b *bench) startPairs() []*pair {
	return []*pair{b.startN(1, 1.5), b.startN(10, 1.2), b.start100(), b.startN(1000, 1.0)}
}

func (b *bench) start100() *pair { return b.startN(100, 1.0) }

// scriptLoop is the script loop: 1000 two-stage pipelines from one
// shell process (tubo's guardian and spawner threads are shared by all).
func (b *bench) scriptLoop() *pair {
	script := "for i in $(seq 1000); do /bin/true | /bin/true; done"
	return &pair{
		name:   "script loop `for i in $(seq 1000); do /bin/true | /bin/true; done`",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "-c", script}, check: wantOutput("")},
		other:  &command{label: "dash", argv: []string{"dash", "-c", script}, check: wantOutput("")},
		target: 1 / 1.3, goal: "≤ 1.3× dash's time",
		runs: b.n,
	}
}

// start100Busy is start100 with one competing busy loop on the machine for
// the whole measurement, alike for both sides.
func (b *bench) start100Busy() *pair {
	p := b.startN(100, 1.2)
	p.name += ", one competing busy loop"
	p.around = func() func() {
		busy := exec.Command("sh", "-c", "while :; do :; done")
		if err := busy.Start(); err != nil {
			fatalf("busy loop: %v", err)
		}
		return func() { busy.Process.Kill(); busy.Wait() }
	}
	return p
}

// start100Inherited is start100 with descriptor 251 open in tubo's
// environment without close-on-exec, as a jobserver or a wrapper can leave
// it (informational: both sides get the same bash wrapper).
func (b *bench) start100Inherited() *pair {
	line := pipeline("/bin/true", 100)
	wrap := func(argv ...string) []string {
		return append([]string{"bash", "-c", `exec 251</dev/null && exec "$@"`, "bash"}, argv...)
	}
	return &pair{
		name:  "start + reap 100-stage line, fd 251 inherited (both via `bash -c 'exec 251</dev/null; exec …'`)",
		tubo:  &command{label: "tubo", argv: wrap(b.tubo, line), check: wantOutput("")},
		other: &command{label: "dash", argv: wrap("dash", "-c", line), check: wantOutput("")},
		goal:  "(informational)",
		runs:  4 * b.n,
	}
}

// --- wide fan-in: 1024 inputs ------------------------------------------

// fanIn1024 is a 1024-way ordered merge of seq streams against bash
// feeding the same streams to sort -m -n through 1024 process
// substitutions, with the ceilings on tubo's threads and RSS.
func (b *bench) fanIn1024() *pair {
	const k, n = 1024, 1 << 20
	y := b.writeFile("fanin1024.yaml", fmt.Sprintf(`version: 1
name: fanin1024
stages:
  gen:
    run: [seq, "{{replica}}", "%d", "%d"]
    replicas: %d
    stdout: m
  count:
    run: [wc, -l]
    stdin: m
merges:
  m:
    mode: ordered
    record: lines
    key: numeric
`, k, n-1, k))
	var subs strings.Builder
	for i := range k {
		fmt.Fprintf(&subs, " <(seq %d %d %d)", i, k, n-1)
	}
	want := wantOutput(fmt.Sprintf("%d\n", n))
	return &pair{
		name:   fmt.Sprintf("%d-way ordered fan-in of `seq` streams, %d lines", k, n),
		tubo:   &command{label: "tubo", argv: []string{"sh", "-c", `ulimit -n 8192 && exec "$@"`, "sh", b.tubo, "run", y}, check: want},
		other:  &command{label: "bash sort -m", argv: []string{"bash", "-c", "ulimit -n 8192 && LC_ALL=C sort -m -n" + subs.String() + " | wc -l"}, check: want},
		target: 1.0, goal: "≥ 1.0× bash + `sort -m -n`; ≤ 16 threads, ≤ 64 MiB",
		runs: b.n, maxThreads: 16, maxHWM: 64 << 10,
	}
}

// --- 200 replicas -------------------------------------------------------

func (b *bench) replicas200() *pair {
	y := b.writeFile("replicas.yaml", `version: 1
name: replicas
stages:
  t:
    run: [/bin/true]
    replicas: 200
`)
	argv := []string{"parallel", "true", ":::"}
	for i := 1; i <= 200; i++ {
		argv = append(argv, strconv.Itoa(i))
	}
	return &pair{
		name:   "200 replicas of `/bin/true` (YAML)",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, check: wantOutput("")},
		other:  &command{label: "parallel", argv: argv, check: wantOutput("")},
		target: 5, goal: "≥ 5× `parallel true ::: $(seq 200)`",
		runs: b.n,
	}
}

// --- cat | cat | wc -c ----------------------------------------------------

// catYAML is head | cat | cat | wc -c as a YAML graph whose three edges ask
// for pipe buffers of size bytes (0: no pipe_size, the kernel default).
func (b *bench) catYAML(size int) string {
	edge := func(from, to string) string {
		if size == 0 {
			return fmt.Sprintf("  - %s -> %s\n", from, to)
		}
		return fmt.Sprintf("  - {from: %s, to: %s, pipe_size: %d}\n", from, to, size)
	}
	return b.writeFile(fmt.Sprintf("cat-%d.yaml", size), fmt.Sprintf(`version: 1
name: cat%d
stages:
  gen: {run: [head, -c, %s, /dev/zero]}
  cat1: {run: [cat]}
  cat2: {run: [cat]}
  count: {run: [wc, -c]}
edges:
%s%s%s`, size, sizeArg(b.sz.catBytes), edge("gen", "cat1"), edge("cat1", "cat2"), edge("cat2", "count")))
}

// catPairs answer issue 15 goal 5, what the pipe size buys: the same
// line at tubo's default pipe size (cli.DefaultPipeSize), at the kernel's
// 64 KiB (--pipe-size 0: no F_SETPIPE_SZ), at 256 KiB and at 1 MiB, and the YAML
// graph with no pipe_size and with 1 MiB on its edges, each against bash
// (whose pipes are the kernel's 64 KiB), so that one run ranks them. CPU
// time is reported too: on a loaded machine it separates the sizes better
// than wall time.
func (b *bench) catPairs() []*pair {
	line := fmt.Sprintf("head -c %s /dev/zero | cat | cat | wc -c", sizeArg(b.sz.catBytes))
	want := wantOutput(fmt.Sprintf("%d\n", b.sz.catBytes))
	bash := func() *command {
		return &command{label: "bash", argv: []string{"bash", "-c", line}, check: want}
	}
	name := fmt.Sprintf("%s through `cat | cat | wc -c`", sizeArg(b.sz.catBytes)+"iB")
	var ps []*pair
	// The default first, then the alternatives it is not: the kernel's,
	// 256 KiB and 1 MiB (pipe-max-size here).
	sizes := []int{cli.DefaultPipeSize}
	for _, size := range []int{0, 256 << 10, 1 << 20} {
		if size != cli.DefaultPipeSize {
			sizes = append(sizes, size)
		}
	}
	for _, size := range sizes {
		p := &pair{
			tubo:  &command{label: "tubo line", argv: []string{b.tubo, "--pipe-size", strconv.Itoa(size), line}, check: want},
			other: bash(),
			bytes: b.sz.catBytes, runs: b.n, cpu: true,
		}
		switch size {
		case cli.DefaultPipeSize:
			p.name = name + fmt.Sprintf(", tubo line, default pipes (%s)", kib(size))
			p.target, p.goal = 1.0, "≥ 1.0× bash throughput"
		case 0:
			p.name = name + ", tubo line, `--pipe-size 0` (the kernel's 64 KiB)"
			p.goal = "(sizing reference)"
		default:
			p.name = name + fmt.Sprintf(", tubo line, `--pipe-size %d` (%s)", size, kib(size))
			p.goal = "(sizing reference)"
		}
		ps = append(ps, p)
	}
	for _, size := range []int{0, 1 << 20} {
		p := &pair{
			tubo:  &command{label: "tubo yaml", argv: []string{b.tubo, "run", b.catYAML(size)}, check: want},
			other: bash(),
			bytes: b.sz.catBytes, runs: b.n, cpu: true,
		}
		if size == 0 {
			p.name = name + fmt.Sprintf(", YAML, default pipes (%s)", kib(cli.DefaultPipeSize))
			p.goal = "(sizing reference)"
		} else {
			p.name = name + fmt.Sprintf(", YAML, `pipe_size: %s` edges", kib(size))
			p.target, p.goal = 1.1, "≥ 1.1× bash with pipe sizing"
		}
		ps = append(ps, p)
	}
	return ps
}

// kib names a pipe size as the rows do: 64 KiB, 1 MiB.
func kib(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// --- tee to three readers -------------------------------------------------

func (b *bench) tee3() *pair {
	sz := sizeArg(b.sz.teeBytes)
	y := b.writeFile("tee.yaml", fmt.Sprintf(`version: 1
name: tee3
stages:
  gen:
    run: [head, -c, %s, /dev/zero]
    stdout: [a, b, c]
  a: {run: [wc, -c]}
  b: {run: [wc, -c]}
  c: {run: [wc, -c]}
`, sz))
	n := strconv.FormatInt(b.sz.teeBytes, 10)
	return &pair{
		name:   sz + "iB teed to 3 `wc -c` readers",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, check: wantLines(3, n)},
		other:  b.bashTee3(),
		target: 2, goal: "≥ 2× bash `tee >(…) >(…)`",
		bytes: b.sz.teeBytes, runs: b.n,
	}
}

// bashTee3 is the bash side of the rows that tee to 3 readers. bash's
// >(wc -c) readers write their counts into tee's stdout, so the last
// wc -c counts the data plus two 11-byte lines: one line of N+22. Both
// stdouts are pipes read by the harness, so bash's run ends only when its
// >(wc -c) readers have exited too (they hold the pipe).
func (b *bench) bashTee3() *command {
	sz := sizeArg(b.sz.teeBytes)
	n := strconv.FormatInt(b.sz.teeBytes, 10)
	want := wantOutput(strconv.FormatInt(b.sz.teeBytes+2*int64(len(n)+1), 10) + "\n")
	return &command{label: "bash tee", argv: []string{"bash", "-c", "head -c " + sz + " /dev/zero | tee >(wc -c) >(wc -c) | wc -c"}, check: want}
}

// tee3Spill is tee3 with the tee named and spilling (spill: true, as
// tubo makes a tee in a diamond): zero-copy for the readers that keep up
// is what issue 15 goal 4 asks of it too (yaml's request).
func (b *bench) tee3Spill() *pair {
	sz := sizeArg(b.sz.teeBytes)
	y := b.writeFile("teespill.yaml", fmt.Sprintf(`version: 1
name: tee3spill
tees:
  t: {from: gen, spill: true}
stages:
  gen:
    run: [head, -c, %s, /dev/zero]
  a: {run: [wc, -c], stdin: t}
  b: {run: [wc, -c], stdin: t}
  c: {run: [wc, -c], stdin: t}
`, sz))
	n := strconv.FormatInt(b.sz.teeBytes, 10)
	return &pair{
		name:   sz + "iB teed to 3 `wc -c` readers, spill on",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, check: wantLines(3, n)},
		other:  b.bashTee3(),
		target: 2, goal: "spill on: ≥ 2× bash `tee >(…) >(…)` (zero-copy for readers that keep up)",
		bytes: b.sz.teeBytes, runs: b.n,
	}
}

// teeFile is where the tee rows with a file reader write it: on tmpfs
// when there is one, so that the rows measure the tee, not the disk (both
// sides of a row write the same file). It is removed at exit.
func (b *bench) teeFile(name string) string {
	out := b.path(name)
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		out = filepath.Join("/dev/shm", fmt.Sprintf("tubo-bench-%d-%s", os.Getpid(), name))
		atExit = append(atExit, func() { os.Remove(out) })
	}
	return out
}

// andFile adds to an output check that the file path holds size bytes:
// the tee rows' file reader got everything.
func andFile(check func([]byte) error, path string, size int64) func([]byte) error {
	return func(out []byte) error {
		if err := check(out); err != nil {
			return err
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.Size() != size {
			return fmt.Errorf("%s has %d bytes, want %d", path, st.Size(), size)
		}
		return nil
	}
}

// tee3FileYAML tees teeBytes of zeros to two `wc -c` readers and the file
// out.
func (b *bench) tee3FileYAML(name, out string) string {
	return b.writeFile(name+".yaml", fmt.Sprintf(`version: 1
name: %s
files:
  copy: %s
stages:
  gen:
    run: [head, -c, %s, /dev/zero]
    stdout: [a, b, copy]
  a: {run: [wc, -c]}
  b: {run: [wc, -c]}
`, name, out, sizeArg(b.sz.teeBytes)))
}

// tee3File is tee3 with one reader a file: tubo splices into the file
// from its staging pipe, so the tee stays zero-copy.
func (b *bench) tee3File() *pair {
	sz := sizeArg(b.sz.teeBytes)
	out := b.teeFile("tee-file.out")
	y := b.tee3FileYAML("tee3file", out)
	n := strconv.FormatInt(b.sz.teeBytes, 10)
	// bash: tee writes the file itself; >(wc -c) prints into tee's stdout.
	bashWant := wantOutput(strconv.FormatInt(b.sz.teeBytes+int64(len(n)+1), 10) + "\n")
	return &pair{
		name:   sz + "iB teed to 2 `wc -c` readers and a file",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, check: andFile(wantLines(2, n), out, b.sz.teeBytes)},
		other:  &command{label: "bash tee", argv: []string{"bash", "-c", "head -c " + sz + " /dev/zero | tee " + out + " >(wc -c) | wc -c"}, check: andFile(bashWant, out, b.sz.teeBytes)},
		target: 2, goal: "≥ 2× bash `tee FILE >(…)` (zero-copy into the file)",
		bytes: b.sz.teeBytes, runs: b.n,
	}
}

// tee3FileC is tee3File against the plain C tee(2)+splice(2) baseline
// (bench/baseline/teesplice, built with cc at start): the same three
// readers, the same file, the same pipe sizes (both grow theirs to
// pipe-max-size). Issue 15 goal 4: tubo's time ≤ 1.0× the C program's.
func (b *bench) tee3FileC() *pair {
	sz := sizeArg(b.sz.teeBytes)
	out := b.teeFile("tee-file-c.out")
	y := b.tee3FileYAML("tee3filec", out)
	n := strconv.FormatInt(b.sz.teeBytes, 10)
	// teesplice tees to its stdout and fd 3, and splices into the file;
	// fd 3's >(wc -c) prints into the last wc -c, as in the bash row.
	line := "head -c " + sz + " /dev/zero | " + b.teesplice + " " + out + " 3 3> >(wc -c) | wc -c"
	return &pair{
		name:   sz + "iB teed to 2 `wc -c` readers and a file, against C tee(2)+splice(2)",
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, check: andFile(wantLines(2, n), out, b.sz.teeBytes)},
		other:  &command{label: "C teesplice", argv: []string{"bash", "-c", line}, check: andFile(wantOutput(strconv.FormatInt(b.sz.teeBytes+int64(len(n)+1), 10)+"\n"), out, b.sz.teeBytes)},
		target: 1.0, goal: "≤ 1.0× the C tee(2)+splice(2) baseline's time",
		bytes: b.sz.teeBytes, runs: b.n, cpu: true,
		verify: func() error {
			if b.teesplice == "" {
				return fmt.Errorf("no C compiler (cc) to build bench/baseline/teesplice")
			}
			return nil
		},
	}
}

// --- ordered merges -------------------------------------------------------

// mergeYAML merges the files in as ordered records into {{out}}
// (/dev/null unless set). The merge reads the files itself; a pipeline
// needs one stage, so a no-op one is added.
func (b *bench) mergeYAML(name string, in []string, spec string) string {
	var files, from strings.Builder
	for i, f := range in {
		fmt.Fprintf(&files, "  in%d: %s\n", i, f)
		if i > 0 {
			from.WriteString(", ")
		}
		fmt.Fprintf(&from, "in%d", i)
	}
	return b.writeFile(name+".yaml", fmt.Sprintf(`version: 1
name: %s
params:
  out: {type: string, default: /dev/null}
files:
%s  out: "{{out}}"
stages:
  nop: {run: [/bin/true]}
merges:
  m:
    from: [%s]
    mode: ordered
%s    to: out
`, name, files.String(), from.String(), spec))
}

// genText writes 8 files of sorted numbers: file i holds i, i+8, i+16, …
func (b *bench) genText() []string {
	var names []string
	for i := range 8 {
		p := b.path(fmt.Sprintf("text%d", i))
		f, err := os.Create(p)
		if err != nil {
			fatalf("%v", err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var buf []byte
		for k := range b.sz.textLines {
			buf = strconv.AppendInt(buf[:0], int64(i+8*k), 10)
			buf = append(buf, '\n')
			w.Write(buf)
		}
		if err := w.Flush(); err != nil {
			fatalf("%v", err)
		}
		f.Close()
		names = append(names, p)
	}
	return names
}

// genInt32 writes 8 files of sorted host-order int32s, interleaved like
// genText's numbers, so every record of the merge switches input.
func (b *bench) genInt32() []string { return b.genInt32K(8, b.sz.int32Recs) }

// genInt32K writes k files of recs sorted host-order int32s each: file i
// holds i, i+k, i+2k, …
func (b *bench) genInt32K(k, recs int) []string {
	var names []string
	for i := range k {
		p := b.path(fmt.Sprintf("int32-%d-of-%d", i, k))
		buf := make([]byte, 4*recs)
		for r := range recs {
			binary.NativeEndian.PutUint32(buf[4*r:], uint32(int32(i+k*r)))
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			fatalf("%v", err)
		}
		names = append(names, p)
	}
	return names
}

func (b *bench) textMerge() *pair {
	in := b.genText()
	y := b.mergeYAML("textmerge", in, "    record: lines\n    key: numeric\n")
	sortArgv := append([]string{"env", "LC_ALL=C", "sort", "-m", "-n"}, in...)
	return &pair{
		name:   fmt.Sprintf("ordered merge, 8 sorted numeric text files × %d lines", b.sz.textLines),
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, devnull: true},
		other:  &command{label: "sort -m", argv: sortArgv, devnull: true},
		target: 1.5, goal: "≥ 1.5× `sort -m -n`",
		runs: b.n,
		verify: func() error {
			out := b.path("textmerge.out")
			return sameOutput(
				[]string{b.tubo, "run", y, "--set", "out=" + out}, out,
				sortArgv, int64(8*b.sz.textLines))
		},
	}
}

func (b *bench) int32Merge() *pair {
	in := b.genInt32()
	y := b.mergeYAML("int32merge", in, "    record: int32\n    order: host\n    output: binary\n")
	base := append([]string{b.onebyone}, in...)
	return &pair{
		name:   fmt.Sprintf("ordered merge, 8 sorted int32 files × %d records", b.sz.int32Recs),
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, devnull: true},
		other:  &command{label: "onebyone", argv: base, devnull: true},
		target: 5, goal: "≥ 5× one 4-byte read(2) per record",
		bytes: int64(32 * b.sz.int32Recs), runs: b.n,
		verify: func() error {
			out := b.path("int32merge.out")
			return sameOutput([]string{b.tubo, "run", y, "--set", "out=" + out}, out, base, -1)
		},
	}
}

// int32Merge2 is the k = 2 int32 merge against a plain C heap merge
// (bench/baseline/heapmerge, built with cc at start).
func (b *bench) int32Merge2() *pair {
	recs := 4 * b.sz.int32Recs
	in := b.genInt32K(2, recs)
	y := b.mergeYAML("int32merge2", in, "    record: int32\n    order: host\n    output: binary\n")
	base := append([]string{b.heapmerge}, in...)
	p := &pair{
		name:   fmt.Sprintf("ordered merge, 2 sorted int32 files × %d records", recs),
		tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, devnull: true},
		other:  &command{label: "C heap merge", argv: base, devnull: true},
		target: 1.0, goal: "≥ 1.0× a plain C heap merge",
		bytes: int64(8 * recs), runs: b.n,
		verify: func() error {
			if b.heapmerge == "" {
				return fmt.Errorf("no C compiler (cc) to build bench/baseline/heapmerge")
			}
			out := b.path("int32merge2.out")
			return sameOutput([]string{b.tubo, "run", y, "--set", "out=" + out}, out, base, -1)
		},
	}
	return p
}

// sameOutput runs a (whose result lands in file aOut, or on stdout when
// aOut is "") and b (stdout), and checks the two outputs are the same and,
// when lines ≥ 0, have that many lines.
func sameOutput(a []string, aOut string, b []string, lines int64) error {
	type res struct {
		sum   [32]byte
		lines int64
	}
	runTo := func(argv []string, file string) (res, error) {
		var r res
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stderr = os.Stderr
		h := sha256.New()
		cw := &lineCounter{w: h}
		if file == "" {
			cmd.Stdout = cw
		}
		if err := cmd.Run(); err != nil {
			return r, fmt.Errorf("%s: %w", argv[0], err)
		}
		if file != "" {
			f, err := os.Open(file)
			if err != nil {
				return r, err
			}
			_, err = io.Copy(cw, f)
			f.Close()
			os.Remove(file)
			if err != nil {
				return r, err
			}
		}
		copy(r.sum[:], h.Sum(nil))
		r.lines = cw.lines
		return r, nil
	}
	ra, err := runTo(a, aOut)
	if err != nil {
		return err
	}
	rb, err := runTo(b, "")
	if err != nil {
		return err
	}
	if ra.sum != rb.sum {
		return fmt.Errorf("outputs differ: %s (%d lines) vs %s (%d lines)", filepath.Base(a[0]), ra.lines, filepath.Base(b[0]), rb.lines)
	}
	if lines >= 0 && ra.lines != lines {
		return fmt.Errorf("%d lines, want %d", ra.lines, lines)
	}
	return nil
}

type lineCounter struct {
	w     io.Writer
	lines int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, x := range p {
		if x == '\n' {
			c.lines++
		}
	}
	return c.w.Write(p)
}

// --- primes ---------------------------------------------------------------

func (b *bench) primesArgv(workers int) []string {
	return []string{b.tubo, "run", filepath.Join(b.root, "pipelines", "primes.yaml"),
		"--set", "lo=1", "--set", "hi=" + strconv.Itoa(b.sz.primesHi), "--set", "workers=" + strconv.Itoa(workers)}
}

func (b *bench) primesPairs() []*pair {
	hi := strconv.Itoa(b.sz.primesHi)
	maestro := []string{filepath.Join(b.binDir, "maestro"), "-sequential", "1", hi, "2"}
	return []*pair{{
		name:   "primes.yaml on [1, " + hi + "], workers=2",
		tubo:   &command{label: "tubo w=2", argv: b.primesArgv(2), devnull: true},
		other:  &command{label: "maestro -sequential", argv: maestro, devnull: true},
		target: 1.4, goal: "≥ 1.4× `maestro -sequential … 2`",
		runs: b.n,
		verify: func() error {
			return sameOutput(b.primesArgv(2), "", maestro, -1)
		},
	}, {
		// The split is cut to equal shares of √x (cost: sqrt), so two
		// workers do equal work; with equal ranges the bound is 1.60×.
		name:   "primes.yaml on [1, " + hi + "], workers=2 vs workers=1",
		tubo:   &command{label: "tubo w=2", argv: b.primesArgv(2), devnull: true},
		other:  &command{label: "tubo w=1", argv: b.primesArgv(1), devnull: true},
		target: 1.8, goal: "≥ 1.8× workers=1",
		runs: b.n,
		verify: func() error {
			return sameOutput(b.primesArgv(2), "", b.primesArgv(1), -1)
		},
	}, {
		name:   "primes.yaml on [1, " + hi + "], workers=8 vs workers=1",
		tubo:   &command{label: "tubo w=8", argv: b.primesArgv(8), devnull: true},
		other:  &command{label: "tubo w=1", argv: b.primesArgv(1), devnull: true},
		target: 1.85, goal: "≥ 1.85× workers=1",
		runs: b.n,
		verify: func() error {
			return sameOutput(b.primesArgv(8), "", b.primesArgv(1), -1)
		},
	}}
}

// --- peak RSS -------------------------------------------------------------

type rssResult struct {
	maxrss, hwm []int64 // KiB per run, measured by the small probe process
	probeHWM    int64   // the probe's own peak RSS (KiB)
	direct      int64   // ru_maxrss when this (large) harness starts tubo itself
	err         error
}

// rssProbeArg makes the harness act as the RSS probe (see rssProbe).
const rssProbeArg = "-rss-probe"

// rss100 measures tubo's peak RSS on the 100-stage line. ru_maxrss from
// wait4 is max(tubo's own peak, its reaped children's, and the RSS of the
// address space its exec replaced); a child of a vfork shares its parent's
// address space until exec, so tubo started by this harness would report
// the harness's own RSS (tens of MiB once the test data are made). So the
// runs are made by a fresh copy of the harness (a few MiB, less than tubo),
// and VmHWM (tubo's own address space only) is polled alongside.
func (b *bench) rss100(runs int) rssResult {
	var r rssResult
	self, err := os.Executable()
	if err != nil {
		r.err = err
		return r
	}
	out, err := exec.Command(self, rssProbeArg, strconv.Itoa(runs), b.tubo).Output()
	if err != nil {
		r.err = fmt.Errorf("rss probe: %w", err)
		return r
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var a, c int64
		if _, err := fmt.Sscan(line, &a, &c); err != nil {
			r.err = fmt.Errorf("rss probe output %q: %v", line, err)
			return r
		}
		if a < 0 {
			r.probeHWM = c
			continue
		}
		r.maxrss = append(r.maxrss, a)
		r.hwm = append(r.hwm, c)
	}
	c := &command{label: "tubo", argv: []string{b.tubo, pipeline("/bin/true", 100)}}
	if s, err := c.run(); err == nil {
		r.direct = s.maxrss
	}
	return r
}

// rssProbe is the probe's whole life: runs × the 100-stage line, printing
// "ru_maxrss VmHWM" per run and "-1 own-VmHWM" at the end.
func rssProbe(args []string) {
	if len(args) != 2 {
		fatalf("usage: bench %s RUNS TUBO", rssProbeArg)
	}
	runs, err := strconv.Atoi(args[0])
	if err != nil {
		fatalf("%v", err)
	}
	c := &command{label: "tubo", argv: []string{args[1], pipeline("/bin/true", 100)}, poll: 200 * time.Microsecond}
	for range runs {
		s, err := c.run()
		if err != nil {
			fatalf("%v", err)
		}
		fmt.Println(s.maxrss, s.hwm)
	}
	b, _ := os.ReadFile("/proc/self/status")
	own, _ := statusField(b, "VmHWM:")
	fmt.Println(-1, own)
}

// --- scale: long pipeline, wide fan-in, RLIMIT_NOFILE -------------------

// lowNofile is the soft RLIMIT_NOFILE the scale runs start tubo with: far
// below the descriptors they need at once, so they only work if tubo raises
// its own soft limit, and the stages report what they see.
const lowNofile = 256

// underLimit wraps argv so it starts with soft RLIMIT_NOFILE lowNofile.
func underLimit(argv []string) []string {
	return append([]string{"sh", "-c", fmt.Sprintf(`ulimit -Sn %d && exec "$@"`, lowNofile), "sh"}, argv...)
}

type scaleCase struct {
	name string
	cmd  *command
	runs []sample
	err  error
}

func (b *bench) scaleCases() []*scaleCase {
	// The first stage reports the soft limit it was started with; 999 cats
	// carry that line to the end.
	long := "sh -c 'ulimit -n' | " + pipeline("cat", b.sz.longStages-1)
	lim := strconv.Itoa(lowNofile)
	k := b.sz.fanIn
	n := 100 * k
	y := b.writeFile("fanin.yaml", fmt.Sprintf(`version: 1
name: fanin
stages:
  gen:
    run: [seq, "{{replica}}", "%d", "%d"]
    replicas: %d
    stdout: m
  check:
    run: [awk, '$1 != NR-1 { bad++ } END { print NR, bad+0 }']
    stdin: m
  limit:
    run: [sh, -c, 'ulimit -n']
merges:
  m:
    mode: ordered
    record: lines
    key: numeric
`, k, n-1, k))
	fanCheck := func(out []byte) error {
		got := strings.Fields(strings.ReplaceAll(string(out), " ", "_"))
		slices.Sort(got)
		want := []string{lim, fmt.Sprintf("%d_0", n)}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("stdout %q, want lines %q (records, out of order; child's ulimit -n)", trunc(out), want)
		}
		return nil
	}
	return []*scaleCase{{
		name: fmt.Sprintf("%d-stage line `sh -c 'ulimit -n' | cat | … | cat`, soft nofile %d", b.sz.longStages, lowNofile),
		cmd:  &command{label: "tubo", argv: underLimit([]string{b.tubo, long}), check: wantOutput(lim + "\n"), poll: pairPoll},
	}, {
		name: fmt.Sprintf("%d-way ordered fan-in (YAML, %d lines), soft nofile %d", k, n, lowNofile),
		cmd:  &command{label: "tubo", argv: underLimit([]string{b.tubo, "run", y}), check: fanCheck, poll: pairPoll},
	}}
}

func (b *bench) runScale(c *scaleCase, runs int) {
	for i := range runs {
		s, err := c.cmd.run()
		if err == nil && i == 0 && c.cmd.check != nil {
			err = c.cmd.check(s.out)
		}
		if err != nil {
			c.err = err
			return
		}
		c.runs = append(c.runs, s)
	}
}
