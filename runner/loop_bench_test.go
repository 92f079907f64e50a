package runner

import (
	"context"
	"os"
	"testing"
)

// BenchmarkWhileLoop runs the loop benchmark's script (bench/shell.go) in
// process, 10k iterations per op, for profiles of the evaluator.
func BenchmarkWhileLoop(b *testing.B) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for b.Loop() {
		r := New(Config{Stdout: devnull, Stderr: devnull})
		if err := r.RunScript(context.Background(), `i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done; echo $i`); err != nil {
			b.Fatal(err)
		}
	}
}
