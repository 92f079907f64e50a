package remote

import (
	"os/exec"
	"testing"
)

// hostile holds words that would do harm or be split if they reached a
// shell unquoted. Each must come back as one literal argument.
var hostile = []string{
	"", " ", "a b", "; rm -rf /", "$(touch /tmp/tubo-pwned)", "`id`",
	"$HOME", "${PATH}", "'", "''", `'\''`, `"`, `\`, `\\n`, "a\nb", "\n",
	"\t", "*", "?", "[a]", "~", "~root", "#x", "a#b", "!", "!!", "&", "|",
	"<", ">", ">>x", "2>&1", "(", ")", "{", "}", "{a,b}", "a=b", "-n", "-e",
	"--", "%s", "é", "\x01", "\x7f", "$'a'", "it's", "don't \"x\"",
	"\u00a0", "a\r\nb",
}

func TestQuoteRoundTripsThroughSh(t *testing.T) {
	for _, sh := range []string{"sh", "dash", "bash"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		for _, w := range hostile {
			// printf %s\0 of the word, as the shell sees it.
			out, err := exec.Command(path, "-c", "printf '%s\\0' "+Quote(w)).Output()
			if err != nil {
				t.Fatalf("%s: %q: %v", sh, w, err)
			}
			if got := string(out); got != w+"\x00" {
				t.Errorf("%s: Quote(%q) = %s came back as %q", sh, w, Quote(w), got)
			}
		}
	}
}

func TestQuoteLeavesSafeWordsAlone(t *testing.T) {
	for in, want := range map[string]string{
		"esclavo": "esclavo", "/usr/bin/x": "/usr/bin/x", "a=b": "'a=b'",
		"": "''", "it's": `'it'\''s'`, "a b": "'a b'", "1000": "1000",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
