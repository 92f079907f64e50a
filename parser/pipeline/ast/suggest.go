package ast

import "sort"

// Suggest returns the candidate closest to word by edit distance, if it is
// close enough to be a likely typo; "" otherwise.
func Suggest(word string, candidates []string) string {
	best, bestD := "", 0
	limit := min(max(len(word)/3, 1), 3)
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := levenshtein(word, c)
		if d <= limit && d < len(word) && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean is "; did you mean X?" or "".
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return "; did you mean " + Quote(s) + "?"
	}
	return ""
}

// levenshtein is the edit distance between a and b (bytes; names are
// ASCII), counting a swap of two neighbours as one edit (the optimal string
// alignment variant), so "gne" is one edit from "gen".
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Long words are not typos of short keys; keep the cost bounded.
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
