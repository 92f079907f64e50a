package explain

import (
	"strings"

	"github.com/tubo-pipes/tubo/plan"
)

// remoteConnections are the hosts that stages run on (see package
// remote) and how many ssh master connections tubo opens to them: one per
// PerConnection stages of each host.
func remoteConnections(p *plan.Plan) (names []string, conns int) {
	count := map[string]int{}
	for _, pr := range p.Procs {
		if pr.Host != "" {
			count[pr.Host]++
		}
	}
	for _, h := range p.Graph.Hosts {
		if c := count[h.Name]; c > 0 && h.SSH != "" {
			conns += h.Connections(c)
			names = append(names, h.Name)
		}
	}
	return names, conns
}

// remoteSteps says what happens before anything else when stages run on
// other hosts: the connections start all at once, each running tubo's
// agent, whose stdin, stdout and stderr tubo keeps. They start in
// parallel, so the descriptor numbers tubo gets for them (and so for the
// pipes after them) differ from run to run: the steps below number
// tubo's descriptors as if they held none, and say so.
func remoteSteps(p *plan.Plan, say func(string, ...any)) {
	names, conns := remoteConnections(p)
	if conns == 0 {
		return
	}
	say("connect to %s, all at once, before any stage: %d ssh master connection(s) (ControlMaster, socket in a private 0700 directory), each running tubo's agent (POSIX sh) on its host; tubo keeps each agent's stdin, stdout and stderr (descriptors not counted in tubo's numbers below: --trace shows the real ones); a host that cannot be reached stops the run here",
		strings.Join(names, ", "), conns)
}
