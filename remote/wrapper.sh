# tubo's stage wrapper, written by the agent into the run's directory
# (which the agent removes at the end; an emptied pid file is a stage
# that has ended: no rm is run per stage):
#   sh DIR/run TOKEN HOST CWD PATHDIRS RETRIES NAME=VALUE… -- PROGRAM ARG…
# It runs as the session's command, which sshd made a session and process
# group leader: the group is the stage. It registers the group, applies
# the stage's directory, runs the program in the foreground with the
# stage's environment (in a subshell that execs it: a real program, never
# a shell builtin, with every signal at its default action and stdin as
# given), and records its status and times. A signal that tubo sends
# through the agent reaches the whole group; the wrapper catches it only
# to outlive the program and report on it. It holds the channel's
# descriptors only while the program runs, as the program's parent, and
# drops them when it exits.
d=${0%/*} t=$1 h=$2 c=$3 p=$4 r=$5
shift 5
# "$@" is now the stage's NAME=VALUE… -- PROGRAM ARG…: exported only in
# the subshell that execs the program, so that no name of the stage's
# changes one of the wrapper's. The program's PATH (P) is the stage's
# own, else the host's with the path: directories in front; g is the
# program.
P=$PATH
[ -n "$p" ] && P=$p${P:+:$P}
g= z=
for e; do
	if [ -n "$z" ]; then g=$e; break; fi
	case $e in
	--) z=1 ;;
	PATH=*) P=${e#PATH=} ;;
	esac
done
# A stage that may be retried is told which attempt this is, as a local
# one is: TUBO_ATTEMPT=1, 2, … (each attempt is a new session of the
# same token; the agent counts the attempts that ended).
a=
if [ "$r" -gt 0 ]; then
	a=1
	if [ -f "$d/$t.n" ] && read -r a <"$d/$t.n"; then a=$((a + 1)); fi
fi
q=
trap 'q=129' HUP
trap 'q=130' INT
trap 'q=131' QUIT
trap 'q=143' TERM
trap 'q=138' USR1
trap 'q=140' USR2
trap 'q=142' ALRM
if [ ! -f "$d/alive" ]; then echo "tubo: $h: the run's agent is gone" >&2; exit 125; fi
# Each wrapper registers in a file of its own: a retry's group and a
# late-started earlier attempt's are both known to the agent.
f=$d/$t.$$.pid
echo "$$" >"$f"
if [ ! -f "$d/alive" ]; then : >"$f"; exit 125; fi
# A signal that tubo sent before the group was registered.
if [ -f "$d/$t.sig" ] && read -r x <"$d/$t.sig"; then q=$((128 + x)); fi
s=
if [ -n "$c" ] && ! cd -- "$c" 2>/dev/null; then
	echo "tubo: $h: cannot change directory to $c" >&2
	s=1
fi
case $g in
*/*)
	if [ -z "$s" ] && [ ! -e "$g" ]; then echo "tubo: $h: $g: No such file or directory" >&2; s=127; fi
	if [ -z "$s" ] && { [ -d "$g" ] || [ ! -x "$g" ]; }; then echo "tubo: $h: $g: Permission denied" >&2; s=126; fi
	;;
*)
	o=$PATH
	PATH=$P
	if [ -z "$s" ] && ! command -v "$g" >/dev/null 2>&1; then s=127; fi
	PATH=$o
	if [ "$s" = 127 ]; then echo "tubo: $h: $g: command not found" >&2; fi
	;;
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
	(
		PATH=$P
		export PATH
		[ -n "$a" ] && TUBO_ATTEMPT=$a && export TUBO_ATTEMPT
		while [ "$1" != -- ]; do export "$1"; shift; done
		shift
		exec "$@" 2>&4 4>&-
	)
	s=$?
	exec 4>&-
fi
now
{ echo "$t $s $k $w0 $w"; times; } >"$d/$t.end"
: >"$f"
# Whatever the program left in the group (cmd &) goes with it, as a
# local stage's leftovers do: TERM now, KILL a second later.
trap '' TERM
kill -s TERM 0 2>/dev/null
(sleep 1; kill -s KILL 0) </dev/null >/dev/null 2>&1 &
exit "$s"
