package runner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// Arithmetic is 64-bit signed integers that wrap, as in bash. A variable
// holding something other than a number is itself evaluated as an
// expression (x=3+4; $((x*2)) is 14); an expression with $-expansions in
// it is expanded first and the text then parsed again, as sh does
// (x=1+2; $(($x*3)) is 7).

// arithErr is an arithmetic error: division by zero, a bad number, a
// syntax error in a dynamic expression.
type arithErr struct{ msg string }

func (e *arithErr) Error() string { return e.msg }

func arithErrorf(format string, args ...any) error {
	return &arithErr{msg: fmt.Sprintf(format, args...)}
}

// arithFailed reports an arithmetic error of a command ((( )), let, for
// (( ))): the command fails with 1 and the shell goes on, as in bash
// (these are bash's; an error in $((…)) is an expansion error, which
// ends a non-interactive shell). An expansion error inside the
// expression ($x under set -u, ${x?}) is still one.
func (r *Runner) arithFailed(err error) int {
	var ae *arithErr
	if !errors.As(err, &ae) || r.static {
		return r.expandFailed(err)
	}
	r.errorf("%v", err)
	return 1
}

// arithm evaluates an arithmetic expression.
func (r *Runner) arithm(x syntax.ArithmExpr) (int64, error) {
	if x == nil {
		return 0, nil // an empty expression: ${x::2}'s offset
	}
	if r.dynamicArith(x) {
		src, err := r.arithText(x)
		if err != nil {
			return 0, err
		}
		return r.evalArithString(src, 0)
	}
	return r.eval(x, 0)
}

// dynamicArith reports whether an expression has $-expansions that must
// be expanded as text before it is parsed (cached per node).
func (r *Runner) dynamicArith(x syntax.ArithmExpr) bool {
	if d, ok := r.arithDyn[x]; ok {
		return d
	}
	d := false
	syntax.Walk(x, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Dollar.IsValid() {
				d = true
			}
		case *syntax.CmdSubst, *syntax.DblQuoted, *syntax.SglQuoted, *syntax.ArithmExp:
			d = true
		}
		return !d
	})
	if r.arithDyn == nil || len(r.arithDyn) > 10000 {
		r.arithDyn = map[syntax.ArithmExpr]bool{}
	}
	r.arithDyn[x] = d
	return d
}

// arithText is the text of an expression with its expansions done.
func (r *Runner) arithText(x syntax.ArithmExpr) (string, error) {
	src := printNode(x)
	w, err := shell.NewParser().Document(strings.NewReader(src))
	if err != nil || w == nil {
		return "", arithErrorf("%s: syntax error", src)
	}
	e := wexp{r: r, mode: modeLiteral, quoted: true, doc: true}
	for _, p := range w.Parts {
		if dq, ok := p.(*syntax.DblQuoted); ok {
			// $(( "1" + 2 )): the quotes go.
			for _, q := range dq.Parts {
				if err := e.part(q); err != nil {
					return "", err
				}
			}
			continue
		}
		if err := e.part(p); err != nil {
			return "", err
		}
	}
	// Quote removal: the double quotes of $(( "$x" * 3 )) go.
	return strings.ReplaceAll(joinFields(e.finish(), false), `"`, ""), nil
}

// parseArith parses the text of an arithmetic expression (cached).
func (r *Runner) parseArith(src string) (syntax.ArithmExpr, error) {
	if x, ok := r.arith[src]; ok {
		return x, nil
	}
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	x, err := shell.NewParser().Arithmetic(strings.NewReader(src))
	if err != nil || x == nil {
		return nil, arithErrorf("%s: syntax error in expression", strings.TrimSpace(src))
	}
	// The parser reads one expression and stops: '12 34' would be 12.
	if end := int(x.End().Offset()); end < len(src) {
		if rest := strings.TrimSpace(src[end:]); rest != "" {
			return nil, arithErrorf("%s: syntax error in expression (error token is %q)", strings.TrimSpace(src), rest)
		}
	}
	if r.arith == nil || len(r.arith) > 10000 {
		r.arith = map[string]syntax.ArithmExpr{}
	}
	r.arith[src] = x
	return x, nil
}

func (r *Runner) evalArithString(src string, depth int) (int64, error) {
	if n, ok := parseNumber(strings.TrimSpace(src)); ok {
		return n, nil
	}
	x, err := r.parseArith(src)
	if err != nil {
		return 0, err
	}
	if x == nil {
		return 0, nil
	}
	return r.eval(x, depth)
}

const maxArithDepth = 1024

func (r *Runner) eval(x syntax.ArithmExpr, depth int) (int64, error) {
	if depth > maxArithDepth {
		return 0, arithErrorf("expression recursion level exceeded")
	}
	switch x := x.(type) {
	case *syntax.Word:
		return r.evalWord(x, depth)
	case *syntax.ParenArithm:
		return r.eval(x.X, depth)
	case *syntax.UnaryArithm:
		return r.evalUnary(x, depth)
	case *syntax.BinaryArithm:
		return r.evalBinary(x, depth)
	}
	return 0, arithErrorf("unsupported arithmetic %T", x)
}

// evalWord is a number, or a variable's value (evaluated in its turn).
func (r *Runner) evalWord(w *syntax.Word, depth int) (int64, error) {
	if s := w.Lit(); s != "" {
		if c := s[0]; c >= '0' && c <= '9' {
			n, ok := parseNumber(s)
			if !ok {
				return 0, arithErrorf("%s: value too great for base (error token is %q)", s, s)
			}
			return n, nil
		}
		if !shell.ValidName(s) {
			return 0, arithErrorf("%s: syntax error: operand expected (error token is %q)", s, s)
		}
		return r.varArith(s, nil, depth)
	}
	if len(w.Parts) == 1 {
		if pe, ok := w.Parts[0].(*syntax.ParamExp); ok && !pe.Dollar.IsValid() && pe.Param != nil {
			return r.varArith(pe.Param.Value, pe.Index, depth)
		}
	}
	s, err := r.literal(w)
	if err != nil {
		return 0, err
	}
	return r.evalArithString(s, depth+1)
}

// varArith is the value of a variable (or array element) in arithmetic.
func (r *Runner) varArith(name string, index syntax.ArithmExpr, depth int) (int64, error) {
	var s string
	var ok bool
	if index == nil {
		if s, ok = r.special(name); !ok {
			v := r.vars.lookup(name)
			if v.has(aNameref) {
				pv, err := r.namedValue(name, nil, 0)
				if err != nil {
					return 0, err
				}
				s, ok = pv.str, pv.set
			} else {
				s, ok = v.scalar()
			}
		}
	} else {
		pv, err := r.namedValue(name, index, 0)
		if err != nil {
			return 0, err
		}
		s, ok = pv.str, pv.set
	}
	if !ok {
		if r.opts[optNounset] {
			return 0, expandErrorf("%s: unbound variable", name)
		}
		return 0, nil
	}
	if n, ok := parseNumber(s); ok {
		return n, nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, ok := parseNumber(s); ok {
		return n, nil
	}
	return r.evalArithString(s, depth+1)
}

// parseNumber parses an integer constant: decimal, 0x hex, 0 octal, or
// BASE#DIGITS.
func parseNumber(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	if len(s) < 10 {
		// Fast path: small decimal numbers.
		var n int64
		dec := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				dec = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if dec && (s[0] != '0' || len(s) == 1) {
			return n, true
		}
	}
	if i := strings.IndexByte(s, '#'); i > 0 {
		base, err := strconv.Atoi(s[:i])
		if err != nil || base < 2 || base > 64 {
			return 0, false
		}
		digits := s[i+1:]
		if digits == "" {
			return 0, false
		}
		var n int64
		for j := 0; j < len(digits); j++ {
			d := digitVal(digits[j], base)
			if d < 0 || d >= base {
				return 0, false
			}
			n = n*int64(base) + int64(d)
		}
		return n, true
	}
	base := 10
	digits := s
	if len(s) > 1 && s[0] == '0' {
		if s[1] == 'x' || s[1] == 'X' {
			base, digits = 16, s[2:]
			if digits == "" {
				return 0, false
			}
		} else {
			base, digits = 8, s[1:]
		}
	}
	var n int64
	for j := 0; j < len(digits); j++ {
		d := digitVal(digits[j], 16)
		if d < 0 || d >= base {
			return 0, false
		}
		n = n*int64(base) + int64(d)
	}
	return n, true
}

// digitVal is a digit's value in bases up to 64: 0-9, a-z, A-Z, @, _
// (for bases up to 36 letters are case-insensitive).
func digitVal(c byte, base int) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		if base <= 36 {
			return int(c-'A') + 10
		}
		return int(c-'A') + 36
	case c == '@':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (r *Runner) evalUnary(x *syntax.UnaryArithm, depth int) (int64, error) {
	switch x.Op {
	case syntax.Inc, syntax.Dec:
		name, index, ok := arithLvalue(x.X)
		if !ok {
			return 0, arithErrorf("%s: assignment requires an lvalue", printNode(x.X))
		}
		old, err := r.varArith(name, index, depth)
		if err != nil {
			return 0, err
		}
		n := old + 1
		if x.Op == syntax.Dec {
			n = old - 1
		}
		if err := r.arithAssign(name, index, n); err != nil {
			return 0, err
		}
		if x.Post {
			return old, nil
		}
		return n, nil
	}
	v, err := r.eval(x.X, depth)
	if err != nil {
		return 0, err
	}
	switch x.Op {
	case syntax.Not:
		return b2i(v == 0), nil
	case syntax.BitNegation:
		return ^v, nil
	case syntax.Plus:
		return v, nil
	case syntax.Minus:
		return -v, nil
	}
	return 0, arithErrorf("unsupported operator %s", x.Op)
}

// arithLvalue is the variable an assignment in arithmetic writes to.
func arithLvalue(x syntax.ArithmExpr) (string, syntax.ArithmExpr, bool) {
	w, ok := x.(*syntax.Word)
	if !ok {
		return "", nil, false
	}
	if s := w.Lit(); shell.ValidName(s) {
		return s, nil, true
	}
	if len(w.Parts) == 1 {
		if pe, ok := w.Parts[0].(*syntax.ParamExp); ok && pe.Param != nil && (pe.Short || !pe.Dollar.IsValid()) && shell.ValidName(pe.Param.Value) && pe.Exp == nil && pe.Slice == nil && pe.Repl == nil {
			return pe.Param.Value, pe.Index, true
		}
	}
	return "", nil, false
}

func (r *Runner) arithAssign(name string, index syntax.ArithmExpr, n int64) error {
	s := strconv.FormatInt(n, 10)
	if index != nil {
		return r.assignIndex(name, index, s, false)
	}
	return r.assign(name, s)
}

func (r *Runner) evalBinary(x *syntax.BinaryArithm, depth int) (int64, error) {
	switch x.Op {
	case syntax.AndArit:
		a, err := r.eval(x.X, depth)
		if err != nil || a == 0 {
			return 0, err
		}
		b, err := r.eval(x.Y, depth)
		return b2i(b != 0), err
	case syntax.OrArit:
		a, err := r.eval(x.X, depth)
		if err != nil {
			return 0, err
		}
		if a != 0 {
			return 1, nil
		}
		b, err := r.eval(x.Y, depth)
		return b2i(b != 0), err
	case syntax.TernQuest:
		c, err := r.eval(x.X, depth)
		if err != nil {
			return 0, err
		}
		colon, ok := x.Y.(*syntax.BinaryArithm)
		if !ok || colon.Op != syntax.TernColon {
			return 0, arithErrorf("`:' expected for conditional expression")
		}
		if c != 0 {
			return r.eval(colon.X, depth)
		}
		return r.eval(colon.Y, depth)
	case syntax.Comma:
		if _, err := r.eval(x.X, depth); err != nil {
			return 0, err
		}
		return r.eval(x.Y, depth)
	case syntax.Assgn, syntax.AddAssgn, syntax.SubAssgn, syntax.MulAssgn, syntax.QuoAssgn,
		syntax.RemAssgn, syntax.AndAssgn, syntax.OrAssgn, syntax.XorAssgn, syntax.ShlAssgn,
		syntax.ShrAssgn, syntax.PowAssgn:
		name, index, ok := arithLvalue(x.X)
		if !ok {
			return 0, arithErrorf("%s: attempted assignment to non-variable", printNode(x.X))
		}
		v, err := r.eval(x.Y, depth)
		if err != nil {
			return 0, err
		}
		if x.Op != syntax.Assgn {
			old, err := r.varArith(name, index, depth)
			if err != nil {
				return 0, err
			}
			if v, err = binop(assignOp(x.Op), old, v); err != nil {
				return 0, err
			}
		}
		if err := r.arithAssign(name, index, v); err != nil {
			return 0, err
		}
		return v, nil
	}
	a, err := r.eval(x.X, depth)
	if err != nil {
		return 0, err
	}
	b, err := r.eval(x.Y, depth)
	if err != nil {
		return 0, err
	}
	return binop(x.Op, a, b)
}

func assignOp(op syntax.BinAritOperator) syntax.BinAritOperator {
	switch op {
	case syntax.AddAssgn:
		return syntax.Add
	case syntax.SubAssgn:
		return syntax.Sub
	case syntax.MulAssgn:
		return syntax.Mul
	case syntax.QuoAssgn:
		return syntax.Quo
	case syntax.RemAssgn:
		return syntax.Rem
	case syntax.AndAssgn:
		return syntax.And
	case syntax.OrAssgn:
		return syntax.Or
	case syntax.XorAssgn:
		return syntax.Xor
	case syntax.ShlAssgn:
		return syntax.Shl
	case syntax.ShrAssgn:
		return syntax.Shr
	case syntax.PowAssgn:
		return syntax.Pow
	}
	return op
}

func binop(op syntax.BinAritOperator, a, b int64) (int64, error) {
	switch op {
	case syntax.Add:
		return a + b, nil
	case syntax.Sub:
		return a - b, nil
	case syntax.Mul:
		return a * b, nil
	case syntax.Quo, syntax.Rem:
		if b == 0 {
			return 0, arithErrorf("division by 0")
		}
		if b == -1 {
			// MinInt64 / -1 overflows; wrap as bash does.
			if op == syntax.Quo {
				return -a, nil
			}
			return 0, nil
		}
		if op == syntax.Quo {
			return a / b, nil
		}
		return a % b, nil
	case syntax.Pow:
		if b < 0 {
			return 0, arithErrorf("exponent less than 0")
		}
		n := int64(1)
		for b > 0 {
			if b&1 == 1 {
				n *= a
			}
			a *= a
			b >>= 1
		}
		return n, nil
	case syntax.Eql:
		return b2i(a == b), nil
	case syntax.Neq:
		return b2i(a != b), nil
	case syntax.Lss:
		return b2i(a < b), nil
	case syntax.Leq:
		return b2i(a <= b), nil
	case syntax.Gtr:
		return b2i(a > b), nil
	case syntax.Geq:
		return b2i(a >= b), nil
	case syntax.And:
		return a & b, nil
	case syntax.Or:
		return a | b, nil
	case syntax.Xor:
		return a ^ b, nil
	case syntax.Shl:
		return a << (uint64(b) & 63), nil
	case syntax.Shr:
		return a >> (uint64(b) & 63), nil
	case syntax.XorBool:
		return b2i((a != 0) != (b != 0)), nil
	}
	return 0, arithErrorf("unsupported operator %s", op)
}
