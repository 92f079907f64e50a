package remote

import "strings"

// Quote makes s one word for a POSIX shell, whatever it holds: it is put
// between single quotes, inside which nothing is special, and each single
// quote in it is closed, escaped and reopened:
//
//	it's  →  'it'\''s'
//
// The empty string becomes a pair of quotes. A word of only safe
// characters is left as it is, so command lines stay readable.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes each word and joins them with spaces: a command line
// that a POSIX shell splits back into exactly these words.
func QuoteArgs(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

// unsafe reports whether a character could mean something to a shell. The
// safe set is small on purpose: letters, digits and a few punctuation
// marks that no POSIX shell treats specially anywhere in a word.
func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("_-./,:+@%", r)
}
