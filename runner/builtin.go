package runner

import (
	"fmt"
	"strings"
)

// A builtin runs inside tubo, in the shell's own process: no fork for
// echo, test, read, arithmetic. It is declared with register (in an init
// function of the file of its family) and is a function of the shell and
// its arguments (args[0] is its name) returning its exit status. It
// reaches:
//
//   - r.stdout(), r.stderr(): writers on the current descriptors 1 and 2
//     (after the command's redirections); r.fds[n] for any descriptor,
//     nil when closed (r.fds[0] is stdin);
//   - r.vars (lookup, get, setString) and r.assign(name, value), which
//     checks readonly and attributes; r.special(name) for $? $# and the
//     like; r.args ($1…); r.opts[opt…] for options;
//   - r.errorf(format, …) to print "tubo: msg" as sh prints errors;
//   - r.runSource(name, src) to run shell source (eval, .), and
//     r.call/r.external to run a command.
//
// A special builtin (POSIX 2.14: break, :, continue, ., eval, exec, exit,
// export, readonly, return, set, shift, times, trap, unset) keeps its
// prefix assignments and is found before functions; returning a negative
// status from one reports a usage error that ends a non-interactive shell.
type builtinFunc func(r *Runner, args []string) int

type builtinDef struct {
	fn      builtinFunc
	special bool
	// static is what `tubo explain` runs for the builtin when it lists a
	// script's pipelines without running them (cd, export, set…: the
	// state later pipelines see); nil does nothing.
	static builtinFunc
}

// Sized for the builtins the package registers (about 45), so that
// registering them at init does not grow the map.
var builtins = make(map[string]builtinDef, 64)

// register declares a builtin.
func register(name string, fn builtinFunc, special bool) {
	builtins[name] = builtinDef{fn: fn, special: special}
}

// registerStatic declares a builtin that also runs for explain.
func registerStatic(name string, fn builtinFunc, special bool) {
	builtins[name] = builtinDef{fn: fn, special: special, static: fn}
}

// IsBuiltin reports whether name is one of tubo's builtins.
func IsBuiltin(name string) bool {
	_, ok := builtins[name]
	return ok
}

// usage prints a builtin's usage error and returns status 2.
func (r *Runner) usage(name, format string, args ...any) int {
	r.errorf("%s: %s", name, fmt.Sprintf(format, args...))
	return 2
}

// optParser reads a builtin's single-letter options: -abc, -x ARG, --.
type optParser struct {
	args []string
	i    int
	j    int
	opt  byte
	plus bool
}

func newOptParser(args []string) *optParser { return &optParser{args: args, i: 1} }

// next returns the next option letter, or 0 when the operands start.
// allowPlus accepts +x too (declare +x).
func (p *optParser) next(allowPlus bool) byte {
	for p.i < len(p.args) {
		a := p.args[p.i]
		if p.j == 0 {
			if a == "--" {
				p.i++
				return 0
			}
			if len(a) < 2 || (a[0] != '-' && !(allowPlus && a[0] == '+')) {
				return 0
			}
			p.plus = a[0] == '+'
			p.j = 1
		}
		if p.j < len(a) {
			c := a[p.j]
			p.j++
			if p.j >= len(a) {
				p.i++
				p.j = 0
			}
			p.opt = c
			return c
		}
		p.i++
		p.j = 0
	}
	return 0
}

// arg is the argument of the option just read (-x ARG or -xARG).
func (p *optParser) arg() (string, bool) {
	if p.j > 0 {
		a := p.args[p.i]
		s := a[p.j:]
		p.i++
		p.j = 0
		return s, true
	}
	if p.i < len(p.args) {
		s := p.args[p.i]
		p.i++
		return s, true
	}
	return "", false
}

func (p *optParser) rest() []string { return p.args[p.i:] }

func trueBuiltin(*Runner, []string) int  { return 0 }
func falseBuiltin(*Runner, []string) int { return 1 }

func init() {
	register(":", trueBuiltin, true)
	register("true", trueBuiltin, false)
	register("false", falseBuiltin, false)
}

// hasPrefixAny reports whether s starts with any of the prefixes.
func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
