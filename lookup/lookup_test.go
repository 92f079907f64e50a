package lookup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

// TestProgram checks sh's rules: found, 126 (not executable, directory),
// 127 (nothing found), names with a slash, an empty PATH entry.
func TestProgram(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "tool"), 0o755)
	write(t, filepath.Join(dir, "plain"), 0o644)
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	tests := []struct {
		name, path, want string
		err              error // nil, fs.ErrNotExist, or an errno
		msg              string
	}{
		{"tool", dir, filepath.Join(dir, "tool"), nil, ""},
		{"plain", dir, "", syscall.EACCES, "plain: Permission denied"},
		{"adir", dir, "", syscall.EISDIR, "adir: Is a directory"},
		{"absent", dir, "", fs.ErrNotExist, "absent: command not found"},
		{"./tool", "", "./tool", nil, ""},
		{"./absent", "", "", fs.ErrNotExist, "./absent: No such file or directory"},
		{"tool", "/nonexistent-dir:", "tool", nil, ""}, // empty entry: dir itself, kept relative
		{"", dir, "", fs.ErrNotExist, ": command not found"},
	}
	for _, tt := range tests {
		got, err := Program(tt.name, tt.path, dir)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("Program(%q, %q) = %q, %v; want %q", tt.name, tt.path, got, err, tt.want)
			}
			continue
		}
		var le *Error
		if !errors.As(err, &le) || !errors.Is(err, tt.err) {
			t.Errorf("Program(%q) error %v, want %v", tt.name, err, tt.err)
			continue
		}
		if le.Error() != tt.msg {
			t.Errorf("Program(%q) message %q, want %q", tt.name, le.Error(), tt.msg)
		}
		if le.NotFound() != (tt.err == fs.ErrNotExist) {
			t.Errorf("Program(%q) NotFound %v", tt.name, le.NotFound())
		}
	}
}

// TestCacheStaysCorrect has a cache answer for several PATHs, then changes
// what each answer depends on, in every way that matters, and checks that
// the cache sees each change.
func TestCacheStaysCorrect(t *testing.T) {
	t.Parallel()
	type scenario struct {
		name   string
		path   string // PATH's first entry, under early; "" for early itself
		before string // the answer before the change ("" = an error)
		change func(early, late string)
		after  func(early, late string) string
	}
	scenarios := []scenario{
		{name: "appears earlier on PATH",
			before: "late/prog",
			change: func(early, late string) { write(t, filepath.Join(early, "prog"), 0o755) },
			after:  func(early, late string) string { return filepath.Join(early, "prog") }},
		{name: "made non-executable",
			before: "late/prog",
			change: func(early, late string) { os.Chmod(filepath.Join(late, "prog"), 0o644) },
			after:  func(early, late string) string { return "" }},
		{name: "removed",
			before: "late/prog",
			change: func(early, late string) { os.Remove(filepath.Join(late, "prog")) },
			after:  func(early, late string) string { return "" }},
		{name: "appears where nothing was",
			before: "",
			change: func(early, late string) { write(t, filepath.Join(late, "prog"), 0o755) },
			after:  func(early, late string) string { return filepath.Join(late, "prog") }},
		{name: "a missing PATH directory appears, with the program",
			path:   "missing",
			before: "late/prog",
			change: func(early, late string) {
				os.Mkdir(filepath.Join(early, "missing"), 0o755)
				write(t, filepath.Join(early, "missing", "prog"), 0o755)
			},
			after: func(early, late string) string { return filepath.Join(early, "missing", "prog") }},
	}
	var c Cache
	root := t.TempDir()
	dirs := make([][2]string, len(scenarios))
	for i, sc := range scenarios {
		early, late := filepath.Join(root, fmt.Sprint(i), "early"), filepath.Join(root, fmt.Sprint(i), "late")
		os.MkdirAll(early, 0o755)
		os.MkdirAll(late, 0o755)
		if sc.before != "" {
			write(t, filepath.Join(late, "prog"), 0o755)
		}
		dirs[i] = [2]string{early, late}
	}
	// Answers that depend on paths changed within the racy window are not
	// kept (timestamps are coarse): let the fixtures age past it.
	time.Sleep(racyWindow + 100*time.Millisecond)
	pathOf := func(sc scenario, early, late string) string {
		return filepath.Join(early, sc.path) + ":" + late
	}
	check := func(sc scenario, path, want string) {
		t.Helper()
		got, err := c.Program("prog", path, "")
		if (err != nil) != (want == "") || got != want {
			t.Errorf("%s: got %q, %v; want %q", sc.name, got, err, want)
		}
	}
	for i, sc := range scenarios {
		early, late := dirs[i][0], dirs[i][1]
		want := ""
		if sc.before != "" {
			want = filepath.Join(late, "prog")
		}
		check(sc, pathOf(sc, early, late), want)
	}
	if len(c.m) != len(scenarios) {
		t.Fatalf("%d answers cached, want %d", len(c.m), len(scenarios))
	}
	for i, sc := range scenarios {
		early, late := dirs[i][0], dirs[i][1]
		sc.change(early, late)
		check(sc, pathOf(sc, early, late), sc.after(early, late))
	}
	// Another PATH is another question.
	if got, err := c.Program("prog", dirs[0][1], ""); err != nil || got != filepath.Join(dirs[0][1], "prog") {
		t.Errorf("PATH=%s: got %q, %v", dirs[0][1], got, err)
	}
}
