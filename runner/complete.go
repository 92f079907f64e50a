package runner

import "sort"

// What the interactive prompt's completion asks of the shell (cli's line
// editor). Small on purpose: the shell's state stays the runner's.

// Names lists the variables (without $) and functions the shell knows,
// sorted, for the prompt's completion. This runner has no functions yet.
func (r *Runner) Names() (vars, funcs []string) {
	for name, v := range r.vars {
		if v.set {
			vars = append(vars, name)
		}
	}
	sort.Strings(vars)
	return vars, nil
}

// Dir is the shell's current directory, which cd changes.
func (r *Runner) Dir() string { return r.dir }

// Var is the value of a shell variable, and whether it is set.
func (r *Runner) Var(name string) (string, bool) { return r.vars.get(name) }

// BuiltinNames lists the commands the shell runs itself, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
