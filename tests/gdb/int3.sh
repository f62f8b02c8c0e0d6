#!/usr/bin/env bash
# int3.sh: the guest's own int3 instructions go to the guest, not to gdb,
# while gdb's breakpoints are planted (dbgtest.elf int3=5 runs five and
# counts them in its #BP handler, dbg_bp_trap), without a debugger and
# with one.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/dbgtest.elf

vitro_start alone -k "$elf" -a "int3=5 rounds=100" || gdb_done
vitro_wait 30
is "$VST" 33 "-G, no debugger attached: the guest takes its five int3s and passes"
has "... and says so" "$VOUT" "^dbgtest: int3: 5 of 5 taken by the guest"

vitro_start gdb -G w0 -k "$elf" -a "int3=5 rounds=100" || gdb_done
# Where no breakpoint stops the guest, gdb only runs it: its int3s must
# still go to the guest.
[ -z "$BP_GAP" ] || gdb_run int3 "$elf" <<'EOF'
echo @@end\n
continue
EOF
[ -n "$BP_GAP" ] || gdb_run int3 "$elf" <<'EOF'
break dbg_int3_run
break dbg_add
echo @@run\n
continue
p dbg_int3s
echo @@add\n
continue
p dbg_int3s
delete
set var dbg_int3s = 0
set var $pc = dbg_int3_run
set var $rdi = 2
break dbg_bp_trap
echo @@handler\n
continue
bt
continue
p dbg_int3s
delete
echo @@end\n
continue
EOF
gl_skipping "$BP_GAP"
like "gdb's breakpoint before the guest's int3s" run "^Breakpoint 1, dbg_int3_run \(n=5\)"
is "$(val run)" 0 "... none taken yet"
like "the next stop is gdb's next breakpoint, not a SIGTRAP" add "^Breakpoint 2, dbg_add \("
gl_skipping ""
unlike "gdb never saw a SIGTRAP" "" "SIGTRAP"
gl_skipping "$BP_GAP"
is "$(val add)" 5 "the guest took all five int3s meanwhile"
like "pc and rdi set: a breakpoint in the guest's #BP handler is hit" handler "^Breakpoint 3, dbg_bp_trap \("
like "... from the guest's int3 (bt)" handler "^#[0-9]+ +(0x[0-9a-f]+ in )?dbg_int3_run \(n=2\)"
is "$(sect handler | grep -c '^Breakpoint 3, dbg_bp_trap')" 2 "... and hit again for the second int3"
is "$(val handler)" 1 "... after the first was counted"
gl_skipping ""
like "the guest runs to its end" end "^\[Inferior 1 \(Remote target\) exited with code 041\]$"
vitro_wait 30
is "$VST" 33 "vitro exits with the guest's pass status"
gdb_done
