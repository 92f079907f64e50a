package runner

import "sort"

// indexed is a bash indexed array. It is sparse, as in bash (`a[5]=x`
// leaves 0–4 unset): keys are kept sorted, with values beside them. The
// common cases — building with a=(…) and appending — stay appends.
type indexed struct {
	keys []int
	vals []string
}

func newIndexed(vals []string) *indexed {
	a := &indexed{vals: vals, keys: make([]int, len(vals))}
	for i := range vals {
		a.keys[i] = i
	}
	return a
}

func (a *indexed) clone() *indexed {
	return &indexed{keys: append([]int(nil), a.keys...), vals: append([]string(nil), a.vals...)}
}

func (a *indexed) find(i int) (int, bool) {
	n := len(a.keys)
	if n > 0 && a.keys[n-1] < i {
		return n, false
	}
	j := sort.SearchInts(a.keys, i)
	return j, j < n && a.keys[j] == i
}

func (a *indexed) get(i int) (string, bool) {
	if a == nil {
		return "", false
	}
	if j, ok := a.find(i); ok {
		return a.vals[j], true
	}
	return "", false
}

func (a *indexed) set(i int, v string) {
	j, ok := a.find(i)
	if ok {
		a.vals[j] = v
		return
	}
	a.keys = append(a.keys, 0)
	a.vals = append(a.vals, "")
	copy(a.keys[j+1:], a.keys[j:])
	copy(a.vals[j+1:], a.vals[j:])
	a.keys[j], a.vals[j] = i, v
}

func (a *indexed) unset(i int) {
	if j, ok := a.find(i); ok {
		a.keys = append(a.keys[:j], a.keys[j+1:]...)
		a.vals = append(a.vals[:j], a.vals[j+1:]...)
	}
}

// next is the index an append (`a+=(x)`) uses: one past the highest.
func (a *indexed) next() int {
	if a == nil || len(a.keys) == 0 {
		return 0
	}
	return a.keys[len(a.keys)-1] + 1
}

func (a *indexed) len() int {
	if a == nil {
		return 0
	}
	return len(a.keys)
}

func (a *indexed) values() []string {
	if a == nil {
		return nil
	}
	return a.vals
}

// assoc is a bash associative array. Keys keep their insertion order, so
// that output is deterministic (bash's order is its hash order).
type assoc struct {
	m    map[string]string
	keys []string
}

func newAssoc() *assoc { return &assoc{m: map[string]string{}} }

func (a *assoc) clone() *assoc {
	c := &assoc{m: make(map[string]string, len(a.m)), keys: append([]string(nil), a.keys...)}
	for k, v := range a.m {
		c.m[k] = v
	}
	return c
}

func (a *assoc) get(k string) (string, bool) {
	if a == nil {
		return "", false
	}
	v, ok := a.m[k]
	return v, ok
}

func (a *assoc) set(k, v string) {
	if _, ok := a.m[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.m[k] = v
}

func (a *assoc) unset(k string) {
	if _, ok := a.m[k]; !ok {
		return
	}
	delete(a.m, k)
	for i, x := range a.keys {
		if x == k {
			a.keys = append(a.keys[:i], a.keys[i+1:]...)
			break
		}
	}
}

func (a *assoc) values() []string {
	if a == nil {
		return nil
	}
	out := make([]string, len(a.keys))
	for i, k := range a.keys {
		out[i] = a.m[k]
	}
	return out
}
