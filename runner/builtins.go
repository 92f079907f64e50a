package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
)

// builtinFunc runs a builtin in tubo itself. args[0] is its name.
type builtinFunc func(r *Runner, args []string) int

// builtins are the commands tubo runs itself (shell.Builtins names them).
var builtins = map[string]builtinFunc{
	"cd":     cd,
	"exit":   exit,
	"export": export,
	"unset":  unset,
	"set":    set,
	"true":   func(*Runner, []string) int { return 0 },
	":":      func(*Runner, []string) int { return 0 },
	"false":  func(*Runner, []string) int { return 1 },
}

// special builtins keep their prefix assignments (`X=1 :` sets X), as
// POSIX says; for the others they last for the command only.
var special = map[string]bool{":": true, "exit": true, "export": true, "unset": true, "set": true}

// builtin runs an expanded builtin command with its redirections made in
// tubo.
func (r *Runner) builtin(c call, redirs []graph.Redir) int {
	name := c.argv[0]
	if !special[name] {
		var names []string
		for _, kv := range c.assigns {
			n, _, _ := strings.Cut(kv, "=")
			names = append(names, n)
		}
		defer r.vars.restore(r.vars.save(names))
	}
	for _, kv := range c.assigns {
		n, v, _ := strings.Cut(kv, "=")
		r.vars.set(n, v)
	}
	if r.static {
		// Pipelines: no file is opened, and every pipeline is shown,
		// even after an exit.
		if name == "exit" {
			return 0
		}
		return builtins[name](r, c.argv)
	}
	restore, err := r.applyRedirs(redirs)
	if err != nil {
		r.errorf("%v", err)
		return 1
	}
	defer restore()
	return builtins[name](r, c.argv)
}

// declare runs `export …` as the bash parser gives it: a declaration
// clause whose arguments are assignments or names.
func (r *Runner) declare(ctx context.Context, s *syntax.Stmt, d *syntax.DeclClause) int {
	r.substStatus = -1
	args := []string{d.Variant.Value}
	for _, a := range d.Args {
		switch {
		case a.Naked && a.Name != nil:
			args = append(args, a.Name.Value)
		case a.Naked:
			f, err := r.fields(ctx, []*syntax.Word{a.Value})
			if err != nil {
				return r.expandFailed(err)
			}
			args = append(args, f...)
		default:
			v, err := r.literal(ctx, a.Value)
			if err != nil {
				return r.expandFailed(err)
			}
			args = append(args, a.Name.Value+"="+v)
		}
	}
	redirs, err := r.redirs(ctx, s.Redirs)
	if err != nil {
		return r.expandFailed(err)
	}
	return r.builtin(call{argv: args}, redirs)
}

// out is where a builtin writes: the current stdout, or nowhere for
// Pipelines.
func (r *Runner) out() io.Writer {
	if r.static {
		return io.Discard
	}
	return fileWriter(r.fds[1])
}

// fileWriter writes to f, or nowhere when f is closed.
func fileWriter(f *os.File) io.Writer {
	if f == nil {
		return io.Discard
	}
	return f
}

// cd changes the runner's directory (never tubo's: processes get it as
// their working directory) and updates PWD and OLDPWD. Paths are logical,
// as in sh: `..` removes the last component of $PWD.
func cd(r *Runner, args []string) int {
	args = args[1:]
	physical := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		switch args[0] {
		case "--":
			args = args[1:]
			goto operands
		case "-L":
			physical = false
		case "-P":
			physical = true
		default:
			r.errorf("cd: %s: invalid option", args[0])
			return 2
		}
		args = args[1:]
	}
operands:
	var target string
	show := false
	switch len(args) {
	case 0:
		home, ok := r.vars.get("HOME")
		if !ok || home == "" {
			r.errorf("cd: HOME not set")
			return 1
		}
		target = home
	case 1:
		target = args[0]
		if target == "-" {
			old, ok := r.vars.get("OLDPWD")
			if !ok {
				r.errorf("cd: OLDPWD not set")
				return 1
			}
			target, show = old, true
		}
	default:
		r.errorf("cd: too many arguments")
		return 1
	}
	dir := filepath.Clean(r.abs(target))
	if physical {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
	}
	if err := checkDir(dir); err != nil {
		r.errorf("cd: %s: %s", target, errText(err))
		return 1
	}
	r.vars.set("OLDPWD", r.dir)
	r.vars.export("OLDPWD")
	r.vars.set("PWD", dir)
	r.dir = dir
	if show {
		fmt.Fprintln(r.out(), dir)
	}
	return 0
}

// checkDir tells whether a process could chdir into dir.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return unix.ENOTDIR
	}
	return unix.Access(dir, unix.X_OK)
}

// exit ends the script, or the subshell it runs in, with status n (the
// last status when n is missing).
func exit(r *Runner, args []string) int {
	st := r.status
	switch len(args) {
	case 1:
	case 2:
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			r.errorf("exit: Illegal number: %s", args[1])
			r.exit(2)
			return 2
		}
		st = n & 0xff
	default:
		r.errorf("exit: too many arguments")
		return 1
	}
	r.exit(st)
	return st
}

// export marks variables for the environment of the processes tubo
// starts; with no names (or -p) it lists them.
func export(r *Runner, args []string) int {
	args = args[1:]
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		w := r.out()
		for _, name := range r.vars.names() {
			v := r.vars[name]
			switch {
			case !v.exported:
			case v.set:
				fmt.Fprintf(w, "export %s=%s\n", name, singleQuote(v.value))
			default:
				fmt.Fprintf(w, "export %s\n", name)
			}
		}
		return 0
	}
	st := 0
	for _, a := range args {
		name, value, hasValue := strings.Cut(a, "=")
		if !validName(name) {
			r.errorf("export: %s: bad variable name", name)
			st = 1
			continue
		}
		if hasValue {
			r.vars.set(name, value)
		}
		r.vars.export(name)
	}
	return st
}

// unset removes variables (-v, the default); -f is accepted and does
// nothing, as tubo has no functions.
func unset(r *Runner, args []string) int {
	args = args[1:]
	funcs := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-v":
			funcs = false
		case "-f":
			funcs = true
		case "--":
		default:
			r.errorf("unset: %s: invalid option", args[0])
			return 2
		}
		args = args[1:]
	}
	st := 0
	for _, name := range args {
		if !validName(name) {
			r.errorf("unset: %s: bad variable name", name)
			st = 1
			continue
		}
		if !funcs {
			delete(r.vars, name)
		}
	}
	return st
}

// options maps `set -o NAME` to the runner's flags.
func (r *Runner) option(name string) *bool {
	switch name {
	case "errexit", "e":
		return &r.errexit
	case "nounset", "u":
		return &r.nounset
	case "pipefail":
		return &r.pipefail
	}
	return nil
}

// set handles -e, -u, -o errexit|nounset|pipefail (and their + forms),
// and the positional parameters (`set -- a b`). With no arguments it
// lists the variables.
func set(r *Runner, args []string) int {
	args = args[1:]
	if len(args) == 0 {
		w := r.out()
		for _, name := range r.vars.names() {
			if v := r.vars[name]; v.set {
				fmt.Fprintf(w, "%s=%s\n", name, singleQuote(v.value))
			}
		}
		return 0
	}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			r.args = append([]string(nil), args[1:]...)
			return 0
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		on := a[0] == '-'
		args = args[1:]
		if a[1:] == "o" {
			if len(args) == 0 {
				r.listOptions(on)
				return 0
			}
			p := r.option(args[0])
			if p == nil {
				r.errorf("set: -o %s: option not supported", args[0])
				return 2
			}
			*p = on
			args = args[1:]
			continue
		}
		for _, c := range a[1:] {
			p := r.option(string(c))
			if p == nil {
				r.errorf("set: %c%c: option not supported", a[0], c)
				return 2
			}
			*p = on
		}
	}
	if len(args) > 0 {
		r.args = append([]string(nil), args...)
	}
	return 0
}

func (r *Runner) listOptions(human bool) {
	w := r.out()
	for _, name := range []string{"errexit", "nounset", "pipefail"} {
		on := *r.option(name)
		switch {
		case human && on:
			fmt.Fprintf(w, "%-16s%s\n", name, "on")
		case human:
			fmt.Fprintf(w, "%-16s%s\n", name, "off")
		case on:
			fmt.Fprintf(w, "set -o %s\n", name)
		default:
			fmt.Fprintf(w, "set +o %s\n", name)
		}
	}
}

// singleQuote quotes a value the way sh's `export -p` and `set` print it.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
