package pipeline

import "testing"

// TestShellStageChecked: a shell: line is parsed when the file is loaded,
// and its problem is reported at its place in the YAML file — one line
// plain or quoted, a literal block, a refused construct — once for a
// stage with replicas. (Before, the stage failed at run time with a
// position inside the line.)
func TestShellStageChecked(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"plain", "stages:\n  a:\n    shell: echo hi; coproc cat\n",
			"p.yaml:3:21: stage a: shell: the coproc keyword is not supported"},
		{"double quoted", "stages:\n  a:\n    shell: \"echo hi | | wc\"\n",
			"p.yaml:3:21: stage a: shell: `|` must be followed by a statement"},
		{"single quoted", "stages:\n  a: {shell: 'x=$(( 1 + ; echo'}\n",
			"p.yaml:2:23: stage a: shell: `+` must be followed by an expression"},
		{"literal block", "stages:\n  a:\n    shell: |\n      echo ok\n      for x in 1 2; do\n        echo $x\n      fi\n",
			"p.yaml:7:7: stage a: shell: `fi` can only be used to end an `if`"},
		{"replicas once", "stages:\n  a:\n    replicas: 3\n    shell: select x in a; do :; done\n",
			"p.yaml:4:12: stage a: shell: select loops are not supported"},
		{"placeholders are words", "params: {n: 'a b'}\nstages:\n  a: {shell: 'echo {{n}} | wc -w'}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := load(t, tt.src)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
