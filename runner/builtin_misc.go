package runner

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The builtins of the process and of the parser: umask, ulimit, alias,
// unalias, caller.

func init() {
	register("umask", umaskBuiltin, false)
	register("ulimit", ulimitBuiltin, false)
	registerStatic("alias", aliasBuiltin, false)
	registerStatic("unalias", unaliasBuiltin, false)
	register("caller", callerBuiltin, false)
}

// currentUmask reads the process's umask (there is no way to read it
// without setting it).
func currentUmask() int {
	m := unix.Umask(0)
	unix.Umask(m)
	return m
}

func setUmask(m int) { unix.Umask(m) }

// umaskBuiltin is umask [-p] [-S] [MODE]: octal or symbolic (u=rwx,g-w).
func umaskBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	symbolic, reuse := false, false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'S':
			symbolic = true
		case 'p':
			reuse = true
		default:
			return r.usage("umask", "-%c: invalid option", c)
		}
	}
	rest := p.rest()
	cur := currentUmask()
	if len(rest) == 0 {
		w := r.stdout()
		prefix := ""
		if reuse {
			prefix = "umask "
		}
		if symbolic {
			if reuse {
				prefix = "umask -S "
			}
			fmt.Fprintf(w, "%s%s\n", prefix, symbolicMask(cur))
		} else {
			fmt.Fprintf(w, "%s%04o\n", prefix, cur)
		}
		return 0
	}
	m, ok := parseUmask(rest[0], cur)
	if !ok {
		r.errorf("umask: %s: invalid symbolic mode operator", rest[0])
		return 1
	}
	setUmask(m)
	r.umask = m
	return 0
}

func symbolicMask(m int) string {
	perm := func(shift int) string {
		bits := (^m >> shift) & 7
		s := ""
		if bits&4 != 0 {
			s += "r"
		}
		if bits&2 != 0 {
			s += "w"
		}
		if bits&1 != 0 {
			s += "x"
		}
		return s
	}
	return "u=" + perm(6) + ",g=" + perm(3) + ",o=" + perm(0)
}

// parseUmask reads an octal mask or a symbolic mode applied to the
// current mask.
func parseUmask(s string, cur int) (int, bool) {
	if s != "" && s[0] >= '0' && s[0] <= '7' {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil || n > 0o777 {
			return 0, false
		}
		return int(n), true
	}
	allowed := ^cur & 0o777
	for _, clause := range strings.Split(s, ",") {
		i := 0
		who := 0
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			switch clause[i] {
			case 'u':
				who |= 0o700
			case 'g':
				who |= 0o070
			case 'o':
				who |= 0o007
			case 'a':
				who |= 0o777
			}
			i++
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) {
			return 0, false
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return 0, false
			}
			i++
			perm := 0
			for i < len(clause) && strings.IndexByte("rwx", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x':
					perm |= 0o111
				}
				i++
			}
			perm &= who
			switch op {
			case '+':
				allowed |= perm
			case '-':
				allowed &^= perm
			case '=':
				allowed = allowed&^who | perm
			}
		}
	}
	return ^allowed & 0o777, true
}

// ulimits are the resources ulimit knows: letter, resource, unit, name.
var ulimits = []struct {
	c    byte
	res  int
	unit uint64
	name string
}{
	{'c', unix.RLIMIT_CORE, 512, "core file size          (blocks, -c)"},
	{'d', unix.RLIMIT_DATA, 1024, "data seg size           (kbytes, -d)"},
	{'e', unix.RLIMIT_NICE, 1, "scheduling priority             (-e)"},
	{'f', unix.RLIMIT_FSIZE, 512, "file size               (blocks, -f)"},
	{'i', unix.RLIMIT_SIGPENDING, 1, "pending signals                 (-i)"},
	{'l', unix.RLIMIT_MEMLOCK, 1024, "max locked memory       (kbytes, -l)"},
	{'m', unix.RLIMIT_RSS, 1024, "max memory size         (kbytes, -m)"},
	{'n', unix.RLIMIT_NOFILE, 1, "open files                      (-n)"},
	{'q', unix.RLIMIT_MSGQUEUE, 1, "POSIX message queues     (bytes, -q)"},
	{'r', unix.RLIMIT_RTPRIO, 1, "real-time priority              (-r)"},
	{'s', unix.RLIMIT_STACK, 1024, "stack size              (kbytes, -s)"},
	{'t', unix.RLIMIT_CPU, 1, "cpu time               (seconds, -t)"},
	{'u', unix.RLIMIT_NPROC, 1, "max user processes              (-u)"},
	{'v', unix.RLIMIT_AS, 1024, "virtual memory          (kbytes, -v)"},
}

// ulimitBuiltin is ulimit [-HSa] [-cdefilmnqrstuv] [LIMIT].
func ulimitBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	hard, soft, all := false, false, false
	var which []byte
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'H':
			hard = true
		case 'S':
			soft = true
		case 'a':
			all = true
		default:
			found := false
			for _, u := range ulimits {
				if u.c == c {
					found = true
				}
			}
			if !found {
				return r.usage("ulimit", "-%c: invalid option", c)
			}
			which = append(which, c)
		}
	}
	if !hard && !soft {
		soft = true
	}
	w := r.stdout()
	show := func(v uint64, unit uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v/unit, 10)
	}
	if all {
		if len(p.rest()) > 0 {
			r.errorf("ulimit: %s: too many arguments", p.rest()[0])
			return 2
		}
		for _, u := range ulimits {
			var lim unix.Rlimit
			unix.Getrlimit(u.res, &lim)
			v := lim.Cur
			if hard && !soft {
				v = lim.Max
			}
			fmt.Fprintf(w, "%s %s\n", u.name, show(v, u.unit))
		}
		return 0
	}
	if len(which) == 0 {
		which = []byte{'f'}
	}
	rest := p.rest()
	for _, c := range which {
		for _, u := range ulimits {
			if u.c != c {
				continue
			}
			var lim unix.Rlimit
			if err := unix.Getrlimit(u.res, &lim); err != nil {
				r.errorf("ulimit: %v", err)
				return 1
			}
			if len(rest) == 0 {
				v := lim.Cur
				if hard && !soft {
					v = lim.Max
				}
				fmt.Fprintln(w, show(v, u.unit))
				continue
			}
			var v uint64
			switch rest[0] {
			case "unlimited":
				v = unix.RLIM_INFINITY
			case "hard":
				v = lim.Max
			case "soft":
				v = lim.Cur
			default:
				n, err := strconv.ParseUint(rest[0], 10, 64)
				if err != nil {
					r.errorf("ulimit: %s: invalid number", rest[0])
					return 1
				}
				v = n * u.unit
			}
			if soft {
				lim.Cur = v
			}
			if hard {
				lim.Max = v
			}
			if err := unix.Setrlimit(u.res, &lim); err != nil {
				r.errorf("ulimit: %s: cannot modify limit: %s", strings.TrimSpace(u.name[:24]), errText(err))
				return 1
			}
		}
	}
	return 0
}

// aliasBuiltin is alias [NAME[=VALUE]…]: define or show aliases.
func aliasBuiltin(r *Runner, args []string) int {
	args = args[1:]
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	w := r.stdout()
	if len(args) == 0 {
		for _, k := range sortedKeys(r.aliases) {
			fmt.Fprintf(w, "alias %s=%s\n", k, singleQuote(r.aliases[k]))
		}
		return 0
	}
	st := 0
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			v, found := r.aliases[name]
			if !found {
				r.errorf("alias: %s: not found", name)
				st = 1
				continue
			}
			fmt.Fprintf(w, "alias %s=%s\n", name, singleQuote(v))
			continue
		}
		if name == "" || strings.ContainsAny(name, "/$`\\'\"=<>|&;() \t\n") {
			r.errorf("alias: `%s': invalid alias name", name)
			st = 1
			continue
		}
		r.aliases[name] = value
	}
	return st
}

func unaliasBuiltin(r *Runner, args []string) int {
	args = args[1:]
	if len(args) > 0 && args[0] == "-a" {
		r.aliases = map[string]string{}
		return 0
	}
	if len(args) == 0 {
		r.errorf("unalias: usage: unalias [-a] name [name ...]")
		return 2
	}
	st := 0
	for _, a := range args {
		if _, ok := r.aliases[a]; !ok {
			r.errorf("unalias: %s: not found", a)
			st = 1
			continue
		}
		delete(r.aliases, a)
	}
	return st
}

// callerBuiltin is caller [N]: where the current function was called.
func callerBuiltin(r *Runner, args []string) int {
	if r.funcDepth == 0 {
		return 1
	}
	fmt.Fprintf(r.stdout(), "%d %s\n", r.lineno, r.name)
	return 0
}

// singleQuote quotes a value the way alias and trap print it.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
