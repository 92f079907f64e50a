package ast

import "go.yaml.in/yaml/v3"

// Host is one entry of hosts:, a machine that stages run on through
// OpenSSH: name: "[SLOTS/][user@]host[:port]" (short form, a --hosts
// line) or name: {ssh, port, slots, sessions, options}. An entry named
// local (or localhost) is this machine and may only give slots. Values
// keep their placeholders; package pipeline substitutes them.
type Host struct {
	Decl
	// Short is the one-line form; nil when the mapping form is used.
	Short *Scalar
	// SSH is the destination given to ssh; nil only for local.
	SSH      *Scalar
	Port     *Scalar // nil: ssh's own choice (its config, else 22)
	Slots    *Scalar // nil: 1
	Sessions *Scalar // nil: 10, sshd's default MaxSessions
	// Options are extra ssh arguments, before tubo's own.
	Options     []*Scalar
	Description *Scalar
}

var hostKeys = []string{"ssh", "port", "slots", "sessions", "options", "description"}

// UnmarshalYAML reads a host; h.Name must be set.
func (h *Host) UnmarshalYAML(v *yaml.Node) error {
	var d decoder
	what := "host " + h.Name
	if deref(v) != nil && deref(v).Kind == yaml.ScalarNode {
		h.Short = d.str(v, what)
		h.Broken = h.Short == nil
		return d.err()
	}
	m, ok := d.mapping(v, what, hostKeys)
	if !ok && len(m.list) == 0 {
		h.Broken = true
		return d.err()
	}
	h.SSH = d.str(m.get("ssh"), what+": ssh")
	h.Port = d.str(m.get("port"), what+": port")
	h.Slots = d.str(m.get("slots"), what+": slots")
	h.Sessions = d.str(m.get("sessions"), what+": sessions")
	if o := m.get("options"); o != nil {
		h.Options, _ = d.strList(o, what+": options")
	}
	h.Description = d.str(m.get("description"), what+": description")
	return d.err()
}
