#!/usr/bin/env bash
# session.sh: the life of debugger sessions against demo.elf on two vCPUs:
# Ctrl-C stops a running guest promptly; detaching lets it run and a new
# gdb can attach and stop it again; a second gdb is refused while the
# first keeps working; a gdb that dies leaves the guest running for the
# next one.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/demo.elf

vitro_start demo -c 2 -k "$elf" -a "interval=100" || gdb_done
wait_for "$VOUT" "^demo: status 1 " 30

# Ctrl-C: gdb sends 0x03 on SIGINT while it waits in `continue`.
GDB_INT=1 gdb_run interrupt "$elf" <<'EOF'
p demo_ticks[0]
continue
echo @@stopped\n
info threads
p demo_ticks[0]
EOF
like "Ctrl-C during continue: the guest stops with SIGINT" "" "^Thread [12] received signal SIGINT, Interrupt\.$"
like "Ctrl-C: every vCPU stopped, both listed" stopped "^  [12] +Thread [12] \(vCPU [01], (halted, )?long mode, CPL 0\)"
is "$GST" 0 "Ctrl-C: gdb got the stop and finished its script"
a=$(val "" 1) b=$(val stopped)
[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
ok $? "the guest ran between attach and Ctrl-C (ticks $a -> $b)"

# Detach, then attach again.
gdb_run detach "$elf" <<'EOF'
p demo_ticks[0]
detach
EOF
like "detach" "" "^\[Inferior 1 \(Remote target\) detached\]"
has "vitro logs the detach" "$VERR" "^vitro: gdb: debugger detached: 127\.0\.0\.1:[0-9]+"
ticks=$(val "")
lines=$(grep -c "^demo: status" "$VOUT")
wait_for "$VOUT" "^demo: status $((lines + 2)) " 30
ok $? "after the detach the guest runs on (status line $((lines + 2)) printed)" "$VOUT"
GDB_INT=1 gdb_run reattach "$elf" <<'EOF'
echo @@attached\n
p demo_ticks[0]
continue
echo @@stopped\n
p demo_ticks[0]
EOF
t=$(val attached)
[ -n "$t" ] && [ -n "$ticks" ] && [ "$t" -gt "$ticks" ]
ok $? "a second session sees the guest has run (ticks $ticks -> $t)"
like "... and can stop it with Ctrl-C" attached "^Thread [12] received signal SIGINT, Interrupt\.$"

# One debugger at a time.  The first waits in a shell command for the
# second to be refused, then goes on.
attached=$(grep -c "debugger attached" "$VERR")
gdb_start first "$elf" <<'EOF'
echo @@before\n
p/x $pc
shell while [ ! -e @T@/go ]; do sleep 0.1; done
echo @@after\n
info threads
stepi
p/x $pc
p demo_ticks[0]
EOF
first=$GPID
for _ in $(seq 300); do
	[ "$(grep -c "debugger attached" "$VERR")" -gt "$attached" ] && break
	sleep 0.1
done
gout_first=$GOUT
gdb_run second "$elf" <<'EOF'
echo @@connected\n
p/x $pc
EOF
unlike "a second gdb gets no session" "" "^@@connected"
like "... gdb says the connection closed" "" "Remote connection closed|Connection reset by peer|Remote communication error"
has "vitro logs the refusal" "$VERR" "^vitro: gdb: refusing a second connection from 127\.0\.0\.1:[0-9]+: a debugger is attached from 127\.0\.0\.1:[0-9]+"
touch "$T/go"
GPID=$first GOUT=$gout_first
gdb_finish
is "$GST" 0 "the first gdb finished its script"
like "the first gdb keeps working: info threads" after "^\* [12] +Thread [12] \(vCPU"
like "the first gdb keeps working: stepi" after "^\\\$[0-9]+ = 0x[0-9a-f]+$"

# A gdb that dies: the connection drops, the guest resumes, and the next
# gdb attaches as usual.
if [ -z "$BP_GAP" ]; then
	gdb_run dies "$elf" <<'EOF'
break demo_collatz_len
continue
shell kill -KILL $PPID
EOF
	like "a gdb stopped at a breakpoint, then killed" "" "^Thread [12] hit Breakpoint 1, demo_collatz_len"
else
	# The same with a stop by Ctrl-C: the dropped connection is the point.
	GDB_INT=1 gdb_run dies "$elf" <<'EOF'
continue
shell kill -KILL $PPID
EOF
	like "a gdb stopped by Ctrl-C (no breakpoint stops here), then killed" "" "received signal SIGINT, Interrupt\.$"
fi
wait_for "$VERR" "debugger detached|lost the debugger" 30
lines=$(grep -c "^demo: status" "$VOUT")
wait_for "$VOUT" "^demo: status $((lines + 2)) " 30
ok $? "after the dropped connection the guest runs on, breakpoint gone" "$VOUT" "$VERR"
GDB_INT=1 gdb_run after-drop "$elf" <<'EOF'
continue
echo @@bt\n
thread 1
bt
EOF
like "the next gdb attaches, continues and stops" "" "received signal SIGINT, Interrupt\.$"
like "... and sees the guest's frames" bt '^#0 +.* at tests/guests/[a-z0-9/_]+\.[cSh]:[0-9]+$'

vitro_alive
ok $? "vitro still runs after all of that"
gdb_done
