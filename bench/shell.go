package main

import "fmt"

// The shell's own rows (issue 10's loop benchmarks, issue 15's loop row):
// each script run by `tubo -c` and by dash (the goal) and by bash (for
// comparison), side by side in one run. The report gives the ratios; no
// test asserts a time.

// shellCase is one script and the stdout every shell must print.
type shellCase struct {
	name, script, want string
	ratio              float64 // the goal: ≤ ratio × dash's time
}

var shellCases = []shellCase{
	{
		name:   "shell while loop, 100k iterations",
		script: `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo $i`,
		want:   "100000\n", ratio: 1.5,
	},
	{
		name:   "shell for loop over $(seq 20000), echo into wc -l",
		script: `for i in $(seq 20000); do echo "line $i"; done | wc -l`,
		want:   "20000\n", ratio: 2,
	},
	{
		name:   "1000 two-stage pipelines in a loop",
		script: `for i in $(seq 1000); do /bin/true | /bin/true; done; echo done`,
		want:   "done\n", ratio: 1.3,
	},
}

func (b *bench) shellPairs() []*pair {
	var out []*pair
	for _, c := range shellCases {
		check := wantOutput(c.want)
		tubo := &command{label: "tubo", argv: []string{b.tubo, "-c", c.script}, check: check}
		out = append(out,
			&pair{
				name:   fmt.Sprintf("%s `%s`", c.name, c.script),
				tubo:   tubo,
				other:  &command{label: "dash", argv: []string{"dash", "-c", c.script}, check: check},
				target: 1 / c.ratio, goal: fmt.Sprintf("≤ %.1f× dash's time", c.ratio),
				runs: b.n, cpu: true,
			},
			&pair{
				name:  c.name + ", against bash",
				tubo:  tubo,
				other: &command{label: "bash", argv: []string{"bash", "-c", c.script}, check: check},
				goal:  "(informational)",
				runs:  b.n, cpu: true,
			})
	}
	return out
}
