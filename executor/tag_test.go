package executor

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// Lines get the prefix whole, however the writes cut them; a last line
// without a newline gets one; an endless line is written in prefixed
// pieces rather than held forever.
func TestTagWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := newTagWriter(&out, &mu, "esclavo[1]")
	for _, p := range []string{"one\ntw", "o\n", "", "three\nfour", ""} {
		w.Write([]byte(p))
	}
	w.Close()
	want := "esclavo[1]: one\nesclavo[1]: two\nesclavo[1]: three\nesclavo[1]: four\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	out.Reset()
	w = newTagWriter(&out, &mu, "x")
	piece := strings.Repeat("a", 40<<10)
	for i := 0; i < 3; i++ {
		w.Write([]byte(piece))
	}
	w.Write([]byte("\n"))
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) != 3+80<<10 || lines[1] != "x: "+piece || !strings.HasPrefix(lines[0], "x: a") {
		t.Errorf("a long line came out as %d lines", len(lines))
	}
}
