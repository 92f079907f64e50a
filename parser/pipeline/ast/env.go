package ast

import "go.yaml.in/yaml/v3"

// EnvVar is one NAME: value of an env: mapping.
type EnvVar struct {
	Name  string
	Key   *yaml.Node
	Value *Scalar
}

// decodeEnv reads a mapping of environment variables, in order.
func decodeEnv(d *decoder, n *yaml.Node, what string) []*EnvVar {
	f, _ := d.mapping(n, what, nil)
	var out []*EnvVar
	for _, fl := range f.list {
		if !validEnvName(fl.name) {
			d.add(fl.key, "%s: %s is not a valid environment variable name", what, Quote(fl.name))
			continue
		}
		if v := d.str(fl.val, what+": "+fl.name); v != nil {
			out = append(out, &EnvVar{Name: fl.name, Key: fl.key, Value: v})
		}
	}
	return out
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
