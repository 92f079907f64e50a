package runner

import (
	"fmt"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// compound runs a compound command inside tubo: a group, if, while,
// until, for or case. Its redirections were made by the caller.
func (r *Runner) compound(cmd syntax.Command) int {
	switch c := cmd.(type) {
	case *syntax.Block:
		r.stmts(c.Stmts)
		return r.status
	case *syntax.IfClause:
		return r.ifClause(c)
	case *syntax.WhileClause:
		return r.whileClause(c)
	case *syntax.ForClause:
		return r.forClause(c)
	case *syntax.CaseClause:
		return r.caseClause(c)
	}
	r.errorf("%T is not supported", cmd)
	return 2
}

func (r *Runner) ifClause(c *syntax.IfClause) int {
	for ; c != nil; c = c.Else {
		if c.ThenPos.IsValid() {
			// if or elif: a condition, then its branch.
			if !r.cond(c.Cond) {
				if r.unwinding() {
					return r.status
				}
				continue
			}
			if r.unwinding() {
				return r.status
			}
			r.stmts(c.Then)
			return r.status
		}
		// else
		r.stmts(c.Then)
		return r.status
	}
	// No branch ran: the status is 0, as POSIX says.
	return 0
}

// loopBody runs one iteration's body and reports whether the loop stops:
// break, exit or return; continue N>1 stops this loop and continues an
// outer one.
func (r *Runner) loopBody(body []*syntax.Stmt) (stop bool) {
	r.stmts(body)
	return r.loopControl()
}

func (r *Runner) loopControl() (stop bool) {
	switch {
	case r.breakN > 0:
		r.breakN--
		return true
	case r.contN > 0:
		r.contN--
		return r.contN > 0
	}
	return r.exiting || r.returning
}

func (r *Runner) whileClause(c *syntax.WhileClause) int {
	r.loopDepth++
	defer func() { r.loopDepth-- }()
	st := 0
	for {
		ok := r.cond(c.Cond)
		if r.breakN > 0 || r.contN > 0 {
			if r.loopControl() {
				break
			}
			continue
		}
		if r.unwinding() {
			return r.status
		}
		if ok == c.Until {
			break
		}
		stop := r.loopBody(c.Do)
		st = r.status
		if stop {
			break
		}
	}
	return st
}

func (r *Runner) forClause(c *syntax.ForClause) int {
	r.loopDepth++
	defer func() { r.loopDepth-- }()
	switch l := c.Loop.(type) {
	case *syntax.WordIter:
		var items []string
		if l.InPos.IsValid() {
			var err error
			items, err = r.fields(l.Items)
			if err != nil {
				return r.expandFailed(err)
			}
		} else {
			items = append([]string(nil), r.args...)
		}
		name := l.Name.Value
		st := 0
		for _, it := range items {
			if err := r.assign(name, it); err != nil {
				r.errorf("%v", err)
				return 1
			}
			stop := r.loopBody(c.Do)
			st = r.status
			if stop {
				break
			}
		}
		return st
	case *syntax.CStyleLoop:
		if l.Init != nil {
			if _, err := r.arithm(l.Init); err != nil {
				return r.arithFailed(err)
			}
		}
		st := 0
		for {
			if l.Cond != nil {
				v, err := r.arithm(l.Cond)
				if err != nil {
					return r.arithFailed(err)
				}
				if v == 0 {
					break
				}
			}
			stop := r.loopBody(c.Do)
			st = r.status
			if stop {
				break
			}
			if l.Post != nil {
				if _, err := r.arithm(l.Post); err != nil {
					return r.arithFailed(err)
				}
			}
		}
		return st
	}
	return 0
}

func (r *Runner) caseClause(c *syntax.CaseClause) int {
	word, err := r.literal(c.Word)
	if err != nil {
		return r.expandFailed(err)
	}
	st := 0
	fall := false
	for i := 0; i < len(c.Items); i++ {
		it := c.Items[i]
		matched := fall
		if !matched {
			for _, p := range it.Patterns {
				pat, err := r.patternWord(p)
				if err != nil {
					return r.expandFailed(err)
				}
				if r.match(pat, word) {
					matched = true
					break
				}
			}
		}
		if !matched {
			continue
		}
		r.stmts(it.Stmts)
		st = r.status
		if r.unwinding() {
			return st
		}
		switch it.Op {
		case syntax.Break:
			return st
		case syntax.Fallthrough: // ;&
			fall = true
		case syntax.Resume: // ;;&
			fall = false
		}
	}
	return st
}

// arithCmd runs (( expr )): status 0 when the value is not zero.
func (r *Runner) arithCmd(c *syntax.ArithmCmd) int {
	v, err := r.arithm(c.X)
	if err != nil {
		return r.arithFailed(err)
	}
	if r.opts[optXtrace] {
		r.xtraceLine("((" + printNode(c.X) + "))")
	}
	if v == 0 {
		return 1
	}
	return 0
}

// letClause runs `let expr…`: the status says whether the last value is
// not zero.
func (r *Runner) letClause(c *syntax.LetClause) int {
	var v int64
	for _, x := range c.Exprs {
		var err error
		v, err = r.arithm(x)
		if err != nil {
			return r.arithFailed(err)
		}
	}
	if v == 0 {
		return 1
	}
	return 0
}

// timeClause runs `time pipeline` and prints its real, user and system
// time on stderr, as bash does (POSIX format with -p).
func (r *Runner) timeClause(s *syntax.Stmt, c *syntax.TimeClause) int {
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
	var self0, self1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	start := time.Now()
	st := 0
	if c.Stmt != nil {
		r.stmt(c.Stmt)
		st = r.status
	}
	real := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
	syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	user := tv(after.Utime) - tv(before.Utime) + tv(self1.Utime) - tv(self0.Utime)
	sys := tv(after.Stime) - tv(before.Stime) + tv(self1.Stime) - tv(self0.Stime)
	w := r.stderr()
	if c.PosixFormat {
		fmt.Fprintf(w, "real %.2f\nuser %.2f\nsys %.2f\n", real.Seconds(), user.Seconds(), sys.Seconds())
	} else {
		fmt.Fprintf(w, "\nreal\t%s\nuser\t%s\nsys\t%s\n", minSec(real), minSec(user), minSec(sys))
	}
	return st
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

func minSec(d time.Duration) string {
	m := int(d / time.Minute)
	s := (d - time.Duration(m)*time.Minute).Seconds()
	return fmt.Sprintf("%dm%.3fs", m, s)
}
