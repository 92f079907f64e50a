package convert

import (
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// yaml writes the stages as a pipeline file. Every string is written with
// its {{ doubled, so no placeholder is read into a value of the line.
func (c *fromLine) yaml(src string) string {
	top := mapping(false)
	first := strings.SplitN(strings.TrimSpace(src), "\n", 2)[0]
	if r := []rune(first); len(r) > 60 {
		first = string(r[:57]) + "..."
	}
	// A comment is raw text: no control characters in it.
	first = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, first)
	top.HeadComment = "made by tubo convert from: " + first + "\n" +
		"paths in stdin:/stdout:/stderr: are relative to this file's directory;\n" +
		"the commands run in tubo's working directory"
	add(top, "on_failure", scalar("let-finish"), "as in sh, a failed command does not end the others")
	if c.pipefail {
		add(top, "pipefail", scalar("true"), "set -o pipefail: the status is the last failure's")
	} else {
		add(top, "pipefail", scalar("false"), "the status is the last command's")
	}
	add(top, "sigpipe_is_failure", scalar("true"), "a command killed by SIGPIPE exits 141")
	stages := mapping(false)
	for _, s := range c.stages {
		add(stages, s.name, s.node(), "")
	}
	add(top, "stages", stages, "")
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}); err != nil {
		// Nodes built here always encode; a failure is a bug.
		panic(err)
	}
	enc.Close()
	return b.String()
}

// node is the stage's mapping.
func (s *stage) node() *yaml.Node {
	m := mapping(false)
	if s.argv != nil {
		run := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, a := range s.argv {
			run.Content = append(run.Content, str(a))
		}
		add(m, "run", run, "")
	} else {
		add(m, "shell", str(s.shell), "")
	}
	if len(s.env) > 0 {
		env := mapping(true)
		for _, kv := range s.env {
			add(env, kv[0], str(kv[1]), "")
		}
		add(m, "env", env, "")
	}
	switch {
	case s.data != nil:
		d := mapping(false)
		add(d, "data", str(*s.data), "")
		add(m, "stdin", d, "")
	case s.inFile != "":
		add(m, "stdin", file(s.inFile, false), "")
	case s.stdin != "":
		add(m, "stdin", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.stdin}, "")
	case s.inherit:
		add(m, "stdin", str("-"), "tubo's own stdin")
	}
	if s.outFile != "" {
		add(m, "stdout", file(s.outFile, s.outApp), "")
	}
	if s.errFile != "" {
		add(m, "stderr", file(s.errFile, s.errApp), "")
	}
	if len(s.after) > 0 {
		after := mapping(true)
		for _, d := range s.after {
			add(after, d.name, scalar(d.outcome.String()), "")
		}
		add(m, "after", after, "")
	}
	return m
}

func file(path string, app bool) *yaml.Node {
	f := mapping(true)
	add(f, "file", str(path), "")
	if app {
		add(f, "append", scalar("true"), "")
	}
	return f
}

func mapping(flow bool) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		m.Style = yaml.FlowStyle
	}
	return m
}

func add(m *yaml.Node, key string, v *yaml.Node, comment string) {
	v.LineComment = comment
	if comment != "" && v.Kind != yaml.ScalarNode {
		v.LineComment = ""
	}
	// A key is a string even when it reads as something else (a stage
	// named false, or null).
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// scalar is a plain value the file reads as written (a name, a bool).
func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// str is a string value of the line: quoted when YAML would read it as
// something else, a block when it has several lines, with {{ escaped.
func str(v string) *yaml.Node {
	v = strings.ReplaceAll(v, "{{", "{{{{")
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if strings.Contains(strings.TrimSuffix(v, "\n"), "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}
