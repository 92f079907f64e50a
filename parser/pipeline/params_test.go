package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

// argvOf loads src with the given --set values and returns the argv of
// stage p.
func argvOf(t *testing.T, src string, set ...string) ([]string, error) {
	t.Helper()
	g, err := LoadBytes("p.yaml", []byte(src), Options{Set: set, SkipLookup: true})
	if err != nil {
		return nil, err
	}
	return g.Node("p").Argv, nil
}

func TestParams(t *testing.T) {
	const decl = `params:
  n: 5
  s: hello
  b: false
  l: [x, y]
  r: {type: int, default: 10, min: 1, max: 100, description: bounded}
  req: {type: string}
stages:
  p:
    run: [echo, "{{n}}", "{{s}}", "{{b}}", "{{l}}", "{{l...}}", "{{r}}", "{{req}}"]
`
	tests := []struct {
		set  []string
		want []string
		err  string
	}{
		{set: []string{"req=z"}, want: []string{"echo", "5", "hello", "false", "x,y", "x", "y", "10", "z"}},
		{set: []string{"req=", "n=-7", "s=a b", "b=yes", "l=p,q,r", "r=100"}, want: []string{"echo", "-7", "a b", "true", "p,q,r", "p", "q", "r", "100", ""}},
		{set: []string{"req=z", "b=OFF", "l=[a, 'b,c']"}, want: []string{"echo", "5", "hello", "false", "a,b,c", "a", "b,c", "10", "z"}},
		{set: []string{"req=z", "l="}, want: []string{"echo", "5", "hello", "false", "", "10", "z"}},
		{set: []string{"req=z", "n=1", "n=2"}, want: []string{"echo", "2", "hello", "false", "x,y", "x", "y", "10", "z"}},
		{set: nil, err: "p.yaml:7:3: param req has no default; give it with --set req=VALUE"},
		{set: []string{"req=z", "n=abc"}, err: `--set n=abc: param n: "abc" is not an integer`},
		{set: []string{"req=z", "n=1.5"}, err: `--set n=1.5: param n: "1.5" is not an integer`},
		{set: []string{"req=z", "n=99999999999999999999"}, err: `--set n=99999999999999999999: param n: "99999999999999999999" is outside the 64-bit integer range`},
		{set: []string{"req=z", "b=maybe"}, err: `--set b=maybe: param b: "maybe" is not a bool (true/false, yes/no, on/off, 1/0)`},
		{set: []string{"req=z", "r=0"}, err: `--set r=0: param r: 0 is less than its min 1`},
		{set: []string{"req=z", "r=101"}, err: `--set r=101: param r: 101 is greater than its max 100`},
		{set: []string{"req=z", "nn=1"}, err: `--set nn=1: no param named "nn"; did you mean "n"?`},
		{set: []string{"req=z", "novalue"}, err: `--set novalue: want name=value`},
		{set: []string{"req=a\x00b"}, err: "--set \"req=a\\x00b\": param req: value contains a NUL byte\np.yaml:7:3: param req has no default; give it with --set req=VALUE"},
		{set: []string{"req=z", "l=[a, [b]]"}, err: `--set l=[a, [b]]: param l: "[a, [b]]": list elements must be plain values`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.set, " "), func(t *testing.T) {
			got, err := argvOf(t, decl, tt.set...)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("argv %q; want %q", got, tt.want)
			}
		})
	}
}

func TestParamDeclErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"params: {n: {type: integer}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:20: param n: unknown type "integer" (want string, int, bool or list)`},
		{"params: {n: {type: int, default: abc}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:34: param n: default: want an int, got "abc"`},
		{"params: {n: {type: int, default: 5, min: 6}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:34: param n: default: param n: 5 is less than its min 6`},
		{"params: {n: {type: string, min: 6}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:28: param n: min applies only to int params`},
		{"params: {n: {type: int, min: 6, max: 5}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:33: param n: min 6 is greater than max 5`},
		{"params: {n: {type: bool, default: 1}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:35: param n: default: want true or false, got "1"`},
		{"params: {n: ~}\nstages: {p: {run: [x]}}\n", `p.yaml:1:13: param n: give a default value or {type: …}`},
		{"params: {replicas: 3}\nstages: {p: {run: [x]}}\n", `p.yaml:1:10: param replicas: the name is reserved for a builtin placeholder ({{replicas}})`},
		{"params: {n: {typ: int}}\nstages: {p: {run: [x]}}\n", `p.yaml:1:14: param n: unknown key "typ"; did you mean "type"?`},
		{"params: {s: \"a\\0b\"}\nstages: {p: {run: [x]}}\n", `p.yaml:1:13: param s: default: contains a NUL byte`},
	}
	for _, tt := range tests {
		if _, err := load(t, tt.src); err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		arg  string
		want []string
	}{
		{"{{ n }}", []string{"5"}},
		{"a{{n}}b{{n}}c", []string{"a5b5c"}},
		{"{{{{n}}", []string{"{{n}}"}},
		{"}}{{n}}{{{{", []string{"}}5{{"}},
		{"{{pipeline.name}}", []string{"p"}},
		{"{{l...}}", []string{"x", "y z"}},
		{"{{ l ... }}", []string{"x", "y z"}},
		{"{{e...}}", nil},
		{"{{e}}", []string{""}},
	}
	for _, tt := range tests {
		src := "params: {n: 5, l: [x, 'y z'], e: []}\nstages:\n  p: {run: [echo, '" + tt.arg + "']}\n"
		got, err := argvOf(t, src)
		if err != nil {
			t.Errorf("%s: %v", tt.arg, err)
			continue
		}
		if !reflect.DeepEqual(got[1:], tt.want) && !(len(got) == 1 && tt.want == nil) {
			t.Errorf("%s: got %q; want %q", tt.arg, got[1:], tt.want)
		}
	}
}

// A hostile value is one argv element, byte for byte.
func TestHostileArgvElement(t *testing.T) {
	src := "params: {v: x}\nstages:\n  p: {run: [prog, '{{v}}', '--opt={{v}}']}\n"
	for _, v := range []string{";", "$(id)", "`id`", "'", `"`, "a\nb", "a b", "*", "-rf /", "{{v}}", "}}{{"} {
		got, err := argvOf(t, src, "v="+v)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if want := []string{"prog", v, "--opt=" + v}; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: argv %q; want %q", v, got, want)
		}
	}
}

func TestShellQuoting(t *testing.T) {
	src := "params: {v: x, l: [a, 'b c']}\nstages:\n  p: {shell: 'echo {{v}} {{l...}} {{l}}'}\n"
	tests := []struct{ v, want string }{
		{"plain", "echo plain a 'b c' 'a,b c'"},
		{"a b", "echo 'a b' a 'b c' 'a,b c'"},
		{"$(id)", "echo '$(id)' a 'b c' 'a,b c'"},
		{"it's", `echo "it's" a 'b c' 'a,b c'`},
		{"a\nb", `echo $'a\nb' a 'b c' 'a,b c'`},
		{"", "echo '' a 'b c' 'a,b c'"},
	}
	for _, tt := range tests {
		g, err := LoadBytes("p.yaml", []byte(src), Options{Set: []string{"v=" + tt.v}, SkipLookup: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Node("p").Shell; got != tt.want {
			t.Errorf("%q: shell line %s; want %s", tt.v, got, tt.want)
		}
	}
}
