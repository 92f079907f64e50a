package graph

import "strings"

// QuoteArgv shows an argv the way it would have to be typed at a shell:
// words with spaces or shell metacharacters in single quotes. It is for
// display (trace, graph labels), never for running anything.
func QuoteArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]#~{}") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}
