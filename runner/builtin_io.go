package runner

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/tubo-pipes/tubo/parser/shell"
)

// The builtins that read and write: echo, printf, read, mapfile.

func init() {
	register("echo", echoBuiltin, false)
	register("printf", printfBuiltin, false)
	register("read", readBuiltin, false)
	register("mapfile", mapfileBuiltin, false)
	register("readarray", mapfileBuiltin, false)
}

// echoBuiltin is dash's echo: -n (as the first argument) drops the
// newline; backslash escapes are always interpreted: \a \b \c (stop)
// \f \n \r \t \v \\ and \0NNN. Other options are printed as they are.
func echoBuiltin(r *Runner, args []string) int {
	args = args[1:]
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl = false
		args = args[1:]
	}
	var b []byte
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		var stop bool
		b, stop = appendEcho(b, a)
		if stop {
			nl = false
			break
		}
	}
	if nl {
		b = append(b, '\n')
	}
	r.stdout().Write(b) // a failed write fails echo (runBuiltinFn)
	return 0
}

// appendEcho appends s with echo's escapes done; stop is set by \c.
func appendEcho(b []byte, s string) ([]byte, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return append(b, s...), false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'a':
			b = append(b, 7)
		case 'b':
			b = append(b, 8)
		case 'c':
			return b, true
		case 'f':
			b = append(b, 12)
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'v':
			b = append(b, 11)
		case '\\':
			b = append(b, '\\')
		case '0':
			v, n := octDigits(s[i+1:], 3)
			b = append(b, byte(v))
			i += n
		default:
			b = append(b, '\\', s[i])
		}
	}
	return b, false
}

// readBuiltin is read [-ers] [-a NAME] [-d DELIM] [-n N] [-N N] [-p
// PROMPT] [-t SECS] [-u FD] [NAME…]: one line, split at IFS into the
// names (the last takes the rest), REPLY without names. It reads a byte
// at a time from a pipe or terminal, so that what follows the line stays
// for the next reader; from a regular file it reads a block and seeks
// back.
func readBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	raw, silent := false, false
	var arrayName, prompt string
	delim := byte('\n')
	nchars, exact := -1, false
	fd := 0
	var timeout time.Duration
	hasTimeout := false
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 'r':
			raw = true
		case 's':
			silent = true
		case 'e':
		case 'a', 'd', 'n', 'N', 'p', 't', 'u':
			v, ok := p.arg()
			if !ok {
				return r.usage("read", "-%c: option requires an argument", c)
			}
			switch c {
			case 'a':
				arrayName = v
			case 'd':
				if v == "" {
					delim = 0
				} else {
					delim = v[0]
				}
			case 'n', 'N':
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return r.usage("read", "%s: invalid number", v)
				}
				nchars, exact = n, c == 'N'
			case 'p':
				prompt = v
			case 't':
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 {
					return r.usage("read", "%s: invalid timeout specification", v)
				}
				timeout, hasTimeout = time.Duration(f*float64(time.Second)), true
			case 'u':
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return r.usage("read", "%s: invalid file descriptor specification", v)
				}
				fd = n
			}
		default:
			return r.usage("read", "-%c: invalid option", c)
		}
	}
	names := p.rest()
	for _, n := range names {
		if !shell.ValidName(n) {
			r.errorf("read: `%s': not a valid identifier", n)
			return 2
		}
	}
	f := r.fds[fd]
	if f == nil {
		r.errorf("read: %d: invalid file descriptor: Bad file descriptor", fd)
		return 1
	}
	if prompt != "" && term.IsTerminal(int(f.Fd())) {
		io.WriteString(r.stderr(), prompt)
	}
	if silent && term.IsTerminal(int(f.Fd())) {
		if st, err := term.MakeRaw(int(f.Fd())); err == nil {
			defer term.Restore(int(f.Fd()), st)
		}
	}
	if hasTimeout && timeout == 0 {
		// read -t 0: is input available?
		if readable(f) {
			return 0
		}
		return 1
	}
	line, ok, err := r.readLine(f, delim, nchars, raw || exact, timeout)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		r.storeRead(names, arrayName, line, raw, exact)
		return 142
	}
	r.storeRead(names, arrayName, line, raw, exact)
	if !ok {
		return 1
	}
	return 0
}

// storeRead assigns what read read.
func (r *Runner) storeRead(names []string, arrayName, line string, raw, exact bool) {
	if exact {
		name := "REPLY"
		if len(names) > 0 {
			name = names[0]
		}
		r.assign(name, line)
		return
	}
	if arrayName != "" {
		fields := r.readFields(line, 0, raw)
		r.vars.unset(arrayName)
		v := r.vars.ensure(arrayName)
		v.kind, v.arr, v.set = kIndexed, newIndexed(fields), true
		return
	}
	if len(names) == 0 {
		if !raw {
			line = unescapeRead(line)
		}
		r.assign("REPLY", line)
		return
	}
	fields := r.readFields(line, len(names), raw)
	for i, n := range names {
		v := ""
		if i < len(fields) {
			v = fields[i]
		}
		if err := r.assign(n, v); err != nil {
			r.errorf("read: %v", err)
		}
	}
}

// readLine reads up to delim (or nchars characters). ok is false at end
// of file before delim. Without raw, a backslash before the newline joins
// lines; the backslashes are kept for readFields to honour.
func (r *Runner) readLine(f *os.File, delim byte, nchars int, raw bool, timeout time.Duration) (string, bool, error) {
	fd := int(f.Fd())
	var b bytes.Buffer
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	h := processHub()
	h.busy.Store(true)
	defer h.busy.Store(false)
	seekable := false
	if _, err := unix.Seek(fd, 0, io.SeekCurrent); err == nil {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			seekable = true
		}
	}
	var buf [4096]byte
	var pending []byte
	count := 0
	readByte := func() (byte, error) {
		if len(pending) > 0 {
			c := pending[0]
			pending = pending[1:]
			return c, nil
		}
		if !deadline.IsZero() {
			ms := int(time.Until(deadline) / time.Millisecond)
			if ms <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(pfd, ms)
			if err == nil && n == 0 {
				return 0, os.ErrDeadlineExceeded
			}
		}
		if seekable {
			n, err := readRetry(fd, buf[:])
			if n <= 0 {
				if err == nil {
					err = io.EOF
				}
				return 0, err
			}
			pending = append(pending[:0], buf[1:n]...)
			return buf[0], nil
		}
		var one [1]byte
		for {
			n, err := readRetry(fd, one[:])
			if n == 1 {
				return one[0], nil
			}
			if err == unix.EAGAIN {
				pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				unix.Poll(pfd, -1)
				continue
			}
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
	}
	defer func() {
		if seekable && len(pending) > 0 {
			unix.Seek(fd, int64(-len(pending)), io.SeekCurrent)
		}
	}()
	for {
		if nchars >= 0 && count >= nchars {
			return b.String(), true, nil
		}
		c, err := readByte()
		if err != nil {
			return b.String(), false, err
		}
		if c == 0 && delim != 0 {
			// NUL bytes are dropped, as bash does.
			continue
		}
		if c == delim && (nchars < 0 || !raw) {
			return b.String(), true, nil
		}
		if !raw && c == '\\' {
			c2, err := readByte()
			if err != nil {
				return b.String(), false, err
			}
			if c2 == '\n' {
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(c2)
			count++
			continue
		}
		b.WriteByte(c)
		if c < 0x80 || c >= 0xc0 {
			count++
		}
	}
}

// readable reports whether f has input ready (read -t 0).
func readable(f *os.File) bool {
	pfd := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}

// readFields splits a line read by read into at most n fields (0: no
// limit) at IFS; a backslash (without -r) protects the next character.
func (r *Runner) readFields(line string, n int, raw bool) []string {
	ifs := r.ifs()
	// Mark escaped characters so that they neither split nor vanish.
	type ch struct {
		c   byte
		esc bool
	}
	chars := make([]ch, 0, len(line))
	for i := 0; i < len(line); i++ {
		if !raw && line[i] == '\\' && i+1 < len(line) {
			i++
			chars = append(chars, ch{line[i], true})
			continue
		}
		chars = append(chars, ch{line[i], false})
	}
	class := func(x ch) uint8 {
		if x.esc || x.c >= 0x80 {
			return 0
		}
		return ifs.ascii[x.c]
	}
	if ifs.empty {
		var b strings.Builder
		for _, x := range chars {
			b.WriteByte(x.c)
		}
		return []string{b.String()}
	}
	var out []string
	i := 0
	for i < len(chars) && class(chars[i]) == 1 {
		i++
	}
	for i < len(chars) {
		if n > 0 && len(out) == n-1 {
			// The last name gets the rest, less trailing IFS white space.
			end := len(chars)
			for end > i && class(chars[end-1]) == 1 {
				end--
			}
			// and a single trailing IFS delimiter.
			if end > i && class(chars[end-1]) == 2 {
				j := end - 1
				k := j
				for k > i && class(chars[k-1]) == 1 {
					k--
				}
				if k > i && class(chars[k-1]) != 2 || k == i {
					// "a b," with two names: b keeps the comma only when
					// another delimiter precedes it.
					onlyOne := true
					for m := i; m < j; m++ {
						if class(chars[m]) == 2 {
							onlyOne = false
							break
						}
					}
					if onlyOne {
						end = k
					}
				}
			}
			var b strings.Builder
			for _, x := range chars[i:end] {
				b.WriteByte(x.c)
			}
			out = append(out, b.String())
			return out
		}
		var b strings.Builder
		for i < len(chars) && class(chars[i]) == 0 {
			b.WriteByte(chars[i].c)
			i++
		}
		out = append(out, b.String())
		// Skip one delimiter: white space, at most one other IFS
		// character, white space.
		for i < len(chars) && class(chars[i]) == 1 {
			i++
		}
		if i < len(chars) && class(chars[i]) == 2 {
			i++
			for i < len(chars) && class(chars[i]) == 1 {
				i++
			}
		}
	}
	return out
}

// unescapeRead removes the backslashes of a line read without -r.
func unescapeRead(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mapfileBuiltin is mapfile [-t] [-d DELIM] [-n COUNT] [-s SKIP] [-u FD]
// [ARRAY]: lines of input into an array (MAPFILE by default).
func mapfileBuiltin(r *Runner, args []string) int {
	p := newOptParser(args)
	trim := false
	delim := byte('\n')
	count, skip, fd := 0, 0, 0
	for c := p.next(false); c != 0; c = p.next(false) {
		switch c {
		case 't':
			trim = true
		case 'd', 'n', 's', 'u', 'O', 'c', 'C':
			v, ok := p.arg()
			if !ok {
				return r.usage(args[0], "-%c: option requires an argument", c)
			}
			switch c {
			case 'd':
				if v == "" {
					delim = 0
				} else {
					delim = v[0]
				}
			case 'n':
				count, _ = strconv.Atoi(v)
			case 's':
				skip, _ = strconv.Atoi(v)
			case 'u':
				fd, _ = strconv.Atoi(v)
			}
		default:
			return r.usage(args[0], "-%c: invalid option", c)
		}
	}
	name := "MAPFILE"
	if rest := p.rest(); len(rest) > 0 {
		name = rest[0]
	}
	f := r.fds[fd]
	if f == nil {
		r.errorf("%s: %d: invalid file descriptor", args[0], fd)
		return 1
	}
	var lines []string
	for {
		if count > 0 && len(lines) >= count {
			break
		}
		line, ok, _ := r.readLine(f, delim, -1, true, 0)
		if !ok && line == "" {
			break
		}
		if skip > 0 {
			skip--
			continue
		}
		if !trim && ok {
			line += string(delim)
		}
		lines = append(lines, line)
		if !ok {
			break
		}
	}
	r.vars.unset(name)
	v := r.vars.ensure(name)
	v.kind, v.arr, v.set = kIndexed, newIndexed(lines), true
	return 0
}
