package pipeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// MaxRetries bounds retries: a stage that fails a hundred times will not
// succeed on the hundred and first.
const MaxRetries = 100

// failure reads how a stage's end is judged and what its failure does:
// ok_exit, on_failure, retries, retry_delay, backoff.
func (l *loader) failure(node *graph.Node, f *ast.Failure, sc *scope, what string) {
	node.OKExit = f.OKExit
	if f.OnFailure != nil {
		p := f.OnFailure.Value
		node.OnFailure = &p
	}
	if f.Retries != nil {
		if n, ok := l.expandInt(f.Retries, sc, what+": retries"); ok {
			if n < 0 || n > MaxRetries {
				l.errs.add(f.Retries.Node, "%s: retries: %d is outside 0–%d", what, n, MaxRetries)
			} else {
				node.Retries = int(n)
			}
		}
	}
	if f.RetryDelay != nil {
		if f.Retries == nil {
			l.errs.add(f.RetryDelay.Node, "%s: retry_delay applies only with retries:", what)
		}
		if v, ok := l.expand(f.RetryDelay.Node, f.RetryDelay.Text, sc); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				l.errs.add(f.RetryDelay.Node, "%s: retry_delay: %s is not a duration like 500ms or 2s", what, quote(v))
			} else {
				node.RetryDelay = d
			}
		}
	}
	if f.Backoff != nil {
		if f.Retries == nil {
			l.errs.add(f.Backoff.Node, "%s: backoff applies only with retries:", what)
		}
		if v, ok := l.expand(f.Backoff.Node, f.Backoff.Text, sc); ok {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || x < 1 || x > 100 {
				l.errs.add(f.Backoff.Node, "%s: backoff: %s is not a factor from 1 to 100 (2 doubles each delay)", what, quote(v))
			} else {
				node.Backoff = x
			}
		}
	}
}
