package explain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/plan"
)

// afterText says what a process waits for: "a exited 0", "b failed",
// "c ended", grouped by the outcome each dependency must have.
func afterText(p *plan.Plan, pr *plan.Proc) string {
	var parts []string
	by := map[string][]string{}
	var order []string
	for _, d := range pr.After {
		dep := p.Procs[d].Node
		what := "exited " + okStatuses(dep)
		switch pr.Node.AfterOutcome[dep.ID] {
		case graph.Failure:
			what = "failed"
		case graph.Any:
			what = "ended"
		}
		if _, seen := by[what]; !seen {
			order = append(order, what)
		}
		by[what] = append(by[what], dep.ID)
	}
	for _, what := range order {
		parts = append(parts, strings.Join(by[what], ", ")+" "+what)
	}
	return strings.Join(parts, "; ")
}

// okStatuses is "0", or the statuses a node accepts: "0 or 1".
func okStatuses(n *graph.Node) string {
	if n.OKExit == nil {
		return "0"
	}
	var s []string
	for _, x := range n.OKExit {
		s = append(s, strconv.Itoa(x))
	}
	if len(s) == 0 {
		return "(no status counts as success)"
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// failureText lists how a process's end is judged, when it is not the
// default: the statuses that count as success, its own failure policy,
// its retries.
func failureText(n *graph.Node) []string {
	var out []string
	if n.OKExit != nil {
		out = append(out, "success: exit "+okStatuses(n))
	}
	if n.OnFailure != nil {
		out = append(out, "on failure: "+n.OnFailure.String())
	}
	if n.Retries > 0 {
		line := fmt.Sprintf("retried up to %d times after a failure (TUBO_ATTEMPT=1, 2, …)", n.Retries)
		if n.RetryDelay > 0 {
			line += ", first after " + n.RetryDelay.String()
			if n.Backoff > 1 {
				line += fmt.Sprintf(", each wait ×%g", n.Backoff)
			}
		}
		out = append(out, line)
	}
	return out
}
