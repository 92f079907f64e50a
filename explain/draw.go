package explain

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tubo-pipes/tubo/plan"
)

// DOT draws the plan's fd tables as Graphviz: each process is a record
// with one row per descriptor, each pipe a node with its two descriptor
// numbers in tubo, and an arrow from the writing row to the pipe and from
// the pipe to the reading row — the lab's blackboard drawing.
func DOT(w io.Writer, p *plan.Plan) error {
	n := number(p, Options{})
	b := bufio.NewWriter(w)
	b.WriteString("digraph plan {\n\trankdir=LR;\n\tnode [fontname=\"monospace\", fontsize=10];\n")
	for i := range p.Pipes {
		fmt.Fprintf(b, "\tpipe%d [shape=cylinder, label=%q];\n", i, pipeLabel(p, n, i))
	}
	for i, f := range p.Files {
		fmt.Fprintf(b, "\tfile%d [shape=note, label=%q];\n", i, f.Path)
	}
	for pi, pr := range p.Procs {
		rows := []string{recordEscape(pr.Node.ID)}
		for _, fd := range pr.FDs {
			rows = append(rows, fmt.Sprintf("<f%d>%d: %s", fd.Num, fd.Num, recordEscape(short(p, n, fd.Src))))
		}
		fmt.Fprintf(b, "\tproc%d [shape=record, label=\"%s\"];\n", pi, strings.Join(rows, "|"))
		for _, fd := range pr.FDs {
			switch fd.Src.Kind {
			case plan.PipeWrite:
				fmt.Fprintf(b, "\tproc%d:f%d -> pipe%d [label=\"write end\"];\n", pi, fd.Num, fd.Src.Index)
			case plan.PipeRead:
				fmt.Fprintf(b, "\tpipe%d -> proc%d:f%d [label=\"read end\"];\n", fd.Src.Index, pi, fd.Num)
			case plan.OpenFile:
				if p.Files[fd.Src.Index].Flag&3 == 0 {
					fmt.Fprintf(b, "\tfile%d -> proc%d:f%d;\n", fd.Src.Index, pi, fd.Num)
				} else {
					fmt.Fprintf(b, "\tproc%d:f%d -> file%d;\n", pi, fd.Num, fd.Src.Index)
				}
			}
		}
	}
	for bi, bl := range p.Builtins {
		fmt.Fprintf(b, "\tbuiltin%d [shape=hexagon, label=%q];\n", bi, fmt.Sprintf("%s %s\n(inside tubo)", bl.Node.Kind, bl.Node.ID))
		for _, s := range bl.Inputs {
			if s.Kind == plan.PipeRead {
				fmt.Fprintf(b, "\tpipe%d -> builtin%d;\n", s.Index, bi)
			}
		}
		for _, s := range bl.Outputs {
			if s.Kind == plan.PipeWrite {
				fmt.Fprintf(b, "\tbuiltin%d -> pipe%d;\n", bi, s.Index)
			}
		}
	}
	b.WriteString("}\n")
	return b.Flush()
}

// Mermaid draws the same picture as a Mermaid flowchart: a subgraph per
// process with a node per descriptor.
func Mermaid(w io.Writer, p *plan.Plan) error {
	n := number(p, Options{})
	b := bufio.NewWriter(w)
	b.WriteString("flowchart LR\n")
	for i := range p.Pipes {
		fmt.Fprintf(b, "  pipe%d[(\"%s\")]\n", i, mermaidText(pipeLabel(p, n, i)))
	}
	for pi, pr := range p.Procs {
		fmt.Fprintf(b, "  subgraph proc%d [\"%s\"]\n", pi, mermaidText(pr.Node.ID))
		for _, fd := range pr.FDs {
			fmt.Fprintf(b, "    proc%d_%d[\"%d: %s\"]\n", pi, fd.Num, fd.Num, mermaidText(short(p, n, fd.Src)))
		}
		b.WriteString("  end\n")
		for _, fd := range pr.FDs {
			switch fd.Src.Kind {
			case plan.PipeWrite:
				fmt.Fprintf(b, "  proc%d_%d -->|write end| pipe%d\n", pi, fd.Num, fd.Src.Index)
			case plan.PipeRead:
				fmt.Fprintf(b, "  pipe%d -->|read end| proc%d_%d\n", fd.Src.Index, pi, fd.Num)
			}
		}
	}
	for bi, bl := range p.Builtins {
		fmt.Fprintf(b, "  builtin%d{{\"%s %s (inside tubo)\"}}\n", bi, bl.Node.Kind, mermaidText(bl.Node.ID))
		for _, s := range bl.Inputs {
			if s.Kind == plan.PipeRead {
				fmt.Fprintf(b, "  pipe%d --> builtin%d\n", s.Index, bi)
			}
		}
		for _, s := range bl.Outputs {
			if s.Kind == plan.PipeWrite {
				fmt.Fprintf(b, "  builtin%d --> pipe%d\n", bi, s.Index)
			}
		}
	}
	return b.Flush()
}

func pipeLabel(p *plan.Plan, n *numbering, i int) string {
	what := "pipe"
	if p.Pipes[i].Data != nil {
		what = "here-document"
	}
	return fmt.Sprintf("%s [%d, %d]", what, n.pipes[i][0], n.pipes[i][1])
}

// short names what a descriptor refers to, in a few words.
func short(p *plan.Plan, n *numbering, s plan.Source) string {
	switch s.Kind {
	case plan.Inherit:
		return fmt.Sprintf("tubo's fd %d", s.FD)
	case plan.PipeRead:
		return fmt.Sprintf("pipe read end (%d)", n.pipes[s.Index][0])
	case plan.PipeWrite:
		return fmt.Sprintf("pipe write end (%d)", n.pipes[s.Index][1])
	case plan.OpenFile:
		return p.Files[s.Index].Path
	case plan.Closed:
		return "closed"
	case plan.DevNull:
		return "/dev/null"
	}
	return "?"
}

// recordEscape protects the characters a DOT record label gives meaning.
func recordEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "{", `\{`, "}", `\}`, "|", `\|`, "<", `\<`, ">", `\>`)
	return r.Replace(s)
}

func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;")
	return r.Replace(s)
}
