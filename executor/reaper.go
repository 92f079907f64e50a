package executor

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// reaper learns when the run's children exit: one epoll set holds the
// pidfd of every child of the run (a pidfd becomes readable when its
// process exits), and the set's own descriptor sits in Go's netpoller, so
// one goroutine, asleep without a thread, serves the whole run. A stage
// costs one epoll_ctl to watch and its share of one epoll_wait, instead of
// a goroutine, a netpoller registration and three waitid calls of its own;
// children that exit together are reaped in one wake-up.
type reaper struct {
	ep   *os.File // the epoll descriptor, non-blocking, in the netpoller
	mu   sync.Mutex
	next int32              // the key of the next child watched
	kids map[int32]*waiting // watched children, by the key in their event
}

// waiting is a child the reaper waits for, with its stage's timer.
type waiting struct {
	i     int
	c     *child
	timer *time.Timer
}

// newReaper makes the epoll set. The caller starts loop.
func newReaper() (*reaper, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that os.NewFile puts it in the netpoller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &reaper{ep: os.NewFile(uintptr(fd), "epoll-pidfds"), kids: map[int32]*waiting{}}, nil
}

// watchExit has the run's reaper reap Plan.Procs[i]'s child c once it
// exits, making the reaper at the first child. A child without a pidfd,
// or one the epoll set refuses, is waited for by a goroutine of its own.
// The caller has added c to r.wg.
func (r *run) watchExit(i int, c *child, timer *time.Timer) {
	if c.pidfd >= 0 {
		r.mu.Lock()
		rp := r.reaper
		if rp == nil && !r.noReaper {
			var err error
			if rp, err = newReaper(); err != nil {
				r.noReaper = true // out of descriptors: one goroutine per child
			} else {
				r.reaper = rp
				go r.reapLoop(rp)
			}
		}
		r.mu.Unlock()
		if rp != nil && rp.watch(&waiting{i, c, timer}) {
			return
		}
	}
	go func() {
		c.waitExited()
		r.reapExited(i, c, timer)
	}()
}

// watch adds w's pidfd to the set; false if the kernel refused it.
func (rp *reaper) watch(w *waiting) bool {
	// The pidfd is read before w is in the set: from then on the reaper
	// may reap the child (and close and clear its pidfd) at any moment.
	pidfd := w.c.pidfd
	rp.mu.Lock()
	key := rp.next
	rp.next++
	rp.kids[key] = w
	rp.mu.Unlock()
	// Level-triggered, so a child that exited before this call is
	// reported at the next epoll_wait; one-shot, so it is reported once
	// even while it waits to be reaped (see reapExited).
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: key}
	if err := unix.EpollCtl(int(rp.ep.Fd()), unix.EPOLL_CTL_ADD, pidfd, &ev); err != nil {
		rp.mu.Lock()
		delete(rp.kids, key)
		rp.mu.Unlock()
		return false
	}
	return true
}

// reapLoop is the reaper's goroutine: it takes every child that has
// exited, reaps it, and sleeps in the netpoller until the next exits. It
// ends when cleanup closes the set, after every child was reaped.
func (r *run) reapLoop(rp *reaper) {
	rc, err := rp.ep.SyscallConn()
	if err != nil {
		return
	}
	events := make([]unix.EpollEvent, 64)
	for {
		n := 0
		err := rc.Read(func(fd uintptr) bool {
			for {
				k, err := unix.EpollWait(int(fd), events, 0)
				if err == unix.EINTR {
					continue
				}
				n = max(k, 0)
				// Go's netpoller watches the set edge-triggered: sleep
				// only once it is drained.
				return n > 0 || err != nil
			}
		})
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			rp.mu.Lock()
			w := rp.kids[ev.Fd]
			delete(rp.kids, ev.Fd)
			rp.mu.Unlock()
			if w != nil {
				// Reaping closes the pidfd, which takes it out of the set.
				r.reapExited(w.i, w.c, w.timer)
			}
		}
	}
}

// close ends the reaper's goroutine; every child must have been reaped.
func (rp *reaper) close() { rp.ep.Close() }
