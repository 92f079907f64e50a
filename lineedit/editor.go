// Package lineedit reads the statements of tubo's interactive sessions on
// a terminal: line editing (emacs keys, or vi's with `set editing-mode vi`
// in ~/.inputrc), a history kept across sessions and bounded in size,
// incremental reverse search (^R), completion (Tab) of commands, file
// names and variables, and statements that go on over several lines.
//
// The editing itself is github.com/reeflective/readline: a maintained,
// pure-Go readline with inputrc support, multi-line buffers, history
// sources and a completion engine. What is tubo's own is here: the history
// file, what a word completes to, and when a statement is complete.
package lineedit

import (
	"errors"
	"os"

	"github.com/reeflective/readline"
	"golang.org/x/term"
)

// ErrInterrupt is returned by Read when ^C was typed: the statement so
// far is dropped.
var ErrInterrupt = readline.ErrInterrupt

// Options configure an Editor.
type Options struct {
	// Shell answers completion's questions (variables, functions, the
	// current directory, $PATH).
	Shell Shell
	// Builtins are the commands the shell runs itself.
	Builtins []string
	// Prompt is the prompt to show; more is set on the lines that continue
	// a statement ($PS2). nil shows "$ " and "> ".
	Prompt func(more bool) string
	// Complete says whether src is a whole statement; while it is not,
	// Enter starts a new line of it. nil takes every line as complete.
	Complete func(src string) bool
	// HistoryPath is the history file (HistoryPath finds the usual one);
	// "" keeps the history in memory.
	HistoryPath string
	// HistorySize is how many lines the history keeps; 0 keeps none.
	HistorySize int
}

// Editor reads statements from the terminal on the standard input, and
// draws on the standard output (the library's terminal).
type Editor struct {
	rl   *readline.Shell
	hist *history
}

// New makes an editor and reads the history. An error says the history
// file could not be read; the editor works all the same (with a history
// that starts empty).
func New(opt Options) (*Editor, error) {
	rl := readline.NewShell()
	// Some terminals (and pseudo-terminals driven by programs) never
	// answer the cursor-position query, which would hang the prompt: the
	// line is placed from the prompt's width instead, which is exact when
	// the prompt starts at the left margin.
	rl.Config.Set("cursor-position-probe", false)
	// ^R searches the history incrementally, as in bash.
	rl.Config.Set("history-autosuggest", false)
	// The lines that continue a statement start with the secondary
	// prompt ($PS2), the ones between with the library's column.
	rl.Config.Set("multiline-column", true)
	prompt := opt.Prompt
	if prompt == nil {
		prompt = func(more bool) string {
			if more {
				return "> "
			}
			return "$ "
		}
	}
	rl.Prompt.Primary(func() string { return prompt(false) })
	rl.Prompt.Secondary(func() string { return prompt(true) })
	if opt.Complete != nil {
		rl.AcceptMultiline = func(line []rune) bool { return opt.Complete(string(line)) }
	}
	hist, err := loadHistory(opt.HistoryPath, opt.HistorySize)
	rl.History.Add("history", hist)
	e := &Editor{rl: rl, hist: hist}
	if opt.Shell != nil {
		c := &completer{shell: opt.Shell, builtins: opt.Builtins}
		rl.Completer = func(line []rune, cursor int) readline.Completions {
			return completions(c.complete(line, cursor))
		}
	}
	return e, err
}

// completions turns candidates into the library's. A directory's value
// ends in "/", after which no space is added.
func completions(word string, cands []candidate) readline.Completions {
	raw := make([]readline.Completion, 0, len(cands))
	for _, c := range cands {
		raw = append(raw, readline.Completion{Value: c.value, Display: c.display})
	}
	out := readline.CompleteRaw(raw).NoSpace('/')
	out.PREFIX = word
	return out
}

// Read reads one statement: one line, or several when the first ones do
// not complete it (an open quote, a `for` without `done`, a trailing
// |). It returns io.EOF for ^D on an empty line and ErrInterrupt for ^C.
func (e *Editor) Read() (string, error) {
	line, err := e.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", ErrInterrupt
	}
	return line, err
}

// Usable says whether an editor can run on these files: the editor reads
// the terminal on fd 0 and draws on fd 1, so both must be it.
func Usable(stdin, stdout *os.File) bool {
	return stdin != nil && stdout != nil && stdin.Fd() == 0 && stdout.Fd() == 1 &&
		term.IsTerminal(0) && term.IsTerminal(1) && os.Getenv("TERM") != "dumb"
}
