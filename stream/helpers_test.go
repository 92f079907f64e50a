package stream

import (
	"errors"
	"math/rand"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newPipe makes a real pipe: a blocking one as the executor makes them
// (unix.Pipe2 wrapped by os.NewFile), or a non-blocking one from os.Pipe.
func newPipe(t testing.TB, blocking bool) (r, w *os.File) {
	t.Helper()
	if !blocking {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		return r, w
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1")
}

// randBytes returns n seeded random bytes.
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// produce writes data to w in pieces of random size (1 byte up to 3× a
// pipe buffer), then closes w. The result channel gets the write error
// (EPIPE when the reader went away).
func produce(w *os.File, data []byte, seed int64) <-chan error {
	done := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewSource(seed))
		var err error
		for len(data) > 0 && err == nil {
			n := 1 + rng.Intn(3*65536)
			if rng.Intn(4) == 0 {
				n = 1 + rng.Intn(100)
			}
			n = min(n, len(data))
			_, err = w.Write(data[:n])
			data = data[n:]
		}
		w.Close()
		done <- err
	}()
	return done
}

// readerOpts shapes a test reader.
type readerOpts struct {
	chunk int           // read size; 0 = 64 KiB
	sleep time.Duration // between reads (a slow reader)
	limit int           // close the pipe after this many bytes (early exit); 0 = read to EOF
}

// consume reads r as opts say and sends what it got.
func consume(r *os.File, o readerOpts) <-chan []byte {
	done := make(chan []byte, 1)
	go func() {
		chunk := o.chunk
		if chunk == 0 {
			chunk = 64 << 10
		}
		var got []byte
		buf := make([]byte, chunk)
		for o.limit == 0 || len(got) < o.limit {
			p := buf
			if o.limit > 0 {
				p = buf[:min(len(buf), o.limit-len(got))]
			}
			n, err := r.Read(p)
			got = append(got, p[:n]...)
			if err != nil {
				break
			}
			if o.sleep > 0 {
				time.Sleep(o.sleep)
			}
		}
		r.Close()
		done <- got
	}()
	return done
}

func isEPIPE(err error) bool { return errors.Is(err, syscall.EPIPE) }

// discardReader drains r to EOF and reports the byte count.
func discardReader(r *os.File) <-chan int64 {
	done := make(chan int64, 1)
	go func() {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			m, err := r.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
		}
		r.Close()
		done <- n
	}()
	return done
}
