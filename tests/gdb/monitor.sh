#!/usr/bin/env bash
# monitor.sh: gdb's `monitor` commands and QEMU's maintenance packets
# against dbgtest.elf: help, info vcpus, stats, Tcl in vitro's console
# (vitro::help, expr, an unknown command and a Tcl error), phys
# on|off (and Qqemu.PhyMemMode) with x on physical addresses, and
# qqemu.sstepbits / qqemu.sstep / Qqemu.sstep.  dbgtest maps linear
# 0x3fe00000 to physical 0, so linear and physical addresses differ there.
# TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/dbgtest.elf
vitro_start dbgtest -k "$elf" || gdb_done
wait_for "$VOUT" "^dbgtest: running" 30

# The stepi runs from dbg_add, reached with a breakpoint: where no
# breakpoint stops the guest, that part is left out and its check skipped.
{
	cat <<'EOF'
echo @@help\n
monitor help
echo @@vcpus\n
monitor info vcpus
p/x $pc
p/x $rsp
echo @@stats\n
monitor stats
echo @@unknown\n
monitor no-such-command
echo @@tclhelp\n
monitor vitro::help
echo @@expr\n
monitor expr 6*7
echo @@tclerr\n
monitor error {no such thing here}
echo @@tclvm\n
monitor llength [info commands ::vitro::*]
echo @@linear\n
p *(unsigned long *)(dbg_alias + (unsigned long)&dbg_rounds)
p dbg_rounds
echo @@phys\n
monitor phys
monitor phys on
monitor phys
x/gd &dbg_rounds
x/s &guest_name
echo @@phys-off\n
monitor phys off
x/gd dbg_alias + (unsigned long)&dbg_rounds
echo @@qemu\n
maintenance packet qqemu.Supported
maintenance packet qqemu.sstepbits
maintenance packet qqemu.sstep
maintenance packet Qqemu.sstep=0x1
maintenance packet qqemu.sstep
EOF
	[ -n "$BP_GAP" ] || cat <<'EOF'
tbreak dbg_add
continue
echo @@sstep\n
p/x $pc
stepi
p/x $pc
EOF
	cat <<'EOF'
echo @@qemu2\n
maintenance packet Qqemu.sstep=3
maintenance packet qqemu.sstep
maintenance packet Qqemu.sstep=0x40
maintenance packet qqemu.PhyMemMode
maintenance packet Qqemu.PhyMemMode:1
maintenance packet qqemu.PhyMemMode
x/gd &dbg_rounds
maintenance packet Qqemu.PhyMemMode:0
p dbg_rounds
echo @@phys-fault\n
monitor phys on
x/gx dbg_alias + (unsigned long)&dbg_rounds
EOF
} >"$T/monitor.in"
gdb_run monitor "$elf" <"$T/monitor.in"

like "monitor help: phys" help "^phys \[on\|off\] +m/M/X use guest-physical addresses"
like "monitor help: info vcpus" help "^info vcpus +"
like "monitor help: stats" help "^stats +"
pc=$(val vcpus 1) sp=$(val vcpus 2)
like "monitor info vcpus: vCPU 0's mode, CPL, pc, sp and cr3" vcpus "^vCPU 0, long mode, CPL 0: pc ${pc:-?} sp ${sp:-?} cr3 0x10000$"
like "monitor stats: vCPU 0's counters" stats "^vCPU 0:$"
like "monitor stats: some exits counted" stats "^  exits\.[a-z_]+ +[1-9][0-9]*$"
like "monitor help: anything else is Tcl" help "^anything else +a Tcl command in vitro's console"
like "monitor no-such-command: Tcl's message" unknown '^invalid command name "no-such-command"$'
like "monitor vitro::help: the console's command list" tclhelp "^vitro console commands"
like "monitor vitro::help: the vm command" tclhelp "^  vm +"
like "monitor expr 6*7: 42" expr "^42$"
like "monitor error {...}: the Tcl error's message" tclerr "^no such thing here$"
like "monitor llength [info commands ::vitro::*]: a number" tclvm "^[1-9][0-9]*$"

alias=$(val linear 1) rounds=$(val linear 2)
[ -n "$rounds" ] && [ "$alias" = "$rounds" ]
ok $? "linear: the alias at 0x3fe00000 shows dbg_rounds ($alias, $rounds)"
like "monitor phys: off at first" phys "^physical memory mode is off$"
like "monitor phys on" phys "^physical memory mode on$"
like "monitor phys: now on" phys "^physical memory mode is on$"
like "phys on: x/gx of dbg_rounds' physical address" phys "^0x[0-9a-f]+ <dbg_rounds>:[[:space:]]+${rounds:-?}$"
like "phys on: x/s of a string by its physical address" phys "^0x[0-9a-f]+ <guest_name>:[[:space:]]+\"dbgtest\"$"
like "monitor phys off: the linear alias reads again" phys-off "^0x3ff0[0-9a-f]+:[[:space:]]+${rounds:-?}$"
like "phys on: the alias's linear address is no physical RAM" phys-fault "Cannot access memory at address 0x3ff0[0-9a-f]+"

# reply PACKET: what the stub answered to `maintenance packet PACKET`.
reply() {
	sect "" | awk -v p="sending: $1" '
		$0 == p { getline; sub(/^received: "/, ""); sub(/"$/, ""); print; exit }'
}
is "$(reply qqemu.Supported)" "sstepbits;sstep;PhyMemMode" "qqemu.Supported"
r=$(reply qqemu.sstepbits)
[ "$r" = "ENABLE=1,NOIRQ=2" ] || [ "$r" = "ENABLE=1,NOIRQ=2,NOTIMER=4" ]
ok $? "qqemu.sstepbits: ENABLE=1,NOIRQ=2 as QEMU's ($r)"
is "$(sect "" | grep -A1 '^sending: qqemu.sstep$' | sed -n 's/^received: "\(.*\)"$/\1/p' | tr '\n' ' ')" \
	"0x3 0x1 0x3 " "qqemu.sstep: 0x3 (interrupts masked) by default, then as set"
is "$(reply Qqemu.sstep=0x1)" OK "Qqemu.sstep=0x1"
pc0=$(val sstep 1) pc1=$(val sstep 2)
[ -n "$pc0" ] && [ -n "$pc1" ] && [ $((pc1 - pc0)) -gt 0 ] && [ $((pc1 - pc0)) -le 15 ]
gl_skipping "$BP_GAP"
ok $? "stepi with Qqemu.sstep=0x1: one instruction ($pc0 -> $pc1)"
gl_skipping ""
is "$(reply Qqemu.sstep=3)" OK "Qqemu.sstep=3 (no 0x)"
like "Qqemu.sstep=0x40 (unsupported bits): an error" qemu2 '^received: "E[0-9a-f][0-9a-f]"$'
is "$(reply Qqemu.PhyMemMode:1)" OK "Qqemu.PhyMemMode:1"
is "$(sect "" | grep -A1 '^sending: qqemu.PhyMemMode$' | sed -n 's/^received: "\(.*\)"$/\1/p' | tr '\n' ' ')" \
	"0 1 " "qqemu.PhyMemMode: 0, then 1"
r=$(val qemu2)
like "Qqemu.PhyMemMode:1: x by physical address" qemu2 "^0x[0-9a-f]+ <dbg_rounds>:[[:space:]]+${r:-?}$"

vitro_alive
ok $? "vitro still runs"
gdb_done
