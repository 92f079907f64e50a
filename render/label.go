// Package render draws a process graph as Graphviz DOT or Mermaid: every
// node after expansion (each replica, FIFO, file, tee and merge, with a
// shape per kind), every edge labelled with the descriptors it joins
// ("1→0" is stdout into stdin, "2→0" stderr into stdin, "1→3" stdout into
// fd 3), after: waits as dashed edges, and FIFOs or files that a stage
// opens by path (from its argv) as dotted "opens" lines.
package render

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tubo-pipes/tubo/graph"
)

// maxCmd is the longest command shown in a node label, in runes.
const maxCmd = 80

// lines is what a node's label says, one entry per line.
func lines(g *graph.Graph, n *graph.Node) []string {
	switch n.Kind {
	case graph.Process:
		cmd := "sh: " + n.Shell
		if n.Shell == "" {
			cmd = graph.QuoteArgv(n.Argv)
		}
		head := n.ID
		if n.Host != "" {
			head += " on " + n.Host
		}
		return append([]string{head, truncate(cmd)}, failureLines(n)...)
	case graph.FIFO:
		if g.TempDir != "" && strings.HasPrefix(n.Path, g.TempDir+"/") {
			return []string{"fifo " + n.ID}
		}
		return []string{"fifo " + n.ID, truncate(n.Path)}
	case graph.File:
		l := []string{"file " + n.ID, truncate(n.Path)}
		if n.Append {
			l[1] += " (append)"
		}
		return l
	case graph.Tee:
		if n.Spill {
			return []string{"tee " + n.ID, "(spills)"}
		}
		return []string{"tee " + n.ID}
	case graph.Scatter:
		return []string{"scatter " + n.ID, chunkText(n.Chunk)}
	case graph.Merge:
		m := n.Merge
		if m.Mode == graph.Reassemble {
			return []string{"merge " + n.ID, "reassemble " + chunkText(m.Chunk)}
		}
		desc := m.Mode.String() + " " + m.Record.String()
		if m.Record != graph.Lines {
			desc += " " + m.Order.String()
			if m.Text {
				desc += " → text"
			}
		} else if m.Numeric {
			desc += " numeric"
		}
		return []string{"merge " + n.ID, desc}
	}
	return []string{n.ID}
}

// edgeLabel is "1→0": the writer's fd, an arrow, the reader's fd; a side
// that is not a process (FIFO, file, tee, merge) shows no number.
func edgeLabel(g *graph.Graph, e *graph.Edge) string {
	var b strings.Builder
	if n := g.Node(e.From.Node); n != nil && n.Kind == graph.Process {
		fmt.Fprint(&b, e.From.FD)
	}
	b.WriteString("→")
	if n := g.Node(e.To.Node); n != nil && n.Kind == graph.Process {
		fmt.Fprint(&b, e.To.FD)
	}
	return b.String()
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxCmd {
		return s
	}
	r := []rune(s)
	return string(r[:maxCmd-1]) + "…"
}

// groups lists replicated stages in order: group name → member IDs.
func groups(g *graph.Graph) (order []string, members map[string][]*graph.Node) {
	members = map[string][]*graph.Node{}
	for _, n := range g.Nodes {
		if n.Kind != graph.Process || n.Replicas == 0 || n.Group == "" {
			continue
		}
		if _, ok := members[n.Group]; !ok {
			order = append(order, n.Group)
		}
		members[n.Group] = append(members[n.Group], n)
	}
	return order, members
}

// pathUses lists, for FIFOs and files that stages open themselves (their
// path appears in a stage's argv or shell line), the stage and the node.
func pathUses(g *graph.Graph) [][2]*graph.Node {
	var out [][2]*graph.Node
	for _, p := range g.Nodes {
		if (p.Kind != graph.FIFO && p.Kind != graph.File) || p.Path == "" {
			continue
		}
		for _, n := range g.Nodes {
			if n.Kind != graph.Process {
				continue
			}
			uses := strings.Contains(n.Shell, p.Path)
			for _, a := range n.Argv {
				uses = uses || strings.Contains(a, p.Path)
			}
			if uses {
				out = append(out, [2]*graph.Node{n, p})
			}
		}
	}
	return out
}

// afterLabel names a dashed after: edge into n from dep by the outcome it
// waits for: "after" (success), "after failure", "after any".
func afterLabel(n *graph.Node, dep string) string {
	if o, ok := n.AfterOutcome[dep]; ok && o != graph.Success {
		return "after " + o.String()
	}
	return "after"
}

// failureLines are the label lines of a process's failure settings, when
// it has any: "ok_exit 0,1", "on_failure ignore", "retries 3".
func failureLines(n *graph.Node) []string {
	var l []string
	if n.OKExit != nil {
		s := make([]string, len(n.OKExit))
		for i, x := range n.OKExit {
			s[i] = fmt.Sprint(x)
		}
		l = append(l, "ok_exit "+strings.Join(s, ","))
	}
	if n.OnFailure != nil {
		l = append(l, "on_failure "+n.OnFailure.String())
	}
	if n.Retries > 0 {
		l = append(l, fmt.Sprintf("retries %d", n.Retries))
	}
	return l
}

// chunkText says how a scatter cuts: "chunks of 10000 lines", "chunks of
// 1000 int32 records".
func chunkText(c graph.ChunkSpec) string {
	switch c.By {
	case graph.ChunkRecords:
		return fmt.Sprintf("chunks of %d int%d records", c.Size, 8*c.Width)
	}
	return fmt.Sprintf("chunks of %d %s", c.Size, c.By)
}
