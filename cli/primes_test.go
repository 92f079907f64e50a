package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/cli"
)

// sieve is an oracle independent of esclavo: the primes in [lo, hi].
func sieve(lo, hi int) []string {
	composite := make([]bool, hi+1)
	var out []string
	for n := 2; n <= hi; n++ {
		if composite[n] {
			continue
		}
		for m := n * n; m <= hi; m += n {
			composite[m] = true
		}
		if n >= lo {
			out = append(out, fmt.Sprint(n))
		}
	}
	return out
}

// TestPrimesPipeline runs pipelines/primes.yaml through the CLI on several
// intervals and worker counts, and checks every output against a sieve.
func TestPrimesPipeline(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	if _, err := os.Stat(filepath.Join(root, "bin", "esclavo")); err != nil {
		t.Skip("bin/esclavo not built: run make build (make test does)")
	}
	yaml := filepath.Join(root, "pipelines", "primes.yaml")
	intervals := [][2]int{{1000, 2000}, {0, 1}, {2, 2}, {1, 100}, {9000, 9100}, {0, 20000}}
	for _, iv := range intervals {
		for workers := 1; workers <= 8; workers++ {
			name := fmt.Sprintf("%d-%d/%d", iv[0], iv[1], workers)
			t.Run(name, func(t *testing.T) {
				out, err := os.CreateTemp(t.TempDir(), "out")
				if err != nil {
					t.Fatal(err)
				}
				defer out.Close()
				null, _ := os.Open(os.DevNull)
				defer null.Close()
				code := cli.Main([]string{"run", yaml,
					"--set", fmt.Sprintf("lo=%d", iv[0]), "--set", fmt.Sprintf("hi=%d", iv[1]),
					"--set", fmt.Sprintf("workers=%d", workers)}, null, out, os.Stderr)
				if size := iv[1] - iv[0] + 1; size < workers {
					// More workers than numbers is refused, not shrunk.
					if code != 2 {
						t.Fatalf("exit %d for %d workers on %d numbers, want 2", code, workers, size)
					}
					return
				}
				if code != 0 {
					t.Fatalf("exit %d", code)
				}
				b, _ := os.ReadFile(out.Name())
				got := strings.Fields(string(b))
				want := sieve(iv[0], iv[1])
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("got %d primes, want %d\ngot  %.200v\nwant %.200v", len(got), len(want), got, want)
				}
				if iv == [2]int{1000, 2000} && len(got) != 135 {
					t.Errorf("%d primes in 1000–2000, want 135", len(got))
				}
			})
		}
	}
}
