package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
)

// ScatterResult reports what a Scatter did.
type ScatterResult struct {
	BytesIn  int64
	BytesOut []int64 // per output
	Chunks   int64   // chunks begun
	Err      error

	live *executor.Counts // ScatterLive's
}

// scatterWindow is the most a scatter looks at or moves in one step: the
// largest pipe buffer it asks for.
const scatterWindow = 1 << 20

// Scatter cuts in into consecutive chunks of spec.Size lines, bytes or
// records and deals them round-robin, chunk k to outs[k mod len(outs)],
// as parallel --pipe does, then closes every file. A chunk is always cut
// on a record boundary.
//
// It moves the bytes with as few copies as it can:
//
//   - bytes and records need no look at the data: splice(2) moves each
//     chunk from in to its output inside the kernel (pipe or file to pipe).
//   - lines need a scan for the cut point: tee(2) duplicates what in holds
//     into a private pipe without consuming it, one read(2) of that copy
//     finds the newlines, and splice(2) then moves the bytes themselves
//     from in to the outputs: one copy into tubo, none out of it. From a
//     regular file, pread(2) is the scan and splice(2) at the same offset
//     the move.
//   - anything else (an input that is not a pipe or a file, an output that
//     is not a pipe) is read into a 1 MiB buffer and written out.
//
// An output whose reader has gone (EPIPE) ends the scatter with that
// error: the chunks it was due could not be delivered.
func Scatter(in *os.File, outs []*os.File, spec graph.ChunkSpec) ScatterResult {
	return ScatterLive(in, outs, spec, nil)
}

// ScatterLive is Scatter, counting into live (input 0, output i) the
// bytes as they move, for views of a running graph.
func ScatterLive(in *os.File, outs []*os.File, spec graph.ChunkSpec, live *executor.Counts) ScatterResult {
	res := ScatterResult{BytesOut: make([]int64, len(outs)), live: live}
	defer func() {
		err := closeAll(append([]*os.File{in}, outs...)...)
		if res.Err == nil && err != nil {
			res.Err = err
		}
	}()
	if spec.Size < 1 || len(outs) == 0 {
		res.Err = fmt.Errorf("scatter: chunks of %d %s into %d outputs", spec.Size, spec.By, len(outs))
		return res
	}
	d := &dealer{spec: spec, res: &res}
	var err error
	if d.in, err = newEndpoint(in); err != nil {
		res.Err = err
		return res
	}
	d.outs = make([]endpoint, len(outs))
	allPipes := true
	for i, f := range outs {
		if d.outs[i], err = newEndpoint(f); err != nil {
			res.Err = err
			return res
		}
		allPipes = allPipes && d.outs[i].pipe
	}
	d.reset()
	var st unix.Stat_t
	regular := unix.Fstat(d.in.fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
	switch {
	case allPipes && spec.By != graph.ChunkLines && (d.in.pipe || regular):
		growPipes(d)
		err = d.spliceChunks()
	case allPipes && d.in.pipe:
		growPipes(d)
		err = d.teeLines()
	case allPipes && regular:
		growPipes(d)
		err = d.fileLines()
	default:
		err = d.copyChunks()
	}
	if err == nil && spec.By == graph.ChunkRecords && res.BytesIn%int64(spec.Width) != 0 {
		err = fmt.Errorf("scatter: the input ended inside a record: %d bytes of a %d-byte one", res.BytesIn%int64(spec.Width), spec.Width)
	}
	res.Err = err
	return res
}

func growPipes(d *dealer) {
	growPipe(d.in.fd, scatterWindow)
	for i := range d.outs {
		growPipe(d.outs[i].fd, scatterWindow)
	}
}

// dealer is the state of one Scatter: which chunk is being dealt, and how
// much of it is left.
type dealer struct {
	in   endpoint
	outs []endpoint
	spec graph.ChunkSpec
	res  *ScatterResult
	k    int   // the chunk being dealt; it goes to outs[k % len(outs)]
	left int64 // lines, or bytes, the chunk still needs
}

// reset starts chunk d.k.
func (d *dealer) reset() {
	d.left = int64(d.spec.Size)
	if d.spec.By != graph.ChunkLines {
		d.left = d.spec.Bytes()
	}
	d.res.Chunks = int64(d.k) + 1
}

func (d *dealer) cur() int { return d.k % len(d.outs) }

// cut says how many bytes at the start of b belong to the current chunk,
// and whether they end it.
func (d *dealer) cut(b []byte) (int, bool) {
	if d.spec.By != graph.ChunkLines {
		if int64(len(b)) < d.left {
			d.left -= int64(len(b))
			return len(b), false
		}
		n := int(d.left)
		d.left = 0
		return n, true
	}
	i := 0
	for d.left > 0 {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return len(b), false
		}
		i += j + 1
		d.left--
	}
	return i, true
}

// done records n bytes dealt to the current output, and moves on to the
// next chunk when the current one is complete.
func (d *dealer) done(n int, ends bool) {
	d.res.BytesIn += int64(n)
	d.res.BytesOut[d.cur()] += int64(n)
	d.res.live.AddIn(0, int64(n))
	d.res.live.AddOut(d.cur(), int64(n))
	if ends {
		d.k++
		d.reset()
	}
}

// outErr names the output a write failed on.
func (d *dealer) outErr(err error) error {
	if errors.Is(err, unix.EPIPE) {
		return fmt.Errorf("scatter: copy %d stopped reading its chunks: %w", d.cur(), err)
	}
	return fmt.Errorf("scatter: output %d: %w", d.cur(), err)
}

// spliceChunks deals byte and record chunks by splice(2) alone.
func (d *dealer) spliceChunks() error {
	for {
		want := min(d.left, scatterWindow)
		n, err := unix.Splice(d.in.fd, nil, d.outs[d.cur()].fd, nil, int(want), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := d.waitSplice(); err != nil {
				return err
			}
			continue
		case err == unix.EINVAL && d.res.BytesIn == 0:
			return d.copyChunks() // not splicable after all
		case err != nil:
			return d.outErr(err)
		case n == 0:
			return nil
		}
		d.left -= n
		d.done(int(n), d.left == 0)
	}
}

// teeLines deals line chunks from a pipe: tee(2) a copy of what the input
// holds, read the copy to find the cuts, splice(2) the bytes themselves.
func (d *dealer) teeLines() error {
	var scan [2]int
	if err := unix.Pipe2(scan[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("scatter: scan pipe: %w", err)
	}
	defer unix.Close(scan[0])
	defer unix.Close(scan[1])
	// The copy must hold whatever the input holds.
	size := growPipe(scan[1], scatterWindow)
	if cur, err := unix.FcntlInt(uintptr(d.in.fd), unix.F_GETPIPE_SZ, 0); err == nil && cur > size {
		size = cur
	}
	buf := make([]byte, size)
	for {
		n, err := unix.Tee(d.in.fd, scan[1], size, unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := waitFd(d.in.fd, unix.POLLIN, -1); err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("scatter: tee: %w", err)
		case n == 0:
			return nil // the input is empty and its writers are gone
		}
		if err := readFull(scan[0], buf[:n]); err != nil {
			return fmt.Errorf("scatter: reading the scan copy: %w", err)
		}
		for p := 0; p < int(n); {
			m, ends := d.cut(buf[p:n])
			if err := d.spliceN(m); err != nil {
				return err
			}
			d.done(m, ends)
			p += m
		}
	}
}

// fileLines deals line chunks from a regular file: pread(2) a window to
// find the cuts, splice(2) the bytes from the same offsets.
func (d *dealer) fileLines() error {
	buf := make([]byte, scatterWindow)
	var off int64
	for {
		n, err := unix.Pread(d.in.fd, buf, off)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("scatter: input: %w", err)
		case n == 0:
			return nil
		}
		for p := 0; p < n; {
			m, ends := d.cut(buf[p:n])
			at := off + int64(p)
			if err := d.spliceAt(&at, m); err != nil {
				return err
			}
			d.done(m, ends)
			p += m
		}
		off += int64(n)
	}
}

// spliceN moves exactly n bytes, which the input already holds, to the
// current output.
func (d *dealer) spliceN(n int) error { return d.spliceAt(nil, n) }

// spliceAt moves exactly n bytes from the input to the current output:
// from the pipe's head (off nil), or from a file at *off.
func (d *dealer) spliceAt(off *int64, n int) error {
	out := d.outs[d.cur()].fd
	for n > 0 {
		m, err := unix.Splice(d.in.fd, off, out, nil, n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := waitFd(out, unix.POLLOUT, -1); err != nil {
				return err
			}
		case err != nil:
			return d.outErr(err)
		case m == 0:
			return fmt.Errorf("scatter: the input lost %d bytes it held", n)
		default:
			n -= int(m)
		}
	}
	return nil
}

// copyChunks is the general path: read, cut, write.
func (d *dealer) copyChunks() error {
	buf := make([]byte, scatterWindow)
	for {
		n, err := d.in.read(buf, -1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scatter: input: %w", err)
		}
		for p := 0; p < n; {
			m, ends := d.cut(buf[p:n])
			if _, err := d.outs[d.cur()].writeAll(buf[p:p+m], -1); err != nil {
				return d.outErr(err)
			}
			d.done(m, ends)
			p += m
		}
	}
}

// waitSplice waits after a splice found nothing to do: for input if a pipe
// input is empty, else for room in the current output. (Waiting for
// either at once would spin while one side is ready and the other not.)
func (d *dealer) waitSplice() error {
	if d.in.pipe {
		pfd := []unix.PollFd{{Fd: int32(d.in.fd), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(pfd, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		if pfd[0].Revents == 0 {
			return waitFd(d.in.fd, unix.POLLIN, -1)
		}
	}
	return waitFd(d.outs[d.cur()].fd, unix.POLLOUT, -1)
}

// readFull reads exactly len(p) bytes from a blocking descriptor.
func readFull(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		p = p[n:]
	}
	return nil
}
