package stream

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// spillOut is one output of the spilling zero-copy tee (teeSpill).
type spillOut struct {
	e     *endpoint
	alive bool // still to be fed: not dropped, not closed
	// q holds, oldest first, the bytes this output has not had yet; while
	// it holds any (behind), the output gets every new round by copy, so
	// that order is kept. nil until the output first falls behind.
	q       *queue
	cur     []byte // the part of q's oldest bytes being written now
	curC    *chunk // cur's chunk; nil when cur is spilled data in scratch
	scratch []byte // where spilled data is read back into
	full    bool   // the last splice met a full pipe (EAGAIN): wait for POLLOUT
	// stg is a private staging pipe ([read end, write end], -1 until
	// made). A file's: tee(2) writes only into pipes, so a round is teed
	// into stg and spliced on into the file. A pipe's, once it is behind:
	// queued bytes are written into stg (non-blocking: it is ours) and
	// spliced on with SPLICE_F_NONBLOCK, because the output itself may be
	// a blocking descriptor shared with others (tubo's own stdout), whose
	// O_NONBLOCK flag is not ours to set.
	stg     [2]int
	stgPend int // bytes of a pipe output's queue waiting in stg
}

// behind reports whether o still has bytes of earlier rounds to write.
func (o *spillOut) behind() bool {
	return o.stgPend > 0 || len(o.cur) > 0 || o.q != nil && o.q.pending()
}

// spillTee is the state of one teeSpill.
type spillTee struct {
	in       *endpoint
	outs     []spillOut
	opt      TeeOptions
	res      *TeeResult
	null     int // /dev/null, where rounds every output has are spliced away
	want     int // the largest round, and the size asked for staging pipes
	bufSize  int // chunk size for the bytes that are copied
	limit    int // memory per output before its queue spills to a file
	pool     sync.Pool
	abort    atomic.Bool // never set: the queues are used from this goroutine only
	nAlive   int
	moved    bool   // any byte moved yet (no fallback after that)
	have     []int  // per output: bytes of the current round it already has
	chunk    *chunk // the chunk copied rounds are read into
	chunkOff int    // first free byte of chunk
}

// teeSpill is the zero-copy Tee with Spill on. Like teeSplice it is one
// goroutine running a non-blocking event loop, but it never waits for one
// output to make room (that is what deadlocks a diamond: the join waits on
// the other branch while the tee waits on this one), and it tees straight
// into the pipes of the outputs that keep up. Each round takes the n bytes
// in the input pipe (FIONREAD; nobody else reads it, so they stay there):
//
//  1. tee(2) them into every output that is in step, SPLICE_F_NONBLOCK:
//     each gets k ≤ n of them without a copy (k < n when its pipe is
//     nearly full, 0 when full).
//  2. Consume the n bytes from the input: when every output took all of
//     them, by splice(2) into the last output instead of a tee (zero-copy);
//     otherwise the first lo bytes (the least any output took) are spliced
//     into /dev/null and the rest are read into memory.
//     When outputs lack the end of the round, the tee may wait a moment
//     for room in their pipes (see hesitation) and tee the end into them.
//  3. Queue for every output the bytes of the round it did not get (from
//     its k on). Such an output is behind: it gets later rounds by copy
//     too, in order, into its queue (memory up to SpillMem, then an
//     unlinked file), and its queue is written out as its pipe makes room
//     (through a staging pipe of its own, see spillOut.stg). Once the
//     queue is empty it is in step again, and rounds are teed into it.
//
// So the input is always consumed at once: no reader holds up the
// producer or the other readers, as on the copy path, and only the readers
// whose pipes are full cost a copy. The loop sleeps only in poll(2): for
// input when there is none, and for room in the pipes of the outputs that
// are behind.
func teeSpill(in *endpoint, eouts []endpoint, opt TeeOptions, res *TeeResult) (err error) {
	want := opt.BufSize
	if want <= 0 {
		want = pipeMaxSize()
	}
	inCap := 0
	if !opt.KeepPipeSizes {
		// Bigger pipes around the tee mean bigger rounds and fewer
		// wake-ups of everyone involved.
		inCap = growPipe(in.fd, want)
		for i := range eouts {
			if eouts[i].pipe {
				growPipe(eouts[i].fd, want)
			}
		}
	} else if c, err := unix.FcntlInt(uintptr(in.fd), unix.F_GETPIPE_SZ, 0); err == nil {
		inCap = c
	}
	t := &spillTee{in: in, opt: opt, res: res, null: -1, nAlive: len(eouts), want: want,
		bufSize: opt.BufSize, limit: opt.SpillMem,
		outs: make([]spillOut, len(eouts)), have: make([]int, len(eouts))}
	if t.bufSize <= 0 {
		t.bufSize = defaultBufSize
	}
	if t.limit <= 0 {
		t.limit = defaultSpillMem
	}
	defer t.free()
	if t.null, err = unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0); err != nil {
		return errNoSplice
	}
	for i := range t.outs {
		o := &t.outs[i]
		o.e, o.alive, o.stg = &eouts[i], true, [2]int{-1, -1}
		if o.e.pipe {
			continue // its staging pipe is made when it falls behind
		}
		// A file: an empty staging pipe at least as big as the input
		// takes all of what tee(2) copies from it.
		if err := unix.Pipe2(o.stg[:], unix.O_CLOEXEC); err != nil {
			return errNoSplice
		}
		if growPipe(o.stg[1], max(want, inCap)) < inCap || inCap <= 0 {
			return errNoSplice
		}
	}

	var (
		eof  bool
		pfds = make([]unix.PollFd, 0, len(t.outs)+1)
	)
	for {
		// Write out what the outputs that are behind have room for.
		for i := range t.outs {
			if o := &t.outs[i]; o.alive && o.behind() {
				if err := t.drain(i); err != nil {
					return err
				}
				if eof && !o.behind() {
					t.finish(i)
				}
			}
		}
		if t.nAlive == 0 {
			return nil // done, or every reader went away
		}
		if !eof {
			avail, err := unix.IoctlGetInt(in.fd, unix.TIOCINQ) // FIONREAD
			if err != nil {
				return fmt.Errorf("tee: input: FIONREAD: %w", err)
			}
			if avail > 0 {
				if err := t.round(min(avail, want)); err != nil {
					return err
				}
				continue
			}
		}
		// Nothing to do: sleep until in has data (or its end) or a full
		// output has room.
		pfds = pfds[:0]
		if !eof {
			pfds = append(pfds, unix.PollFd{Fd: int32(in.fd), Events: unix.POLLIN})
		}
		for i := range t.outs {
			if o := &t.outs[i]; o.alive && o.full {
				pfds = append(pfds, unix.PollFd{Fd: int32(o.e.fd), Events: unix.POLLOUT})
			}
		}
		if len(pfds) == 0 {
			continue
		}
		if _, err := unix.Poll(pfds, -1); err != nil && err != unix.EINTR {
			return fmt.Errorf("tee: poll: %w", err)
		}
		if !eof && pfds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 && pfds[0].Revents&unix.POLLIN == 0 {
			// No writer left and nothing in the pipe: the end. Close
			// each output that has everything now: its reader may wait
			// for this EOF before it reads another output.
			eof = true
			for i := range t.outs {
				if o := &t.outs[i]; o.alive && !o.behind() {
					t.finish(i)
				}
			}
		}
	}
}

// round moves the first n bytes of the input (n ≤ what it holds) to every
// live output: see teeSpill.
func (t *spillTee) round(n int) error {
	const nb = unix.SPLICE_F_NONBLOCK
	last, anyBehind := -1, false // last: the last output in step
	for i := range t.outs {
		o := &t.outs[i]
		t.have[i] = n // dropped and closed outputs need nothing
		if !o.alive {
			continue
		}
		if o.behind() {
			anyBehind = true
			t.have[i] = 0
			continue
		}
		if o.e.pipe {
			last = i
		}
	}
	// 1. Tee into every output in step (but the last, which may take the
	// round by splice(2) below).
	lo := n
	for i := range t.outs {
		o := &t.outs[i]
		if !o.alive || t.have[i] == 0 || i == last && !anyBehind {
			continue
		}
		if err := t.teeInto(i, n); err != nil {
			return err
		}
		lo = min(lo, t.have[i])
	}
	// 2. Consume the round from the input.
	base, consumed := 0, false // the bytes of the round consumed so far
	if last >= 0 && !anyBehind {
		if lo == n {
			// Everyone else took it all: move it into the last one.
			k, err := unix.Splice(t.in.fd, nil, t.outs[last].e.fd, nil, n, nb|unix.SPLICE_F_MOVE)
			switch {
			case err == unix.EAGAIN:
				k = 0
			case err == unix.EPIPE:
				if err := t.drop(last, err); err != nil {
					return err
				}
				k = 0
			case err == unix.EINVAL && !t.moved:
				return errNoSplice
			case err != nil:
				return fmt.Errorf("tee: output %d: splice(2): %w", last, err)
			}
			if t.outs[last].alive {
				// It lacks [k, n), which is still in the input.
				t.have[last] = int(k)
				t.res.addOut(last, k)
				t.moved = t.moved || k > 0
				base, consumed = int(k), true
			}
		} else {
			if err := t.teeInto(last, n); err != nil {
				return err
			}
			lo = min(lo, t.have[last])
		}
	}
	if !consumed {
		if anyBehind {
			lo = 0 // they need the whole round in memory
		}
		if err := t.discard(lo); err != nil {
			return err
		}
		base = lo
	}
	if !anyBehind && base < n {
		var err error
		if base, err = t.hesitate(base, n); err != nil {
			return err
		}
	}
	// 3. Read the rest and queue it for whoever lacks it.
	for base < n {
		c := t.chunk
		if c == nil || len(c.buf)-t.chunkOff < t.bufSize/8 {
			if c != nil {
				c.release()
			}
			c = getChunk(&t.pool, t.bufSize)
			t.chunk, t.chunkOff = c, 0
		}
		p := c.buf[t.chunkOff : t.chunkOff+min(len(c.buf)-t.chunkOff, n-base)]
		m, err := unix.Read(t.in.fd, p) // the bytes are there: no wait
		if err == unix.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			return fmt.Errorf("tee: input: reading %d bytes it holds: got %d: %v", n-base, m, err)
		}
		t.moved = true
		b := p[:m:m]
		t.chunkOff += m
		for i := range t.outs {
			o := &t.outs[i]
			if !o.alive || t.have[i] >= base+m {
				continue
			}
			from := max(t.have[i]-base, 0)
			if o.q == nil {
				o.q = newQueue(t.limit, true, t.opt.SpillDir)
			}
			c.refs.Add(1)
			if !o.q.push(seg{c: c, b: b[from:]}, &t.abort) {
				return fmt.Errorf("tee: output %d: spill: %w", i, o.q.err)
			}
		}
		base += m
	}
	t.res.addIn(int64(n))
	return nil
}

// hesitation is how long a round may wait for the readers that lack its
// end before they fall behind (get it by copy). A reader
// whose pipe is full only for a moment (descheduled) then stays on the
// zero-copy path; one that waits on something else (a diamond's join) costs
// this once, when it falls behind. It is bounded, so it cannot deadlock.
const hesitation = 2 // milliseconds

// hesitate: some live outputs lack the end of the round: each output i
// has the round up to have[i], and the input holds the round from base on
// (base is the least have[i]). For up to hesitation it waits for room in
// the pipes of those that lack the input's first bytes, tees those bytes
// into them, and consumes (into /dev/null) what every output now has. It
// returns how much of the round is consumed; what is left is copied.
func (t *spillTee) hesitate(base, n int) (int, error) {
	for i := range t.outs {
		if t.outs[i].alive && t.have[i] < n && !t.outs[i].e.pipe {
			return base, nil // a file lacks bytes only on an error
		}
	}
	var (
		deadline = time.Now().Add(hesitation * time.Millisecond)
		pfds     []unix.PollFd
		idx      []int
	)
	for base < n {
		// Tee the first bytes of the input into the outputs that lack
		// them, as far as their pipes take.
		moved := false
		pfds, idx = pfds[:0], idx[:0]
		for i := range t.outs {
			if !t.outs[i].alive || t.have[i] != base {
				continue
			}
			if err := t.teeInto(i, n-base); err != nil {
				return base, err
			}
			if !t.outs[i].alive { // dropped: needs nothing
				t.have[i] = n
				continue
			}
			if t.have[i] > 0 {
				moved = true
			}
			t.have[i] += base // teeInto counts from the input's start
			if t.have[i] == base {
				pfds = append(pfds, unix.PollFd{Fd: int32(t.outs[i].e.fd), Events: unix.POLLOUT})
				idx = append(idx, i)
			}
		}
		next := n
		for i := range t.outs {
			if t.outs[i].alive {
				next = min(next, t.have[i])
			}
		}
		if err := t.discard(next - base); err != nil {
			return base, err
		}
		base = next
		if base == n || moved {
			continue
		}
		// Nobody at the front took anything: wait for room.
		left := time.Until(deadline)
		if left <= 0 {
			return base, nil
		}
		if _, err := unix.Poll(pfds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return base, fmt.Errorf("tee: poll: %w", err)
		}
	}
	return base, nil
}

// teeInto tees the first n bytes of the input into output i, which is in
// step, and sets have[i] to what it took (0 when its pipe is full). A
// reader that went away is dropped.
func (t *spillTee) teeInto(i, n int) error {
	o := &t.outs[i]
	dst := o.e.fd
	if !o.e.pipe {
		dst = o.stg[1]
	}
	k, err := unix.Tee(t.in.fd, dst, n, unix.SPLICE_F_NONBLOCK)
	switch {
	case err == unix.EAGAIN:
		k = 0
	case err == unix.EPIPE:
		t.have[i] = n
		return t.drop(i, err)
	case err == unix.EINVAL && !t.moved:
		return errNoSplice // not a pipe tee(2) accepts after all
	case err != nil:
		return fmt.Errorf("tee: output %d: tee(2): %w", i, err)
	}
	t.moved = t.moved || k > 0
	if !o.e.pipe {
		// Into the file at its offset; a file is never full.
		for done := int64(0); done < k; {
			m, err := unix.Splice(o.stg[0], nil, o.e.fd, nil, int(k-done), unix.SPLICE_F_MOVE)
			if err != nil || m == 0 {
				return fmt.Errorf("tee: output %d: splice(2) into the file: %d of %d bytes: %v", i, done, k, err)
			}
			done += m
		}
	}
	t.have[i] = int(k)
	t.res.addOut(i, k)
	return nil
}

// discard consumes the first n bytes of the input without copying them.
func (t *spillTee) discard(n int) error {
	for done := 0; done < n; {
		m, err := unix.Splice(t.in.fd, nil, t.null, nil, n-done, unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE)
		if err != nil || m == 0 {
			return fmt.Errorf("tee: input: consuming %d teed bytes: got %d: %v", n, done, err)
		}
		done += int(m)
	}
	return nil
}

// drain writes output i's queued bytes until its pipe is full or the queue
// is empty (then it is in step again).
func (t *spillTee) drain(i int) error {
	o := &t.outs[i]
	o.full = false
	for {
		if o.stgPend > 0 {
			n, err := unix.Splice(o.stg[0], nil, o.e.fd, nil, o.stgPend, unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE)
			switch {
			case err == nil:
				o.stgPend -= int(n)
				t.res.Copied[i] += n
				t.res.addOut(i, n)
			case err == unix.EINTR:
			case err == unix.EAGAIN:
				o.full = true
				return nil
			case err == unix.EPIPE:
				return t.drop(i, err)
			default:
				return fmt.Errorf("tee: output %d: splice(2): %w", i, err)
			}
			continue
		}
		if len(o.cur) == 0 {
			if o.curC != nil {
				o.curC.release()
				o.curC = nil
			}
			if !o.q.pending() {
				return nil
			}
			if o.scratch == nil {
				o.scratch = make([]byte, t.bufSize)
			}
			b, c, err := o.q.next(o.scratch, &t.abort)
			if err != nil {
				return fmt.Errorf("tee: output %d: spill: %w", i, err)
			}
			o.cur, o.curC = b, c
		}
		if !o.e.pipe {
			// A file: write(2) does not wait for a reader.
			n, err := o.e.writeAll(o.cur, -1)
			o.cur = o.cur[n:]
			t.res.Copied[i] += int64(n)
			t.res.addOut(i, int64(n))
			if err != nil {
				return fmt.Errorf("tee: output %d: %w", i, err)
			}
			continue
		}
		if o.stg[0] < 0 {
			if err := unix.Pipe2(o.stg[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
				return fmt.Errorf("tee: output %d: staging pipe: %w", i, err)
			}
			growPipe(o.stg[1], t.want)
		}
		// stg is empty: the write takes as much as it holds.
		n, err := unix.Write(o.stg[1], o.cur)
		if err != nil && err != unix.EINTR || n <= 0 && err == nil {
			return fmt.Errorf("tee: output %d: writing its staging pipe: %d bytes: %v", i, n, err)
		}
		if n > 0 {
			o.cur = o.cur[n:]
			o.stgPend += n
		}
	}
}

// drop takes output i, whose reader went away, out of the tee.
func (t *spillTee) drop(i int, err error) error {
	t.res.Dropped[i] = true
	t.finish(i)
	if t.opt.FailOnReaderExit {
		return readerGone(i, err)
	}
	return nil
}

// finish closes output i: it has everything, or its reader is gone.
func (t *spillTee) finish(i int) {
	o := &t.outs[i]
	if !o.alive {
		return
	}
	o.alive = false
	t.nAlive--
	o.release()
	o.e.f.Close()
}

// release drops what o still holds in memory and on disk.
func (o *spillOut) release() {
	if o.curC != nil {
		o.curC.release()
		o.curC = nil
	}
	o.cur = nil
	if o.q != nil {
		o.q.free()
		o.q = nil
	}
}

func (t *spillTee) free() {
	for i := range t.outs {
		o := &t.outs[i]
		o.release()
		for _, fd := range o.stg {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
	if t.chunk != nil {
		t.chunk.release()
	}
	if t.null >= 0 {
		unix.Close(t.null)
	}
}
