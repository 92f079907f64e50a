package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/lineedit"
	"github.com/tubo-pipes/tubo/parser/shell"
	"github.com/tubo-pipes/tubo/runner"
)

// interactive reads lines from a terminal and runs each as it is
// complete, keeping the shell's state (variables, directory, options)
// from one line to the next. Each pipeline gets the terminal's foreground
// while it runs, so Ctrl-C reaches its stages and not tubo; at the prompt
// Ctrl-C gives a fresh prompt, as in sh. It ends at EOF (Ctrl-D) or exit.
func (a *app) interactive(cfg runner.Config) error {
	// While a line runs, signals go to it (catchSignals in runLine). At
	// the prompt, tubo itself is the terminal's foreground: SIGINT just
	// redraws the prompt, SIGTERM is ignored (as by an interactive sh)
	// and SIGHUP ends the session.
	var running atomic.Bool
	// With the line editor, ^C at the prompt is a key it reads (the
	// terminal is in raw mode), and a SIGINT from elsewhere is ignored.
	editing := lineedit.Usable(a.stdin, a.stdout)
	hup := make(chan struct{})
	prompt := make(chan os.Signal, 4)
	signal.Notify(prompt, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(prompt)
	go func() {
		for sig := range prompt {
			switch {
			case sig == syscall.SIGHUP:
				close(hup)
				return
			case sig == syscall.SIGINT && !running.Load() && !editing:
				fmt.Fprint(a.stderr, "\n"+ps1)
			}
		}
	}()

	r := runner.New(cfg)
	in := a.lineInput(r)
	var status error
	for {
		select {
		case <-hup:
			return &executor.ExitError{Status: executor.SignalStatus(syscall.SIGHUP)}
		default:
		}
		src, err := in.read()
		if err == lineedit.ErrInterrupt {
			continue // ^C at the prompt: a fresh one
		}
		if err == io.EOF {
			fmt.Fprintln(a.stderr)
			return status
		}
		if err != nil {
			return err
		}
		running.Store(true)
		status = a.runLine(r, src)
		running.Store(false)
		var ee *executor.ExitError
		if errors.As(status, &ee) && ee.Status == executor.SignalStatus(syscall.SIGINT) {
			// The terminal echoed ^C where the output stopped: start the
			// prompt on a line of its own, as sh does.
			fmt.Fprintln(a.stderr)
		}
		if r.Exited() {
			return status
		}
	}
}

const ps1, ps2 = "tubo$ ", "> "

// lineInput is where the session's statements come from: the line editor
// when stdin and stdout are the terminal, or plain lines otherwise (the
// prompt then goes to stderr, as sh's does).
type lineInput interface {
	read() (string, error)
}

type plainInput struct {
	in     *bufio.Reader
	prompt io.Writer
}

func (p plainInput) read() (string, error) { return readStatement(p.in, p.prompt) }

type editorInput struct{ ed *lineedit.Editor }

func (e editorInput) read() (string, error) { return e.ed.Read() }

// lineInput chooses the session's input. A history file that cannot be
// read is said once; the session goes on without what it held.
func (a *app) lineInput(r *runner.Runner) lineInput {
	if !lineedit.Usable(a.stdin, a.stdout) {
		return plainInput{bufio.NewReader(a.stdin), a.stderr}
	}
	ed, err := lineedit.New(lineedit.Options{
		Shell:       r,
		Builtins:    runner.BuiltinNames(),
		Prompt:      func(more bool) string { return map[bool]string{false: ps1, true: ps2}[more] },
		Complete:    func(src string) bool { return !shell.Incomplete(src) },
		HistoryPath: lineedit.HistoryPath(os.Getenv),
		HistorySize: lineedit.HistorySize(os.Getenv),
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "tubo: history: %v\n", err)
	}
	return editorInput{ed}
}

// readStatement reads lines until they make a complete statement.
func readStatement(in *bufio.Reader, prompt io.Writer) (string, error) {
	var src string
	fmt.Fprint(prompt, ps1)
	for {
		line, err := in.ReadString('\n')
		src += line
		if err != nil {
			if src != "" && err == io.EOF {
				return src, nil
			}
			return "", err
		}
		if !shell.Incomplete(src) {
			return src, nil
		}
		fmt.Fprint(prompt, ps2)
	}
}

// runLine runs one statement with its own signal handling and prints its
// error, as sh prints a failed command's message and goes on.
func (a *app) runLine(r *runner.Runner, src string) error {
	sig := catchSignals()
	defer sig.stop()
	if r.TTY() != nil {
		// ^Z of the line's stages: the executor hears of it through
		// SIGCHLD, and the runner makes the line a stopped job.
		sig.jobControl(true)
	}
	r.SetSignals(sig.forward)
	err := sig.override(r.Run(sig.ctx, src))
	var ee *executor.ExitError
	if errors.As(err, &ee) && ee.Err != nil {
		a.printErr(ee.Err)
	}
	return err
}
