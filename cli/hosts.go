package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tubo-pipes/tubo/executor"
	"github.com/tubo-pipes/tubo/graph"
	"github.com/tubo-pipes/tubo/remote"
)

// hostFlags are the command line's hosts: --hosts FILE (GNU parallel's
// --sshloginfile lines, with optional names), --host NAME=SPEC, and the
// ssh command to reach them.
type hostFlags struct {
	files []string
	specs []string
	ssh   string
}

func (h *hostFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&h.files, "hosts", nil, "run replicated stages on the hosts in `FILE`: one [NAME=][SLOTS/][user@]host[:port] a line, : for this machine (repeatable)")
	c.Flags().StringArrayVar(&h.specs, "host", nil, "add a host: `NAME=[SLOTS/][user@]host[:port]` (repeatable)")
	c.Flags().StringVar(&h.ssh, "ssh", "", "the ssh `COMMAND` for remote hosts, split at spaces, e.g. 'ssh -F cluster.conf' (default $TUBO_SSH, else ssh)")
}

// hosts reads the hosts that the flags give, in order; a name given
// twice is an error. Errors are bad input (status 2).
func (h *hostFlags) hosts() ([]*graph.Host, error) {
	var out []*graph.Host
	seen := map[string]string{}
	add := func(x *graph.Host) error {
		if prev, dup := seen[x.Name]; dup {
			return fmt.Errorf("host %s is given twice (%s and %s)", x.Name, prev, x.Pos)
		}
		seen[x.Name] = x.Pos.String()
		out = append(out, x)
		return nil
	}
	for _, f := range h.files {
		list, err := remote.ReadHostsFile(f)
		if err != nil {
			return nil, usageError{fmt.Errorf("--hosts %v", err)}
		}
		for _, x := range list {
			if err := add(x); err != nil {
				return nil, usageError{fmt.Errorf("--hosts: %v", err)}
			}
		}
	}
	for _, s := range h.specs {
		x, err := remote.ParseNamed(s)
		if err != nil {
			return nil, usageError{err}
		}
		if err := add(x); err != nil {
			return nil, usageError{fmt.Errorf("--host: %v", err)}
		}
	}
	return out, nil
}

// sshCommand is the ssh program and its own options; nil means ssh.
func (h *hostFlags) sshCommand() []string {
	s := h.ssh
	if s == "" {
		s = os.Getenv("TUBO_SSH")
	}
	return strings.Fields(s)
}

// connect starts the master connections of a graph's remote hosts, all
// at once, before any stage starts; nil session when the graph has no
// remote stage. A host that cannot be reached (or refuses the key) fails
// the run with status 255, as ssh does, before anything runs.
func (a *app) session(g *graph.Graph) *remote.Session {
	s := remote.New(g)
	if s != nil {
		s.SSH = a.hostf.sshCommand()
		s.Stderr = a.stderr
	}
	return s
}

// connectError is the error of hosts that could not be reached: one
// "tubo: HOST (…): why" line each.
func connectError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", "\ntubo: ")
	return &executor.ExitError{Status: remote.StatusUnreachable, Err: errors.New(msg)}
}
