#!/usr/bin/env bash
# script.sh: vitro -S SCRIPT, the console inside vitro running a Tcl
# script before the guest's first instruction (monitor/console.c): what
# the script reads, `exit N` as vitro's status (also from inside catch),
# a script that lets the guest finish (the guest's status, and its hooks
# still running), a wait for the guest's end, a signal during that wait,
# and the errors: a missing script, one that does not parse, one that
# fails at run time - each a message and status 4, the first two before
# the guest ran.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

DEMO=$GUESTS/demo.elf

# run NAME SCRIPT-TEXT [VITRO-ARGS...]: vitro -S on the demo guest (which
# runs until told, unless VITRO-ARGS say exit-after); ST its status, OUT
# its stdout, ERR its stderr, CON the guest's console.
run() {
	local name=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$T/$name.tcl"
	runfile "$name" "$T/$name.tcl" "$@"
}

runfile() { # runfile NAME PATH [VITRO-ARGS...]
	local name=$1 path=$2
	shift 2
	: >"$T/$name.con"
	timeout -k 5 120 "$VITRO" --debug-exit -c 2 -m 64M -k "$DEMO" \
		-l "com1,file:$T/$name.con" -S "$path" "$@" "scr$name$$" \
		</dev/null >"$T/$name.out" 2>"$T/$name.err"
	ST=$?
	OUT=$(cat "$T/$name.out")
	ERR=$(cat "$T/$name.err")
	CON=$(tr -d '\r' <"$T/$name.con")
	vm_errs+=("$T/$name.err")
}

# What a script reads, then exit 7: the guest never ran.
run read 'puts "help:[string match *vm* [vitro::help]]"
puts "expr:[expr {6 * 7}]"
if {[info commands ::vitro::vm] ne "" && ![catch {vm info} d]} {
	puts "vm:[dict get $d ncpus]:[dict get $d state]"
} else {
	puts "vm:none"
}
exit 7'
is "$ST" 7 "exit 7 in the script: vitro exits 7"
like "$OUT" '^help:1$' "the script reads vitro::help"
like "$OUT" '^expr:42$' "the script computes with Tcl's expr"
if [[ $OUT == *vm:none* ]]; then
	ok 0 "vm info # skip no vm info command in this tree"
else
	like "$OUT" '^vm:2:stopped$' "vm info: 2 vCPUs, held before the guest runs"
fi
is "$CON" "" "exit before the guest ran: no guest output"

# exit unwinds catch too.
run catch 'catch {exit 5}; puts "after catch"; exit 6'
is "$ST" 5 "exit 5 inside catch: vitro exits 5"
unlike_after=$([[ $OUT == *"after catch"* ]] && echo 1 || echo 0)
ok "$unlike_after" "exit 5 inside catch: the script stops there"

# A script that returns: the guest runs and ends with its own status; a
# hook the script set still runs.
run finish "set ::f [open $T/finish.hook w]
on resume {apply {{d} {puts \$::f \"resumed:[dict get \$d event]\"; flush \$::f}}}
puts \"script done\"" -a "exit-after=1 interval=100"
is "$ST" 33 "the script returns: vitro's status is the guest's (33)"
like "$CON" '^demo: status 1' "the guest ran after the script"
like "$(cat "$T/finish.hook" 2>/dev/null)" '^resumed:resume$' \
	"the script's hook ran once the guest was resumed"

# A script that lets the guest run and waits for its end.
run wait 'vm continue
set d [vm wait -timeout 60000 end]
puts "ended:[dict get $d event]:[dict get $d status]"' \
	-a "exit-after=1 interval=100"
is "$ST" 33 "vm continue, vm wait end: the guest's status (33)"
like "$OUT" '^ended:end:33$' "vm wait end returns the end event with its status"

# A signal while the script waits ends the VM (status 1).
printf '%s\n' 'vm continue' 'vm wait -timeout 60000 end' >"$T/sig.tcl"
"$VITRO" --debug-exit -c 1 -m 64M -k "$DEMO" -l "com1,file:$T/sig.con" -S "$T/sig.tcl" \
	"scrsig$$" </dev/null >"$T/sig.out" 2>"$T/sig.err" &
pid=$!
vm_pids+=("$pid")
for _ in $(seq 1 200); do
	grep -q "demo: status" "$T/sig.con" 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$pid"
timeout 30 tail --pid="$pid" -f /dev/null
wait "$pid"
is "$?" 1 "SIGTERM during vm wait: vitro ends with status 1"
like "$(cat "$T/sig.err")" "stopped by signal TERM" "... and says why"

# Errors.
runfile missing "$T/no-such.tcl"
is "$ST" 4 "a missing script: status 4"
like "$ERR" "^vitro: -S script '$T/no-such.tcl': No such file or directory$" \
	"a missing script: the message names it"
is "$CON" "" "a missing script: the guest never ran"

run syntax 'puts one
if {1} {
	puts two
'
is "$ST" 4 "a script that does not parse: status 4"
like "$ERR" "^vitro: -S script '$T/syntax.tcl', line 2: missing close-brace" \
	"a script that does not parse: file, line and Tcl's message"
is "$OUT" "" "a script that does not parse: nothing of it ran"
is "$CON" "" "a script that does not parse: the guest never ran"

run runtime 'proc f {} { no-such-command 1 2 }
puts before
f'
is "$ST" 4 "an error at run time: status 4"
like "$ERR" 'invalid command name "no-such-command"' \
	"an error at run time: Tcl's message"
like "$ERR" '"f"' "an error at run time: errorInfo's trace"
like "$ERR" "the script '$T/runtime.tcl' failed" "... and the script named"
is "$CON" "" "an error before the guest ran: the guest never ran"

tcl_done
