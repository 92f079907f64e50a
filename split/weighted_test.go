package split

import (
	"math"
	"reflect"
	"testing"
)

func TestWeightedTable(t *testing.T) {
	tests := []struct {
		lo, hi int64
		n      int
		k      float64
		want   [][2]int64
	}{
		// k = 0 is Range.
		{1000, 2000, 2, 0, [][2]int64{{1000, 1500}, {1501, 2000}}},
		// Cost ∝ x on [0, 99]: the cut at 100/√2 ≈ 70.7.
		{0, 99, 2, 1, [][2]int64{{0, 70}, {71, 99}}},
		// Cost ∝ √x on [1, 10⁷]: the cut at 10⁷ · 2^(-2/3) ≈ 6 299 605.
		{1, 10_000_000, 2, 0.5, [][2]int64{{1, 6299605}, {6299606, 10_000_000}}},
		// Fewer numbers than parts: one each, as Range.
		{5, 7, 8, 0.5, [][2]int64{{5, 5}, {6, 6}, {7, 7}}},
		// A steep cost still leaves every part a number.
		{0, 3, 4, 8, [][2]int64{{0, 0}, {1, 1}, {2, 2}, {3, 3}}},
		// Invalid input.
		{-1, 10, 2, 0.5, nil},
		{-3, 2, 2, 0, [][2]int64{{-3, -1}, {0, 2}}}, // k = 0 takes any range, as Range
		{2, 1, 1, 0.5, nil},
		{1, 2, 0, 0.5, nil},
		{1, 2, 1, -1, nil},
		{1, 2, 1, math.NaN(), nil},
		{1, 2, 1, MaxExponent + 1, nil},
	}
	for _, tc := range tests {
		got := Weighted(tc.lo, tc.hi, tc.n, tc.k)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Weighted(%d, %d, %d, %g) = %v, want %v", tc.lo, tc.hi, tc.n, tc.k, got, tc.want)
		}
	}
}

// TestWeightedProperties checks that the parts cover [lo, hi] exactly, in
// order and non-empty, and that their costs (sums of x^k) are close to
// equal wherever the parts are wide enough for that to be possible.
func TestWeightedProperties(t *testing.T) {
	for _, k := range []float64{0.5, 1, 1.5, 3} {
		for _, lo := range []int64{0, 1, 1000} {
			for _, length := range []int64{1, 2, 7, 100, 5000} {
				hi := lo + length - 1
				for _, n := range []int{1, 2, 3, 4, 8, 64} {
					parts := Weighted(lo, hi, n, k)
					if want := min(int64(n), length); int64(len(parts)) != want {
						t.Fatalf("Weighted(%d, %d, %d, %g): %d parts, want %d", lo, hi, n, k, len(parts), want)
					}
					next := lo
					var costs []float64
					for _, p := range parts {
						if p[0] != next || p[1] < p[0] {
							t.Fatalf("Weighted(%d, %d, %d, %g) = %v: part %v does not follow %d", lo, hi, n, k, parts, p, next-1)
						}
						c := 0.0
						for x := p[0]; x <= p[1]; x++ {
							c += math.Pow(float64(x), k)
						}
						costs = append(costs, c)
						next = p[1] + 1
					}
					if next != hi+1 {
						t.Fatalf("Weighted(%d, %d, %d, %g) = %v ends at %d", lo, hi, n, k, parts, next-1)
					}
					if length < int64(50*n) {
						continue // parts a few numbers wide cannot be balanced
					}
					lo, hi := slicesMinMax(costs)
					if hi > lo*1.1 {
						t.Errorf("Weighted(%d, %d, %d, %g): part costs %v differ by more than 10%%", parts[0][0], parts[len(parts)-1][1], n, k, costs)
					}
				}
			}
		}
	}
}

func slicesMinMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// The esclavo example's own cost, counted: with k = 0.5 the two parts of
// [1, 10⁶] need about the same number of trial divisions (the larger
// 1.10× the smaller: a prime costs √x/2 divisions but primes thin out as
// 1/ln x, so the true exponent is a little under 0.5); with equal ranges
// the upper half needs 1.63× the lower. On [1, 10⁷] the same counts give
// two workers a speed-up of at most 1.92× with k = 0.5 and 1.60× with
// equal ranges.
func TestWeightedBalancesTrialDivision(t *testing.T) {
	divisions := func(lo, hi int64) (d int64) {
		for x := lo; x <= hi; x++ {
			if x < 4 || x%2 == 0 {
				d++
				continue
			}
			for f := int64(3); f*f <= x; f += 2 {
				d++
				if x%f == 0 {
					break
				}
			}
		}
		return d
	}
	ratio := func(parts [][2]int64) float64 {
		a, b := divisions(parts[0][0], parts[0][1]), divisions(parts[1][0], parts[1][1])
		return float64(max(a, b)) / float64(min(a, b))
	}
	even, weighted := ratio(Range(1, 1_000_000, 2)), ratio(Weighted(1, 1_000_000, 2, 0.5))
	if weighted > 1.15 || even < 1.5 {
		t.Errorf("trial divisions, larger half / smaller half: equal ranges %.2f, k=0.5 %.2f; want ≥ 1.5 and ≤ 1.15", even, weighted)
	}
	t.Logf("trial divisions, larger half / smaller half on [1, 10⁶]: equal ranges %.2f, weighted %.2f", even, weighted)
}
