package stream

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tubo-pipes/tubo/graph"
)

// countingReader reads r to EOF into got, counting as it goes; it starts
// only when gate is closed (nil: at once).
func countingReader(r *os.File, gate <-chan struct{}, n *atomic.Int64) <-chan []byte {
	done := make(chan []byte, 1)
	go func() {
		if gate != nil {
			<-gate
		}
		var got []byte
		buf := make([]byte, 64<<10)
		for {
			m, err := r.Read(buf)
			got = append(got, buf[:m]...)
			n.Add(int64(m))
			if err != nil {
				break
			}
		}
		r.Close()
		done <- got
	}()
	return done
}

// waitFor polls until f is true; a hang fails the test.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !f(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no progress after 60s", what)
		}
	}
}

// TestTeeSpillRejoins: with Spill on, a reader that stops reading gets the
// backlog by copy (through memory and a spill file), and once it has
// caught up it is teed into again, zero-copy. The steps are forced, not
// timed: reader 1 reads nothing until reader 0 has all of part A, then
// catches up; part B is then written in steps that both readers take in
// full before the next, so their pipes always have room and every byte of
// B must be teed (Copied counts what went through memory). Before teeSpill
// a spilling tee copied every byte for every reader.
func TestTeeSpillRejoins(t *testing.T) {
	for _, blocking := range []bool{true, false} {
		t.Run(fmt.Sprintf("blocking=%v", blocking), func(t *testing.T) {
			const sizeA, step, steps = 6 << 20, 64 << 10, 64
			data := randBytes(rand.New(rand.NewSource(15)), sizeA+step*steps)
			inR, inW := newPipe(t, blocking)
			var n0, n1 atomic.Int64
			gate := make(chan struct{})
			r0, w0 := newPipe(t, blocking)
			r1, w1 := newPipe(t, blocking)
			got0 := countingReader(r0, nil, &n0)
			got1 := countingReader(r1, gate, &n1)
			// A second descriptor of output 1's open file description,
			// as a stage sharing tubo's stdout has: the tee must not
			// change its O_NONBLOCK flag under that stage.
			e, err := newEndpoint(w1) // w1.Fd() would make it blocking
			if err != nil {
				t.Fatal(err)
			}
			shared, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 3)
			if err != nil {
				t.Fatal(err)
			}
			resc := make(chan TeeResult, 1)
			before := teeSplices.Load()
			go func() { resc <- Tee(inR, []*os.File{w0, w1}, TeeOptions{Spill: true, SpillMem: 256 << 10}) }()

			if _, err := inW.Write(data[:sizeA]); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "reader 0 gets part A while reader 1 sleeps", func() bool { return n0.Load() == sizeA })
			close(gate)
			waitFor(t, "reader 1 catches up", func() bool { return n1.Load() == sizeA })
			for off := sizeA; off < len(data); off += step {
				if _, err := inW.Write(data[off : off+step]); err != nil {
					t.Fatal(err)
				}
				end := int64(off + step)
				waitFor(t, "both readers take a step of part B", func() bool { return n0.Load() == end && n1.Load() == end })
			}
			inW.Close()
			res := <-resc
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if fl, err := unix.FcntlInt(uintptr(shared), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 != !blocking {
				t.Errorf("output 1's O_NONBLOCK is now %v (flags %#o, %v), was %v", fl&unix.O_NONBLOCK != 0, fl, err, !blocking)
			}
			unix.Close(shared) // reader 1's EOF
			if teeSplices.Load() == before {
				t.Error("a spilling tee took the copy path")
			}
			for i, got := range [][]byte{<-got0, <-got1} {
				if !bytes.Equal(got, data) || res.BytesOut[i] != int64(len(data)) {
					t.Errorf("output %d: got %d bytes (BytesOut %d), want %d", i, len(got), res.BytesOut[i], len(data))
				}
				if res.Copied[i] > sizeA {
					t.Errorf("output %d: %d bytes copied, more than part A (%d): part B was not teed", i, res.Copied[i], sizeA)
				}
			}
			// Reader 1's pipe (at most pipeMaxSize) took the start of A
			// zero-copy; the rest of A had to wait in the queue.
			if min := int64(sizeA - pipeMaxSize()); res.Copied[1] < min {
				t.Errorf("output 1: %d bytes copied while it slept, want at least %d", res.Copied[1], min)
			}
			t.Logf("copied: %v of %d bytes", res.Copied, len(data))
		})
	}
}

// runDiamond runs `seq` → spilling Tee → two real processes → ordered
// numeric Merge, and checks the output is every line twice, in order.
func runDiamond(t *testing.T, lines int, branches [2][]string) TeeResult {
	t.Helper()
	seq := exec.Command("seq", "-f", "%020.0f", "1", fmt.Sprint(lines))
	teeIn, seqOut := newPipe(t, true)
	seq.Stdout = seqOut
	var teeOuts, mergeIns []*os.File
	var cmds []*exec.Cmd
	for _, argv := range branches {
		r, w := newPipe(t, true)
		mr, mw := newPipe(t, true)
		c := exec.Command(argv[0], argv[1:]...)
		c.Stdin, c.Stdout, c.Stderr = r, mw, os.Stderr
		c.WaitDelay = 10 * time.Second
		cmds = append(cmds, c)
		teeOuts, mergeIns = append(teeOuts, w), append(mergeIns, mr)
		t.Cleanup(func() { r.Close(); mw.Close() })
	}
	outR, outW := newPipe(t, true)
	for _, c := range append([]*exec.Cmd{seq}, cmds...) {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	// The children have their ends now.
	seqOut.Close()
	for _, c := range cmds {
		c.Stdin.(*os.File).Close()
		c.Stdout.(*os.File).Close()
	}
	check := make(chan error, 1)
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		n := 0
		for sc.Scan() {
			want := fmt.Sprintf("%020d", n/2+1)
			if sc.Text() != want {
				check <- fmt.Errorf("line %d is %q, want %q", n+1, sc.Text(), want)
				return
			}
			n++
		}
		if n != 2*lines {
			check <- fmt.Errorf("%d lines, want %d", n, 2*lines)
			return
		}
		check <- sc.Err()
	}()
	var tres TeeResult
	var mres MergeResult
	within(t, 120*time.Second, "diamond of real processes", func() {
		done := make(chan struct{})
		go func() {
			tres = Tee(teeIn, teeOuts, TeeOptions{Spill: true})
			close(done)
		}()
		mres = Merge(mergeIns, outW, graph.MergeSpec{Mode: graph.Ordered, Numeric: true})
		<-done
		for _, c := range append([]*exec.Cmd{seq}, cmds...) {
			if err := c.Wait(); err != nil {
				t.Errorf("%s: %v", strings.Join(c.Args, " "), err)
			}
		}
	})
	if tres.Err != nil || mres.Err != nil {
		t.Fatal(tres.Err, mres.Err)
	}
	if err := <-check; err != nil {
		t.Fatal(err)
	}
	t.Logf("tee: %d bytes in, out %v, of which copied %v", tres.BytesIn, tres.BytesOut, tres.Copied)
	return tres
}

// A diamond whose one branch stops reading for a second, after 512 KiB,
// and then reads on: both branches' backlogs spill meanwhile (the ordered
// merge waits on the sleeping one, so the other's pipes fill too), and
// the run ends with every line, in order.
func TestDiamondReaderPausesAndResumes(t *testing.T) {
	pause := []string{"sh", "-c", "dd bs=65536 count=8 iflag=fullblock status=none && sleep 1 && exec cat"}
	runDiamond(t, 400000, [2][]string{pause, {"cat"}})
}

// A diamond whose one branch is slower than the producer from start to
// end (a shell loop reading a byte at a time) and whose other is sort,
// which reads everything before it writes: the slow branch is behind for
// the whole run and gets its bytes by copy, and every line still arrives
// once per branch, in order.
func TestDiamondSlowReaderNeverCatchesUp(t *testing.T) {
	slow := []string{"sh", "-c", `while IFS= read -r l; do printf '%s\n' "$l"; done`}
	res := runDiamond(t, 150000, [2][]string{slow, {"sort", "-n"}})
	if res.Copied[0] == 0 {
		t.Error("the slow reader got everything zero-copy: it never fell behind")
	}
}
