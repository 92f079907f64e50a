package runner

import "errors"

// The sandbox is the evaluator as the fuzz target runs it
// (parser/shell's FuzzEval): any parseable input runs, with a step bound
// so that no input hangs, and nothing outside the process happens — no
// program or child tubo starts, no file is opened, no signal is sent or
// caught, no process-wide setting (umask, limits, directory) changes —
// and values stay small, so that no input exhausts memory. What it
// refuses fails as a command fails, with a message.

// sandboxMaxValue bounds a variable's value in the sandbox.
const sandboxMaxValue = 4 << 10

// errSandbox is what the sandbox says of a refused action.
var errSandbox = errors.New("not in the sandbox")

// sandboxRefused are the builtins that act on the process or the system.
var sandboxRefused = map[string]bool{
	"kill": true, "exec": true, "source": true, ".": true, "umask": true,
	"ulimit": true, "trap": true, "cd": true, "pushd": true, "popd": true,
	"wait": true, "fg": true, "bg": true, "disown": true, "suspend": true,
	"read": true, "mapfile": true, "readarray": true, "hash": true,
	"enable": true, "history": true, "fc": true, "logout": true, "times": true,
}

// sandboxStep counts one statement; past the bound the shell ends.
func (r *Runner) sandboxStep() bool {
	if r.cfg.Sandbox <= 0 {
		return true
	}
	r.sandboxSteps++
	if r.sandboxSteps > r.cfg.Sandbox {
		if !r.exiting {
			r.exit(2)
		}
		return false
	}
	return true
}

// sandboxWord refuses a word whose expansion is larger than a value may
// be (size counts its bytes and fields), so that no value, array or list
// of arguments can double its way out of memory, whichever builtin then
// stores it.
func (r *Runner) sandboxWord(size int) error {
	if r.cfg.Sandbox > 0 && size > sandboxMaxValue {
		return expandErrorf("%v", errSandbox)
	}
	return nil
}

// sandboxValue refuses a value too large for the sandbox.
func (r *Runner) sandboxValue(v string) error {
	if r.cfg.Sandbox > 0 && len(v) > sandboxMaxValue {
		return errSandbox
	}
	return nil
}
