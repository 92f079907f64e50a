package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline"
	"github.com/tubo-pipes/tubo/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each shipped pipeline renders exactly as its golden file says.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("../pipelines/*.yaml")
	if len(files) == 0 {
		t.Fatal("no pipelines")
	}
	// Paths next to a pipeline file are absolute: the goldens name the
	// directory $PIPELINES, wherever the repository is.
	dir, err := filepath.Abs("../pipelines")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		g, err := pipeline.Load(f, pipeline.Options{SkipLookup: true, TempDir: "/tmp/tubo-golden"})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []struct {
			ext string
			fn  func(*bytes.Buffer, *graph.Graph) error
		}{
			{".dot", func(b *bytes.Buffer, g *graph.Graph) error { return render.DOT(b, g) }},
			{".mmd", func(b *bytes.Buffer, g *graph.Graph) error { return render.Mermaid(b, g) }},
		} {
			t.Run(name+format.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := format.fn(&b, g); err != nil {
					t.Fatal(err)
				}
				got := strings.ReplaceAll(b.String(), dir, "$PIPELINES")
				b.Reset()
				b.WriteString(got)
				golden := filepath.Join("testdata", name+format.ext)
				if *update {
					os.WriteFile(golden, b.Bytes(), 0o644)
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./render -update)", err)
				}
				if b.String() != string(want) {
					t.Errorf("%s differs:\n%s", golden, b.String())
				}
			})
		}
	}
}

// Names and commands with quotes, newlines and markup cannot break out of
// their labels.
func TestEscaping(t *testing.T) {
	g := &graph.Graph{Name: `x"y`}
	g.Add(&graph.Node{ID: `a"b`, Kind: graph.Process, Argv: []string{"echo", "<b>\"hi\"</b>\n#1;`x`"}})
	g.Add(&graph.Node{ID: "m", Kind: graph.Merge})
	g.Connect(graph.Endpoint{Node: `a"b`, FD: 2}, graph.Endpoint{Node: "m"}, graph.Pos{})
	var d, m bytes.Buffer
	render.DOT(&d, g)
	render.Mermaid(&m, g)
	for _, want := range []string{`digraph "x\"y"`, `"a\"b" [shape=box, label="a\"b\necho '<b>\"hi\"</b>\n#1;`, `"a\"b" -> "m" [label="2→"];`} {
		if !strings.Contains(d.String(), want) {
			t.Errorf("DOT lacks %s:\n%s", want, d.String())
		}
	}
	for _, bad := range []string{"<b>", `"hi"`, "`"} {
		if strings.Contains(m.String(), bad) {
			t.Errorf("Mermaid holds raw %s:\n%s", bad, m.String())
		}
	}
	if !strings.Contains(m.String(), `n0 -->|"2→"| n1`) {
		t.Errorf("Mermaid edge:\n%s", m.String())
	}
}

// DOTWith keeps room under process and edge labels, and the zero options
// print exactly what DOT does.
func TestDOTWithRoom(t *testing.T) {
	g := &graph.Graph{Name: "x"}
	g.Add(&graph.Node{ID: "a", Argv: []string{"seq", "3"}})
	g.Add(&graph.Node{ID: "t", Kind: graph.Tee})
	g.Connect(graph.Endpoint{Node: "a", FD: 1}, graph.Endpoint{Node: "t"}, graph.Pos{})
	var plain, zero, room bytes.Buffer
	render.DOT(&plain, g)
	render.DOTWith(&zero, g, render.DOTOptions{})
	if plain.String() != zero.String() {
		t.Errorf("zero options change the DOT:\n%s\nvs\n%s", zero.String(), plain.String())
	}
	render.DOTWith(&room, g, render.DOTOptions{ProcRoom: 2, EdgeRoom: 1, RoomWidth: 3, Font: "Courier"})
	blank := `\n` + strings.Repeat("\u00a0", 3)
	for _, want := range []string{
		`"a" [shape=box, label="a\nseq 3` + blank + blank + `"];`,
		`"t" [shape=triangle, style=filled, fillcolor="#fff4d6", label="tee t"];`,
		`"a" -> "t" [label="1→` + blank + `"];`,
		`node [fontname="Courier", fontsize=10];`,
	} {
		if !strings.Contains(room.String(), want) {
			t.Errorf("DOT lacks %s:\n%s", want, room.String())
		}
	}
}
