package runner

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
	"mvdan.cc/sh/v3/syntax"
)

// test and [ (POSIX, with bash's -nt -ot -ef -v -o < >), and the [[ ]]
// of bash, which shares their operators.

func init() {
	register("test", testBuiltin, false)
	register("[", testBuiltin, false)
}

// testErr is a malformed test expression: status 2.
type testErr struct{ msg string }

func (e *testErr) Error() string { return e.msg }

func testBuiltin(r *Runner, args []string) int {
	name := args[0]
	args = args[1:]
	if name == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			r.errorf("[: missing `]'")
			return 2
		}
		args = args[:len(args)-1]
	}
	t := &tester{r: r, args: args}
	ok, err := t.eval()
	if err != nil {
		r.errorf("%s: %v", name, err)
		return 2
	}
	if ok {
		return 0
	}
	return 1
}

type tester struct {
	r    *Runner
	args []string
	i    int
}

// eval applies POSIX's rules by argument count, then the full grammar.
func (t *tester) eval() (bool, error) {
	a := t.args
	switch len(a) {
	case 0:
		return false, nil
	case 1:
		return a[0] != "", nil
	case 2:
		if a[0] == "!" {
			return a[1] == "", nil
		}
		if isUnaryTest(a[0]) {
			return t.r.unaryTest(a[0], a[1])
		}
		return false, &testErr{a[0] + ": unary operator expected"}
	case 3:
		if isBinaryTest(a[1]) {
			return t.r.binaryTest(a[1], a[0], a[2], false)
		}
		if a[1] == "-a" {
			return a[0] != "" && a[2] != "", nil
		}
		if a[1] == "-o" {
			return a[0] != "" || a[2] != "", nil
		}
		if a[0] == "!" {
			sub := &tester{r: t.r, args: a[1:]}
			v, err := sub.eval()
			return !v, err
		}
		if a[0] == "(" && a[2] == ")" {
			return a[1] != "", nil
		}
		return false, &testErr{a[1] + ": binary operator expected"}
	case 4:
		if a[0] == "!" {
			sub := &tester{r: t.r, args: a[1:]}
			v, err := sub.eval()
			return !v, err
		}
		if a[0] == "(" && a[3] == ")" {
			sub := &tester{r: t.r, args: a[1:3]}
			return sub.eval()
		}
	}
	v, err := t.or()
	if err != nil {
		return false, err
	}
	if t.i < len(t.args) {
		return false, &testErr{t.args[t.i] + ": syntax error"}
	}
	return v, nil
}

func (t *tester) peek() (string, bool) {
	if t.i < len(t.args) {
		return t.args[t.i], true
	}
	return "", false
}

func (t *tester) or() (bool, error) {
	v, err := t.and()
	if err != nil {
		return false, err
	}
	for {
		if s, ok := t.peek(); !ok || s != "-o" {
			return v, nil
		}
		t.i++
		w, err := t.and()
		if err != nil {
			return false, err
		}
		v = v || w
	}
}

func (t *tester) and() (bool, error) {
	v, err := t.not()
	if err != nil {
		return false, err
	}
	for {
		if s, ok := t.peek(); !ok || s != "-a" {
			return v, nil
		}
		t.i++
		w, err := t.not()
		if err != nil {
			return false, err
		}
		v = v && w
	}
}

func (t *tester) not() (bool, error) {
	if s, ok := t.peek(); ok && s == "!" {
		t.i++
		v, err := t.not()
		return !v, err
	}
	return t.primary()
}

func (t *tester) primary() (bool, error) {
	s, ok := t.peek()
	if !ok {
		return false, &testErr{"argument expected"}
	}
	if s == "(" {
		t.i++
		v, err := t.or()
		if err != nil {
			return false, err
		}
		if c, ok := t.peek(); !ok || c != ")" {
			return false, &testErr{"`)' expected"}
		}
		t.i++
		return v, nil
	}
	if t.i+2 < len(t.args)+0 && isBinaryTest(t.args[t.i+1]) {
		a, op, b := t.args[t.i], t.args[t.i+1], t.args[t.i+2]
		t.i += 3
		return t.r.binaryTest(op, a, b, false)
	}
	if isUnaryTest(s) && t.i+1 < len(t.args) {
		x := t.args[t.i+1]
		t.i += 2
		return t.r.unaryTest(s, x)
	}
	t.i++
	return s != "", nil
}

func isUnaryTest(s string) bool {
	if len(s) != 2 || s[0] != '-' {
		return false
	}
	return strings.IndexByte("abcdefghkLprsStuwxOGNnzovR", s[1]) >= 0
}

func isBinaryTest(s string) bool {
	switch s {
	case "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef":
		return true
	}
	return false
}

// unaryTest evaluates -f FILE and the other unary operators.
func (r *Runner) unaryTest(op, x string) (bool, error) {
	switch op {
	case "-z":
		return x == "", nil
	case "-n":
		return x != "", nil
	case "-o":
		o, ok := lookupOpt(x, false)
		return ok && r.opts[o], nil
	case "-v":
		return r.varIsSet(x), nil
	case "-R":
		v := r.vars.lookup(x)
		return v.has(aNameref) && v.set, nil
	case "-t":
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return false, &testErr{x + ": integer expression expected"}
		}
		f := r.fds[n]
		return f != nil && term.IsTerminal(int(f.Fd())), nil
	}
	if x == "" {
		return false, nil
	}
	path := r.abs(x)
	var st syscall.Stat_t
	var err error
	if op == "-h" || op == "-L" {
		err = syscall.Lstat(path, &st)
	} else {
		err = syscall.Stat(path, &st)
	}
	if err != nil {
		return false, nil
	}
	mode := st.Mode & syscall.S_IFMT
	switch op {
	case "-e", "-a":
		return true, nil
	case "-f":
		return mode == syscall.S_IFREG, nil
	case "-d":
		return mode == syscall.S_IFDIR, nil
	case "-b":
		return mode == syscall.S_IFBLK, nil
	case "-c":
		return mode == syscall.S_IFCHR, nil
	case "-p":
		return mode == syscall.S_IFIFO, nil
	case "-S":
		return mode == syscall.S_IFSOCK, nil
	case "-h", "-L":
		return mode == syscall.S_IFLNK, nil
	case "-s":
		return st.Size > 0, nil
	case "-g":
		return st.Mode&syscall.S_ISGID != 0, nil
	case "-u":
		return st.Mode&syscall.S_ISUID != 0, nil
	case "-k":
		return st.Mode&syscall.S_ISVTX != 0, nil
	case "-O":
		return int(st.Uid) == os.Geteuid(), nil
	case "-G":
		return int(st.Gid) == os.Getegid(), nil
	case "-N":
		return st.Mtim.Sec > st.Atim.Sec || st.Mtim.Sec == st.Atim.Sec && st.Mtim.Nsec > st.Atim.Nsec, nil
	case "-r":
		return unix.Access(path, unix.R_OK) == nil, nil
	case "-w":
		return unix.Access(path, unix.W_OK) == nil, nil
	case "-x":
		return unix.Access(path, unix.X_OK) == nil, nil
	}
	return false, &testErr{op + ": unary operator expected"}
}

// varIsSet is -v NAME (NAME may be a[i]).
func (r *Runner) varIsSet(x string) bool {
	if i := strings.IndexByte(x, '['); i > 0 && strings.HasSuffix(x, "]") {
		name, idx := x[:i], x[i+1:len(x)-1]
		v := r.vars.lookup(name)
		if v == nil || !v.set {
			return false
		}
		switch v.kind {
		case kAssoc:
			_, ok := v.assoc.get(idx)
			return ok
		case kIndexed:
			if idx == "@" || idx == "*" {
				return v.arr.len() > 0
			}
			n, err := r.evalArithString(idx, 0)
			if err != nil {
				return false
			}
			if n < 0 {
				n += int64(v.arr.next())
			}
			_, ok := v.arr.get(int(n))
			return ok
		}
		n, _ := r.evalArithString(idx, 0)
		return n == 0
	}
	if _, ok := r.special(x); ok {
		return true
	}
	v := r.vars.lookup(x)
	if v == nil || !v.set {
		return false
	}
	if v.kind == kIndexed {
		_, ok := v.arr.get(0)
		return ok
	}
	return true
}

// binaryTest evaluates A OP B. In [[ ]] (dbl), the integer operators
// take arithmetic expressions.
func (r *Runner) binaryTest(op, a, b string, dbl bool) (bool, error) {
	switch op {
	case "=", "==":
		return a == b, nil
	case "!=":
		return a != b, nil
	case "<":
		return a < b, nil
	case ">":
		return a > b, nil
	case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
		x, err := r.testInt(a, dbl)
		if err != nil {
			return false, err
		}
		y, err := r.testInt(b, dbl)
		if err != nil {
			return false, err
		}
		switch op {
		case "-eq":
			return x == y, nil
		case "-ne":
			return x != y, nil
		case "-lt":
			return x < y, nil
		case "-le":
			return x <= y, nil
		case "-gt":
			return x > y, nil
		}
		return x >= y, nil
	case "-nt", "-ot":
		sa, ea := os.Stat(r.abs(a))
		sb, eb := os.Stat(r.abs(b))
		if op == "-nt" {
			if ea != nil {
				return false, nil
			}
			return eb != nil || sa.ModTime().After(sb.ModTime()), nil
		}
		if eb != nil {
			return false, nil
		}
		return ea != nil || sa.ModTime().Before(sb.ModTime()), nil
	case "-ef":
		sa, ea := os.Stat(r.abs(a))
		sb, eb := os.Stat(r.abs(b))
		return ea == nil && eb == nil && os.SameFile(sa, sb), nil
	}
	return false, &testErr{op + ": binary operator expected"}
}

// testInt reads an integer operand: test takes a decimal number (with
// blanks around it); [[ ]] an arithmetic expression.
func (r *Runner) testInt(s string, dbl bool) (int64, error) {
	if dbl {
		return r.evalArithString(s, 0)
	}
	t := strings.TrimSpace(s)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, &testErr{s + ": integer expression expected"}
		}
		return 0, &testErr{s + ": integer expression expected"}
	}
	return n, nil
}

// testClause runs [[ … ]].
func (r *Runner) testClause(c *syntax.TestClause) int {
	if r.opts[optXtrace] {
		r.xtraceLine("[[ " + printNode(c.X) + " ]]")
	}
	ok, err := r.testExpr(c.X)
	if err != nil {
		if _, isTest := err.(*testErr); isTest {
			r.errorf("%v", err)
			return 2
		}
		return r.arithFailed(err) // an operand of -eq…: 1, as in bash
	}
	if ok {
		return 0
	}
	return 1
}

func (r *Runner) testExpr(x syntax.TestExpr) (bool, error) {
	switch x := x.(type) {
	case *syntax.Word:
		s, err := r.literal(x)
		return s != "", err
	case *syntax.ParenTest:
		return r.testExpr(x.X)
	case *syntax.UnaryTest:
		if x.Op == syntax.TsNot {
			v, err := r.testExpr(x.X)
			return !v, err
		}
		w, ok := x.X.(*syntax.Word)
		if !ok {
			return false, &testErr{"unexpected argument"}
		}
		s, err := r.literal(w)
		if err != nil {
			return false, err
		}
		return r.unaryTest(x.Op.String(), s)
	case *syntax.BinaryTest:
		switch x.Op {
		case syntax.AndTest:
			a, err := r.testExpr(x.X)
			if err != nil || !a {
				return false, err
			}
			return r.testExpr(x.Y)
		case syntax.OrTest:
			a, err := r.testExpr(x.X)
			if err != nil || a {
				return a, err
			}
			return r.testExpr(x.Y)
		}
		lw, _ := x.X.(*syntax.Word)
		rw, _ := x.Y.(*syntax.Word)
		a, err := r.literal(lw)
		if err != nil {
			return false, err
		}
		switch x.Op {
		case syntax.TsMatch, syntax.TsMatchShort, syntax.TsNoMatch:
			pat, err := r.patternWord(rw)
			if err != nil {
				return false, err
			}
			m := r.match(pat, a)
			if x.Op == syntax.TsNoMatch {
				return !m, nil
			}
			return m, nil
		case syntax.TsReMatch:
			return r.reMatch(a, rw)
		}
		b, err := r.literal(rw)
		if err != nil {
			return false, err
		}
		return r.binaryTest(x.Op.String(), a, b, true)
	}
	return false, &testErr{"unexpected test expression"}
}

// reMatch is [[ s =~ re ]]: an extended regular expression (quoted parts
// match literally); BASH_REMATCH gets the match and its groups.
func (r *Runner) reMatch(s string, w *syntax.Word) (bool, error) {
	re, err := r.regexWord(w)
	if err != nil {
		return false, err
	}
	rx, err := regexp.CompilePOSIX(re)
	if err != nil {
		rx, err = regexp.Compile(re)
		if err != nil {
			return false, &testErr{"invalid regular expression"}
		}
	}
	m := rx.FindStringSubmatch(s)
	if m == nil {
		r.vars.global().vars["BASH_REMATCH"] = &Var{kind: kIndexed, arr: &indexed{}, set: true}
		return false, nil
	}
	r.vars.global().vars["BASH_REMATCH"] = &Var{kind: kIndexed, arr: newIndexed(m), set: true}
	return true, nil
}

// regexWord expands the right side of =~: quoted text is escaped so that
// it matches literally.
func (r *Runner) regexWord(w *syntax.Word) (string, error) {
	if w == nil {
		return "", nil
	}
	e := wexp{r: r, mode: modeLiteral}
	if err := e.word(w); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, f := range e.finish() {
		if i > 0 {
			b.WriteByte(' ')
		}
		for _, s := range f {
			if s.k == sQuoted {
				b.WriteString(regexp.QuoteMeta(s.s))
			} else {
				b.WriteString(s.s)
			}
		}
	}
	return b.String(), nil
}
