package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/runner"
)

// shellArgs is how tubo was asked to run shell code, read from its
// command line as sh reads its own (POSIX sh's synopsis):
//
//	tubo [-abCefhimnuvx] [-o opt]… [+abC…] [+o opt]… [-c LINE [NAME [ARG…]]]
//	tubo [options] [-s] [ARG…]          (commands from stdin)
//	tubo [options] SCRIPT [ARG…]        (as sh SCRIPT ARG…)
//	tubo [options] 'LINE'               (tubo's own: a line to run)
//	tubo [options] -f SCRIPT [ARG…]     (tubo's own, for #! lines)
//
// Long options (--trace, --report, …) are tubo's and are handed to cobra.
type shellArgs struct {
	command     bool     // -c
	file        string   // -f FILE
	stdin       bool     // -s
	interactive bool     // -i
	sets        []setOpt // -e, +x, -o pipefail, …
	shopts      []setOpt // -O NAME, +O NAME
	operands    []string
	long        []string // tubo's long options, for cobra
	help        bool
	version     bool
}

type setOpt struct {
	name string
	on   bool
}

// parseShellArgs reads the arguments of a shell invocation. takesValue
// says which long options take the next argument as their value.
func parseShellArgs(args []string, takesValue func(string) bool) (*shellArgs, error) {
	sa := &shellArgs{}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" {
			i++
			break
		}
		if strings.HasPrefix(a, "--") {
			name, _, hasValue := strings.Cut(a[2:], "=")
			switch name {
			case "help":
				sa.help = true
				continue
			case "version":
				sa.version = true
				continue
			case "command":
				sa.command = true
				continue
			case "file":
				if !hasValue && i+1 < len(args) {
					i++
					sa.file = args[i]
				} else if hasValue {
					sa.file = a[len("--file="):]
				}
				continue
			}
			sa.long = append(sa.long, a)
			if !hasValue && takesValue(name) && i+1 < len(args) {
				i++
				sa.long = append(sa.long, args[i])
			}
			continue
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		on := a[0] == '-'
		if a == "-h" && len(args) == 1 {
			sa.help = true
			continue
		}
		if a == "-f" && !sa.command && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			// tubo -f FILE: run FILE (the #! line form). In a cluster or
			// before -c, -f is sh's noglob.
			sa.file = args[i+1]
			i += 2
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch c {
			case 'c':
				sa.command = on
			case 's':
				sa.stdin = on
			case 'i':
				sa.interactive = on
			case 'l':
			case 'o', 'O':
				if i+1 >= len(args) {
					if c == 'o' {
						// set -o with no name lists the options.
						sa.sets = append(sa.sets, setOpt{"", on})
						continue
					}
					return nil, usagef("%c%c: option requires an argument", a[0], c)
				}
				i++
				if c == 'o' {
					sa.sets = append(sa.sets, setOpt{args[i], on})
				} else {
					sa.shopts = append(sa.shopts, setOpt{args[i], on})
				}
			default:
				sa.sets = append(sa.sets, setOpt{string(c), on})
			}
		}
	}
	sa.operands = args[i:]
	return sa, nil
}

// shellInvocation reports whether args are a shell's command line (sh's
// options, a line, a script) rather than a subcommand, help or cobra's
// completion; tubo's own long options may come first.
func shellInvocation(root *cobra.Command, args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return true
		}
		if strings.HasPrefix(a, "--") {
			name, _, hasValue := strings.Cut(a[2:], "=")
			if name == "help" || name == "version" {
				return false
			}
			if f := longFlag(root, name); f != nil && !hasValue && f.NoOptDefVal == "" && f.Value.Type() != "bool" {
				i++
			}
			continue
		}
		switch a {
		case "__complete", "__completeNoDesc", "help", "completion":
			return false
		}
		return !isSubcommand(a)
	}
	return false
}

// runShell runs shell code: a -c line, a script file, commands from stdin
// (a line at a time, as sh reads them), or, on a terminal with nothing
// else to run, an interactive session.
func (a *app) runShell(cmd *cobra.Command, args []string) error {
	sa, err := parseShellArgs(args, func(name string) bool {
		f := longFlag(cmd, name)
		return f != nil && f.NoOptDefVal == "" && f.Value.Type() != "bool"
	})
	if err != nil {
		return err
	}
	if len(sa.long) > 0 {
		// ParseFlags, not Flags().Parse: it merges the persistent flags
		// (--trace, --grace, …) into the set first.
		if err := cmd.ParseFlags(sa.long); err != nil {
			return usageError{err}
		}
		if rest := cmd.Flags().Args(); len(rest) > 0 {
			return usagef("unexpected argument %q among the options", rest[0])
		}
	}
	if sa.help {
		a.addSubcommands(cmd, nil) // the help lists them
		return cmd.Help()
	}
	if cmd.Context() == nil {
		cmd.SetContext(context.Background())
	}
	if sa.version {
		fmt.Fprintf(a.stdout, "tubo version %s\n", Version)
		return nil
	}
	cfg, err := a.runnerConfig()
	if err != nil {
		return err
	}
	defer a.obs.close()
	ops := sa.operands
	fromTerminal := !sa.command && sa.file == "" && len(ops) == 0 && term.IsTerminal(int(a.stdin.Fd()))
	if fromTerminal || sa.interactive && !sa.command && sa.file == "" && len(ops) == 0 {
		for _, o := range sa.sets {
			switch o.name {
			case "e", "errexit":
				cfg.Errexit = o.on
			case "pipefail":
				cfg.Pipefail = o.on
			}
		}
		cfg.Interactive = true
		return a.interactive(cfg)
	}
	cfg.CatchSignals = true
	cfg.Interactive = sa.interactive
	var src string
	line := false
	switch {
	case sa.command:
		if len(ops) == 0 {
			return usagef("-c: option requires an argument")
		}
		src = ops[0]
		cfg.Command = true
		if len(ops) > 1 {
			cfg.Arg0, cfg.Args = ops[1], ops[2:]
		}
	case sa.file != "":
		b, err := os.ReadFile(sa.file)
		if err != nil {
			return &executor.ExitError{Status: executor.StatusNotFound, Err: fmt.Errorf("%s: %s", sa.file, errWord(err))}
		}
		src, cfg.Name, cfg.Args = string(b), sa.file, ops
	case sa.stdin || len(ops) == 0:
		cfg.FromStdin = true
		cfg.Args = ops
	default:
		script := ops[0]
		if isYAMLName(script) {
			return usagef("%s is a pipeline file: did you mean `tubo run %s`?", script, script)
		}
		st, statErr := os.Stat(script)
		switch {
		case statErr == nil && st.IsDir():
			return &executor.ExitError{Status: executor.StatusNotExecutable, Err: fmt.Errorf("%s: Is a directory", script)}
		case statErr == nil:
			b, err := os.ReadFile(script)
			if err != nil {
				return &executor.ExitError{Status: executor.StatusNotExecutable, Err: fmt.Errorf("%s: %s", script, errWord(err))}
			}
			src, cfg.Name, cfg.Args = string(b), script, ops[1:]
		case len(ops) == 1 && looksLikeLine(script):
			// tubo 'ls | sort': a line to run, tubo's own form.
			src, line = script, true
		default:
			return &executor.ExitError{Status: executor.StatusNotFound, Err: fmt.Errorf("%s: cannot open: %s", script, errWord(statErr))}
		}
	}
	if !line && !a.obs.watching() {
		// A script's pipelines are observed only when asked (--trace,
		// --report, --progress, --stall-after): the shell's loops stay
		// as cheap as sh's.
		cfg.Trace, cfg.BeforeRun, cfg.AfterRun = nil, nil, nil
	}
	var rec *shellRecord
	if a.record != "" {
		if cfg.FromStdin {
			return usagef("--record: give the commands as a line, -c LINE or a script, which tubo verify can run again")
		}
		rec = a.recordShell(&cfg, src, line || sa.command, ops)
	}
	r := runner.New(cfg)
	if rec != nil {
		rec.dir = r.Dir
	}
	for _, o := range sa.sets {
		if o.name == "" {
			continue
		}
		if !r.SetOption(o.name, o.on) {
			return usagef("%co %s: unknown option", plusMinus(o.on), o.name)
		}
	}
	for _, o := range sa.shopts {
		if !r.SetShopt(o.name, o.on) {
			return usagef("%cO %s: unknown shell option", plusMinus(o.on), o.name)
		}
	}
	ctx := cmd.Context()
	if line {
		// A pipeline line of tubo's own form gets the live picture on
		// SIGQUIT and SIGUSR1; a script keeps those signals to itself.
		defer catchInfo(a.obs.picture)()
	}
	if cfg.BeforeRun != nil {
		// The watchdog ends the run with --on-stall fail through this
		// context; tubo then exits StatusStalled.
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		a.obs.sig = &signals{ctx: c, cancel: cancel}
		ctx = c
	}
	var err2 error
	if cfg.FromStdin {
		err2 = r.RunReader(ctx, a.stdin)
	} else {
		err2 = r.RunScript(ctx, src)
	}
	if a.obs.sig != nil {
		err2 = a.obs.sig.override(err2)
	}
	if rec != nil {
		if err := rec.write(a.record, exitStatus(err2)); err != nil {
			fmt.Fprintf(a.stderr, "tubo: --record: %v\n", err)
			if err2 == nil {
				err2 = &executor.ExitError{Status: executor.StatusFailure}
			}
		}
	}
	return err2
}

func plusMinus(on bool) byte {
	if on {
		return '-'
	}
	return '+'
}

// isYAMLName reports whether a script name is a pipeline file's.
func isYAMLName(s string) bool {
	ext := strings.ToLower(filepath.Ext(s))
	return ext == ".yaml" || ext == ".yml"
}

// looksLikeLine reports whether a lone argument that names no file is a
// line to run (tubo 'ls | sort', tubo ls) rather than a missing script.
func looksLikeLine(s string) bool {
	return !strings.HasSuffix(s, ".sh") && !strings.HasSuffix(s, ".bash")
}

// errWord is an error's errno text, capitalised as sh prints it.
func errWord(err error) string {
	var pe *os.PathError
	if e, ok := err.(*os.PathError); ok {
		pe = e
	}
	if pe != nil {
		err = pe.Err
	}
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
