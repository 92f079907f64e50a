package split

import "math"

// MaxExponent bounds the cost exponent of Weighted: beyond it the parts of
// any real interval are all but one number wide at the top.
const MaxExponent = 8

// Weighted splits the inclusive interval [lo, hi], lo ≥ 0, into n
// contiguous, non-empty parts of about equal cost, when handling the number
// x costs in proportion to x^k. Part i ends near the point b where the
// integral of x^k from lo to b is i/n of the integral over the whole
// interval; k = 0 gives parts of equal size, as Range does (up to where the
// odd numbers go).
//
// Trial division up to √x, as the esclavo example does, costs about x^0.5
// per prime, so k = 0.5 gives each worker the same share of ~n^1.5 and
// they finish together, where equal ranges leave the first worker idle for
// most of the run.
//
// As Range, Weighted never returns an empty part (fewer than n parts when
// the interval holds fewer than n numbers) and returns nil for lo > hi,
// n < 1, or k outside [0, MaxExponent], and for a negative lo unless k
// is 0.
func Weighted(lo, hi int64, n int, k float64) [][2]int64 {
	if k == 0 {
		return Range(lo, hi, n)
	}
	if lo < 0 || lo > hi || n < 1 || !(k > 0 && k <= MaxExponent) {
		return nil
	}
	total := uint64(hi-lo) + 1 // lo ≥ 0, so no overflow
	if total <= uint64(n) {
		return Range(lo, hi, n)
	}
	// F is a primitive of x^k (without the constant factor); the cut before
	// part i+1 is at F⁻¹(F(lo) + (i+1)/n · (F(hi+1) − F(lo))).
	e := k + 1
	f := func(x float64) float64 { return math.Pow(x, e) }
	flo, fhi := f(float64(lo)), f(float64(hi)+1)
	out := make([][2]int64, 0, n)
	start := lo
	for i := range n {
		end := hi
		if i < n-1 {
			cut := math.Pow(flo+(fhi-flo)*float64(i+1)/float64(n), 1/e)
			end = int64(math.Round(cut)) - 1
			// Every part holds at least one number, and leaves at least one
			// for each part after it; float rounding can do neither.
			end = max(end, start)
			end = min(end, hi-int64(n-1-i))
		}
		out = append(out, [2]int64{start, end})
		start = end + 1
	}
	return out
}
