package lineedit

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultHistorySize is how many lines the history keeps when $HISTSIZE
// does not say.
const DefaultHistorySize = 1000

// maxEntry is the longest line the history file keeps: a pasted megabyte
// is run, not remembered.
const maxEntry = 64 << 10

// HistoryPath is where the history is kept: $HISTFILE, else
// $XDG_STATE_HOME/tubo/history, else ~/.local/state/tubo/history; "" when
// there is no home to put it in.
func HistoryPath(getenv func(string) string) string {
	if p := getenv("HISTFILE"); p != "" {
		return p
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "tubo", "history")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "tubo", "history")
	}
	return ""
}

// HistorySize is $HISTSIZE, or DefaultHistorySize when it is not a
// number ≥ 0.
func HistorySize(getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("HISTSIZE")); err == nil && n >= 0 {
		return n
	}
	return DefaultHistorySize
}

// history is the list of lines entered, kept in a file across sessions
// and bounded to size lines (the oldest go first). It is a readline
// history source.
//
// The file holds one line per entry, as bash's does; a line that holds
// newlines (a multi-line statement) is written with a backslash before
// each of them, as zsh does, and read back whole. An entry whose last line
// would end in a backslash gets a space after it, so that the backslash
// is not taken for a continuation (harmless in sh).
type history struct {
	path  string // "" keeps the history in memory only
	size  int
	lines []string
	// written counts the entries appended to the file since it was last
	// rewritten: past size, the file is rewritten with only the last size.
	written int
}

// loadHistory reads the history file, if any.
func loadHistory(path string, size int) (*history, error) {
	h := &history{path: path, size: size}
	if path == "" {
		return h, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var entry []string
	entries := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, `\`) {
			entry = append(entry, strings.TrimSuffix(line, `\`))
			continue
		}
		entry = append(entry, line)
		h.add(strings.Join(entry, "\n"))
		entries++
		entry = nil
	}
	if len(entry) > 0 {
		h.add(strings.Join(entry, "\n"))
		entries++
	}
	// Lines too long for the scanner end the reading; what was read is
	// kept. A file already past twice the size is rewritten at the first
	// new entry.
	h.written = entries
	return h, nil
}

// add appends an entry in memory, dropping the oldest past size.
func (h *history) add(s string) {
	if s == "" {
		return
	}
	h.lines = append(h.lines, s)
	if over := len(h.lines) - h.size; over > 0 {
		h.lines = append(h.lines[:0:0], h.lines[over:]...)
	}
}

// Write adds a line entered: to the list, and to the end of the file
// (O_APPEND, so that sessions side by side each add theirs). A line the
// same as the one before, or one that starts with a space, is not kept
// (as bash's HISTCONTROL=ignoreboth).
func (h *history) Write(s string) (int, error) {
	s = strings.TrimRight(s, "\n")
	if strings.TrimSpace(s) == "" || strings.HasPrefix(s, " ") || len(s) > maxEntry || h.size == 0 {
		return len(h.lines), nil
	}
	if n := len(h.lines); n > 0 && h.lines[n-1] == s {
		return n, nil
	}
	h.add(s)
	if h.path == "" {
		return len(h.lines), nil
	}
	h.written++
	if h.written > 2*h.size {
		return len(h.lines), h.rewrite()
	}
	return len(h.lines), h.append(s)
}

// encode is an entry as the file holds it.
func encode(s string) string {
	if strings.HasSuffix(s, `\`) {
		s += " "
	}
	return strings.ReplaceAll(s, "\n", "\\\n") + "\n"
}

func (h *history) append(s string) error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(encode(s))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rewrite replaces the file with the entries in memory (the last size),
// through a temporary file and a rename, so that it is never seen half
// written.
func (h *history) rewrite() error {
	var b strings.Builder
	for _, s := range h.lines {
		b.WriteString(encode(s))
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	h.written = len(h.lines)
	return os.Rename(tmp.Name(), h.path)
}

var errNoLine = errors.New("lineedit: no such history line")

// GetLine is entry i, the oldest first.
func (h *history) GetLine(i int) (string, error) {
	if i < 0 || i >= len(h.lines) {
		return "", errNoLine
	}
	return h.lines[i], nil
}

// Len is the number of entries.
func (h *history) Len() int { return len(h.lines) }

// Dump is every entry, the oldest first.
func (h *history) Dump() any { return append([]string(nil), h.lines...) }
