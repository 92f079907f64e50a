package runner

import (
	"os"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/parser/shell"
)

func newParser() *syntax.Parser { return shell.NewParser() }

// promptExpand is ${x@P}: the prompt escapes of bash (\u \h \w \W \$ \n
// \t …), then parameter expansion.
func (r *Runner) promptExpand(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'u':
			b.WriteString(r.vars.getOr("USER", strconv.Itoa(os.Getuid())))
		case 'h':
			h, _ := os.Hostname()
			b.WriteString(strings.SplitN(h, ".", 2)[0])
		case 'H':
			h, _ := os.Hostname()
			b.WriteString(h)
		case 'w':
			b.WriteString(r.tildeShort(r.dir))
		case 'W':
			d := r.tildeShort(r.dir)
			if i := strings.LastIndexByte(d, '/'); i >= 0 && d != "/" {
				d = d[i+1:]
			}
			b.WriteString(d)
		case '$':
			if os.Geteuid() == 0 {
				b.WriteByte('#')
			} else {
				b.WriteByte('$')
			}
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte(7)
		case 'e':
			b.WriteByte(27)
		case 's':
			b.WriteString("tubo")
		case 't':
			b.WriteString(time.Now().Format("15:04:05"))
		case 'T':
			b.WriteString(time.Now().Format("03:04:05"))
		case 'A':
			b.WriteString(time.Now().Format("15:04"))
		case 'd':
			b.WriteString(time.Now().Format("Mon Jan 02"))
		case '[', ']':
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	w, err := parseDocument(b.String())
	if err != nil {
		return b.String()
	}
	out, err := r.document(w)
	if err != nil {
		return b.String()
	}
	return out
}

// Prompt is $PS1 (or $PS2 with more) expanded, for the interactive
// prompt.
func (r *Runner) Prompt(more bool) string {
	name := "PS1"
	if more {
		name = "PS2"
	}
	ps, ok := r.vars.get(name)
	if !ok {
		return ""
	}
	return r.promptExpand(ps)
}
