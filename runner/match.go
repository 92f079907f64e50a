package runner

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	mpattern "mvdan.cc/sh/v3/pattern"
)

// Shell patterns (POSIX 2.13, and bash's extended globs) are matched by
// mvdan.cc/sh/v3/pattern, which turns them into regular expressions,
// wherever it matches as dash and bash do; runner/pattern_test.go checks
// that against bash. tubo's own matcher below takes the patterns the
// library refuses with an error where sh has an answer — !(…), which a
// regular expression cannot say without lookahead; a trailing backslash;
// [z-a], [[:foo:]], [[.a.]] and [[=a=]] — and strings that are not UTF-8,
// whose bytes Go's regexp reads as U+FFFD, one the same as another.

type pnodeKind uint8

const (
	pLit   pnodeKind = iota // one character
	pAny                    // ?
	pStar                   // *
	pClass                  // […]
	pGroup                  // ?(…) *(…) +(…) @(…) !(…)
)

type pnode struct {
	kind  pnodeKind
	r     rune
	class *charClass
	op    byte // for groups: ? * + @ !
	alts  [][]pnode
}

type charClass struct {
	neg    bool
	ranges []rune // pairs lo, hi
	named  []func(rune) bool
}

func (c *charClass) has(r rune, fold bool) bool {
	in := c.hasExact(r)
	if !in && fold {
		in = c.hasExact(unicode.ToLower(r)) || c.hasExact(unicode.ToUpper(r))
	}
	return in != c.neg
}

func (c *charClass) hasExact(r rune) bool {
	for i := 0; i+1 < len(c.ranges); i += 2 {
		if r >= c.ranges[i] && r <= c.ranges[i+1] {
			return true
		}
	}
	for _, f := range c.named {
		if f(r) {
			return true
		}
	}
	return false
}

// pattern is a parsed shell pattern.
type pattern struct {
	nodes []pnode
	// lit is the pattern's text when it has no special character.
	lit   string
	isLit bool
	fold  bool // case-insensitive (nocasematch, nocaseglob)
	path  bool // * and ? do not match /
	// re is the library's regular expression for the pattern; nil when
	// the library refused it (nodes then decide alone).
	re *regexp.Regexp
}

func (p *pattern) literal() (string, bool) { return p.lit, p.isLit && !p.fold }

// patMode says what a pattern is matched for.
type patMode uint8

const (
	patValue patMode = iota // ${x#p}, ${x/p/s}: case-sensitive
	patCase                 // case and [[ == ]]: nocasematch applies
	patPath                 // pathname expansion: nocaseglob, no * across /
)

// compilePattern parses a pattern (cached: case statements in loops).
func (r *Runner) compilePattern(pat string, mode patMode) *pattern {
	key := pat
	path := mode == patPath
	fold := r.opts[optNocasematch] && mode == patCase || r.opts[optNocaseglob] && path
	if path || fold {
		key = string([]byte{0, boolByte(path), boolByte(fold)}) + pat
	}
	if p, ok := r.patCache[key]; ok {
		return p
	}
	p := parsePattern(pat, r.opts[optExtglob])
	p.fold, p.path = fold, path
	if (!p.isLit || fold) && mode != patValue {
		p.re = libraryRegexp(pat, r.opts[optExtglob], fold)
	}
	if r.patCache == nil || len(r.patCache) > 1000 {
		r.patCache = map[string]*pattern{}
	}
	r.patCache[key] = p
	return p
}

// libraryRegexp is mvdan.cc/sh/v3/pattern's regular expression for a
// whole-string match of pat, or nil where the library refuses it or
// cannot be trusted with it (pat is not UTF-8). Pathname expansion
// matches one path component at a time, so "**" is two stars here.
func libraryRegexp(pat string, extglob, fold bool) *regexp.Regexp {
	if !utf8.ValidString(pat) {
		return nil
	}
	mode := mpattern.EntireString | mpattern.NoGlobStar
	if extglob {
		mode |= mpattern.ExtendedOperators
	}
	if fold {
		mode |= mpattern.NoGlobCase
	}
	src, err := mpattern.Regexp(pat, mode)
	if err != nil {
		return nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil
	}
	return re
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// match reports whether s matches pattern pat (case, [[ == ]]).
func (r *Runner) match(pat, s string) bool {
	return r.compilePattern(pat, patCase).match(s)
}

func parsePattern(pat string, ext bool) *pattern {
	nodes, _ := parseNodes(pat, 0, ext, false)
	p := &pattern{nodes: nodes}
	lit := true
	var b strings.Builder
	for _, n := range nodes {
		if n.kind != pLit {
			lit = false
			break
		}
		if n.r > 0xfffffff {
			b.WriteByte(byte(n.r))
		} else {
			b.WriteRune(n.r)
		}
	}
	if lit {
		p.lit, p.isLit = b.String(), true
	}
	return p
}

// parseNodes parses from pat[i:]; inGroup stops at | or ) of an extended
// glob. It returns the nodes and where it stopped.
func parseNodes(pat string, i int, ext, inGroup bool) ([]pnode, int) {
	var out []pnode
	for i < len(pat) {
		c := pat[i]
		if inGroup && (c == '|' || c == ')') {
			return out, i
		}
		if ext && (c == '?' || c == '*' || c == '+' || c == '@' || c == '!') && i+1 < len(pat) && pat[i+1] == '(' {
			if g, end, ok := parseGroup(pat, i, ext); ok {
				out = append(out, g)
				i = end
				continue
			}
		}
		switch c {
		case '\\':
			if i+1 < len(pat) {
				r, n := utf8.DecodeRuneInString(pat[i+1:])
				out = append(out, pnode{kind: pLit, r: r})
				i += 1 + n
				continue
			}
			out = append(out, pnode{kind: pLit, r: '\\'})
			i++
			continue
		case '?':
			out = append(out, pnode{kind: pAny})
			i++
			continue
		case '*':
			if len(out) == 0 || out[len(out)-1].kind != pStar {
				out = append(out, pnode{kind: pStar})
			}
			i++
			continue
		case '[':
			if cl, end, ok := parseClass(pat, i); ok {
				out = append(out, pnode{kind: pClass, class: cl})
				i = end
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(pat[i:])
		if r == utf8.RuneError && n == 1 {
			r = rune(pat[i]) | 0x10000000 // a raw byte, kept apart from U+FFFD
		}
		out = append(out, pnode{kind: pLit, r: r})
		i += n
	}
	return out, i
}

func parseGroup(pat string, i int, ext bool) (pnode, int, bool) {
	g := pnode{kind: pGroup, op: pat[i]}
	j := i + 2
	for {
		alt, end := parseNodes(pat, j, ext, true)
		if end >= len(pat) {
			return pnode{}, 0, false
		}
		g.alts = append(g.alts, alt)
		if pat[end] == ')' {
			return g, end + 1, true
		}
		j = end + 1
	}
}

var namedClasses = map[string]func(rune) bool{
	"alpha":  unicode.IsLetter,
	"digit":  func(r rune) bool { return r >= '0' && r <= '9' },
	"alnum":  func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) },
	"upper":  unicode.IsUpper,
	"lower":  unicode.IsLower,
	"space":  unicode.IsSpace,
	"blank":  func(r rune) bool { return r == ' ' || r == '\t' },
	"punct":  func(r rune) bool { return r < 128 && unicode.IsPunct(r) || r < 128 && unicode.IsSymbol(r) },
	"print":  func(r rune) bool { return unicode.IsPrint(r) },
	"graph":  func(r rune) bool { return unicode.IsGraphic(r) && r != ' ' },
	"cntrl":  unicode.IsControl,
	"xdigit": func(r rune) bool { _, ok := hexVal(byte(r)); return r < 128 && ok },
	"word":   func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) },
}

// parseClass parses a bracket expression at pat[i] == '['. ok is false
// when there is no closing ], and the [ is an ordinary character.
func parseClass(pat string, i int) (*charClass, int, bool) {
	cl := &charClass{}
	j := i + 1
	if j < len(pat) && (pat[j] == '!' || pat[j] == '^') {
		cl.neg = true
		j++
	}
	first := true
	for j < len(pat) {
		c := pat[j]
		if c == ']' && !first {
			return cl, j + 1, true
		}
		first = false
		if c == '[' && j+1 < len(pat) && (pat[j+1] == ':' || pat[j+1] == '=' || pat[j+1] == '.') {
			delim := pat[j+1]
			end := strings.Index(pat[j+2:], string(delim)+"]")
			if end >= 0 {
				name := pat[j+2 : j+2+end]
				j += 2 + end + 2
				switch delim {
				case ':':
					if f, ok := namedClasses[name]; ok {
						cl.named = append(cl.named, f)
					}
				default:
					for _, r := range name {
						cl.ranges = append(cl.ranges, r, r)
					}
				}
				continue
			}
		}
		var lo rune
		var n int
		if c == '\\' && j+1 < len(pat) {
			lo, n = utf8.DecodeRuneInString(pat[j+1:])
			n++
		} else {
			lo, n = utf8.DecodeRuneInString(pat[j:])
		}
		j += n
		hi := lo
		if j+1 < len(pat) && pat[j] == '-' && pat[j+1] != ']' {
			j++
			if pat[j] == '\\' && j+1 < len(pat) {
				j++
			}
			hi, n = utf8.DecodeRuneInString(pat[j:])
			j += n
		}
		cl.ranges = append(cl.ranges, lo, hi)
	}
	return nil, 0, false
}

// match reports whether s matches the whole pattern.
func (p *pattern) match(s string) bool {
	if p.isLit && !p.fold {
		return s == p.lit
	}
	if p.re != nil && utf8.ValidString(s) {
		return p.re.MatchString(s)
	}
	return p.matchNodes(p.nodes, s, 0)
}

func (p *pattern) matchNodes(nodes []pnode, s string, depth int) bool {
	for len(nodes) > 0 {
		n := &nodes[0]
		switch n.kind {
		case pLit:
			if s == "" {
				return false
			}
			c, w := decodeByte(s)
			if c != n.r && !(p.fold && unicode.ToLower(c) == unicode.ToLower(n.r)) {
				return false
			}
			s = s[w:]
		case pAny:
			if s == "" {
				return false
			}
			c, w := decodeByte(s)
			if p.path && c == '/' {
				return false
			}
			s = s[w:]
		case pClass:
			if s == "" {
				return false
			}
			c, w := decodeByte(s)
			if p.path && c == '/' || !n.class.has(c, p.fold) {
				return false
			}
			s = s[w:]
		case pStar:
			rest := nodes[1:]
			if len(rest) == 0 {
				return !p.path || !strings.Contains(s, "/")
			}
			if rest[0].kind == pLit && !p.fold {
				// Jump to each place the next literal character occurs.
				lit := string(rest[0].r)
				if rest[0].r > 0xfffffff {
					lit = string([]byte{byte(rest[0].r)})
				}
				for i := 0; i <= len(s); {
					j := strings.Index(s[i:], lit)
					if j < 0 {
						return false
					}
					if p.path && strings.Contains(s[:i+j], "/") {
						return false
					}
					if p.matchNodes(rest, s[i+j:], depth) {
						return true
					}
					i += j + 1
				}
				return false
			}
			for i := 0; i <= len(s); {
				if p.matchNodes(rest, s[i:], depth) {
					return true
				}
				if i == len(s) {
					break
				}
				if p.path && s[i] == '/' {
					return false
				}
				_, w := decodeByte(s[i:])
				i += w
			}
			return false
		case pGroup:
			return p.matchGroup(n, nodes[1:], s, depth+1)
		}
		nodes = nodes[1:]
	}
	return s == ""
}

// decodeByte decodes one character; a byte that is not UTF-8 is its own
// character (marked as in parseNodes).
func decodeByte(s string) (rune, int) {
	c := rune(s[0])
	if c < utf8.RuneSelf {
		return c, 1
	}
	c, w := utf8.DecodeRuneInString(s)
	if c == utf8.RuneError && w == 1 {
		return rune(s[0]) | 0x10000000, 1
	}
	return c, w
}

func (p *pattern) matchAlts(g *pnode, s string, depth int) bool {
	for _, alt := range g.alts {
		if p.matchNodes(alt, s, depth) {
			return true
		}
	}
	return false
}

// matchGroup matches an extended glob followed by rest.
func (p *pattern) matchGroup(g *pnode, rest []pnode, s string, depth int) bool {
	if depth > 64 {
		return false
	}
	switch g.op {
	case '@', '?':
		if g.op == '?' && p.matchNodes(rest, s, depth) {
			return true
		}
		for i := 0; i <= len(s); i++ {
			if p.matchAlts(g, s[:i], depth) && p.matchNodes(rest, s[i:], depth) {
				return true
			}
		}
		return false
	case '*', '+':
		if g.op == '*' && p.matchNodes(rest, s, depth) {
			return true
		}
		for i := 1; i <= len(s); i++ {
			if !p.matchAlts(g, s[:i], depth) {
				continue
			}
			if p.matchNodes(rest, s[i:], depth) {
				return true
			}
			star := *g
			star.op = '*'
			if p.matchGroup(&star, rest, s[i:], depth+1) {
				return true
			}
		}
		return false
	case '!':
		for i := 0; i <= len(s); i++ {
			if !p.matchAlts(g, s[:i], depth) && p.matchNodes(rest, s[i:], depth) {
				return true
			}
		}
		return false
	}
	return false
}

// hasGlob reports whether a pattern has an unescaped special character,
// so that pathname expansion has something to do.
func hasGlob(pat string, ext bool) bool {
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		case '[':
			if strings.IndexByte(pat[i+1:], ']') < 0 {
				continue // no ] to close it: a plain [
			}
			if _, _, ok := parseClass(pat, i); ok {
				return true
			}
		case '+', '@', '!':
			if ext && i+1 < len(pat) && pat[i+1] == '(' {
				return true
			}
		}
	}
	return false
}

// unescapePattern removes the backslashes of a pattern with no match.
func unescapePattern(pat string) string {
	if !strings.Contains(pat, `\`) {
		return pat
	}
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		if pat[i] == '\\' && i+1 < len(pat) {
			i++
		}
		b.WriteByte(pat[i])
	}
	return b.String()
}
