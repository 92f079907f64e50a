package ast

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// Failure is how a stage's end is judged and what its failure does:
// ok_exit, on_failure, retries, retry_delay and backoff. Absent keys
// leave nil fields: only status 0 is success, the run's on_failure
// applies, and the stage is not retried.
type Failure struct {
	// OKExit lists the statuses that count as success (0 must be listed
	// to stay one); nil means only 0.
	OKExit []int
	// OnFailure is the stage's own policy; nil means the run's.
	OnFailure *Policy
	// Retries is how many more times to start it after a failure (an int
	// or a placeholder); nil means none.
	Retries *Scalar
	// RetryDelay is the wait before the first retry (a duration); nil
	// means none.
	RetryDelay *Scalar
	// Backoff multiplies each further delay (a number ≥ 1); nil means 1.
	Backoff *Scalar
	// Node is where the stage's retries: is written, for messages.
	RetriesKey *yaml.Node
}

var failureKeys = []string{"ok_exit", "on_failure", "retries", "retry_delay", "backoff"}

var policies = []string{"let-finish", "kill-rest", "ignore"}

// decode reads the failure keys of a stage mapping.
func (fl *Failure) decode(d *decoder, f fields, what string) {
	if v := f.get("ok_exit"); v != nil {
		list, _ := d.strList(v, what+": ok_exit")
		fl.OKExit = []int{}
		for _, s := range list {
			x, err := strconv.Atoi(s.Text)
			if err != nil || x < 0 || x > 255 || s.Node.ShortTag() != "!!int" {
				d.add(s.Node, "%s: ok_exit: %s is not an exit status (0–255)", what, Quote(s.Text))
				continue
			}
			fl.OKExit = append(fl.OKExit, x)
		}
	}
	if v := f.get("on_failure"); v != nil {
		if i := d.enum(v, what+": on_failure", policies); i >= 0 {
			fl.OnFailure = &Policy{graph.Policy(i), v}
		}
	}
	fl.Retries = d.str(f.get("retries"), what+": retries")
	fl.RetriesKey = f.key("retries")
	fl.RetryDelay = d.str(f.get("retry_delay"), what+": retry_delay")
	fl.Backoff = d.str(f.get("backoff"), what+": backoff")
}
