package mutants

// Shell holds the tokens of the shell language, for targets that read a
// shell line.
var Shell = []string{
	"|", "||", "&&", "&", ";", ";;", "\n", " ", "\t", "!", "|&",
	"(", ")", "{ ", " }", "$(", "`", "$((", "))", "((", "${", "}", "[[ ", " ]]", "[ ", " ]",
	"'", "\"", "\\", "$'", "$\"", "#", "~", "*", "?", "[", "]", "{a,b}", "{1..3}",
	"$", "$@", "$*", "$#", "$?", "$$", "$!", "$0", "$1", "${#x}", "${x:-y}", "${x#*}", "${x//a/b}", "${x:1:2}", "${!x}", "${x[@]}",
	"<", ">", ">>", "<<", "<<-", "<<<", "<>", ">|", "2>&1", ">&-", "<&0", "3>", "9<",
	"<<EOF\n", "\nEOF\n", "<(", ">(",
	"=", "+=", "x=", "a=(1 2)", "local ", "export ", "readonly ", "unset ", "declare -A ",
	"if ", " then ", " else ", " elif ", " fi", "for x in ", "for ((;;))", " do ", " done", "while ", "until ", "case x in ", " esac", "function f ", "f() ",
	"echo ", "set -e", "set -o pipefail", "set -u", "shift ", "return ", "exit ", "break ", "continue ", "eval ", "trap ", "exec ", "wait ", "read ", "cd ", ". ", "alias ", "getopts ", "printf ",
	"+", "-", "**", "/", "%", "<<", "?:", ",", "++", "--",
	"\x00", "\xff", "é",
}

// YAML holds the tokens of tubo's pipeline files, for targets that read one.
var YAML = []string{
	":", ": ", "\n", "\n  ", "\n    ", "- ", "{", "}", "[", "]", ",", "'", "\"", "#", "&a ", "*a", "!!str ", "|\n", ">\n", "~", "null", "true", "---\n",
	"{{", "}}", "{{x}}", "{{x...}}", "{{env.HOME}}",
	"stages:", "run:", "shell:", "stdin:", "stdout:", "stderr:", "fds:", "env:", "cwd:", "after:", "replicas:", "split:", "on:", "hosts:", "params:", "edges:",
	"tee", "merge:", "scatter", "file:", "fifo:", "append:", "data:", "to:", "format:", "int32", "lines", "pipe_size:", "on_failure:", "pipefail:", "timeout:",
	" -> ", "a", "b", "-", "all", "ssh:", "slots:", "@", "/",
}
