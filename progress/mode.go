package progress

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// Mode says when to show live progress.
type Mode int

// The modes of --progress.
const (
	// Auto shows progress when the output is a terminal that can move the
	// cursor (not TERM=dumb).
	Auto Mode = iota
	// Never shows nothing.
	Never
	// Always shows progress even when the output is not a terminal (the
	// cursor movements are written all the same).
	Always
)

func (m Mode) String() string {
	switch m {
	case Never:
		return "never"
	case Always:
		return "always"
	}
	return "auto"
}

// ParseMode parses "never", "auto" or "always".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "never":
		return Never, nil
	case "auto", "":
		return Auto, nil
	case "always":
		return Always, nil
	}
	return Auto, fmt.Errorf("progress: %q is not one of never, auto, always", s)
}

// Set parses a flag value, so that *Mode is a pflag.Value and flag.Value.
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Type names the flag's type in help text.
func (m *Mode) Type() string { return "never|auto|always" }

// enabled says whether progress goes to w in mode m.
func enabled(w *os.File, m Mode) bool {
	switch {
	case w == nil || m == Never:
		return false
	case m == Always:
		return true
	}
	return term.IsTerminal(int(w.Fd())) && os.Getenv("TERM") != "dumb"
}
