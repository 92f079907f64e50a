package executor

// Turns: graph.Node.MaxParallel bounds how many processes of one group
// (the copies of a replicated or foreach stage) run at once. A copy whose
// turn has not come waits in its group's queue, in plan order, and starts
// when a running one finishes, as GNU parallel -j does. A copy keeps its
// turn while it is retried. Only stages without live streams are bounded
// (validation refuses the rest), so a waiting copy holds no pipe up.

// turns is the run's bookkeeping; the zero value is ready.
type turns struct {
	running map[string]int   // group → processes holding a turn
	queue   map[string][]int // group → Plan.Procs indexes waiting, in order
	holding map[int]bool     // Plan.Procs index → it holds a turn
}

// waitTurn gives Plan.Procs[i] a turn, or queues it and reports true
// (the caller then does not start it now).
func (r *run) waitTurn(i int) bool {
	n := r.p.Procs[i].Node
	if n.MaxParallel == 0 {
		return false
	}
	r.mu.Lock()
	t := &r.turns
	if t.holding == nil {
		t.running, t.queue, t.holding = map[string]int{}, map[string][]int{}, map[int]bool{}
	}
	g := n.Name()
	if t.holding[i] {
		r.mu.Unlock()
		return false
	}
	if t.running[g] < n.MaxParallel {
		t.running[g]++
		t.holding[i] = true
		r.mu.Unlock()
		return false
	}
	t.queue[g] = append(t.queue[g], i)
	waiting := len(t.queue[g])
	r.mu.Unlock()
	r.trace("queue", n.ID, 0, "waits for a turn: %d of %s run at once (max_parallel), %d waiting", n.MaxParallel, g, waiting)
	return true
}

// passTurn gives the turn of a finished Plan.Procs[i] to the next copy
// waiting in its group, and returns that copy's index (-1 for none); the
// caller starts it.
func (r *run) passTurn(i int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.turns
	if !t.holding[i] {
		return -1
	}
	g := r.p.Procs[i].Node.Name()
	delete(t.holding, i)
	t.running[g]--
	q := t.queue[g]
	if len(q) == 0 {
		return -1
	}
	j := q[0]
	t.queue[g] = q[1:]
	t.running[g]++
	t.holding[j] = true
	return j
}
