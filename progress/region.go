package progress

import (
	"bytes"
	"fmt"
	"strings"
)

// The live area and the stages' own output share one terminal: the stages
// inherit it as their stderr (and often stdout) and write to it whenever
// they like, a partial line or a thousand. Redrawing the area in place,
// relative to the cursor, would write over whatever they printed since
// the last frame. So the area lives where they cannot write:
//
//   - It takes the bottom rows of the screen, and everything above them
//     becomes the scroll region (DECSTBM, as apt's progress bar does). A
//     stage's output scrolls inside the region and never reaches the area.
//   - Reserving k rows first moves the cursor down k rows with IND (which
//     scrolls the content up when it must, and keeps the column) and back
//     up with CUU, so that no line already on the screen ends up under the
//     area.
//   - Each frame saves the cursor (DECSC), writes the area's rows by
//     absolute position, and restores the cursor (DECRC): where a stage
//     left it, mid-line or not, with its colors. A frame is one write(2),
//     and the terminal driver takes each write whole (tty_write holds the
//     terminal's write lock across it), so a frame never lands inside a
//     stage's write, nor one inside a frame.
//   - At the end the region is reset, the area's rows are cleared, and the
//     cursor goes back to the end of the stages' output. The summary goes
//     on a line of its own: writing a row's width of spaces and a carriage
//     return leaves the cursor at the start of the same row when it was at
//     a line start, or of the next one when a stage left a partial line
//     (as zsh does before its prompt); either way nothing is erased.
//
// A terminal too small for the area and two rows of output, or whose size
// cannot be read (--progress=always into a file), gets the plain redraw
// relative to the cursor instead (see Progress.draw).

const (
	saveCursor    = "\x1b7"
	restoreCursor = "\x1b8"
	index         = "\x1bD"   // IND: down one row, scrolling at the bottom margin
	resetRegion   = "\x1b[r"  // DECSTBM with no margins: the whole screen
	eraseLine     = "\x1b[2K" // the whole row
	eraseRight    = "\x1b[K"
)

// minOutputRows is how many rows the stages' output keeps above the area.
const minOutputRows = 2

// region is the state of the area at the bottom of the screen.
type region struct {
	rows, cols int // the terminal's size at the last frame
	k          int // rows reserved for the area
}

// fits says whether a terminal of rows rows has room for an area and the
// stages' output.
func fits(rows int) bool { return rows >= minOutputRows+2 }

// frame writes one frame of the area (lines) into b for a terminal of the
// given size, reserving more rows first if it needs them.
func (r *region) frame(b *bytes.Buffer, lines []string, rows, cols int) {
	if room := rows - minOutputRows; len(lines) > room {
		more := len(lines) - room + 1
		lines = append(lines[:room-1:room-1], fit(fmt.Sprintf("  … %d more", more), cols))
	}
	if rows != r.rows && r.k > 0 {
		// The terminal was resized: the area moves to its new bottom.
		r.k = min(r.k, rows-minOutputRows)
		fmt.Fprintf(b, "%s\x1b[1;%dr%s", saveCursor, rows-r.k, restoreCursor)
	}
	r.rows, r.cols = rows, cols
	if m := len(lines) - r.k; m > 0 {
		r.k += m
		b.WriteString(strings.Repeat(index, m))
		fmt.Fprintf(b, "\x1b[%dA", m)
		// Setting the margins moves the cursor home: save it around.
		fmt.Fprintf(b, "%s\x1b[1;%dr%s", saveCursor, rows-r.k, restoreCursor)
	}
	b.WriteString(saveCursor)
	for i := 0; i < r.k; i++ {
		fmt.Fprintf(b, "\x1b[%d;1H%s", rows-r.k+1+i, eraseLine)
		if i < len(lines) {
			b.WriteString(lines[i])
		}
	}
	b.WriteString(restoreCursor)
}

// end gives the whole screen back: the margins reset and the area's rows
// cleared, the cursor back at the end of the stages' output.
func (r *region) end(b *bytes.Buffer) {
	if r.k == 0 {
		return
	}
	b.WriteString(saveCursor + resetRegion)
	for i := 0; i < r.k; i++ {
		fmt.Fprintf(b, "\x1b[%d;1H%s", r.rows-r.k+1+i, eraseLine)
	}
	b.WriteString(restoreCursor)
	r.k = 0
}

// lineStart moves the cursor to the start of a line of its own without
// erasing anything: the start of the row it is on when that row is empty
// so far, of the next row when a stage left a partial line.
func (r *region) lineStart(b *bytes.Buffer) {
	if r.cols <= 0 {
		b.WriteString("\r\n")
		return
	}
	b.WriteString(strings.Repeat(" ", r.cols) + "\r" + eraseRight)
}
