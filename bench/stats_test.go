package main

import (
	"testing"
	"time"
)

// These test only the arithmetic of the harness; the benchmark itself runs
// with `go run ./bench`, never under `go test`.

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{ms(7), 7 * time.Millisecond},
		{ms(9, 1, 5), 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
	} {
		in := append([]time.Duration(nil), c.in...)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("median reordered its input: %v", c.in)
			}
		}
	}
}

func TestSpeedupAndVerdict(t *testing.T) {
	if got := speedup(time.Second, 3*time.Second); got != 3 {
		t.Errorf("speedup(1s, 3s) = %v, want 3 (tubo three times faster)", got)
	}
	if got := speedup(2*time.Second, time.Second); got != 0.5 {
		t.Errorf("speedup(2s, 1s) = %v, want 0.5", got)
	}
	if got := speedup(0, time.Second); got != 0 {
		t.Errorf("speedup with a missing time = %v, want 0", got)
	}
	if got := verdict(1.5, 1.5); got != "met" {
		t.Errorf("verdict(1.5, 1.5) = %q", got)
	}
	if got := verdict(0.5, 1); got != "MISSED (50% short)" {
		t.Errorf("verdict(0.5, 1) = %q", got)
	}
	if got := throughput(1<<30, time.Second); got != 1024 {
		t.Errorf("throughput(1 GiB, 1s) = %v MiB/s, want 1024", got)
	}
}
