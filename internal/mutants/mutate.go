package mutants

import "math/rand/v2"

// maxLen bounds a mutant's argument, so that stacked mutations cannot grow
// an input without end.
const maxLen = 8192

// mutator makes mutants with a generator of its own, seeded by Run.
type mutator struct {
	rng  *rand.Rand
	dict []string
}

// mutate returns a copy of args with one argument changed by one to four
// mutations; pool gives splices their other half.
func (m *mutator) mutate(args []string, pool [][]string) []string {
	out := append([]string(nil), args...)
	if len(out) == 0 {
		return out
	}
	i := m.rng.IntN(len(out))
	b := []byte(out[i])
	for k := 1 + m.rng.IntN(4); k > 0; k-- {
		b = m.once(b, pool, i)
	}
	if len(b) > maxLen {
		b = b[:maxLen]
	}
	out[i] = string(b)
	return out
}

// once applies one mutation, chosen at random, to b.
func (m *mutator) once(b []byte, pool [][]string, arg int) []byte {
	r := m.rng
	switch r.IntN(11) {
	case 0, 1: // insert a token of the language
		if len(m.dict) > 0 {
			return insert(b, r.IntN(len(b)+1), []byte(m.dict[r.IntN(len(m.dict))]))
		}
		fallthrough
	case 2: // insert a byte, often a printable one
		c := byte(r.IntN(256))
		if r.IntN(4) > 0 {
			c = byte(' ' + r.IntN(95))
		}
		return insert(b, r.IntN(len(b)+1), []byte{c})
	case 3: // replace a byte
		if len(b) > 0 {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		return b
	case 4: // delete a span
		if len(b) > 0 {
			i := r.IntN(len(b))
			j := i + 1 + r.IntN(min(len(b)-i, 16))
			return append(b[:i], b[j:]...)
		}
		return b
	case 5: // copy a span elsewhere
		if len(b) > 0 {
			i := r.IntN(len(b))
			j := i + 1 + r.IntN(min(len(b)-i, 32))
			span := append([]byte(nil), b[i:j]...)
			return insert(b, r.IntN(len(b)+1), span)
		}
		return b
	case 6: // replace a digit run with an edge number
		edges := []string{"0", "-1", "1", "255", "256", "4096", "2147483647", "2147483648", "9223372036854775807", "99999999999999999999"}
		return insert(b, r.IntN(len(b)+1), []byte(edges[r.IntN(len(edges))]))
	case 7: // splice: this input's head, another input's tail
		other := pool[r.IntN(len(pool))]
		if arg < len(other) {
			o := other[arg]
			i, j := r.IntN(len(b)+1), r.IntN(len(o)+1)
			return append(b[:i:i], o[j:]...)
		}
		return b
	case 9: // repeat a word in place: "a=1 cmd" becomes "a=1 a=1 cmd"
		if ws := words(b); len(ws) > 0 {
			w := ws[r.IntN(len(ws))]
			return insert(b, w[1], append([]byte{' '}, b[w[0]:w[1]]...))
		}
		return b
	case 10: // put a word where another was
		if ws := words(b); len(ws) > 1 {
			w, v := ws[r.IntN(len(ws))], ws[r.IntN(len(ws))]
			word := append([]byte(nil), b[w[0]:w[1]]...)
			out := append([]byte(nil), b[:v[0]]...)
			out = append(out, word...)
			return append(out, b[v[1]:]...)
		}
		return b
	default: // repeat the whole input, as a line after itself
		return append(append(b, '\n'), b...)
	}
}

func insert(b []byte, at int, what []byte) []byte {
	out := make([]byte, 0, len(b)+len(what))
	out = append(out, b[:at]...)
	out = append(out, what...)
	return append(out, b[at:]...)
}

// words gives the [start, end) of each run of bytes between spaces,
// tabs and newlines.
func words(b []byte) [][2]int {
	var ws [][2]int
	start := -1
	for i := 0; i <= len(b); i++ {
		space := i == len(b) || b[i] == ' ' || b[i] == '\t' || b[i] == '\n'
		switch {
		case space && start >= 0:
			ws = append(ws, [2]int{start, i})
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	return ws
}
