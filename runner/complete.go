package runner

import "sort"

// What the interactive prompt's completion asks of the shell (cli's line
// editor). Small on purpose: the shell's state stays the runner's.

// Names lists the variables (without $) and functions the shell knows,
// sorted, for the prompt's completion.
func (r *Runner) Names() (vars, funcs []string) {
	r.vars.visible(func(name string, v *Var) {
		if v.set {
			vars = append(vars, name)
		}
	})
	for name := range r.funcs {
		funcs = append(funcs, name)
	}
	sort.Strings(funcs)
	return vars, funcs
}

// Dir is the shell's current directory, which cd changes.
func (r *Runner) Dir() string { return r.dir }

// Var is the value of a shell variable, and whether it is set.
func (r *Runner) Var(name string) (string, bool) { return r.vars.get(name) }

// Aliases lists the alias names, sorted.
func (r *Runner) Aliases() []string { return sortedKeys(r.aliases) }

// BuiltinNames lists the commands the shell runs itself, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
