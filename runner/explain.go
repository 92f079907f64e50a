package runner

import (
	"context"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/parser/shell"
)

// Pipelines returns, without running anything, the graph of every pipeline
// in src in order (both sides of && and ||; the inside of groups, loops
// and conditionals, once each). Words are expanded statically: parameters
// from the runner's variables, with the assignments, cd, export and unset
// of src applied as they come; command substitutions are not run but kept
// as their source text ("$(date)"). Nothing is opened or created. Used by
// `tubo explain` and `tubo graph` on shell lines.
func (r *Runner) Pipelines(src string) ([]*graph.Graph, error) {
	f, err := shell.ParseChecked(r.name, src)
	if err != nil {
		return nil, err
	}
	s := r.virtualSubshell()
	s.static = true
	s.graphs = nil
	s.staticErr = nil
	s.ctx = context.Background()
	s.walkStatic(f.Stmts)
	if s.staticErr != nil {
		return s.graphs, s.staticErr
	}
	return s.graphs, nil
}

// walkStatic visits statements for Pipelines: every branch of a list and
// of a compound command, and each pipeline once.
func (r *Runner) walkStatic(list []*syntax.Stmt) {
	for _, s := range list {
		if r.staticErr != nil {
			return
		}
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			if c.Op == syntax.AndStmt || c.Op == syntax.OrStmt {
				r.walkStatic([]*syntax.Stmt{c.X, c.Y})
				continue
			}
		case *syntax.Block:
			r.walkStatic(c.Stmts)
			continue
		case *syntax.IfClause:
			for e := c; e != nil; e = e.Else {
				r.walkStatic(e.Cond)
				r.walkStatic(e.Then)
			}
			continue
		case *syntax.WhileClause:
			r.walkStatic(c.Cond)
			r.walkStatic(c.Do)
			continue
		case *syntax.ForClause:
			r.walkStatic(c.Do)
			continue
		case *syntax.CaseClause:
			for _, it := range c.Items {
				r.walkStatic(it.Stmts)
			}
			continue
		case *syntax.FuncDecl:
			r.defineFunc(c)
			continue
		}
		r.exiting = false
		r.stmt(s)
	}
}
