package lookup

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Cache remembers Program's answers. An answer is used again only while
// every path it depended on is unchanged: each PATH directory searched
// before the hit (a program that appears there changes the directory's
// mtime) and the file found (replaced, removed or chmod'ed: its inode,
// mode or ctime change). Checking costs one stat(2) per such path and no
// access(2). The zero value is ready to use; a Cache is safe for
// concurrent use.
type Cache struct {
	mu sync.Mutex
	m  map[key]*entry
}

type key struct{ name, path, dir string }

type entry struct {
	found string
	err   error
	marks []mark
}

// maxEntries bounds the cache; past it, the cache starts over.
const maxEntries = 1024

// racyWindow: a path modified this recently may be modified again within
// the same timestamp tick (the kernel stamps files with a coarse clock),
// so a change could go unseen; such answers are not kept.
const racyWindow = time.Second

// Program is the package's Program, answered from the cache when it can.
func (c *Cache) Program(name, path, dir string) (string, error) {
	k := key{name, path, dir}
	c.mu.Lock()
	e := c.m[k]
	c.mu.Unlock()
	if e != nil && e.valid() {
		return e.found, e.err
	}
	found, marks, err := search(name, path, dir, true)
	if cacheable(marks) {
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxEntries {
			c.m = map[key]*entry{}
		}
		c.m[k] = &entry{found: found, err: err, marks: marks}
		c.mu.Unlock()
	}
	return found, err
}

func (e *entry) valid() bool {
	for _, m := range e.marks {
		now, _ := stat(m.path)
		if now != m {
			return false
		}
	}
	return true
}

// cacheable says whether an answer can be checked later by its marks: all
// paths absolute (a relative one depends on tubo's directory), none
// modified within the racy window.
func cacheable(marks []mark) bool {
	if len(marks) == 0 {
		return false
	}
	limit := time.Now().Add(-racyWindow).UnixNano()
	for _, m := range marks {
		if len(m.path) == 0 || m.path[0] != '/' {
			return false
		}
		if m.ok && (unix.TimespecToNsec(m.mtim) > limit || unix.TimespecToNsec(m.ctim) > limit) {
			return false
		}
	}
	return true
}
