package graph

import (
	"fmt"
	"os"
	"strconv"
)

// RedirKind says what a redirection does to its descriptor.
type RedirKind int

const (
	// Open puts a freshly opened file on FD (`<`, `>`, `>>`, `<>`).
	Open RedirKind = iota
	// Dup makes FD a copy of descriptor Src (`N>&M`, `N<&M`).
	Dup
	// Close closes FD (`N>&-`).
	Close
	// Data feeds FD from a pipe that tubo fills with Data (here-documents
	// and here-strings).
	Data
)

// Redir is one sh-style redirection of a process. Redirections apply in
// order, exactly as a shell applies them in the forked child.
type Redir struct {
	Kind RedirKind
	FD   int
	Pos  Pos

	Path string // Open: the file to open
	Flag int    // Open: os.O_RDONLY, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, …
	Src  int    // Dup: the descriptor to copy
	Data []byte // Data: the bytes the process reads on FD
}

func (r Redir) String() string {
	fd := strconv.Itoa(r.FD)
	switch r.Kind {
	case Open:
		switch {
		case r.Flag&os.O_RDWR != 0:
			return fd + "<>" + r.Path
		case r.Flag&os.O_APPEND != 0:
			return fd + ">>" + r.Path
		case r.Flag&os.O_WRONLY != 0:
			return fd + ">" + r.Path
		}
		return fd + "<" + r.Path
	case Dup:
		return fmt.Sprintf("%s>&%d", fd, r.Src)
	case Close:
		return fd + ">&-"
	case Data:
		return fmt.Sprintf("%s<<(%d bytes)", fd, len(r.Data))
	}
	return "?"
}
