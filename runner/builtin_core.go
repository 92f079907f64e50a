package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/lookup"
)

// The builtins that steer the shell itself: exit, break, continue, shift,
// eval, ., exec, command, builtin, type, hash, times, let.

func init() {
	register("exit", exitBuiltin, true)
	register("return", returnBuiltin, true)
	register("break", breakBuiltin, true)
	register("continue", continueBuiltin, true)
	register("shift", shiftBuiltin, true)
	register("eval", evalBuiltin, true)
	register(".", sourceBuiltin, true)
	register("source", sourceBuiltin, false)
	register("exec", func(*Runner, []string) int { return 0 }, true)
	register("command", commandBuiltin, false)
	register("builtin", builtinBuiltin, false)
	register("type", typeBuiltin, false)
	register("hash", hashBuiltin, false)
	register("times", timesBuiltin, true)
	register("let", letBuiltin, false)
}

// exitBuiltin ends the script, or the subshell it runs in, with status n
// (the last status when n is missing).
func exitBuiltin(r *Runner, args []string) int {
	st := r.status
	if r.inTrap && len(args) == 1 {
		st = r.status
	}
	switch len(args) {
	case 1:
	case 2:
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			r.errorf("exit: %s: numeric argument required", args[1])
			r.exit(2)
			return 2
		}
		st = int(uint8(n))
	default:
		r.errorf("exit: too many arguments")
		r.exit(2)
		return 2
	}
	r.exit(st)
	return st
}

// loopCount reads the N of break N and continue N.
func loopCount(r *Runner, args []string) (int, bool) {
	if len(args) < 2 {
		return 1, true
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		r.errorf("%s: %s: numeric argument required", args[0], args[1])
		r.exit(1)
		return 0, false
	}
	if n < 1 {
		r.errorf("%s: %s: loop count out of range", args[0], args[1])
		return 0, false
	}
	return n, true
}

func breakBuiltin(r *Runner, args []string) int {
	n, ok := loopCount(r, args)
	if !ok {
		return 1
	}
	if r.loopDepth == 0 {
		return 0
	}
	r.breakN = min(n, r.loopDepth)
	return 0
}

func continueBuiltin(r *Runner, args []string) int {
	n, ok := loopCount(r, args)
	if !ok {
		return 1
	}
	if r.loopDepth == 0 {
		return 0
	}
	if n > r.loopDepth {
		// continue N past the outermost loop continues the outermost.
		n = r.loopDepth
	}
	r.contN = n
	return 0
}

func shiftBuiltin(r *Runner, args []string) int {
	n := 1
	if len(args) > 2 {
		r.errorf("shift: too many arguments")
		return -2
	}
	if len(args) == 2 {
		v, err := strconv.Atoi(args[1])
		if err != nil || v < 0 {
			r.errorf("shift: %s: numeric argument required", args[1])
			return -2
		}
		n = v
	}
	if n > len(r.args) {
		// An error of a special builtin, which ends a non-interactive
		// shell (with 1, as mksh, and dash when it is redirected), with a
		// message saying why, as dash gives (bash, which runs on, says it
		// only under shift_verbose).
		if r.opts[optShiftVerbose] || !r.interactive {
			r.errorf("shift: shift count out of range")
		}
		return -1
	}
	r.args = r.args[n:]
	r.getoptsRestart = true // as set does
	return 0
}

// evalBuiltin runs its arguments, joined by spaces, as shell source.
func evalBuiltin(r *Runner, args []string) int {
	src := strings.Join(args[1:], " ")
	if strings.TrimSpace(src) == "" {
		return 0
	}
	return r.runSource("eval", src, false)
}

// runSource parses and runs src in the current shell (eval, ., trap
// actions). A syntax error is reported and fails with status 2; a
// non-interactive shell ends on one in . (POSIX 2.8.1).
func (r *Runner) runSource(name, src string, isFile bool) int {
	if r.depth >= maxDepth {
		r.errorf("%s: maximum nesting level exceeded", name)
		return 1
	}
	f, err := r.parseSource(name, src)
	if err != nil {
		if !r.static {
			fmt.Fprintf(r.stderr(), "tubo: %v\n", err)
		}
		if isFile && !r.interactive {
			r.exit(2)
		}
		return 2
	}
	r.depth++
	oldLine := r.lineno
	r.status = 0
	r.runFile(f, src)
	r.depth--
	if name == "eval" {
		r.lineno = oldLine
	}
	return r.status
}

// sourceBuiltin is `. FILE [ARG…]`: FILE (looked up on PATH when it has
// no slash) is run in the current shell; arguments become the positional
// parameters while it runs.
func sourceBuiltin(r *Runner, args []string) int {
	if len(args) > 1 && args[1] == "--" {
		args = append([]string{args[0]}, args[2:]...)
	}
	if len(args) < 2 {
		r.errorf("%s: filename argument required", args[0])
		return -2
	}
	name := args[1]
	path := name
	if !strings.Contains(name, "/") {
		if p := r.findSourceFile(name); p != "" {
			path = p
		}
	}
	b, err := os.ReadFile(r.abs(path))
	if err != nil {
		r.errorf("%s: %s", name, errText(err))
		if !r.interactive && args[0] == "." && os.IsNotExist(err) {
			return -1
		}
		return 1
	}
	oldArgs := r.args
	if len(args) > 2 {
		r.args = append([]string(nil), args[2:]...)
	}
	oldName := r.name
	r.name = name
	r.sourceDepth++
	r.sources = append(r.sources, name)
	st := r.runSource(name, string(b), true)
	r.sources = r.sources[:len(r.sources)-1]
	r.sourceDepth--
	r.name = oldName
	if len(args) > 2 {
		r.args = oldArgs
	}
	if r.returning && r.funcDepth == 0 || r.returning && r.sourceDepth < r.funcDepth {
		r.returning = false
		st = r.returnStatus
	}
	if r.returning {
		r.returning = false
		st = r.returnStatus
	}
	return st
}

// findSourceFile looks a name up on PATH (readable files), then in the
// current directory, as bash's . does.
func (r *Runner) findSourceFile(name string) string {
	path, _ := r.vars.get("PATH")
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(r.abs(p)); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// execBuiltin is exec: with a command, it replaces the shell (in a child
// stage or a virtual subshell it runs the command and ends the subshell);
// with only redirections, they change the shell's own descriptors for
// good.
func (r *Runner) execBuiltin(s *syntax.Stmt, argv []string, redirs []graph.Redir, assigns []*syntax.Assign) int {
	args := argv[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		switch args[0] {
		case "-c", "-l":
			args = args[1:]
			continue
		case "-a":
			if len(args) > 1 {
				args = args[2:]
				continue
			}
		}
		break
	}
	if len(args) == 0 {
		if len(redirs) == 0 {
			return 0
		}
		t, owned, _, err := r.openRedirs(r.fds, redirs)
		if err != nil {
			r.errorf("%v", err)
			if !r.interactive {
				r.exit(1)
			}
			return 1
		}
		r.keepFiles(owned)
		r.fds = t
		return 0
	}
	// Replace the shell: the command runs with the redirections, and the
	// shell ends with its status.
	path := args[0]
	if !strings.Contains(path, "/") {
		p, err := lookup.Program(path, r.vars.getOr("PATH", ""), r.dir)
		if err != nil {
			r.errorf("%s: not found", path)
			r.exit(127)
			return 127
		}
		path = p
	}
	var env []string
	if len(assigns) > 0 {
		pop, st, ok := r.tempAssigns(assigns)
		if !ok {
			return st
		}
		defer pop()
	}
	env = r.vars.environ()
	if !r.virtual && !r.interactive && len(r.jobs.list) == 0 && r.canExecInPlace(redirs) {
		if err := r.execInPlace(path, args, env, redirs); err != nil {
			r.errorf("%s: %s", args[0], errText(err))
			st := 126
			if os.IsNotExist(err) {
				st = 127
			}
			r.exit(st)
			return st
		}
	}
	st := r.runStages([]stage{{stmt: &syntax.Stmt{Redirs: s.Redirs, Position: s.Position}, argv: args, expanded: true, program: true}})
	r.exit(st)
	return st
}

// canExecInPlace reports whether the shell can exec the program in its
// own process: its descriptors are exactly what the program should get.
func (r *Runner) canExecInPlace(redirs []graph.Redir) bool {
	return false
}

// execInPlace replaces tubo with the program (execve).
func (r *Runner) execInPlace(path string, args, env []string, redirs []graph.Redir) error {
	return syscall.Exec(path, args, env)
}

// keepFiles remembers files that exec opened for the shell's own
// descriptors, so that they stay open.
func (r *Runner) keepFiles(fs []*os.File) {
	r.shellFiles = append(r.shellFiles, fs...)
}

// commandBuiltin is command [-pvV] NAME [ARG…]: run NAME skipping
// functions, or say what it is.
func commandBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	verbose, short, std := false, false, false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'v':
			short = true
		case 'V':
			verbose = true
		case 'p':
			std = true
		default:
			return r.usage("command", "-%c: invalid option", c)
		}
	}
	rest := p.rest()
	if len(rest) == 0 {
		return 0
	}
	if std {
		// command -p: the standard PATH, for this command only.
		sc := r.vars.push(false, true)
		sc.vars["PATH"] = &Var{str: defaultPath, set: true, attrs: aExport}
		r.vars.gen++
		defer r.vars.pop()
	}
	if short || verbose {
		st := 0
		for _, name := range rest {
			if !r.describe(name, verbose, false, false, false) {
				st = 1
			}
		}
		return st
	}
	return r.runCommand(rest, true)
}

// defaultPath is the PATH of command -p, and the shell's PATH when it
// starts without one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runCommand runs argv as a command found without functions (command)
// or as a builtin only (builtin).
func (r *Runner) runCommand(argv []string, noFunc bool) int {
	s := &syntax.Stmt{}
	if b, ok := builtins[argv[0]]; ok {
		// command and builtin take away a special builtin's specialness.
		b.special = false
		if argv[0] == "exec" {
			return r.execBuiltin(s, argv, nil, nil)
		}
		return r.runBuiltin(s, b, argv, nil)
	}
	return r.external(s, argv, nil)
}

func builtinBuiltin(r *Runner, args []string) int {
	if len(args) < 2 {
		return 0
	}
	if _, ok := builtins[args[1]]; !ok {
		r.errorf("builtin: %s: not a shell builtin", args[1])
		return 1
	}
	return r.runCommand(args[1:], true)
}

// describe prints what a name is, for command -v/-V and type.
func (r *Runner) describe(name string, verbose, typeT, all, body bool) bool {
	w := r.stdout()
	found := false
	if a, ok := r.aliases[name]; ok {
		found = true
		switch {
		case typeT:
			fmt.Fprintln(w, "alias")
		case verbose:
			fmt.Fprintf(w, "%s is aliased to `%s'\n", name, a)
		default:
			fmt.Fprintf(w, "alias %s=%s\n", name, singleQuote(a))
		}
		if !all {
			return true
		}
	}
	if isKeyword(name) {
		found = true
		switch {
		case typeT:
			fmt.Fprintln(w, "keyword")
		case verbose:
			fmt.Fprintf(w, "%s is a shell keyword\n", name)
		default:
			fmt.Fprintln(w, name)
		}
		if !all {
			return true
		}
	}
	if fn, ok := r.funcs[name]; ok {
		found = true
		switch {
		case typeT:
			fmt.Fprintln(w, "function")
		case verbose && body:
			fmt.Fprintf(w, "%s is a function\n%s\n", name, r.funcSource(fn))
		case verbose:
			fmt.Fprintf(w, "%s is a function\n", name)
		default:
			fmt.Fprintln(w, name)
		}
		if !all {
			return true
		}
	}
	if _, ok := builtins[name]; ok {
		found = true
		switch {
		case typeT:
			fmt.Fprintln(w, "builtin")
		case verbose:
			if builtins[name].special {
				fmt.Fprintf(w, "%s is a special shell builtin\n", name)
			} else {
				fmt.Fprintf(w, "%s is a shell builtin\n", name)
			}
		default:
			fmt.Fprintln(w, name)
		}
		if !all {
			return true
		}
	}
	paths := r.lookPathAll(name, all)
	for _, p := range paths {
		found = true
		switch {
		case typeT:
			fmt.Fprintln(w, "file")
		case verbose:
			if h, ok := r.hashed[name]; ok && h == p && !all {
				fmt.Fprintf(w, "%s is hashed (%s)\n", name, p)
			} else {
				fmt.Fprintf(w, "%s is %s\n", name, p)
			}
		default:
			fmt.Fprintln(w, p)
		}
		if !all {
			return true
		}
	}
	if !found && verbose {
		r.errorf("%s: not found", name)
	}
	return found
}

// funcSource prints a function as type shows it.
func (r *Runner) funcSource(fn *funcDef) string {
	if fn.body == nil {
		return fn.src
	}
	return fn.source()
}

// lookPath finds a program on PATH ("" when there is none).
func (r *Runner) lookPath(name string) string {
	ps := r.lookPathAll(name, false)
	if len(ps) == 0 {
		return ""
	}
	return ps[0]
}

func (r *Runner) lookPathAll(name string, all bool) []string {
	if strings.Contains(name, "/") {
		st, err := os.Stat(r.abs(name))
		if err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return []string{name}
		}
		return nil
	}
	if name == "" {
		return nil
	}
	var out []string
	path, _ := r.vars.get("PATH")
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		// Shown as sh shows it, the PATH entry and the name: _tmp/date
		// for PATH=_tmp, ./date for . (looked for from the shell's
		// directory).
		p := dir + "/" + name
		if strings.HasSuffix(dir, "/") {
			p = dir + name
		}
		st, err := os.Stat(r.abs(p))
		if err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			out = append(out, p)
			if !all {
				return out
			}
		}
	}
	return out
}

// typeBuiltin is type [-afptP] NAME…: what each name is.
func typeBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	t, all, path, force := false, false, false, false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 't':
			t = true
		case 'a':
			all = true
		case 'p':
			path = true
		case 'P':
			path, force = true, true
		case 'f':
		default:
			return r.usage("type", "-%c: invalid option", c)
		}
	}
	st := 0
	for _, name := range p.rest() {
		if path {
			kind := r.lookupKind(name)
			if kind != "file" && kind != "" && !force {
				continue
			}
			ps := r.lookPathAll(name, all)
			if len(ps) == 0 {
				st = 1
				continue
			}
			for _, x := range ps {
				fmt.Fprintln(r.stdout(), x)
			}
			continue
		}
		if !r.describe(name, !t, t, all, true) {
			if t {
				st = 1
				continue
			}
			st = 1
		}
	}
	return st
}

// hashBuiltin is hash [-r] [NAME…]: remember where programs are.
func hashBuiltin(r *Runner, args []string) int {
	if r.hashed == nil {
		r.hashed = map[string]string{}
	}
	if len(args) > 1 && args[1] == "-r" {
		r.hashed = map[string]string{}
		return 0
	}
	if len(args) == 1 {
		if len(r.hashed) == 0 {
			fmt.Fprintln(r.stdout(), "hash: hash table empty")
			return 0
		}
		fmt.Fprintln(r.stdout(), "hits\tcommand")
		for _, k := range sortedKeys(r.hashed) {
			p := r.hashed[k]
			if p == "" {
				if p = r.lookPath(k); p == "" {
					continue
				}
				r.hashed[k] = p
			}
			fmt.Fprintf(r.stdout(), "   1\t%s\n", p)
		}
		return 0
	}
	st := 0
	for _, name := range args[1:] {
		if _, ok := builtins[name]; ok {
			continue
		}
		p := r.lookPath(name)
		if p == "" {
			r.errorf("hash: %s: not found", name)
			st = 1
			continue
		}
		r.hashed[name] = p
	}
	return st
}

// timesBuiltin prints the user and system times of the shell and of its
// children.
func timesBuiltin(r *Runner, args []string) int {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	f := func(t syscall.Timeval) string {
		d := tv(t)
		m := int(d / time.Minute)
		s := (d - time.Duration(m)*time.Minute).Seconds()
		return fmt.Sprintf("%dm%.3fs", m, s)
	}
	fmt.Fprintf(r.stdout(), "%s %s\n%s %s\n", f(self.Utime), f(self.Stime), f(kids.Utime), f(kids.Stime))
	return 0
}

// letBuiltin is let EXPR…, when it is not parsed as a let clause.
func letBuiltin(r *Runner, args []string) int {
	if len(args) < 2 {
		r.errorf("let: expression expected")
		return 1
	}
	var v int64
	for _, a := range args[1:] {
		var err error
		v, err = r.evalArithString(a, 0)
		if err != nil {
			r.errorf("let: %v", err)
			return 1
		}
	}
	if v == 0 {
		return 1
	}
	return 0
}
