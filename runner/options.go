package runner

import (
	"fmt"
	"io"
	"strings"
)

// opt is one shell option: `set -o NAME` (and its letter) or `shopt -s
// NAME`.
type opt uint8

// The `set -o` options, in the order `set -o` lists them.
const (
	optAllexport opt = iota
	optBraceexpand
	optEmacs
	optErrexit
	optErrtrace
	optFunctrace
	optHashall
	optHistexpand
	optHistory
	optIgnoreeof
	optInteractiveComments
	optKeyword
	optMonitor
	optNoclobber
	optNoexec
	optNoglob
	optNolog
	optNotify
	optNounset
	optOnecmd
	optPhysical
	optPipefail
	optPosix
	optPrivileged
	optVerbose
	optVi
	optXtrace
	numSetOpts
)

// The shopt options tubo knows (bash's names), after the set options.
const (
	optNullglob opt = numSetOpts + iota
	optFailglob
	optDotglob
	optNocaseglob
	optNocasematch
	optExtglob
	optGlobstar
	optExpandAliases
	optLastpipe
	optInheritErrexit
	optXpgEcho
	optNoDotGlobDots // globskipdots
	optCheckwinsize
	optSourcepath
	optGlobasciiranges
	optExtquote
	optPromptvars
	optCmdhist
	optComplete
	optHuponexit
	optLocalvarInherit
	optLocalvarUnset
	optPatsubReplacement
	optShiftVerbose
	numOpts
)

var optNames = [numOpts]string{
	optAllexport: "allexport", optBraceexpand: "braceexpand", optEmacs: "emacs",
	optErrexit: "errexit", optErrtrace: "errtrace", optFunctrace: "functrace",
	optHashall: "hashall", optHistexpand: "histexpand", optHistory: "history",
	optIgnoreeof: "ignoreeof", optInteractiveComments: "interactive-comments",
	optKeyword: "keyword", optMonitor: "monitor", optNoclobber: "noclobber",
	optNoexec: "noexec", optNoglob: "noglob", optNolog: "nolog",
	optNotify: "notify", optNounset: "nounset", optOnecmd: "onecmd",
	optPhysical: "physical", optPipefail: "pipefail", optPosix: "posix",
	optPrivileged: "privileged", optVerbose: "verbose", optVi: "vi",
	optXtrace: "xtrace",

	optNullglob: "nullglob", optFailglob: "failglob", optDotglob: "dotglob",
	optNocaseglob: "nocaseglob", optNocasematch: "nocasematch",
	optExtglob: "extglob", optGlobstar: "globstar",
	optExpandAliases: "expand_aliases", optLastpipe: "lastpipe",
	optInheritErrexit: "inherit_errexit", optXpgEcho: "xpg_echo",
	optNoDotGlobDots: "globskipdots", optCheckwinsize: "checkwinsize",
	optSourcepath: "sourcepath", optGlobasciiranges: "globasciiranges",
	optExtquote: "extquote", optPromptvars: "promptvars", optCmdhist: "cmdhist",
	optComplete: "progcomp", optHuponexit: "huponexit",
	optLocalvarInherit: "localvar_inherit", optLocalvarUnset: "localvar_unset",
	optPatsubReplacement: "patsub_replacement", optShiftVerbose: "shift_verbose",
}

// optLetters maps the single-letter flags of set and of the command line.
var optLetters = map[byte]opt{
	'a': optAllexport, 'B': optBraceexpand, 'e': optErrexit, 'E': optErrtrace,
	'T': optFunctrace, 'h': optHashall, 'H': optHistexpand, 'k': optKeyword,
	'm': optMonitor, 'C': optNoclobber, 'n': optNoexec, 'f': optNoglob,
	'b': optNotify, 'u': optNounset, 't': optOnecmd, 'P': optPhysical,
	'p': optPrivileged, 'v': optVerbose, 'x': optXtrace,
}

// flagOrder is the order of the letters in $-, as bash prints them.
const flagOrder = "aefhkmnptuvxBCEHPT"

// options holds every option's state. The zero value has them all off;
// newOptions turns on the ones that start on.
type options [numOpts]bool

func newOptions() options {
	var o options
	for _, x := range []opt{optBraceexpand, optHashall, optInteractiveComments,
		optExtglob, optCheckwinsize, optSourcepath, optExtquote,
		optPromptvars, optCmdhist, optComplete, optNoDotGlobDots,
		optPatsubReplacement, optExpandAliases} {
		o[x] = true
	}
	return o
}

func lookupOpt(name string, shopt bool) (opt, bool) {
	lo, hi := opt(0), numSetOpts
	if shopt {
		lo, hi = numSetOpts, numOpts
	}
	for i := lo; i < hi; i++ {
		if optNames[i] == name {
			return i, true
		}
	}
	return 0, false
}

// flags is $-: the letters of the options that are on, then i for an
// interactive shell, s when commands come from stdin and c with -c.
func (r *Runner) flags() string {
	var b strings.Builder
	for i := 0; i < len(flagOrder); i++ {
		if r.opts[optLetters[flagOrder[i]]] {
			b.WriteByte(flagOrder[i])
		}
	}
	if r.interactive {
		b.WriteByte('i')
	}
	if r.cfg.FromStdin {
		b.WriteByte('s')
	}
	if r.cfg.Command {
		b.WriteByte('c')
	}
	return b.String()
}

// listSetOptions prints `set -o` (human) or `set +o` (reusable) output.
func (r *Runner) listSetOptions(w io.Writer, reusable bool) {
	for i := opt(0); i < numSetOpts; i++ {
		switch {
		case reusable && r.opts[i]:
			fmt.Fprintf(w, "set -o %s\n", optNames[i])
		case reusable:
			fmt.Fprintf(w, "set +o %s\n", optNames[i])
		default:
			fmt.Fprintf(w, "%-15s\t%s\n", optNames[i], onOff(r.opts[i]))
		}
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// shellopts is $SHELLOPTS: the set -o options that are on, colon-separated.
func (r *Runner) shellopts() string {
	var on []string
	for i := opt(0); i < numSetOpts; i++ {
		if r.opts[i] {
			on = append(on, optNames[i])
		}
	}
	return strings.Join(on, ":")
}

// setOpt turns an option on or off, with the side effects some have.
func (r *Runner) setOpt(o opt, on bool) {
	r.opts[o] = on
	switch o {
	case optEmacs:
		if on {
			r.opts[optVi] = false
		}
	case optVi:
		if on {
			r.opts[optEmacs] = false
		}
	}
}
