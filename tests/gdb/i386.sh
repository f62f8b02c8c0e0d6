#!/usr/bin/env bash
# i386.sh: multiboot.elf (32-bit protected mode, ELF32) under the i386
# register description (-G w0,arch=i386): 32-bit registers from the first
# instruction, breakpoints, bt, next, step, stepi, finish, and the guest
# run to its end; then under the default x86-64 description, as a
# 64-bit kernel entered through Multiboot would be debugged: the 32-bit
# state zero-extended.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/multiboot.elf
vitro_start i386 -G w0,arch=i386 -k "$elf" -a mem=256 || gdb_done

# Where no breakpoint stops the guest, the breakpoint part is left out
# and its checks skipped; the guest still runs to its end.
{
	cat <<'EOF'
echo @@entry\n
show architecture
p/x $pc
info registers
EOF
	[ -n "$BP_GAP" ] || cat <<'EOF'
echo @@break\n
break guest_main
continue
bt
echo @@next\n
next
echo @@step\n
step
echo @@stepi\n
p/x $pc
stepi
p/x $pc
x/4i $pc
echo @@finish\n
finish
EOF
	cat <<'EOF'
echo @@end\n
delete
continue
EOF
} >"$T/i386.in"
gdb_run i386 "$elf" <"$T/i386.in"

like "the i386 architecture" entry '^The target architecture is set to "auto" \(currently "i386"\)\.$'
like "pc at the Multiboot entry point, _start" entry '^\$1 = 0x10000c$'
like "info registers: eax holds the Multiboot magic" entry "^eax +0x2badb002 +732803074$"
like "info registers: ebx the Multiboot information" entry "^ebx +0x[0-9a-f]+ +[0-9]+$"
like "info registers: eip" entry "^eip +0x10000c +0x10000c <_start>$"
like "info registers: cs is the 32-bit code selector" entry "^cs +0x18 +24$"
like "info registers: cr0 has PE, not PG" entry "^cr0 +0x[0-9a-f]+ +\[ PE ET \]$"
like "info registers: efer" entry "^efer +0x0 +\[ \]$"
unlike "info registers: no 64-bit registers" entry "^(rax|rip|r8|r15|k_gs_base|cr8) "
gl_skipping "$BP_GAP"
like "break guest_main" break "^Breakpoint 1, guest_main \(\) at .*multiboot\.c:"
like "bt: #1 rt_boot" break "^#1  0x[0-9a-f]{8} in rt_boot \(mbi=[0-9]+, magic=732803074\) at .*start\.c:"
like "bt: down to _start" break "^#[0-9]  0x[0-9a-f]{8} in _start \(\) at .*entry32\.S:"
like "next: the next line" next "^22[0-9][[:space:]]+"
like "step: into rt_printf" step "rt_printf \(fmt=.*\) at .*printf\.c:"
pcs=$(sect stepi | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
set -- $pcs
[ $# = 2 ] && [ $(($2 - $1)) -gt 0 ] && [ $(($2 - $1)) -le 15 ]
ok $? "stepi: one instruction on ($pcs)"
like "x/4i: 32-bit code at pc" stepi "^=> ${2:-?} <rt_printf\+[0-9]+>:"
like "finish: back in guest_main" finish "^guest_main \(\) at .*multiboot\.c:"
like "finish: rt_printf's value" finish "^Value returned is \\\$[0-9]+ = [0-9]+$"
gl_skipping ""
like "continue: the guest checks everything and exits" end "^\[Inferior 1 \(Remote target\) exited with code 041\]$"
vitro_wait 30
is "$VST" 33 "vitro exits with the guest's pass status"
has "the guest passed" "$VOUT" "^multiboot: pass"

# The default description, with gdb told the architecture (gdb would
# otherwise take the ELF32's i386 and reject the 64-bit description).
vitro_start x86-64 -G w0 -k "$elf" -a mem=256 || gdb_done
{
	cat <<'EOF'
set architecture i386:x86-64
target remote 127.0.0.1:@PORT@
echo @@regs\n
info registers rip rax rbx cs cr0 efer
stepi
stepi
p/x $pc
EOF
	[ -n "$BP_GAP" ] || printf 'break guest_main\ncontinue\n'
} >"$T/x86-64.in"
NOCONNECT=1 gdb_run x86-64 "$elf" <"$T/x86-64.in"
like "x86-64 description: rip is the 32-bit entry, zero-extended" regs "^rip +0x10000c +0x10000c <_start>$"
like "x86-64 description: rax holds the Multiboot magic" regs "^rax +0x2badb002 +732803074$"
like "x86-64 description: stepi in 32-bit code" regs '^\$1 = 0x10000e$'
gl_skipping "$BP_GAP"
like "x86-64 description: a breakpoint in 32-bit code" regs "^Breakpoint 1, guest_main \(\) at .*multiboot\.c:"
gl_skipping ""
vitro_stop
gdb_done
