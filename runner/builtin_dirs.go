package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The builtins of the working directory: cd, pwd, pushd, popd, dirs. The
// directory is the shell's own (r.dir), never tubo's process directory:
// commands get it as their working directory when they start.

func init() {
	registerStatic("cd", cdBuiltin, false)
	register("pwd", pwdBuiltin, false)
	register("pushd", pushdBuiltin, false)
	register("popd", popdBuiltin, false)
	register("dirs", dirsBuiltin, false)
}

// cdBuiltin is cd [-L|-P] [-e] [DIR|-]: logical by default, as in sh: `..`
// removes the last component of $PWD. CDPATH is searched for a relative
// DIR; cd - goes to $OLDPWD and prints it.
func cdBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	physical := r.opts[optPhysical]
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'L':
			physical = false
		case 'P':
			physical = true
		case 'e', '@':
		default:
			return r.usage("cd", "-%c: invalid option", c)
		}
	}
	rest := p.rest()
	var target string
	show := false
	switch len(rest) {
	case 0:
		home, ok := r.vars.get("HOME")
		if !ok || home == "" {
			r.errorf("cd: HOME not set")
			return 1
		}
		target = home
	case 1:
		target = rest[0]
		if target == "-" {
			old, ok := r.vars.get("OLDPWD")
			if !ok || old == "" {
				r.errorf("cd: OLDPWD not set")
				return 1
			}
			target, show = old, true
		}
	default:
		r.errorf("cd: too many arguments")
		return 1
	}
	if target == "" {
		return 0
	}
	dir := ""
	if !filepath.IsAbs(target) && !hasPrefixAny(target, "./", "../") && target != "." && target != ".." {
		if cdpath, ok := r.vars.get("CDPATH"); ok && cdpath != "" {
			for _, base := range filepath.SplitList(cdpath) {
				if base == "" {
					base = "."
				}
				cand := r.logicalJoin(base, target)
				if checkDir(cand) == nil {
					dir = cand
					if base != "." {
						show = true
					}
					break
				}
			}
		}
	}
	if dir == "" {
		dir = r.logicalJoin(r.dir, target)
	}
	if physical {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
	}
	if err := checkDir(dir); err != nil {
		if !physical {
			// The logical path may pass through a missing directory that
			// the physical one does not: try it as the kernel would.
			if real, err2 := filepath.EvalSymlinks(filepath.Join(r.physicalDir(), target)); err2 == nil && filepath.IsAbs(real) && checkDir(real) == nil && !filepath.IsAbs(target) {
				dir = real
				goto ok
			}
		}
		r.errorf("cd: %s: %s", target, errText(err))
		return 1
	}
ok:
	r.vars.setString("OLDPWD", r.dir)
	r.vars.lookup("OLDPWD").attrs |= aExport
	r.dir = dir
	if v := r.vars.lookup("PWD"); v == nil || !v.has(aReadonly) {
		r.vars.setString("PWD", dir)
	}
	r.vars.gen++
	if show {
		fmt.Fprintln(r.stdout(), dir)
	}
	return 0
}

// logicalJoin joins a relative path onto a directory the way cd -L does:
// textually, `..` removing the component before it.
func (r *Runner) logicalJoin(base, p string) string {
	if !filepath.IsAbs(p) {
		if !filepath.IsAbs(base) {
			base = filepath.Join(r.dir, base)
		}
		p = base + "/" + p
	}
	return filepath.Clean(p)
}

// physicalDir is the shell's directory with symlinks resolved.
func (r *Runner) physicalDir() string {
	if d, err := filepath.EvalSymlinks(r.dir); err == nil {
		return d
	}
	return r.dir
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

// hasDotComponent reports whether a path has . or .. components.
func hasDotComponent(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == "." || c == ".." {
			return true
		}
	}
	return false
}

// pwdBuiltin is pwd [-L|-P].
func pwdBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	physical := r.opts[optPhysical]
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'L':
			physical = false
		case 'P':
			physical = true
		default:
			return r.usage("pwd", "-%c: invalid option", c)
		}
	}
	dir := r.dir
	if physical {
		dir = r.physicalDir()
	}
	if err := checkDir(dir); err != nil && !physical {
		dir = r.physicalDir()
	}
	io.WriteString(r.stdout(), dir+"\n") // a failed write fails pwd (runBuiltinFn)
	return 0
}

func (r *Runner) printDirs() {
	parts := []string{r.tildeShort(r.dir)}
	for i := len(r.dirStack) - 1; i >= 0; i-- {
		parts = append(parts, r.tildeShort(r.dirStack[i]))
	}
	fmt.Fprintln(r.stdout(), strings.Join(parts, " "))
}

func (r *Runner) tildeShort(d string) string {
	if home, ok := r.vars.get("HOME"); ok && home != "" && home != "/" {
		if d == home {
			return "~"
		}
		if strings.HasPrefix(d, home+"/") {
			return "~" + d[len(home):]
		}
	}
	return d
}

// pushdBuiltin is pushd [DIR | +N | -N]: cd and remember.
func pushdBuiltin(r *Runner, args []string) int {
	if len(args) > 1 && args[1] == "--" {
		args = append(args[:1:1], args[2:]...)
	}
	if len(args) > 2 {
		r.errorf("pushd: too many arguments")
		return 1
	}
	if len(args) < 2 {
		if len(r.dirStack) == 0 {
			r.errorf("pushd: no other directory")
			return 1
		}
		top := r.dirStack[len(r.dirStack)-1]
		cur := r.dir
		if st := cdBuiltin(r, []string{"cd", top}); st != 0 {
			return st
		}
		r.dirStack[len(r.dirStack)-1] = cur
		r.printDirs()
		return 0
	}
	cur := r.dir
	if st := cdBuiltin(r, []string{"cd", args[1]}); st != 0 {
		return st
	}
	r.dirStack = append(r.dirStack, cur)
	r.printDirs()
	return 0
}

// popdBuiltin is popd: back to the remembered directory.
func popdBuiltin(r *Runner, args []string) int {
	if len(args) > 1 && args[1] != "--" || len(args) > 2 {
		r.errorf("popd: %s: invalid argument", args[len(args)-1])
		return 2
	}
	if len(r.dirStack) == 0 {
		r.errorf("popd: directory stack empty")
		return 1
	}
	top := r.dirStack[len(r.dirStack)-1]
	if st := cdBuiltin(r, []string{"cd", top}); st != 0 {
		return st
	}
	r.dirStack = r.dirStack[:len(r.dirStack)-1]
	r.printDirs()
	return 0
}

// dirsBuiltin is dirs [-clpv].
func dirsBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	long, perLine, verbose := false, false, false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'c':
			r.dirStack = nil
			return 0
		case 'l':
			long = true
		case 'p':
			perLine = true
		case 'v':
			perLine, verbose = true, true
		default:
			return r.usage("dirs", "-%c: invalid option", c)
		}
	}
	if rest := p.rest(); len(rest) > 0 {
		r.errorf("dirs: %s: invalid argument", rest[0])
		return 1
	}
	all := []string{r.dir}
	for i := len(r.dirStack) - 1; i >= 0; i-- {
		all = append(all, r.dirStack[i])
	}
	for i, d := range all {
		if !long {
			d = r.tildeShort(d)
		}
		all[i] = d
	}
	if !perLine {
		fmt.Fprintln(r.stdout(), strings.Join(all, " "))
		return 0
	}
	for i, d := range all {
		if verbose {
			fmt.Fprintf(r.stdout(), "%2s  %s\n", strconv.Itoa(i), d)
		} else {
			fmt.Fprintln(r.stdout(), d)
		}
	}
	return 0
}
