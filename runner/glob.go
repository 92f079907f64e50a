package runner

import (
	"os"
	"sort"
	"strings"
)

// globFields does pathname expansion on split fields: a field with an
// unquoted *, ? or […] is replaced by the sorted names it matches, or
// kept as it is when nothing matches (nullglob: dropped; failglob: an
// error).
func (r *Runner) globFields(out []string, fs []field) ([]string, error) {
	ext := r.opts[optExtglob]
	for _, f := range fs {
		if r.opts[optNoglob] || !maybeGlob(f, ext) || r.cfg.Sandbox > 0 {
			// (The sandbox reads no directory.)
			out = append(out, plainField(f))
			continue
		}
		pat := patternField(f)
		if !hasGlob(pat, ext) {
			out = append(out, plainField(f))
			continue
		}
		matches := r.glob(pat)
		if len(matches) == 0 {
			switch {
			case r.opts[optFailglob]:
				return nil, &globError{plainField(f)}
			case r.opts[optNullglob]:
				continue
			}
			out = append(out, plainField(f))
			continue
		}
		out = append(out, matches...)
	}
	return out, nil
}

// globError is failglob's error: a pattern matched nothing.
type globError struct{ pat string }

func (e *globError) Error() string { return "no match: " + e.pat }

// maybeGlob is a quick test for a character pathname expansion acts on.
func maybeGlob(f field, ext bool) bool {
	for _, s := range f {
		if s.k == sQuoted {
			continue
		}
		if strings.ContainsAny(s.s, "*?[") || ext && strings.Contains(s.s, "(") {
			return true
		}
	}
	return false
}

func plainField(f field) string {
	if len(f) == 1 {
		return f[0].s
	}
	var b strings.Builder
	for _, s := range f {
		b.WriteString(s.s)
	}
	return b.String()
}

func patternField(f field) string {
	var b strings.Builder
	for _, s := range f {
		if s.k == sQuoted {
			b.WriteString(quotePattern(s.s))
		} else {
			b.WriteString(s.s)
		}
	}
	return b.String()
}

// glob lists the paths that pattern pat matches, relative to the shell's
// directory, sorted. Names starting with a dot match only a pattern
// component that starts with a dot (dotglob aside); . and .. never match
// a wildcard.
func (r *Runner) glob(pat string) []string {
	parts := splitPatternPath(pat)
	paths := []string{""}
	if strings.HasPrefix(pat, "/") {
		paths = []string{"/"}
		parts = parts[1:]
	}
	ext := r.opts[optExtglob]
	for i, part := range parts {
		last := i == len(parts)-1
		if part == "" {
			if last {
				// A trailing slash: directories only.
				var dirs []string
				for _, p := range paths {
					if st, err := os.Stat(r.abs(p)); err == nil && st.IsDir() {
						dirs = append(dirs, p)
					}
				}
				paths = dirs
				for k := range paths {
					if !strings.HasSuffix(paths[k], "/") {
						paths[k] += "/"
					}
				}
			}
			continue
		}
		if r.opts[optGlobstar] && part == "**" {
			paths = r.globStar(paths, last)
			continue
		}
		if !hasGlob(part, ext) {
			lit := unescapePattern(part)
			for k, p := range paths {
				paths[k] = joinPath(p, lit)
			}
			if last {
				var ok []string
				for _, p := range paths {
					if _, err := os.Lstat(r.abs(p)); err == nil {
						ok = append(ok, p)
					}
				}
				paths = ok
			}
			continue
		}
		m := r.compilePattern(part, patPath)
		dotOK := strings.HasPrefix(part, ".") || strings.HasPrefix(part, `\.`)
		var next []string
		for _, p := range paths {
			dir := p
			if dir == "" {
				dir = "."
			}
			ents, err := os.ReadDir(r.abs(dir))
			if err != nil {
				continue
			}
			names := make([]string, 0, len(ents))
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if dotOK {
				names = append(names, ".", "..")
			}
			for _, name := range names {
				if name[0] == '.' && !dotOK && !r.opts[optDotglob] {
					continue
				}
				if (name == "." || name == "..") && !dotOK {
					continue
				}
				if !m.match(name) {
					continue
				}
				full := joinPath(p, name)
				if !last {
					if st, err := os.Stat(r.abs(full)); err != nil || !st.IsDir() {
						continue
					}
				}
				next = append(next, full)
			}
		}
		paths = next
		if len(paths) == 0 {
			return nil
		}
	}
	sort.Strings(paths)
	return paths
}

// globStar expands ** (globstar): every directory below each path, the
// path itself included; as the last component, every file too.
func (r *Runner) globStar(paths []string, last bool) []string {
	var out []string
	var walk func(p string)
	walk = func(p string) {
		dir := p
		if dir == "" {
			dir = "."
		}
		ents, err := os.ReadDir(r.abs(dir))
		if err != nil {
			return
		}
		for _, e := range ents {
			name := e.Name()
			if name[0] == '.' && !r.opts[optDotglob] {
				continue
			}
			full := joinPath(p, name)
			isDir := e.IsDir()
			if isDir || last {
				out = append(out, full)
			}
			if isDir {
				walk(full)
			}
		}
	}
	for _, p := range paths {
		if !last {
			out = append(out, p)
		}
		walk(p)
	}
	return out
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

// splitPatternPath splits a pattern at its slashes (a slash inside
// brackets is still a separator for pathname expansion).
func splitPatternPath(pat string) []string {
	return strings.Split(pat, "/")
}
