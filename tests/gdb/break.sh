#!/usr/bin/env bash
# break.sh: gdb against demo.elf held from its first instruction (-G w):
# the entry point, more than four breakpoints hit in turn, next, step,
# stepi, bt through C frames, finish, x/8i, hbreak, and register and
# variable writes that change what the guest does next.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/demo.elf
vitro_start demo -G w0 -k "$elf" -a "interval=100" || gdb_done

# Where no breakpoint stops the guest, the session ends after the entry
# point, and what follows is skipped.
{
	cat <<'EOF'
echo @@console\n
shell wc -c <@VOUT@
echo @@entry\n
info files
p/x $pc
info symbol $pc
EOF
	[ -n "$BP_GAP" ] || cat <<'EOF'
echo @@bps\n
break guest_main
break lapic_enable
break time_init
break smp_start
break demo_cpu_start
break demo_task_loop
break demo_task_step
continue
continue
continue
continue
continue
continue
continue
echo @@info-bps\n
info breakpoints
delete
echo @@next\n
next
echo @@step\n
step
echo @@bt\n
bt
echo @@stepi\n
p/x $pc
stepi
p/x $pc
x/i $pc
echo @@finish\n
finish
echo @@x8i\n
x/8i $pc
echo @@hbreak\n
hbreak demo_collatz_len
info breakpoints
set debug remote 1
continue
set debug remote 0
frame
echo @@set-reg\n
p n
set var $rdi = 27
p n
finish
echo @@set-var\n
delete
tbreak demo_task_step
continue
set var demo_seed[0] = 97
p demo_seed[0]
break demo_collatz_len
set debug remote 1
continue
set debug remote 0
p n
echo @@end\n
EOF
} >"$T/break.in"
gdb_run break "$elf" <"$T/break.in"

vitro_wait 0
is "$VST" timeout "vitro runs while gdb is attached"
has "-G w: the guest waits for the debugger" "$VERR" "^vitro: gdb: listening on 127.0.0.1:[0-9]+; the guest waits"
entry=$(sect entry | sed -n 's/.*Entry point: \(0x[0-9a-f]*\).*/\1/p' | head -n 1)
is "$(sect entry | sed -n 's/^\$1 = //p')" "${entry:-?}" \
	"-G w: pc is at the ELF entry point when gdb attaches"
like "-G w: pc is _start" entry "^_start in section \.text"
is "$(sect console)" 0 "-G w: the guest printed nothing before gdb attached"

gl_skipping "$BP_GAP"
bps=$(sect bps | sed -n 's/^Breakpoint \([0-9]*\), \([a-z_0-9]*\) .*/\1:\2/p' | tr '\n' ' ')
is "$bps" "1:guest_main 2:lapic_enable 3:time_init 4:smp_start 5:demo_cpu_start 6:demo_task_loop 7:demo_task_step " \
	"seven breakpoints at once, each hit in turn"
is "$(sect info-bps | grep -c '^[0-9]* *breakpoint *keep y')" 7 \
	"info breakpoints lists the seven"
is "$(sect info-bps | grep -c 'breakpoint already hit 1 time')" 7 \
	"info breakpoints: each hit once"

like "next: to the next line of demo_task_step" next "^86[[:space:]]+uint64_t n = demo_seed\[cpu\], len = demo_collatz_len\(n\);"
like "step: into demo_collatz_len" step "^demo_collatz_len \(n=n@entry=[0-9]+\) at .*demo\.c:77"
like "bt #0 demo_collatz_len" bt "^#0  demo_collatz_len \(n=n@entry=[0-9]+\) at .*demo\.c:"
like "bt #1 demo_task_step" bt "^#1  0x[0-9a-f]+ in demo_task_step \(cpu=cpu@entry=0\) at .*demo\.c:86"
like "bt #2 demo_task_loop" bt "^#2  0x[0-9a-f]+ in demo_task_loop \(cpu=cpu@entry=0, bsp=bsp@entry=true\)"
like "bt #3 guest_main" bt "^#3  0x[0-9a-f]+ in guest_main \(\) at .*demo\.c:"
like "bt reaches _start" bt "^#[0-9]+ +0x[0-9a-f]+ in _start \(\) at .*entry64\.S"

pcs=$(sect stepi | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
set -- $pcs
[ $# = 2 ] && [ "$1" != "$2" ] && [ $(($2 - $1)) -gt 0 ] && [ $(($2 - $1)) -le 15 ]
ok $? "stepi: one instruction on ($pcs)"
like "stepi: x/i shows the instruction at the new pc" stepi "^=> $2 <demo_collatz_len\+[0-9]+>:"

like "finish: back in demo_task_step" finish "^demo_task_step \(cpu=cpu@entry=0\) at .*demo\.c:"
like "finish: the value returned" finish "^Value returned is \\\$[0-9]+ = [0-9]+"

is "$(sect x8i | grep -c '^\(=>\|  \) 0x[0-9a-f]* <[a-z_0-9+]*>:	[a-z]')" 8 \
	"x/8i \$pc: eight instructions"
like "x/8i \$pc: the first is at pc" x8i "^=> 0x[0-9a-f]+ <demo_task_step\+[0-9]+>:"

like "hbreak: a hardware breakpoint" hbreak "^[0-9]+ +hw breakpoint +keep y .* in demo_collatz_len at"
hb=$(sect hbreak | sed -n 's/^Hardware assisted breakpoint [0-9]* at 0x\([0-9a-f]*\):.*/\1/p')
like "hbreak: inserted as Z1" hbreak "Sending packet: \\\$Z1,${hb:-?},1#"
like "hbreak: the stop reply says hwbreak" hbreak "Packet received: T05thread:0*1;.*hwbreak:;"
like "hbreak: stopped in demo_collatz_len" hbreak "^#0  demo_collatz_len \(n=n@entry=[0-9]+\) at .*demo\.c:77"

like "set var \$rdi: n follows the register" set-reg "^\\\$[0-9]+ = 27$"
like "set var \$rdi = 27: the guest computes collatz(27) = 112" set-reg "^Value returned is \\\$[0-9]+ = 112$"

is "$(val set-var)" 97 "set var demo_seed[0] = 97: the guest takes 97 next"
like "break: inserted as Z0" set-var "Sending packet: \\\$Z0,[0-9a-f]+,1#"
like "break: the stop reply says swbreak" set-var "Packet received: T05thread:0*1;.*swbreak:;"
gl_skipping ""

# Breakpoints that cannot be: at an address with no memory, and a fifth
# hardware breakpoint.  gdb says so; the guest runs on.
# (Only with int3: a debug register needs no memory at its address.)
gl_skipping "$SWBP_GAP"
[ -n "$SWBP_GAP" ] || gdb_run badbp "$elf" <<'EOF'
break *0x100000000
continue
EOF
like "a breakpoint where there is no memory: gdb cannot insert it" "" "^Cannot insert breakpoint 1\.$"
like "... and says why" "" "^Cannot access memory at address 0x100000000$"
gl_skipping ""
gdb_run hbreak5 "$elf" <<'EOF'
hbreak demo_timer_irq
hbreak demo_ipi_irq
hbreak demo_uart_irq
hbreak demo_status_print
hbreak demo_fault
continue
EOF
like "a fifth hardware breakpoint: gdb cannot insert it" "" "^Cannot insert hardware breakpoint 5\.$"
gl_skipping "$HWBP_GAP"
[ -n "$HWBP_GAP" ] || gdb_run hbreak4 "$elf" <<'EOF'
hbreak demo_timer_irq
hbreak demo_ipi_irq
hbreak demo_uart_irq
hbreak demo_collatz_len
continue
EOF
like "after that session, four hardware breakpoints work again" "" "^Breakpoint [0-9], (demo_timer_irq|demo_collatz_len) \("
gl_skipping ""

# The end, once the guest is running free: kill powers it off.
gdb_run kill "$elf" <<'EOF'
kill
EOF
like "kill: gdb says the inferior was killed" "" "^\[Inferior 1 \(Remote target\) killed\]"
vitro_wait 30
is "$VST" 1 "kill: vitro exits with status 1 (powered off)"
has "kill: vitro says the debugger killed it" "$VERR" "^vitro: killed by the debugger"
gdb_done
