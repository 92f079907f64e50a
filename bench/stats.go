package main

import (
	"fmt"
	"slices"
	"time"
)

// median returns the median of ds (the mean of the two middle values for an
// even count); 0 for none. ds is not modified.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread returns the smallest and largest of ds.
func spread(ds []time.Duration) (lo, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	return slices.Min(ds), slices.Max(ds)
}

// speedup is how many times faster tubo is than the other tool: other's
// time over tubo's, so a value above 1 means tubo is faster. 0 when either
// time is missing.
func speedup(tubo, other time.Duration) float64 {
	if tubo <= 0 || other <= 0 {
		return 0
	}
	return float64(other) / float64(tubo)
}

// throughput is bytes per second in MiB/s; 0 when unknown.
func throughput(bytes int64, d time.Duration) float64 {
	if bytes <= 0 || d <= 0 {
		return 0
	}
	return float64(bytes) / (1 << 20) / d.Seconds()
}

// fmtDur prints a duration with three significant figures in a unit that
// suits it.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
}

// fmtKiB prints a size given in KiB as MiB.
func fmtKiB(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// verdict says whether a speed-up meets its target, and if not by how much
// it falls short, as a percentage of the target.
func verdict(got, want float64) string {
	switch {
	case got <= 0:
		return "n/a"
	case got >= want:
		return "met"
	default:
		return fmt.Sprintf("MISSED (%.0f%% short)", 100*(want-got)/want)
	}
}
