package runner

import (
	"os/user"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ansiC decodes the body of $'…': the C escapes bash knows.
func ansiC(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'e', 'E':
			b.WriteByte(27)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '\\', '\'', '"', '?':
			b.WriteByte(c)
		case 'c':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i] & 0x1f)
			} else {
				b.WriteString(`\c`)
			}
		case 'x':
			v, n := hexDigits(s[i+1:], 2)
			if n == 0 {
				b.WriteString(`\x`)
				continue
			}
			b.WriteByte(byte(v))
			i += n
		case 'u', 'U':
			max := 4
			if c == 'U' {
				max = 8
			}
			v, n := hexDigits(s[i+1:], max)
			if n == 0 {
				b.WriteByte('\\')
				b.WriteByte(c)
				continue
			}
			b.WriteString(string(rune(v)))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := octDigits(s[i:], 3)
			b.WriteByte(byte(v))
			i += n - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hexDigits(s string, max int) (v, n int) {
	for n < len(s) && n < max {
		d, ok := hexVal(s[n])
		if !ok {
			break
		}
		v = v*16 + d
		n++
	}
	return v, n
}

func hexVal(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

func octDigits(s string, max int) (v, n int) {
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '7' {
		v = v*8 + int(s[n]-'0')
		n++
	}
	return v, n
}

// tildeDir is the directory of a tilde prefix: ~ is $HOME, ~+ is $PWD,
// ~- is $OLDPWD, ~name is name's home directory.
func (r *Runner) tildeDir(name string) (string, bool) {
	switch name {
	case "":
		if h, ok := r.vars.get("HOME"); ok {
			return h, true
		}
		if u, err := user.Current(); err == nil {
			return u.HomeDir, true
		}
		return "", false
	case "+":
		return r.vars.get("PWD")
	case "-":
		return r.vars.get("OLDPWD")
	}
	if !validUserName(name) {
		return "", false
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", false
	}
	return u.HomeDir, true
}

func validUserName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

// runeLen is the number of characters in s (bytes of invalid UTF-8 count
// one each), as ${#x} counts in a UTF-8 locale.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
