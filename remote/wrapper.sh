# tubo's stage wrapper, written by the agent into the run's directory
# (which the agent removes at the end; an emptied pid file is a stage
# that has ended: no rm is run per stage):
#   sh DIR/run TOKEN HOST CWD PATHDIRS NENV NAME=VALUE… PROGRAM ARG…
# It runs as the session's command, which sshd made a session and process
# group leader: the group is the stage. It registers the group, applies
# the stage's environment and directory, runs the program in the
# foreground through env (a real program, never a shell builtin, with
# every signal at its default action and stdin as given), and records
# its status and times. A signal that tubo sends through the agent
# reaches the whole group; the wrapper catches it only to outlive the
# program and report on it. It holds the channel's descriptors only
# while the program runs, as the program's parent, and drops them when
# it exits.
d=${0%/*} t=$1 h=$2 c=$3 p=$4 n=$5
shift 5
while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
[ -n "$p" ] && PATH=$p${PATH:+:$PATH} && export PATH
q=
trap 'q=129' HUP
trap 'q=130' INT
trap 'q=131' QUIT
trap 'q=143' TERM
trap 'q=138' USR1
trap 'q=140' USR2
trap 'q=142' ALRM
if [ ! -f "$d/alive" ]; then echo "tubo: $h: the run's agent is gone" >&2; exit 125; fi
echo "$$" >"$d/$t.pid"
if [ ! -f "$d/alive" ]; then : >"$d/$t.pid"; exit 125; fi
# A signal that tubo sent before the group was registered.
if [ -f "$d/$t.sig" ] && read -r x <"$d/$t.sig"; then q=$((128 + x)); fi
s=
if [ -n "$c" ] && ! cd -- "$c" 2>/dev/null; then
	echo "tubo: $h: cannot change directory to $c" >&2
	s=1
fi
case $1 in
*/*)
	if [ -z "$s" ] && [ ! -e "$1" ]; then echo "tubo: $h: $1: No such file or directory" >&2; s=127; fi
	if [ -z "$s" ] && { [ -d "$1" ] || [ ! -x "$1" ]; }; then echo "tubo: $h: $1: Permission denied" >&2; s=126; fi
	;;
*) if [ -z "$s" ] && ! command -v "$1" >/dev/null 2>&1; then echo "tubo: $h: $1: command not found" >&2; s=127; fi ;;
esac
k=date
[ -r /proc/uptime ] && k=uptime
now() { if [ $k = uptime ]; then read -r w _ </proc/uptime; else w=$(date +%s); fi; }
# times counts the children of the process since it began, which may
# include what the login shell ran before it exec'd this one: keep the
# count from now, to subtract.
times >"$d/$t.t"
now
w0=$w
if [ -z "$s" ] && [ -n "$q" ]; then s=$q; fi
if [ -z "$s" ]; then
	# sh reports a child killed by a signal ("Killed") on its own stderr,
	# which is the stage's: the wrapper's is /dev/null from here, and the
	# program gets the channel's in a subshell that execs it (a
	# redirection on the command itself would hold in sh while it waits).
	exec 4>&2 2>/dev/null
	(exec env "$@" 2>&4 4>&-)
	s=$?
	exec 4>&-
fi
now
{ echo "$t $s $k $w0 $w"; times; } >"$d/$t.end"
: >"$d/$t.pid"
# Whatever the program left in the group (cmd &) goes with it, as a
# local stage's leftovers do: TERM now, KILL a second later.
trap '' TERM
kill -s TERM 0 2>/dev/null
(sleep 1; kill -s KILL 0) </dev/null >/dev/null 2>&1 &
exit "$s"
