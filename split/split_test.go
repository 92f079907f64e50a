package split

import (
	"math"
	"reflect"
	"testing"
)

func TestRangeTable(t *testing.T) {
	tests := []struct {
		lo, hi int64
		n      int
		want   [][2]int64
	}{
		{1000, 2000, 2, [][2]int64{{1000, 1500}, {1501, 2000}}},
		{1000, 2000, 1, [][2]int64{{1000, 2000}}},
		{1, 10, 3, [][2]int64{{1, 4}, {5, 7}, {8, 10}}},
		{0, 9, 5, [][2]int64{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}}},
		{0, 10, 4, [][2]int64{{0, 2}, {3, 5}, {6, 8}, {9, 10}}},
		{5, 5, 1, [][2]int64{{5, 5}}},
		// n > total: one part per number, never an empty part.
		{5, 5, 3, [][2]int64{{5, 5}}},
		{5, 7, 8, [][2]int64{{5, 5}, {6, 6}, {7, 7}}},
		{-3, 2, 2, [][2]int64{{-3, -1}, {0, 2}}},
		// Invalid input.
		{2, 1, 1, nil},
		{1, 2, 0, nil},
		{1, 2, -1, nil},
		// Extremes: no overflow in hi-lo+1.
		{math.MaxInt64, math.MaxInt64, 2, [][2]int64{{math.MaxInt64, math.MaxInt64}}},
		{math.MinInt64, math.MaxInt64, 2, [][2]int64{{math.MinInt64, -1}, {0, math.MaxInt64}}},
		{math.MinInt64, math.MaxInt64, 1, [][2]int64{{math.MinInt64, math.MaxInt64}}},
		{0, math.MaxInt32, 2, [][2]int64{{0, 1073741823}, {1073741824, math.MaxInt32}}},
	}
	for _, tc := range tests {
		got := Range(tc.lo, tc.hi, tc.n)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Range(%d, %d, %d) = %v, want %v", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
}

// TestRangeProperties checks, for many intervals and part counts, that the
// parts cover [lo, hi] exactly, contiguously and in order, that sizes differ
// by at most one with the larger parts first, and that min(n, total) parts
// are returned.
func TestRangeProperties(t *testing.T) {
	for _, lo := range []int64{0, 1, 1000, 2147483600} {
		for length := int64(1); length <= 70; length++ {
			hi := lo + length - 1
			for n := 1; n <= 80; n++ {
				parts := Range(lo, hi, n)
				wantParts := min(int64(n), length)
				if int64(len(parts)) != wantParts {
					t.Fatalf("Range(%d, %d, %d): %d parts, want %d", lo, hi, n, len(parts), wantParts)
				}
				next := lo
				maxSize, minSize := int64(0), int64(math.MaxInt64)
				prevSize := int64(math.MaxInt64)
				for _, p := range parts {
					if p[0] != next || p[1] < p[0] {
						t.Fatalf("Range(%d, %d, %d) = %v: not contiguous at %v", lo, hi, n, parts, p)
					}
					size := p[1] - p[0] + 1
					if size > prevSize {
						t.Fatalf("Range(%d, %d, %d) = %v: larger part after smaller", lo, hi, n, parts)
					}
					prevSize = size
					maxSize, minSize = max(maxSize, size), min(minSize, size)
					next = p[1] + 1
				}
				if next != hi+1 {
					t.Fatalf("Range(%d, %d, %d) = %v: does not end at hi", lo, hi, n, parts)
				}
				if maxSize-minSize > 1 {
					t.Fatalf("Range(%d, %d, %d) = %v: sizes differ by %d", lo, hi, n, parts, maxSize-minSize)
				}
			}
		}
	}
}
