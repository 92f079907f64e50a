package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// --- scatter / reassemble ---------------------------------------------------
//
// One stream cut into chunks, dealt to 4 copies of a filter and read back
// in chunk order (issue 12 item 2), against GNU parallel's `--pipe -k`,
// which does the same with a perl copy loop, and against the serial
// pipeline. tr is cheap per byte, so its rows measure how the chunks
// move; awk costs CPU, where 4 copies on this machine's cores can beat
// one. The input is a file of `seq 1 N` (both sides read the same file),
// and once `seq` itself through a pipe (the tee(2) + splice(2) path).

// scatterLines is N.
func (b *bench) scatterLines() int {
	if b.sz.catBytes < 1<<30 {
		return 2_000_000 // -quick
	}
	return 20_000_000
}

// scatterData writes `seq 1 N` to a file once and returns its path.
func (b *bench) scatterData() string {
	p := b.path("scatter.txt")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	f, err := os.Create(p)
	if err != nil {
		fatalf("%v", err)
	}
	cmd := exec.Command("seq", "1", strconv.Itoa(b.scatterLines()))
	cmd.Stdout = f
	if err := cmd.Run(); err != nil {
		fatalf("seq: %v", err)
	}
	f.Close()
	return p
}

// scatterYAML is source → scatter → 4 × filter → reassemble; source is
// "file" (the data file) or "seq".
func (b *bench) scatterYAML(name, source, chunk, filter string) string {
	gen, stdin := "", "data"
	if source == "seq" {
		gen, stdin = fmt.Sprintf("  gen: {run: [seq, 1, \"%d\"]}\n", b.scatterLines()), "gen"
	}
	return b.writeFile(name+".yaml", fmt.Sprintf(`version: 1
name: %s
files: {data: %q}
merges:
  out: {mode: reassemble}
stages:
%s  work:
    run: %s
    replicas: 4
    scatter: {%s}
    stdin: %s
    stdout: out
`, name, b.scatterData(), gen, filter, chunk, stdin))
}

func (b *bench) scatterPairs() []*pair {
	data := b.scatterData()
	n := strconv.Itoa(b.scatterLines())
	const (
		tr  = `[tr, "0-9", "a-j"]`
		awk = `[awk, "{ print $1 * 2 }"]`
	)
	lines, bytes := "by: lines, size: 100000", "by: bytes, size: 1048576"
	// parallel runs its command through a shell: give it one quoted line.
	parallel := func(filter string) []string {
		return []string{"bash", "-c", `parallel --pipe -k -j4 --block 1M "$2" < "$1"`, "bash", data, filter}
	}
	serial := func(filter string) []string {
		return []string{"bash", "-c", filter + ` < "$1"`, "bash", data}
	}
	verify := func(y string, other []string) func() error {
		return func() error { return sameOutput([]string{b.tubo, "run", y}, "", other, int64(b.scatterLines())) }
	}
	row := func(name, y string, other []string, label string, target float64, goal string) *pair {
		return &pair{
			name:   fmt.Sprintf("%s lines of `seq` scattered to 4 copies of %s and reassembled", n, name),
			tubo:   &command{label: "tubo", argv: []string{b.tubo, "run", y}, devnull: true},
			other:  &command{label: label, argv: other, devnull: true},
			target: target, goal: goal,
			runs: b.n, verify: verify(y, other),
		}
	}
	trLines := b.scatterYAML("scatter-tr", "file", lines, tr)
	trBytes := b.scatterYAML("scatter-tr-bytes", "file", bytes, tr)
	trSeq := b.scatterYAML("scatter-tr-seq", "seq", lines, tr)
	awkLines := b.scatterYAML("scatter-awk", "file", lines, awk)
	vsParallel := "≥ 5× `parallel --pipe -k -j4`"
	return []*pair{
		row("`tr 0-9 a-j`, 100 000-line chunks", trLines, parallel("tr 0-9 a-j"), "parallel --pipe -k", 5, vsParallel),
		row("`tr 0-9 a-j`, 1 MiB byte chunks (splice only)", trBytes, parallel("tr 0-9 a-j"), "parallel --pipe -k", 5, vsParallel),
		row("`tr 0-9 a-j`, from `seq` through a pipe (tee + splice)", trSeq,
			[]string{"bash", "-c", `seq 1 "$1" | parallel --pipe -k -j4 --block 1M 'tr 0-9 a-j'`, "bash", n}, "seq | parallel --pipe -k", 5, vsParallel),
		row("`awk '{ print $1 * 2 }'`", awkLines, parallel("awk '{ print $1 * 2 }'"), "parallel --pipe -k", 5, vsParallel),
		row("`awk '{ print $1 * 2 }'`, against one awk", awkLines, serial("awk '{ print $1 * 2 }'"), "serial awk", 0, "(speed-up of 4 copies on this machine's cores)"),
		row("`tr 0-9 a-j`, against one tr", trLines, serial("tr 0-9 a-j"), "serial tr", 0, "(the price of the plumbing when the filter is cheap)"),
	}
}
