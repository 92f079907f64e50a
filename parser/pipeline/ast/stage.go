package ast

import "go.yaml.in/yaml/v3"

// Stage is one entry of stages:: a program (run:) or a shell line
// (shell:), how many copies of it run, and where its descriptors go.
// Values keep their placeholders; package pipeline substitutes them per
// replica.
type Stage struct {
	Decl

	// Run is the argv, one Scalar per element; nil for a shell stage.
	Run []*Scalar
	// RunNode is the run: list (nil for a shell stage).
	RunNode *yaml.Node
	// Shell is a line for tubo's shell front end; nil for a run stage.
	Shell *Scalar

	// Replicas is the number of copies; nil means one, not replicated.
	Replicas *Scalar
	// Foreach makes one copy per item of a list or a glob; nil means
	// none. AllowEmpty (nil: false) lets the list be empty.
	Foreach    *Foreach
	AllowEmpty *Bool
	// MaxParallel bounds how many copies run at once; nil means the
	// file's max_parallel (or --jobs).
	MaxParallel *Scalar
	// Inputs and Outputs are the files (or globs) the stage reads and
	// makes, for up-to-date skipping; nil declares none.
	Inputs, Outputs []*Scalar
	// Split divides a range among the replicas; nil means no parts.
	Split *Split
	// Scatter deals chunks of the stage's stdin to its replicas; nil
	// means every replica reads the whole of it.
	Scatter *Scatter

	// On names the hosts the stage (each replica) runs on: a host, a
	// list of them, or all; nil: here, unless the command line gave
	// hosts and the stage is replicated (then all).
	On []*Scalar
	// OnNode is the on: value (nil when absent).
	OnNode *yaml.Node

	Cwd     *Scalar   // nil: tubo's directory
	Env     []*EnvVar // added to the run's environment
	Timeout *Scalar   // nil: no limit
	After   []*After  // stages to wait for, each with its outcome
	// Failure is ok_exit, on_failure and the retry keys.
	Failure Failure

	// Stdin is nil when no stdin: is written. InheritStdin is stdin: "-".
	Stdin          *Port
	InheritStdin   bool
	Stdout, Stderr *Port
	FDs            []*FD

	Description *Scalar
}

var stageKeys = append([]string{
	"run", "shell", "replicas", "foreach", "allow_empty", "max_parallel", "split", "scatter",
	"cwd", "env", "timeout", "after", "stdin", "stdout", "stderr", "fds", "description", "on",
	"inputs", "outputs",
}, failureKeys...)

// UnmarshalYAML reads one stage; s.Name and s.Key must be set. The stage
// is broken when its command, or the shape of its replicas or split,
// cannot be read; other problems (an unknown key, a bad env value) are
// reported and the stage is still built.
func (s *Stage) UnmarshalYAML(n *yaml.Node) error {
	var d decoder
	what := "stage " + s.Name
	f, ok := d.mapping(n, what, stageKeys)
	if !ok && len(f.list) == 0 {
		s.Broken = true
		return d.err()
	}
	s.decodeCommand(&d, f)
	if v := f.get("fds"); v != nil {
		s.FDs = decodeFDs(&d, v, s.Name)
	}
	s.Replicas = d.str(f.get("replicas"), what+": replicas")
	if f.has("replicas") && s.Replicas == nil {
		s.Broken = true
	}
	if v := f.get("split"); v != nil {
		s.Split = &Split{Stage: s.Name}
		if !d.sub(s.Split.UnmarshalYAML(v)) {
			s.Broken = true
		}
	}
	if v := f.get("on"); v != nil {
		s.OnNode = v
		s.On, _ = d.strList(v, what+": on")
	}
	s.Cwd = d.str(f.get("cwd"), what+": cwd")
	if v := f.get("env"); v != nil {
		s.Env = decodeEnv(&d, v, what+": env")
	}
	s.Timeout = d.str(f.get("timeout"), what+": timeout")
	if v := f.get("after"); v != nil {
		s.After = decodeAfter(&d, v, what+": after")
	}
	s.Failure.decode(&d, f, what)
	s.Description = d.str(f.get("description"), what+": description")
	if v := f.get("inputs"); v != nil {
		s.Inputs, _ = d.strList(v, what+": inputs")
	}
	if v := f.get("outputs"); v != nil {
		s.Outputs, _ = d.strList(v, what+": outputs")
	}
	if v := f.get("stdin"); v != nil {
		if v.Kind == yaml.ScalarNode && v.Value == "-" {
			s.InheritStdin = true
		} else {
			s.Stdin = decodePort(&d, f.key("stdin"), v, what+": stdin", false)
		}
	}
	if v := f.get("stdout"); v != nil {
		s.Stdout = decodePort(&d, f.key("stdout"), v, what+": stdout", true)
	}
	if v := f.get("stderr"); v != nil {
		s.Stderr = decodePort(&d, f.key("stderr"), v, what+": stderr", true)
	}
	s.Foreach = decodeForeach(&d, f.get("foreach"), what)
	s.AllowEmpty = d.boolean(f.get("allow_empty"), what+": allow_empty")
	s.MaxParallel = d.str(f.get("max_parallel"), what+": max_parallel")
	switch {
	case s.Foreach != nil && s.Replicas != nil:
		d.add(f.key("foreach"), "%s: give foreach: (one copy per item) or replicas: (N copies), not both", what)
		s.Broken = true
	case s.Foreach != nil && s.Split != nil:
		d.add(f.key("split"), "%s: split: divides a range among replicas:, not among foreach: items", what)
		s.Broken = true
	case s.AllowEmpty != nil && s.Foreach == nil:
		d.add(f.key("allow_empty"), "%s: allow_empty applies only with foreach:", what)
	}
	if s.Foreach != nil && s.Foreach.Broken {
		s.Broken = true
	}
	if v := f.get("scatter"); v != nil {
		s.Scatter = &Scatter{}
		if !d.sub(s.Scatter.decode(v, what+": scatter")) {
			s.Broken = true
		}
	}
	return d.err()
}

// decodeCommand reads run: (a list: the argv) or shell: (a line).
func (s *Stage) decodeCommand(d *decoder, f fields) {
	what := "stage " + s.Name
	run, shell := f.get("run"), f.get("shell")
	switch {
	case run == nil && shell == nil:
		d.add(s.Key, "%s: give run: [program, args…] or shell: \"line\"", what)
		s.Broken = true
		return
	case run != nil && shell != nil:
		d.add(f.key("shell"), "%s: give either run: or shell:, not both", what)
		s.Broken = true
		return
	}
	if shell != nil {
		if s.Shell = d.str(shell, what+": shell"); s.Shell == nil {
			s.Broken = true
		}
		return
	}
	if run.Kind != yaml.SequenceNode {
		d.add(run, "%s: run: want a list like [program, arg, …]; for a command line use shell:", what)
		s.Broken = true
		return
	}
	s.RunNode = run
	s.Run = []*Scalar{}
	for _, el := range run.Content {
		sc := d.str(el, what+": run")
		if sc == nil {
			s.Broken = true
			continue
		}
		s.Run = append(s.Run, sc)
	}
}
