package pipeline

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
)

func TestScatterGraph(t *testing.T) {
	g, err := LoadBytes("p.yaml", []byte(`
merges: {m: {mode: reassemble}}
stages:
  gen: {run: [seq, 100]}
  w: {run: [cat], replicas: 3, scatter: {by: records, size: 8, record: int64}, stdin: gen, stdout: m}
`), Options{SkipLookup: true})
	if err != nil {
		t.Fatal(err)
	}
	sc := g.Node("w.scatter")
	if sc == nil || sc.Kind != graph.Scatter || sc.Chunk != (graph.ChunkSpec{By: graph.ChunkRecords, Size: 8, Width: 8, Stage: "w"}) {
		t.Fatalf("scatter node %+v", sc)
	}
	if in := g.Inputs("w.scatter"); len(in) != 1 || in[0].From.Node != "gen" {
		t.Errorf("scatter inputs %v", in)
	}
	outs := g.Outputs("w.scatter")
	for i, e := range outs {
		if e.To.Node != "w["+itoa(int64(i))+"]" || e.To.FD != 0 {
			t.Errorf("scatter output %d goes to %v", i, e.To)
		}
	}
	if len(outs) != 3 || g.Node("m").Merge.Chunk != sc.Chunk {
		t.Errorf("%d outputs; merge chunk %+v", len(outs), g.Node("m").Merge.Chunk)
	}
}

func TestScatterErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"stages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, scatter: {by: lines, size: 5}}\n",
			`p.yaml:3:38: stage w: scatter: needs replicas: N, the copies the chunks are dealt to`},
		{"stages:\n  w: {run: [cat], replicas: 2, scatter: {by: lines, size: 5}}\n",
			`p.yaml:2:41: stage w: scatter: cuts the stage's stdin; give stdin: SOURCE (a stage, file or fifo)`},
		{"stages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: line, size: 5}}\n",
			`p.yaml:3:56: stage w: scatter: by: unknown value "line" (want lines, bytes or records); did you mean "lines"?`},
		{"stages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: records, size: 5}}\n",
			`p.yaml:3:51: stage w: scatter: by: records needs record: int32 or int64`},
		{"stages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: bytes}}\n",
			`p.yaml:3:51: stage w: scatter: size is required: how many bytes in a chunk`},
		{"stages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: bytes, size: 0}}\n",
			`p.yaml:3:69: stage w: scatter: size: 0 is outside 1–1073741824`},
		{"merges: {m: {mode: reassemble}}\nstages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, stdout: m}\n",
			`p.yaml:1:10: merge m: mode: reassemble reads back the chunks of a stage with scatter:; its inputs must be that stage's copies' stdouts, each once, in order (write stdout: m on the stage, or from: [STAGE])`},
		{"merges: {m: {mode: reassemble, from: ['w[1]', 'w[0]']}}\nstages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: lines, size: 1}}\n",
			`p.yaml:1:10: merge m: mode: reassemble reads back the chunks`},
		{"merges: {m: {mode: reassemble, record: int32}}\nstages:\n  g: {run: [seq, 9]}\n",
			"p.yaml:1:10: merge m has no inputs\np.yaml:1:32: merge m: record: reassemble writes back what the scatter's copies wrote, in their own form"},
		{"merges: {m: {mode: ordered}}\nstages:\n  g: {run: [seq, 9]}\n  w: {run: [cat], stdin: g, replicas: 2, scatter: {by: lines, size: 1}, stdout: m}\n",
			`p.yaml:4:51: diamond: scatter w.scatter feeds w[0] and w[1], which meet again at merge m`},
	} {
		if got, err := load(t, tt.src); err == nil || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// pipelines/scatter.yaml gives, byte for byte, what one awk gives, for
// several copy counts and chunk sizes (real processes, real pipes).
func TestRunScatterPipeline(t *testing.T) {
	dir := t.TempDir()
	serial, err := exec.Command("sh", "-c", "seq 1 200000 | awk '{ print $1 * 2 }' | awk 'END { print NR \" lines, the last \" $0 }'").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{{"workers=1", "chunk=1000"}, {"workers=3", "chunk=7"}, {"workers=4", "chunk=100000"}, {"workers=7", "chunk=333"}} {
		g := loadFile(t, "../../pipelines/scatter.yaml", append(set, "n=200000", "input="+filepath.Join(dir, "in.txt"))...)
		out, errs, res := runGraph(t, g)
		if res.Status != 0 || out != string(serial) {
			t.Errorf("%v: status %d, out %q (want %q), stderr %q", set, res.Status, out, serial, errs)
		}
	}
}

// The whole output, not only its summary, is the serial one: lines with a
// ragged end, bytes, and int64 records, through real copies of cat and tr.
func TestRunScatterByteIdentical(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	gen := exec.Command("sh", "-c", `seq 1 300000 > "$1"; printf 'a last line without newline' >> "$1"`, "sh", data)
	if err := gen.Run(); err != nil {
		t.Fatal(err)
	}
	want := func(filter string) [32]byte {
		out, err := exec.Command("sh", "-c", filter+` < "$1"`, "sh", data).Output()
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(out)
	}
	for _, tt := range []struct{ name, chunk, run, serial, source string }{
		{"lines from a file", "by: lines, size: 4096", "[tr, a-z0-9, A-Zj-s]", "tr a-z0-9 A-Zj-s", "data"},
		{"lines from a pipe", "by: lines, size: 10000", "[tr, a-z0-9, A-Zj-s]", "tr a-z0-9 A-Zj-s", "cat"},
		{"bytes", "by: bytes, size: 65537", "[tr, a-z0-9, A-Zj-s]", "tr a-z0-9 A-Zj-s", "cat"},
		{"bytes from a file", "by: bytes, size: 100000", "[cat]", "cat", "data"},
	} {
		src := `files: {data: ` + data + `}
merges: {m: {mode: reassemble}}
stages:
  cat: {run: [cat, ` + data + `]}
  w: {run: ` + tt.run + `, replicas: 3, scatter: {` + tt.chunk + `}, stdin: ` + tt.source + `, stdout: m}
`
		if tt.source == "data" {
			src = strings.Replace(src, "  cat: {run: [cat, "+data+"]}\n", "", 1)
		}
		_, out, errs, res := runFile(t, src)
		if res.Status != 0 || sha256.Sum256([]byte(out)) != want(tt.serial) {
			t.Errorf("%s: status %d, %d bytes out, stderr %q", tt.name, res.Status, len(out), errs)
		}
	}
	// A copy that drops lines cannot be reassembled: said, not hidden.
	_, _, errs, res := runFile(t, `files: {data: `+data+`}
merges: {m: {mode: reassemble}}
stages:
  w: {run: [grep, -v, '7'], replicas: 3, scatter: {by: lines, size: 1000}, stdin: data, stdout: m}
`)
	if res.Status == 0 || !strings.Contains(errs, "a copy must write one record per record it reads") {
		t.Errorf("grep through reassemble: status %d, stderr %q", res.Status, errs)
	}
	os.Remove(data)
}
