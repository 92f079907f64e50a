package web

import (
	"bytes"

	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/render"
)

// Room kept in the layout for the figures the page writes into each
// process node (state and pid; CPU and RSS; bytes read and written) and
// each edge (bytes and throughput). src/graph.js counts on these.
const (
	procRoom  = 3
	edgeRoom  = 1
	roomWidth = 26
)

// Drawing is what the page needs to draw a graph: the DOT that `tubo
// graph` prints (with room for figures), and the nodes and edges in the
// graph's order.
type Drawing struct {
	DOT   string     `json:"dot"`
	Nodes []NodeInfo `json:"nodes"`
	Edges []EdgeInfo `json:"edges"`
}

// NodeInfo is one node of a Drawing.
type NodeInfo struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind"` // process, fifo, file, tee, merge
	Group string   `json:"group"`
	Argv  []string `json:"argv,omitempty"`
	Shell string   `json:"shell,omitempty"`
}

// EdgeInfo is one edge of a Drawing. I is its index in the graph, which
// is also its place among the DOT's edges: the page finds it as the SVG
// element edge<I+1>.
type EdgeInfo struct {
	I      int    `json:"i"`
	From   string `json:"from"`
	To     string `json:"to"`
	FromFD int    `json:"from_fd"`
	ToFD   int    `json:"to_fd"`
}

// Draw makes the Drawing of g.
func Draw(g *graph.Graph) Drawing {
	var dot bytes.Buffer
	render.DOTWith(&dot, g, render.DOTOptions{ProcRoom: procRoom, EdgeRoom: edgeRoom, RoomWidth: roomWidth, Font: "Courier"})
	d := Drawing{DOT: dot.String(), Nodes: []NodeInfo{}, Edges: []EdgeInfo{}}
	for _, n := range g.Nodes {
		d.Nodes = append(d.Nodes, NodeInfo{ID: n.ID, Kind: n.Kind.String(), Group: n.Name(), Argv: n.Argv, Shell: n.Shell})
	}
	for i, e := range g.Edges {
		d.Edges = append(d.Edges, EdgeInfo{I: i, From: e.From.Node, To: e.To.Node, FromFD: e.From.FD, ToFD: e.To.FD})
	}
	return d
}
