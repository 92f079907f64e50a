package lineedit

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Shell is what completion asks of the shell whose lines are edited: its
// variables and functions, its current directory (cd changes it, not
// tubo's), and a variable's value ($PATH, $HOME).
type Shell interface {
	Names() (vars, funcs []string)
	Dir() string
	Var(name string) (string, bool)
}

// keywords start a command like a command name does.
var keywords = []string{"!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "then", "time", "until", "while"}

// afterKeyword: a command word follows these.
var afterKeyword = map[string]bool{"!": true, "do": true, "elif": true, "else": true, "if": true, "then": true, "time": true, "until": true, "while": true}

// completer finds the candidates for the word before the cursor.
type completer struct {
	shell    Shell
	builtins []string
	path     pathCache
}

// kind of word being completed.
type kind int

const (
	fileWord kind = iota
	commandWord
	varWord
)

// wordAt finds the word that ends at the cursor and what it is: a
// variable after "$" (or "${"), a command name where a command starts (at
// the start, after | & ; ( { ` or a keyword like then, after assignments),
// a file name otherwise.
func wordAt(line []rune, cursor int) (word string, k kind) {
	if cursor > len(line) {
		cursor = len(line)
	}
	start := cursor
	for start > 0 {
		ch := line[start-1]
		if ch == ' ' && start >= 2 && line[start-2] == '\\' {
			start -= 2 // an escaped space is part of a file name
			continue
		}
		if strings.ContainsRune(" \t\n|&;()<>`", ch) {
			break
		}
		start--
	}
	word = string(line[start:cursor])
	if i := strings.LastIndexByte(word, '$'); i >= 0 && validPart(strings.TrimPrefix(word[i+1:], "{")) {
		return word, varWord
	}
	if !strings.ContainsRune(word, '/') && commandPosition(string(line[:start])) {
		return word, commandWord
	}
	return word, fileWord
}

// validPart says whether s can begin a variable name.
func validPart(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// commandPosition says whether a word after before is a command name:
// only keywords (then, do, !, …) and assignments (X=1) stand between it
// and the start or the last operator.
func commandPosition(before string) bool {
	i := strings.LastIndexAny(before, "|&;(){`\n")
	if i >= 0 && before[i] == '{' && i+1 < len(before) && before[i+1] != ' ' {
		i = -1 // ${…} or a {a,b} word, not a group
	}
	for _, w := range strings.Fields(before[i+1:]) {
		name, _, assign := strings.Cut(w, "=")
		if !afterKeyword[w] && !(assign && name != "" && validPart(name)) {
			return false
		}
	}
	return true
}

// candidate is one completion: the text that replaces the word (a
// directory's ends in "/", and gets no space after it), and what the
// menu shows.
type candidate struct {
	value, display string
}

// complete lists the candidates for the word before the cursor, sorted,
// each one starting with the word as typed.
func (c *completer) complete(line []rune, cursor int) (word string, out []candidate) {
	word, k := wordAt(line, cursor)
	switch k {
	case varWord:
		i := strings.LastIndexByte(word, '$')
		head, part := word[:i+1], word[i+1:]
		brace := strings.HasPrefix(part, "{")
		if brace {
			head, part = head+"{", part[1:]
		}
		vars, _ := c.shell.Names()
		for _, v := range vars {
			if strings.HasPrefix(v, part) {
				val := head + v
				if brace {
					val += "}"
				}
				out = append(out, candidate{value: val, display: "$" + v})
			}
		}
	case commandWord:
		seen := map[string]bool{}
		add := func(name string) {
			if !seen[name] && strings.HasPrefix(name, word) {
				seen[name] = true
				out = append(out, candidate{value: name, display: name})
			}
		}
		for _, k := range keywords {
			add(k)
		}
		for _, b := range c.builtins {
			add(b)
		}
		_, funcs := c.shell.Names()
		for _, f := range funcs {
			add(f)
		}
		pathVar, _ := c.shell.Var("PATH")
		for _, p := range c.path.commands(pathVar, c.shell.Dir(), word) {
			add(p)
		}
	default:
		out = c.files(word)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].value < out[j].value })
	return word, out
}

// files lists the files whose names complete word: relative to the
// shell's directory, ~/ for $HOME, hidden files only for a word that
// starts with a dot. Characters special to sh are escaped with a
// backslash in the value.
func (c *completer) files(word string) []candidate {
	dirPart, base := "", word
	if i := strings.LastIndexByte(word, '/'); i >= 0 {
		dirPart, base = word[:i+1], word[i+1:]
	}
	dir := unescape(dirPart)
	switch {
	case strings.HasPrefix(dir, "~/"):
		home, _ := c.shell.Var("HOME")
		dir = filepath.Join(home, dir[2:])
	case dir == "":
		dir = "."
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(c.shell.Dir(), dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	want := unescape(base)
	var out []candidate
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, want) || strings.HasPrefix(name, ".") && !strings.HasPrefix(want, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
				isDir = st.IsDir()
			}
		}
		cd := candidate{value: dirPart + escape(name), display: name}
		if isDir {
			cd.value += "/"
			cd.display += "/"
		}
		out = append(out, cd)
	}
	return out
}

// special are the characters a file name cannot hold unquoted in sh.
const special = " \t\n\\'\"`$&|;<>()*?[]#~=%!{}"

func escape(name string) string {
	var b strings.Builder
	for i, r := range name {
		if strings.ContainsRune(special, r) && !(i > 0 && (r == '~' || r == '=' || r == '%' || r == '#')) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pathCache remembers each $PATH directory's programs until the
// directory changes (its modification time).
type pathCache struct {
	mu   sync.Mutex
	dirs map[string]pathDir
}

type pathDir struct {
	mtime time.Time
	names []string
}

// commands lists the programs on pathVar whose names start with prefix.
// A relative entry (or an empty one, meaning ".") is taken from dir.
func (p *pathCache) commands(pathVar, dir, prefix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirs == nil {
		p.dirs = map[string]pathDir{}
	}
	var out []string
	for _, d := range filepath.SplitList(pathVar) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			continue
		}
		pd, ok := p.dirs[d]
		if !ok || !pd.mtime.Equal(st.ModTime()) {
			pd = pathDir{mtime: st.ModTime(), names: programs(d)}
			p.dirs[d] = pd
		}
		for _, n := range pd.names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
	}
	return out
}

// programs lists the executable files of a directory.
func programs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		info, err := e.Info()
		if e.Type()&os.ModeSymlink != 0 {
			info, err = os.Stat(filepath.Join(dir, e.Name()))
		}
		if err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			out = append(out, e.Name())
		}
	}
	return out
}
