package runner

import (
	"unicode/utf8"
)

// ifsSet classifies the characters of $IFS: white space (space, tab,
// newline) that runs together, and the others, each of which ends a
// field.
type ifsSet struct {
	ascii [128]uint8 // 0 not IFS, 1 IFS white space, 2 other IFS
	other []rune
	empty bool
}

func (r *Runner) ifs() *ifsSet {
	s, ok := r.vars.get("IFS")
	if !ok {
		s = " \t\n"
	}
	if r.ifsCache != nil && r.ifsCacheStr == s {
		return r.ifsCache
	}
	set := &ifsSet{empty: s == ""}
	for _, c := range s {
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			set.ascii[c] = 1
		case c < 128:
			set.ascii[c] = 2
		default:
			set.other = append(set.other, c)
		}
	}
	r.ifsCache, r.ifsCacheStr = set, s
	return set
}

// class is 0 for a character not in IFS, 1 for IFS white space, 2 for
// any other IFS character.
func (s *ifsSet) class(c rune) uint8 {
	if c < 128 {
		return s.ascii[c]
	}
	for _, o := range s.other {
		if o == c {
			return 2
		}
	}
	return 0
}

// splitFields does field splitting (POSIX 2.6.5): the results of unquoted
// expansions are split at IFS characters. IFS white space at the start
// and end is dropped and runs together; every other IFS character ends a
// field, even an empty one. A field that ends up with nothing in it — no
// character and no quotes — disappears.
func (r *Runner) splitFields(in []field) []field {
	ifs := r.ifs()
	out := in[:0:0]
	for _, f := range in {
		if ifs.empty || !hasExp(f) {
			if fieldExists(f) {
				out = append(out, f)
			}
			continue
		}
		out = ifs.split(out, f)
	}
	return out
}

func hasExp(f field) bool {
	for _, s := range f {
		if s.k == sExp && s.s != "" {
			return true
		}
	}
	return false
}

// fieldExists reports whether a field survives: it has a character, or
// a quoted (maybe empty) part.
func fieldExists(f field) bool {
	for _, s := range f {
		if s.s != "" || s.k == sQuoted {
			return true
		}
	}
	return false
}

const (
	stStart   = iota // nothing yet: leading white space is skipped
	stField          // in a field
	stWSDelim        // after white space that ended a field
	stDelim          // after a non-white-space delimiter
)

func (ifs *ifsSet) split(out []field, f field) []field {
	var cur field
	has := false
	state := stStart
	emit := func() {
		out = append(out, cur)
		cur = nil
		has = false
	}
	for _, sg := range f {
		if sg.k != sExp {
			cur = append(cur, sg)
			has = true
			state = stField
			continue
		}
		s := sg.s
		start := 0
		flush := func(end int) {
			if end > start {
				cur = append(cur, seg{s[start:end], sExp})
			}
		}
		for i := 0; i < len(s); {
			c, n := rune(s[i]), 1
			if c >= utf8.RuneSelf {
				c, n = utf8.DecodeRuneInString(s[i:])
			}
			switch ifs.class(c) {
			case 0:
				has = true
				state = stField
				i += n
				continue
			case 1:
				flush(i)
				if has {
					emit()
					state = stWSDelim
				}
			case 2:
				flush(i)
				if state == stWSDelim {
					state = stDelim
				} else {
					emit()
					state = stDelim
				}
			}
			i += n
			start = i
		}
		flush(len(s))
	}
	if has {
		emit()
	}
	return out
}
