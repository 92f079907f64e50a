# tubo's agent on a remote host: the session of the host's master
# connection. $1 names the run, $2 is the stage wrapper. POSIX sh;
# nothing of tubo is needed here.
#
# It makes the run's private directory, writes the stage wrapper into it,
# says "ready", and then reads tubo's requests on stdin, one a line:
#   signal TOKEN SIG N send SIG to the process group of stage TOKEN; N is
#                      its number if it ends the stage, else 0
#   end TOKEN          answer "end TOKEN STATUS CLOCK START END USER SYS
#                      USER0 SYS0" with what the stage's wrapper recorded
#                      (its children's times at the end and at the
#                      start), or "end TOKEN none"; tubo asks once per
#                      attempt, when its ssh client has exited
# When stdin ends (tubo closed it, tubo died, or the connection is gone)
# it ends every stage still registered (TERM, then KILL a second later)
# and removes the directory.
umask 077
trap '' PIPE HUP
d=${TMPDIR:-/tmp}/tubo-$1
mkdir -- "$d" || exit 1
printf '%s\n' "$2" >"$d/run"
: >"$d/alive"
echo "ready $d"
while read -r op t s n; do
	case $op in
	signal)
		# A signal that ends a stage (n > 0) is also left for a wrapper
		# that has not registered yet; each side writes, then looks for
		# the other's file, so one of them always sees both.
		[ "${n:-0}" -gt 0 ] && echo "$n" >"$d/$t.sig"
		# Each wrapper of the stage registers in a file of its own
		# (TOKEN.PID.pid: a retry's, and an earlier attempt's that
		# started late); an empty one is a wrapper that has ended.
		for f in "$d/$t".*.pid; do
			if [ -f "$f" ] && read -r pg <"$f"; then
				kill -s "$s" -- "-$pg" 2>/dev/null
				# After KILL the group is gone: forget it, so that its
				# number is never signalled again.
				[ "$s" = KILL ] && : >"$f"
			fi
		done
		;;
	end)
		if [ -f "$d/$t.end" ] && { read -r a && read -r b && read -r c; } <"$d/$t.end" &&
			{ read -r x && read -r y; } <"$d/$t.t"; then
			echo "end $a $c $y"
		else
			echo "end $t none"
		fi
		# A signal kept for this run of the stage must not stop a retry,
		# which is told its attempt number from the count of ends.
		[ -s "$d/$t.sig" ] && : >"$d/$t.sig"
		k=0
		[ -f "$d/$t.n" ] && read -r k <"$d/$t.n"
		echo $((k + 1)) >"$d/$t.n"
		;;
	esac
done
# A wrapper checks for alive after registering, so a stage either is
# registered before this point and ended below, or sees that the agent is
# gone and ends itself.
rm -f -- "$d/alive"
left=
for f in "$d"/*.pid; do
	if [ -f "$f" ] && read -r pg <"$f" && kill -s TERM -- "-$pg" 2>/dev/null; then
		left="$left $pg"
	fi
done
if [ -n "$left" ]; then
	sleep 1
	for pg in $left; do kill -s KILL -- "-$pg" 2>/dev/null; done
fi
rm -rf -- "$d"
