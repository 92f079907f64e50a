package ast

import (
	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/graph"
)

// Pipeline is a whole pipeline file. A nil or empty field means the key
// is absent, and the run gets that key's default (see docs/format.md).
type Pipeline struct {
	Version     *Scalar // only "1" is known
	Name        *Scalar // nil: the file name without its extension
	Description *Scalar
	Params      []*Param
	// Path lists directories put in front of every stage's PATH.
	Path []*Scalar
	// Env is set for every stage.
	Env []*EnvVar
	// OnFailure is nil for the default, kill-rest.
	OnFailure *Policy
	// Pipefail is nil for the default, true.
	Pipefail *Bool
	// Timeout bounds the whole run; nil means no bound.
	Timeout *Scalar
	// SigpipeIsFailure is nil for the default, false.
	SigpipeIsFailure *Bool
	// StallAfter is how long nothing may move before tubo reports a stall
	// ("0" turns the watchdog off); nil means tubo's default.
	StallAfter *Scalar
	// OnStall is "warn" or "fail"; nil means warn.
	OnStall *Scalar
	// Logs is a directory for each stage's stderr (DIR/STAGE.err); nil
	// leaves stderr on tubo's own.
	Logs *Scalar
	// MaxParallel bounds how many copies of each replicated or foreach
	// stage run at once (a stage's own max_parallel bounds it further);
	// nil means no bound.
	MaxParallel *Scalar
	// Cycles is "allow" to run loops of pipes (each a warning) or
	// "refuse"; nil means refuse.
	Cycles *Scalar

	// Hosts are the machines stages may run on (on:); nil: only this one.
	Hosts  []*Host
	FIFOs  []*FIFO
	Files  []*File
	Tees   []*Tee
	Merges []*Merge
	Stages []*Stage
	Edges  []*Edge

	// StagesNode is the stages: mapping (nil when the key is absent).
	StagesNode *yaml.Node
	// TopOK is false when the top-level mapping itself had problems
	// (unknown or duplicate keys), so "no stages" may be a typo's echo.
	TopOK bool
}

var topKeys = []string{
	"version", "name", "description", "params", "path", "env",
	"on_failure", "pipefail", "timeout", "sigpipe_is_failure", "stall_after", "on_stall", "max_parallel", "logs",
	"cycles", "hosts", "fifos", "files", "tees", "merges", "stages", "edges",
}

// Policy is an on_failure value.
type Policy struct {
	Value graph.Policy
	Node  *yaml.Node
}

// UnmarshalYAML reads the top-level mapping of a pipeline file.
func (p *Pipeline) UnmarshalYAML(n *yaml.Node) error {
	var d decoder
	top, ok := d.mapping(n, "pipeline", topKeys)
	p.TopOK = ok
	if v := top.get("version"); v != nil {
		if p.Version = d.str(v, "version"); p.Version != nil && p.Version.Text != "1" {
			d.add(v, "version: this tubo reads version 1 pipeline files, not %s", Quote(p.Version.Text))
		}
	}
	p.Name = d.str(top.get("name"), "name")
	p.Description = d.str(top.get("description"), "description")
	p.Params = section[Param](&d, top.get("params"), "params")
	if v := top.get("on_failure"); v != nil {
		if s, ok := d.scalar(v, "on_failure"); ok {
			switch s {
			case "kill-rest":
				p.OnFailure = &Policy{graph.KillRest, v}
			case "let-finish":
				p.OnFailure = &Policy{graph.LetFinish, v}
			default:
				d.add(v, "on_failure: want kill-rest or let-finish, not %s%s", Quote(s), DidYouMean(s, []string{"kill-rest", "let-finish"}))
			}
		}
	}
	p.Pipefail = d.boolean(top.get("pipefail"), "pipefail")
	p.SigpipeIsFailure = d.boolean(top.get("sigpipe_is_failure"), "sigpipe_is_failure")
	p.Timeout = d.str(top.get("timeout"), "timeout")
	p.MaxParallel = d.str(top.get("max_parallel"), "max_parallel")
	p.Logs = d.str(top.get("logs"), "logs")
	p.StallAfter = d.str(top.get("stall_after"), "stall_after")
	if v := top.get("on_stall"); v != nil {
		if p.OnStall = d.str(v, "on_stall"); p.OnStall != nil && p.OnStall.Text != "warn" && p.OnStall.Text != "fail" {
			d.add(v, "on_stall: want warn or fail, not %s%s", Quote(p.OnStall.Text), DidYouMean(p.OnStall.Text, []string{"warn", "fail"}))
		}
	}
	if v := top.get("cycles"); v != nil {
		if p.Cycles = d.str(v, "cycles"); p.Cycles != nil && p.Cycles.Text != "allow" && p.Cycles.Text != "refuse" {
			d.add(v, "cycles: want allow or refuse, not %s%s", Quote(p.Cycles.Text), DidYouMean(p.Cycles.Text, []string{"allow", "refuse"}))
		}
	}
	if v := top.get("path"); v != nil {
		p.Path, _ = d.strList(v, "path")
	}
	if v := top.get("env"); v != nil {
		p.Env = decodeEnv(&d, v, "env")
	}
	p.Hosts = section[Host](&d, top.get("hosts"), "hosts")
	p.FIFOs = decodeFIFOs(&d, top.get("fifos"))
	p.Files = section[File](&d, top.get("files"), "files")
	p.Tees = section[Tee](&d, top.get("tees"), "tees")
	p.Merges = section[Merge](&d, top.get("merges"), "merges")
	if p.StagesNode = top.get("stages"); p.StagesNode != nil {
		n := d.n()
		p.Stages = section[Stage](&d, p.StagesNode, "stages")
		if len(p.Stages) == 0 && d.n() == n {
			d.add(p.StagesNode, "stages: a pipeline needs at least one stage")
		}
	}
	p.Edges = decodeEdges(&d, top.get("edges"))
	return d.err()
}
