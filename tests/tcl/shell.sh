#!/bin/bash
# shell.sh: the ways into the console from outside vitro, on the demo
# guest: vitroctl eval (results, errors and their status, `exit N`, the
# --timeout limit on a looping script while the VM runs on), two clients
# on one VM at once (a tclsh with the package and vitroctl eval), and
# vitroctl shell driven in tmux (prompt, results, line editing, history,
# Tab completion, Ctrl-c on a running command and on the line, exit,
# Ctrl-d, the VM's end).
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

vm_start shell1 || {
	ok 1 "vitro with the demo guest comes up"
	tcl_done
}

# eval: results and errors.
ctl_eval shell1 'expr {6 * 7}'
is "$ST/$OUT" "0/42" "eval prints the result, status 0"
ctl_eval shell1 'set a 1; set b 2; list $a $b'
is "$OUT" "1 2" "eval runs the words as one script"
ctl_eval shell1 'error "boom here"'
is "$ST" 1 "a script error gives status 1"
like "$ERR" '^vitroctl: boom here$' "the error message is on stderr"
like "$ERR" 'while executing' "with errorInfo's lines"
is "$OUT" "" "and nothing on stdout"
ctl_eval shell1 'vitro::attach'
is "$ST" 1 "a usage error gives status 1"
like "$ERR" 'wrong # args: should be "vitro::attach name"' \
	"and names the usage"
ctl_eval shell1 'vitro::attach no-such-vm-here'
like "$ERR" "no VM named 'no-such-vm-here' is running" \
	"attaching to a missing VM names it"
ctl_eval shell1 'vitro::help'
like "$OUT" '^vitro console commands' "vitro::help lists the commands"

# exit N
ctl_eval shell1 'exit 3'
is "$ST/$OUT" "3/" "exit 3 gives status 3"
ctl_eval shell1 'catch {exit 4}; exit 5'
is "$ST" 4 "catch does not stop exit"
ctl_eval shell1 'puts before; exit'
is "$ST/$OUT" "0/before" "exit gives status 0, output flushed"

# The time limit.
t0=$(date +%s%N)
timeout 30 "$VITROCTL" --vm=shell1 --timeout=2 eval 'while 1 {}' \
	>"$T/out" 2>"$T/err"
ST=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$ST" 1 "a looping script ends with status 1"
like "$(cat "$T/err")" '^vitroctl: eval: time limit of 2 s reached$' \
	"with the time limit's message"
[ "$ms" -ge 1900 ] && [ "$ms" -lt 10000 ]
ok $? "within the limit (${ms} ms for 2 s)"
# A wait on an event that never comes is one command: the limit ends it.
t0=$(date +%s%N)
timeout 30 "$VITROCTL" --vm=shell1 --timeout=2 eval 'vm wait message' \
	>"$T/out" 2>"$T/err"
ST=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ST" = 1 ] && [ "$ms" -lt 10000 ] && grep -q 'time limit' "$T/err"
ok $? "vm wait without an event ends at the time limit (${ms} ms)" "$T/err"
kill -0 "$VPID" 2>/dev/null
ok $? "the VM is still running"
ctl_eval shell1 'vitro::attach shell1'
is "$ST/$OUT" "0/shell1" "the VM answers afterwards"
timeout 30 "$VITROCTL" --vm=shell1 --timeout=x eval 'expr 1' \
	>"$T/out" 2>"$T/err"
ST=$?
is "$ST" 2 "--timeout=x is refused as a bad command line"
like "$(cat "$T/err")" "--timeout: 'x' is not a number" "naming the value"
timeout 30 "$VITROCTL" --vm=shell1 eval list -phys 1 >"$T/out" 2>"$T/err"
is "$?/$(cat "$T/out")" "0/-phys 1" "eval's words may start with a dash"

# The package in a plain tclsh.
cat >"$T/pkg.tcl" <<'EOF'
package require vitro
# -force: vitro's break (Tcl's break without arguments) replaces Tcl's.
namespace import -force vitro::*
puts [lindex [split [help] \n] 0]
puts [attach shell1]
set n 0
foreach i {1 2 3 4 5 6 7 8} { incr n; if {$i == 8} break }
puts loop-$n
EOF
tclsh_run "$T/pkg.tcl"
is "$ST" 0 "tclsh: package require vitro, namespace import, attach"
like "$OUT" '^vitro console commands' "tclsh: help works imported"
like "$OUT" '^shell1$' "tclsh: attach returns the VM's name"
like "$OUT" '^loop-8$' "tclsh: Tcl's loops still work with the import"

# Two clients at once: a tclsh attached and vitroctl eval, each asking the
# VM (attach is a round trip; `vm info` where it exists).
cat >"$T/two.tcl" <<'EOF'
package require vitro
proc ask {} {
	if {[catch {vitro::vm info} r]} { set r [vitro::attach shell1] }
	return $r
}
vitro::attach shell1
set ok 0
for {set i 0} {$i < 20} {incr i} {
	if {![catch ask]} { incr ok }
	after 50
}
puts tclsh-ok-$ok
EOF
timeout 60 env "${TCLSH_ENV[@]}" tclsh "$T/two.tcl" >"$T/two.out" \
	2>"$T/two.err" &
tpid=$!
two=0
for i in 1 2 3 4 5; do
	ctl_eval shell1 'if {[catch {vm info} r]} {vitro::attach shell1} {set r}'
	[ "$ST" = 0 ] && two=$((two + 1))
done
wait $tpid
is "$two" 5 "vitroctl eval answered while a tclsh was attached"
is "$(cat "$T/two.out")" "tclsh-ok-20" \
	"the tclsh got its answers meanwhile" "$T/two.err"

# vitroctl shell in tmux.
TM=(tmux -L "vitro-shell-$$")
tm_screen() { "${TM[@]}" capture-pane -p -t "$1" 2>/dev/null; }
# tm_wait SESSION REGEX [COUNT]: until the screen has COUNT lines matching
# REGEX (default 1), at most 10 s.
tm_wait() {
	local want=${3:-1}
	for _ in $(seq 1 100); do
		[ "$(tm_screen "$1" | grep -Ec -- "$2")" -ge "$want" ] &&
			return 0
		sleep 0.1
	done
	return 1
}
tm_ok() { # tm_ok STATUS NAME SESSION: a TAP line, the screen on failure
	if [ "$1" = 0 ]; then
		ok 0 "$2"
	else
		tm_screen "$3" >"$T/screen"
		ok 1 "$2" "$T/screen"
	fi
}
tm_start() { # tm_start SESSION VM: vitroctl shell in a new tmux session
	"${TM[@]}" new-session -d -s "$1" -x 120 -y 40 \
		"env HOME=$T TERM=xterm $VITROCTL --vm=$2 shell; \
		echo SHELL-EXIT=\$?; sleep 120"
}

why=
if ! command -v tmux >/dev/null; then
	why="no tmux"
elif ! "${TM[@]}" new-session -d -s probe -x 80 -y 10 'sleep 5' \
	2>"$T/tmux.err"; then
	why="tmux cannot start here: $(head -1 "$T/tmux.err")"
fi
if [ -n "$why" ]; then
	for t in prompt result edit history complete-cmd complete-translate \
		complete-help complete-sub complete-sym intr-run intr-line exit eof gone; do
		n=$((n + 1))
		echo "ok $n # skip shell $t: $why"
	done
else
	"${TM[@]}" kill-session -t probe 2>/dev/null
	# capture-pane drops the spaces that end a row.
	P='vitro shell1>'
	tm_start sh shell1
	tm_wait sh "^$P"
	tm_ok $? "shell: the prompt '$P' appears" sh

	"${TM[@]}" send-keys -t sh 'expr {6 * 7}' Enter
	tm_wait sh '^42$'
	tm_ok $? "shell: a command's result shows" sh

	"${TM[@]}" send-keys -t sh 'expr 10+5' Left Left 0 Enter
	tm_wait sh '^105$'
	tm_ok $? "shell: Left and an inserted character edit the line" sh

	"${TM[@]}" send-keys -t sh Up Enter
	tm_wait sh '^105$' 2
	tm_ok $? "shell: Up then Enter runs the previous command again" sh

	"${TM[@]}" send-keys -t sh 'vitro::hel' Tab Enter
	tm_wait sh '^vitro console commands'
	tm_ok $? "shell: Tab completes a command name (vitro::hel)" sh
	"${TM[@]}" send-keys -t sh 'transl' Tab
	tm_wait sh "^$P translate ?$"
	tm_ok $? "shell: Tab completes translate" sh
	"${TM[@]}" send-keys -t sh C-u 'help tran' Tab
	tm_wait sh "^$P help translate ?$"
	tm_ok $? "shell: Tab completes help's argument" sh
	"${TM[@]}" send-keys -t sh C-u

	# A subcommand: the first of `vm help` that no other one prefixes.
	ctl_eval shell1 'vm help'
	sub=$(printf '%s\n' "$OUT" | awk '/^  vm [a-z]/ {print $2}' |
		sort -u)
	pick=
	for s in $sub; do
		[ ${#s} -ge 2 ] || continue
		[ "$(printf '%s\n' $sub help | grep -c "^${s%?}")" = 1 ] &&
			pick=$s && break
	done
	n=$((n + 1))
	if [ -z "$pick" ]; then
		echo "ok $n # skip shell: Tab completes a subcommand: vm has" \
			"no subcommands in this tree"
	else
		n=$((n - 1))
		"${TM[@]}" send-keys -t sh "vm ${pick%?}" Tab
		tm_wait sh "^$P vm $pick ?$"
		tm_ok $? "shell: Tab completes a subcommand (vm $pick)" sh
		"${TM[@]}" send-keys -t sh C-u
	fi

	# A symbol, once the guest's ELF is loaded: demo_collatz_len is
	# the only symbol starting demo_coll.
	"${TM[@]}" send-keys -t sh "sym load $GUESTS/demo.elf" Enter
	tm_wait sh 'dwarf 1'
	"${TM[@]}" send-keys -t sh 'sym addr demo_coll' Tab
	tm_wait sh "^$P sym addr demo_collatz_len ?$"
	tm_ok $? "shell: Tab completes a symbol of a loaded ELF" sh
	"${TM[@]}" send-keys -t sh C-u

	"${TM[@]}" send-keys -t sh 'while 1 {}' Enter
	sleep 0.5
	"${TM[@]}" send-keys -t sh C-c
	tm_wait sh 'interrupted$' && "${TM[@]}" send-keys -t sh \
		'expr 3*111' Enter && tm_wait sh '^333$'
	tm_ok $? "shell: Ctrl-c interrupts while 1 {} and the prompt is back" sh

	"${TM[@]}" send-keys -t sh 'garbage-words' C-c
	"${TM[@]}" send-keys -t sh 'expr 2*222' Enter
	tm_wait sh '^444$' && ! tm_screen sh | grep -q 'invalid command'
	tm_ok $? "shell: Ctrl-c drops the line being edited" sh

	"${TM[@]}" send-keys -t sh 'exit' Enter
	tm_wait sh '^SHELL-EXIT=0$'
	tm_ok $? "shell: exit leaves with status 0" sh

	tm_start sh2 shell1
	tm_wait sh2 "^$P" && "${TM[@]}" send-keys -t sh2 C-d &&
		tm_wait sh2 '^SHELL-EXIT=0$'
	tm_ok $? "shell: Ctrl-d on an empty line leaves" sh2

	vm_start shell2
	tm_start sh3 shell2
	tm_wait sh3 '^vitro shell2>'
	vm_stop
	tm_wait sh3 'the VM shell2 is gone' && tm_wait sh3 '^SHELL-EXIT=0$'
	tm_ok $? "shell: the VM's end is reported, status 0" sh3
	"${TM[@]}" kill-server 2>/dev/null
fi

# A hook that loops forever: stopped by the hooks' time limit, reported,
# disabled; the console and the VM go on.
cat >"$T/hook.tcl" <<EOF
package require vitro
vitro::attach shell1
proc spin {ev} { while 1 {} }
vitro::on stop spin
vitro::vm stop
after 12000 {set ::done 1}
vwait ::done
puts "enabled [dict get [lindex [vitro::on list] 0] enabled]"
vitro::vm continue
puts "state [dict get [vitro::vm info] state]"
EOF
tclsh_run "$T/hook.tcl"
like "$OUT" '^enabled 0$' "a hook looping forever is disabled after its time limit"
like "$ERR" 'time limit' "it is reported, naming the time limit"
like "$OUT" '^state running$' "the console and the VM go on"

# A client that goes away in the middle of a long command (here killed
# while reading 64 MiB of guest memory 4 KiB at a time): the monitor
# drops its connection and serves the next one.
"$VITROCTL" --vm=shell1 eval 'mem dump -phys 0 0x4000000 /dev/null' \
	>/dev/null 2>&1 &
cpid=$!
sleep 0.3
kill -9 "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
ctl_eval shell1 'dict get [vm info] state'
is "$OUT" running "a client killed mid-command: the VM runs and answers"

kill -0 "${vm_pids[0]}" 2>/dev/null
ok $? "the first VM is still running"
tcl_done
