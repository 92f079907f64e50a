package runner

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// printfBuiltin is printf [-v NAME] FORMAT [ARG…] with the whole POSIX
// format (flags, width, precision, * for both; %d %i %o %u %x %X %e %E %f
// %F %g %G %a %A %c %s %b %%), bash's %q and %(…)T, and the format reused
// while arguments remain. A bad number is reported, taken as 0, and makes
// the status 1.
func printfBuiltin(r *Runner, args []string) int {
	args = args[1:]
	varName := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		if args[0] == "-v" && len(args) > 1 {
			varName = args[1]
			args = args[2:]
			continue
		}
		if strings.HasPrefix(args[0], "-v") {
			varName = args[0][2:]
			args = args[1:]
			continue
		}
		break
	}
	if len(args) == 0 {
		r.errorf("printf: usage: printf [-v var] format [arguments]")
		return 2
	}
	if varName != "" && !printfVarName(varName) {
		// A usage error, found before anything is formatted (bash).
		r.errorf("printf: `%s': not a valid identifier", varName)
		return 2
	}
	pf := &printer{r: r, args: args[1:]}
	format := args[0]
	for {
		consumed := pf.next
		stop := pf.format(format)
		if stop || pf.next >= len(pf.args) || pf.next == consumed {
			break
		}
	}
	st := pf.status
	if varName != "" {
		if err := r.assignPrintfVar(varName, pf.out.String()); err != nil {
			r.errorf("printf: %v", err)
			return 1
		}
		return st
	}
	// Checked here, not left to runBuiltinFn: a printf that already
	// failed (an invalid number) must still say its output was lost.
	if _, err := r.stdout().Write([]byte(pf.out.String())); err != nil {
		r.errorf("printf: write error: %s", errText(err))
		return 1
	}
	return st
}

// printfVarName reports whether -v can name it: NAME or NAME[INDEX].
func printfVarName(name string) bool {
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		return shell.ValidName(name[:i])
	}
	return shell.ValidName(name)
}

func (r *Runner) assignPrintfVar(name, value string) error {
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		x, err := r.parseArith(name[i+1 : len(name)-1])
		if err != nil {
			return err
		}
		return r.assignIndex(name[:i], x, value, false)
	}
	if !shell.ValidName(name) {
		return fmt.Errorf("`%s': not a valid identifier", name)
	}
	return r.assign(name, value)
}

type printer struct {
	r      *Runner
	args   []string
	next   int
	out    strings.Builder
	status int
}

func (p *printer) arg() (string, bool) {
	if p.next >= len(p.args) {
		return "", false
	}
	a := p.args[p.next]
	p.next++
	return a, true
}

// format writes one pass over the format; stop is set by \c in %b.
func (p *printer) format(f string) (stop bool) {
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch c {
		case '\\':
			n, s, st := printfEscape(f[i:], false)
			p.out.WriteString(s)
			i += n - 1
			if st {
				return true
			}
		case '%':
			if i+1 < len(f) && f[i+1] == '%' {
				p.out.WriteByte('%')
				i++
				continue
			}
			n, st := p.directive(f[i:])
			i += n - 1
			if st {
				return true
			}
		default:
			p.out.WriteByte(c)
		}
	}
	return false
}

// directive handles one %… conversion at the start of f and returns its
// length.
func (p *printer) directive(f string) (n int, stop bool) {
	i := 1
	flags := ""
	for i < len(f) && strings.IndexByte("-+ #0'", f[i]) >= 0 {
		flags += string(f[i])
		i++
	}
	width, prec := "", ""
	hasPrec := false
	if i < len(f) && f[i] == '*' {
		a, _ := p.arg()
		w, _ := p.intArg(a)
		width = strconv.FormatInt(w, 10)
		i++
	} else {
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			width += string(f[i])
			i++
		}
	}
	if i < len(f) && f[i] == '.' {
		hasPrec = true
		i++
		if i < len(f) && f[i] == '*' {
			a, _ := p.arg()
			v, _ := p.intArg(a)
			prec = strconv.FormatInt(v, 10)
			i++
		} else {
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				prec += string(f[i])
				i++
			}
		}
	}
	if p.r.cfg.Sandbox > 0 && (len(width) > 4 || len(prec) > 4) {
		p.r.errorf("printf: %v", errSandbox)
		p.status = 1
		return len(f), true
	}
	// Length modifiers are accepted and ignored.
	for i < len(f) && strings.IndexByte("hlLjzt", f[i]) >= 0 {
		i++
	}
	if i >= len(f) {
		p.r.errorf("printf: %s: invalid conversion specification", f)
		p.status = 1
		return len(f), false
	}
	verb := f[i]
	i++
	if strings.HasPrefix(width, "-") {
		flags += "-"
		width = width[1:]
	}
	spec := "%" + strings.ReplaceAll(flags, "'", "") + width
	if hasPrec {
		if strings.HasPrefix(prec, "-") {
			hasPrec = false
		} else {
			spec += "." + prec
		}
	}
	strSpec := "%" + strings.NewReplacer("'", "", "0", "").Replace(flags) + width
	if hasPrec {
		strSpec += "." + prec
	}
	switch verb {
	case 's':
		spec = strSpec
		a, _ := p.arg()
		p.out.WriteString(fmt.Sprintf(spec+"s", a))
	case 'b':
		spec = strSpec
		a, _ := p.arg()
		s, st := expandB(a)
		p.out.WriteString(fmt.Sprintf(spec+"s", s))
		if st {
			return i, true
		}
	case 'q':
		a, _ := p.arg()
		p.out.WriteString(fmt.Sprintf(strings.Split(spec, ".")[0]+"s", printfQuote(a)))
	case 'c':
		a, _ := p.arg()
		ch := ""
		if a != "" {
			_, n := utf8.DecodeRuneInString(a)
			ch = a[:n]
		}
		p.out.WriteString(fmt.Sprintf(strings.Split(spec, ".")[0]+"s", ch))
	case 'd', 'i':
		a, _ := p.arg()
		v, ok := p.intArg(a)
		if !ok {
			p.status = 1
		}
		p.out.WriteString(fmt.Sprintf(spec+"d", v))
	case 'o', 'u', 'x', 'X':
		a, _ := p.arg()
		u, ok := p.uintArg(a)
		if !ok {
			p.status = 1
		}
		goVerb := string(verb)
		if verb == 'u' {
			goVerb = "d"
		}
		if u == 0 {
			// C's # adds 0x only to a non-zero number; Go's to any.
			spec = strings.ReplaceAll(spec, "#", "")
		}
		p.out.WriteString(fmt.Sprintf(spec+goVerb, u))
	case 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A':
		a, _ := p.arg()
		v, ok := p.floatArg(a)
		if !ok {
			p.status = 1
		}
		goVerb := string(verb)
		switch verb {
		case 'F':
			goVerb = "f"
		case 'a':
			goVerb = "x"
		case 'A':
			goVerb = "X"
		}
		s := fmt.Sprintf(spec+goVerb, v)
		if math.IsInf(v, 0) || math.IsNaN(v) {
			s = strings.ToLower(s)
			if verb >= 'A' && verb <= 'Z' {
				s = strings.ToUpper(s)
			}
		}
		p.out.WriteString(s)
	case '(':
		end := strings.Index(f[i:], ")T")
		if end < 0 {
			p.r.errorf("printf: `%s': invalid time format specification", f)
			p.status = 1
			return len(f), false
		}
		tf := f[i : i+end]
		i += end + 2
		a, _ := p.arg()
		t := time.Now()
		if a != "" && a != "-1" {
			if n, err := strconv.ParseInt(a, 10, 64); err == nil {
				if n == -2 {
					t = p.r.startTime()
				} else {
					t = time.Unix(n, 0)
				}
			}
		}
		p.out.WriteString(fmt.Sprintf(spec+"s", strftime(tf, t)))
	default:
		p.r.errorf("printf: %%%c: invalid directive", verb)
		p.status = 1
		return len(f), true
	}
	return i, false
}

// intArg reads a signed numeric argument as strtoimax does: a C integer
// constant, or 'c / "c for the character's code. Out of range, it is
// clamped to the nearest int64, with an error.
func (p *printer) intArg(a string) (int64, bool) {
	v, neg, ok := p.numArg(a)
	switch {
	case !neg && v > math.MaxInt64:
		if ok {
			p.r.errorf("printf: %s: Numerical result out of range", a)
		}
		return math.MaxInt64, false
	case neg && v > 1<<63:
		if ok {
			p.r.errorf("printf: %s: Numerical result out of range", a)
		}
		return math.MinInt64, false
	case neg:
		return -int64(v), ok
	}
	return int64(v), ok
}

// uintArg reads an unsigned numeric argument as strtoumax does: a minus
// sign negates it modulo 2⁶⁴ (-1 is 18446744073709551615); out of range,
// it is the largest uint64, with an error.
func (p *printer) uintArg(a string) (uint64, bool) {
	v, neg, ok := p.numArg(a)
	switch {
	case v == math.MaxUint64 && !ok:
		return v, false // out of range, either sign
	case neg:
		return -v, ok
	}
	return v, ok
}

// numArg reads a numeric argument's sign and magnitude. An argument too
// large for 64 bits is the largest uint64 and says so; one with text
// after its number is that number (the longest leading one) and says so.
func (p *printer) numArg(a string) (v uint64, neg, ok bool) {
	if a == "" {
		return 0, false, true
	}
	if a[0] == '\'' || a[0] == '"' {
		if len(a) == 1 {
			return 0, false, true
		}
		c, _ := utf8.DecodeRuneInString(a[1:])
		return uint64(c), false, true
	}
	body := strings.TrimLeft(a, " \t\n")
	if strings.HasPrefix(body, "-") || strings.HasPrefix(body, "+") {
		neg = body[0] == '-'
		body = body[1:]
	}
	var err error
	switch {
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		v, err = strconv.ParseUint(body[2:], 16, 64)
	case strings.HasPrefix(body, "0") && len(body) > 1:
		v, err = strconv.ParseUint(body[1:], 8, 64)
	default:
		v, err = strconv.ParseUint(body, 10, 64)
	}
	if err == nil {
		return v, neg, true
	}
	if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
		p.r.errorf("printf: %s: Numerical result out of range", a)
		return math.MaxUint64, neg, false
	}
	n := 0
	for n < len(body) && body[n] >= '0' && body[n] <= '9' {
		n++
	}
	v, _ = strconv.ParseUint(body[:n], 10, 64)
	p.r.errorf("printf: %s: invalid number", a)
	return v, neg, false
}

func (p *printer) floatArg(a string) (float64, bool) {
	if a == "" {
		return 0, true
	}
	if a[0] == '\'' || a[0] == '"' {
		if len(a) == 1 {
			return 0, true
		}
		c, _ := utf8.DecodeRuneInString(a[1:])
		return float64(c), true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
	if err != nil {
		if iv, ok := p.intArgQuiet(a); ok {
			return float64(iv), true
		}
		p.r.errorf("printf: %s: invalid number", a)
		return 0, false
	}
	return v, true
}

func (p *printer) intArgQuiet(a string) (int64, bool) {
	n, err := strconv.ParseInt(a, 0, 64)
	return n, err == nil
}

// printfEscape decodes the backslash escape at the start of s in a
// printf format (or, with b, in a %b argument, where \0NNN is octal and
// \c stops output). It returns its length and its text.
func printfEscape(s string, b bool) (n int, out string, stop bool) {
	if len(s) < 2 {
		return 1, `\`, false
	}
	switch c := s[1]; c {
	case 'a':
		return 2, "\a", false
	case 'b':
		return 2, "\b", false
	case 'e', 'E':
		return 2, "\x1b", false
	case 'f':
		return 2, "\f", false
	case 'n':
		return 2, "\n", false
	case 'r':
		return 2, "\r", false
	case 't':
		return 2, "\t", false
	case 'v':
		return 2, "\v", false
	case '\\':
		return 2, `\`, false
	case '"':
		return 2, `"`, false
	case '\'':
		return 2, `'`, false
	case '?':
		return 2, `?`, false
	case 'c':
		if b {
			return 2, "", true
		}
		return 2, `\c`, false
	case 'x':
		v, k := hexDigits(s[2:], 2)
		if k == 0 {
			return 2, `\x`, false
		}
		return 2 + k, string([]byte{byte(v)}), false
	case 'u', 'U':
		max := 4
		if c == 'U' {
			max = 8
		}
		v, k := hexDigits(s[2:], max)
		if k == 0 {
			return 2, s[:2], false
		}
		return 2 + k, string(rune(v)), false
	case '0', '1', '2', '3', '4', '5', '6', '7':
		if b {
			if c == '0' {
				v, k := octDigits(s[2:], 3)
				return 2 + k, string([]byte{byte(v)}), false
			}
			v, k := octDigits(s[1:], 3)
			return 1 + k, string([]byte{byte(v)}), false
		}
		v, k := octDigits(s[1:], 3)
		return 1 + k, string([]byte{byte(v)}), false
	}
	return 2, s[:2], false
}

// expandB is %b: the argument's escapes decoded; stop at \c.
func expandB(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		n, out, stop := printfEscape(s[i:], true)
		if stop {
			return b.String(), true
		}
		b.WriteString(out)
		i += n - 1
	}
	return b.String(), false
}

// printfQuote is %q: the argument quoted so that the shell reads it back
// as the same word (bash's style: backslashes, or $'…' for control
// characters).
func printfQuote(s string) string {
	if s == "" {
		return "''"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return shellQuote(s)
		}
	}
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '~' && i == 0:
			b.WriteString(`\~`)
		case strings.ContainsRune(" \t\"'\\|&;()<>$`!*?[]{}#^,", c) || c == '=' && false:
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// strftime formats t with a C strftime format (the common conversions).
func strftime(f string, t time.Time) string {
	if f == "" {
		f = "%X"
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T', 'X':
			b.WriteString(t.Format("15:04:05"))
		case 'D', 'x':
			b.WriteString(t.Format("01/02/06"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'c':
			b.WriteString(t.Format("Mon Jan  2 15:04:05 2006"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}
