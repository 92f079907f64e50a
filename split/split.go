// Package split divides an inclusive integer interval into contiguous
// parts of (almost) equal size.
//
// It is the work-distribution rule of the maestro example (the master of the
// master/slave prime finder) and is meant to be reused by other front ends
// that need to fan an interval out over N workers.
package split

// Range splits the inclusive interval [lo, hi] into contiguous, non-empty,
// inclusive parts [start, end] and returns them in increasing order.
//
// The interval holds total = hi-lo+1 numbers. Every part gets total/n numbers
// and the first total%n parts get one more, so part sizes differ by at most
// one and the first part starts at lo. For example Range(1000, 2000, 2)
// returns [[1000 1500] [1501 2000]].
//
// If n > total, only total parts of one number each are returned: parts are
// never empty. Range returns nil if lo > hi or n < 1.
//
// The whole int64 domain is accepted; the arithmetic is done in uint64 so
// that hi-lo+1 cannot overflow.
func Range(lo, hi int64, n int) [][2]int64 {
	if lo > hi || n < 1 {
		return nil
	}
	span := uint64(hi) - uint64(lo) // total-1; total itself may be 2^64
	parts := uint64(n)
	if span < parts-1 { // total < n
		parts = span + 1
	}
	// total = q*parts + r + 1, computed without forming total.
	q, r := span/parts, span%parts
	base, extra := q, r+1
	if extra == parts {
		base, extra = q+1, 0
	}
	out := make([][2]int64, 0, parts)
	start := uint64(lo)
	for i := uint64(0); i < parts; i++ {
		size := base
		if i < extra {
			size++
		}
		end := start + size - 1
		out = append(out, [2]int64{int64(start), int64(end)})
		start = end + 1
	}
	return out
}
