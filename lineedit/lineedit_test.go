package lineedit

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWordAt(t *testing.T) {
	for _, tc := range []struct {
		line string
		word string
		kind kind
	}{
		{"ca", "ca", commandWord},
		{"", "", commandWord},
		{"ls | so", "so", commandWord},
		{"ls|so", "so", commandWord},
		{"true && ec", "ec", commandWord},
		{"a; b", "b", commandWord},
		{"if true; then ec", "ec", commandWord},
		{"! gr", "gr", commandWord},
		{"LC_ALL=C so", "so", commandWord},
		{"(cd /tmp; l", "l", commandWord},
		{"cat fi", "fi", fileWord},
		{"cat ", "", fileWord},
		{"./scr", "./scr", fileWord},
		{"ls dir/su", "dir/su", fileWord},
		{"cat my\\ fi", "my\\ fi", fileWord},
		{"sort <in", "in", fileWord},
		{"echo $HO", "$HO", varWord},
		{"echo ${HO", "${HO", varWord},
		{"echo x$P", "x$P", varWord},
		{"echo $", "$", varWord},
		{"echo $1", "$1", fileWord},
		{"echo ${a}b", "${a}b", fileWord},
	} {
		w, k := wordAt([]rune(tc.line), len([]rune(tc.line)))
		if w != tc.word || k != tc.kind {
			t.Errorf("wordAt(%q) = %q, %d; want %q, %d", tc.line, w, k, tc.word, tc.kind)
		}
	}
}

type fakeShell struct {
	dir  string
	vars map[string]string
}

func (f fakeShell) Names() (vars, funcs []string) {
	for k := range f.vars {
		vars = append(vars, k)
	}
	return vars, []string{"myfunc"}
}
func (f fakeShell) Dir() string                    { return f.dir }
func (f fakeShell) Var(name string) (string, bool) { v, ok := f.vars[name]; return v, ok }

func values(cs []candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.value)
	}
	return out
}

func TestComplete(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, n := range []string{"zzprog", "zzother"} {
		os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"), 0o755)
	}
	os.WriteFile(filepath.Join(bin, "zznotexec"), nil, 0o644)
	work := filepath.Join(dir, "work")
	os.MkdirAll(filepath.Join(work, "sub dir"), 0o755)
	os.WriteFile(filepath.Join(work, "notes.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(work, ".hidden"), nil, 0o644)
	os.WriteFile(filepath.Join(work, "sub dir", "inner"), nil, 0o644)
	c := &completer{shell: fakeShell{dir: work, vars: map[string]string{"PATH": bin, "HOME": dir, "ZZVAR": "1", "ZZONE": "2"}}, builtins: []string{"cd", "zzbuiltin"}}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"zz", []string{"zzbuiltin", "zzother", "zzprog"}},
		{"echo x | zzp", []string{"zzprog"}},
		{"my", []string{"myfunc"}},
		{"cat n", []string{"notes.txt"}},
		{"cat ", []string{"notes.txt", "sub\\ dir/"}},
		{"cat .h", []string{".hidden"}},
		{"cat sub\\ dir/i", []string{"sub\\ dir/inner"}},
		{"ls ~/wo", []string{"~/work/"}},
		{"echo $ZZ", []string{"$ZZONE", "$ZZVAR"}},
		{"echo ${ZZV", []string{"${ZZVAR}"}},
		{"cat nothing", nil},
	} {
		_, got := c.complete([]rune(tc.line), len([]rune(tc.line)))
		if !reflect.DeepEqual(values(got), tc.want) {
			t.Errorf("%q completes to %q, want %q", tc.line, values(got), tc.want)
		}
	}
}

func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "tubo", "history")
	h, err := loadHistory(path, 5)
	if err != nil || h.Len() != 0 {
		t.Fatalf("a missing file: %v, %d lines", err, h.Len())
	}
	for _, l := range []string{"echo one", "echo one", " secret", "", "for i in 1 2\ndo echo $i\ndone", "echo \\\\", "echo two"} {
		if _, err := h.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"echo one", "for i in 1 2\ndo echo $i\ndone", "echo \\\\", "echo two"}
	if got := h.Dump(); !reflect.DeepEqual(got, want) {
		t.Errorf("in memory %q, want %q", got, want)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v, mode %v", err, st.Mode())
	}
	// A new session reads it back: multi-line entries whole, the
	// trailing backslash kept (with the space that protects it).
	h2, err := loadHistory(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	want[2] = "echo \\\\ "
	if got := h2.Dump(); !reflect.DeepEqual(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}

// The history never keeps more than its size, in memory or (after a
// rewrite) in the file.
func TestHistoryBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, _ := loadHistory(path, 3)
	for i := 0; i < 20; i++ {
		h.Write("echo " + strings.Repeat("x", i))
	}
	if h.Len() != 3 {
		t.Errorf("%d lines in memory, want 3", h.Len())
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n > 2*3 {
		t.Errorf("%d lines in the file, want at most 6", n)
	}
	h2, _ := loadHistory(path, 3)
	if got, _ := h2.GetLine(2); got != "echo "+strings.Repeat("x", 19) {
		t.Errorf("the newest line read back is %q", got)
	}
	zero, _ := loadHistory(filepath.Join(t.TempDir(), "h"), 0)
	zero.Write("echo no")
	if zero.Len() != 0 {
		t.Error("HISTSIZE=0 kept a line")
	}
}

func TestHistoryPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HISTFILE": "/h/f", "HOME": "/home/u"}, "/h/f"},
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/home/u"}, "/s/tubo/history"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/tubo/history"},
		{map[string]string{}, ""},
	} {
		if got := HistoryPath(env(tc.env)); got != tc.want {
			t.Errorf("HistoryPath(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
	if HistorySize(env(map[string]string{"HISTSIZE": "50"})) != 50 || HistorySize(env(nil)) != DefaultHistorySize || HistorySize(env(map[string]string{"HISTSIZE": "x"})) != DefaultHistorySize {
		t.Error("HistorySize")
	}
}
