package stream

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// stagingDepth is how many staging pipes each output has. With two, the
// next round can be teed while the outputs still drain the previous one.
const stagingDepth = 2

// spliceOut is one output of the splice path.
type spliceOut struct {
	e     *endpoint
	stg   [stagingDepth][2]int // private staging pipes: [read end, write end]
	cap   [stagingDepth]int    // their capacity in bytes
	pend  [stagingDepth]int    // bytes of a round still in each staging pipe
	head  int                  // staging pipe being drained
	alive bool
	full  bool // last splice to the output met a full pipe (EAGAIN)
}

// teeSplice is the zero-copy Tee for pipes. It runs in one goroutine as a
// non-blocking event loop (every tee/splice has SPLICE_F_NONBLOCK, waits
// are one poll(2) over everything that is stuck), so that it works the
// same on blocking and non-blocking descriptors and never sleeps on one
// output while another could move.
//
// Why staging pipes: tee(2) duplicates the first bytes of in without
// consuming them, but it cannot start at an offset. Teeing straight into
// the outputs would copy different amounts into outputs with different
// free room, and the rest could never be sent. So each round:
//
//  1. tee(in → S) into the staging pipe S with the least capacity among
//     those that are free (empty) for this round: it copies n0 bytes, the
//     first n0 bytes of in, without consuming them.
//  2. tee(in → S_i, n0) into every other live output's free staging pipe.
//     An empty staging pipe with at least S's capacity has room for every
//     pipe buffer that held those n0 bytes, so each copy is exactly n0.
//  3. splice(in → S_last, n0) for the last live output instead of a tee:
//     this consumes the n0 bytes from in (the same room argument holds).
//  4. splice(S_i → out_i) moves each output's round out as its reader
//     makes room; a slow reader holds only its own staging pipes.
//
// A round can start only when every live output has a free staging pipe,
// so the slowest reader sets the pace but never loses data, and memory is
// the kernel's pipe buffers (stagingDepth × ≤1 MiB per output).
func teeSplice(in *endpoint, eouts []endpoint, opt TeeOptions, res *TeeResult) (err error) {
	want := opt.BufSize
	if want <= 0 {
		want = pipeMaxSize()
	}
	if !opt.KeepPipeSizes {
		// Bigger pipes around the tee mean bigger rounds and fewer
		// wake-ups of everyone involved.
		growPipe(in.fd, want)
		for i := range eouts {
			if eouts[i].pipe {
				growPipe(eouts[i].fd, want)
			}
		}
	}
	outs := make([]spliceOut, len(eouts))
	defer func() {
		for i := range outs {
			for _, p := range outs[i].stg {
				if p[0] >= 0 {
					unix.Close(p[0])
					unix.Close(p[1])
				}
			}
		}
	}()
	for i := range outs {
		o := &outs[i]
		o.e, o.alive = &eouts[i], true
		for d := range o.stg {
			o.stg[d] = [2]int{-1, -1}
		}
		for d := range o.stg {
			var p [2]int
			// Staging pipes stay blocking: SPLICE_F_NONBLOCK on each
			// call is what keeps the loop from sleeping.
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				return errNoSplice
			}
			o.stg[d] = p
			o.cap[d] = growPipe(p[1], want)
			if o.cap[d] <= 0 {
				return errNoSplice
			}
		}
	}

	const nb = unix.SPLICE_F_NONBLOCK
	var (
		eof      bool
		moved    bool // any byte moved yet (no fallback after that)
		inEmpty  bool // last tee from in found it empty
		pfds     = make([]unix.PollFd, 0, len(outs)+1)
		round    int // staging index of the next round
		nAlive   = len(outs)
		maxRound = want
	)
	drop := func(i int, err error) error {
		res.Dropped[i] = true
		outs[i].alive = false
		nAlive--
		if opt.FailOnReaderExit {
			return readerGone(i, err)
		}
		return nil
	}
	for nAlive > 0 {
		progress := false

		// Start a round when every live output has a free staging pipe.
		canFill := !eof
		first := -1
		for i := range outs {
			o := &outs[i]
			if !o.alive {
				continue
			}
			if o.pend[round] != 0 {
				canFill = false
				break
			}
			if first < 0 || o.cap[round] < outs[first].cap[round] {
				first = i
			}
		}
		if canFill {
			// With one live output there is nothing to duplicate: move
			// the data into its staging pipe.
			var n0 int64
			var err error
			if nAlive == 1 {
				n0, err = unix.Splice(in.fd, nil, outs[first].stg[round][1], nil, maxRound, nb|unix.SPLICE_F_MOVE)
			} else {
				n0, err = unix.Tee(in.fd, outs[first].stg[round][1], maxRound, nb)
			}
			switch {
			case err == unix.EAGAIN:
				inEmpty = true
			case err == unix.EINVAL && !moved:
				// Not a pipe tee(2) accepts after all.
				return errNoSplice
			case err != nil:
				return fmt.Errorf("tee: input: tee(2): %w", err)
			case n0 == 0:
				eof = true
			default:
				inEmpty = false
				moved, progress = true, true
				if nAlive == 1 {
					outs[first].pend[round] = int(n0)
				} else if err := teeRound(in, outs, first, round, int(n0)); err != nil {
					return err
				}
				res.addIn(n0)
				round = (round + 1) % stagingDepth
			}
		}

		// Drain every output's oldest round as far as its reader allows.
		for i := range outs {
			o := &outs[i]
			o.full = false
			for o.alive && o.pend[o.head] > 0 {
				n, err := unix.Splice(o.stg[o.head][0], nil, o.e.fd, nil, o.pend[o.head], nb|unix.SPLICE_F_MOVE)
				if err == unix.EAGAIN {
					o.full = true
					break
				}
				if err == unix.EPIPE {
					if err := drop(i, err); err != nil {
						return err
					}
					break
				}
				if err != nil {
					return fmt.Errorf("tee: output %d: splice(2): %w", i, err)
				}
				progress = true
				res.addOut(i, n)
				o.pend[o.head] -= int(n)
				if o.pend[o.head] == 0 {
					o.head = (o.head + 1) % stagingDepth
				}
			}
		}

		if eof {
			// Close each output as soon as it has everything: its
			// reader may wait for EOF before it reads another output.
			busy := false
			for i := range outs {
				o := &outs[i]
				if o.alive && o.pend[o.head] > 0 {
					busy = true
				} else if o.alive {
					o.alive = false
					o.e.f.Close()
				}
			}
			if !busy {
				return nil
			}
		}
		if progress {
			continue
		}
		// Nothing moved: sleep until in has data (if a round could
		// start) or some output has room.
		pfds = pfds[:0]
		if canFill && inEmpty {
			pfds = append(pfds, unix.PollFd{Fd: int32(in.fd), Events: unix.POLLIN})
		}
		for i := range outs {
			if outs[i].alive && outs[i].full {
				pfds = append(pfds, unix.PollFd{Fd: int32(outs[i].e.fd), Events: unix.POLLOUT})
			}
		}
		if len(pfds) == 0 {
			continue
		}
		if _, err := unix.Poll(pfds, -1); err != nil && err != unix.EINTR {
			return fmt.Errorf("tee: poll: %w", err)
		}
	}
	return nil
}

// teeRound does steps 2 and 3 of a round whose first n0 bytes are already
// in outs[first]'s staging pipe number round; there are at least two live
// outputs.
func teeRound(in *endpoint, outs []spliceOut, first, round, n0 int) error {
	last := -1
	for i := len(outs) - 1; i >= 0; i-- {
		if outs[i].alive && i != first {
			last = i
			break
		}
	}
	for i := range outs {
		o := &outs[i]
		if !o.alive || i == first || i == last {
			continue
		}
		n, err := unix.Tee(in.fd, o.stg[round][1], n0, unix.SPLICE_F_NONBLOCK)
		if err != nil || int(n) != n0 {
			return fmt.Errorf("tee: output %d: tee(2) copied %d of %d bytes: %v", i, n, n0, err)
		}
	}
	// Consume the round from in by moving it into the last output's
	// staging pipe (the same room argument holds).
	dst := outs[last].stg[round][1]
	for done := 0; done < n0; {
		n, err := unix.Splice(in.fd, nil, dst, nil, n0-done, unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE)
		if err != nil || n == 0 {
			return fmt.Errorf("tee: input: consuming %d teed bytes: got %d: %v", n0, done, err)
		}
		done += int(n)
	}
	for i := range outs {
		if outs[i].alive {
			outs[i].pend[round] = n0
		}
	}
	return nil
}
