#!/usr/bin/env bash
# realmode.sh: real mode, on the AP start-up trampoline of smp.elf (two
# vCPUs): the AP starts at CS:IP 0800:0000 after SIPI, a hardware
# breakpoint at linear 0x8000 stops it there, and gdb sees the linear pc,
# reads and disassembles the code there, steps it, moves the pc, and
# follows the AP through protected mode into long mode without a
# "'g' packet reply is too long".  Under the i386 description (with
# gdb's i8086 workaround: the same description, architecture i8086, for
# 16-bit disassembly) and under the x86-64 one.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/smp.elf

# To 64-bit mode, one instruction at a time: at most 100 steps.
to_long_mode='set $i = 0
while $cs != 8 && $i < 100
stepi
set $i = $i + 1
end'

# gdb's `set architecture i8086` does not change the disassembler while a
# target description says i386; a copy of vitro's description that says
# i8086 does.
vitro_start tdesc -G w0,arch=i386 -k "$elf" || gdb_done
gdb_run tdesc "" <<'EOF'
pipe maint print xml-tdesc | sed 's|<architecture>i386</architecture>|<architecture>i8086</architecture>|' >@T@/i8086.xml
EOF
vitro_stop
grep -q "<architecture>i8086</architecture>" "$T/i8086.xml"
ok $? "an i8086 copy of the i386 description" "$GOUT" "$T/i8086.xml"

# Both sessions stop the AP at 0x8000 with a hardware breakpoint.
gl_skipping "$HWBP_GAP"
[ -n "$HWBP_GAP" ] || vitro_start i386 -G w0,arch=i386 -c 2 -k "$elf" || gdb_done
[ -n "$HWBP_GAP" ] || NOCONNECT=1 gdb_run i386 "" <<EOF
set tdesc filename @T@/i8086.xml
target remote 127.0.0.1:@PORT@
hbreak *0x8000
continue
echo @@sipi\n
info registers eip cs eflags cr0
x/4xb \$pc
x/3i \$pc
stepi
p/x \$pc
x/i \$pc
echo @@long\n
$to_long_mode
p \$i
info registers eip cs cr0 efer
info threads
EOF
like "i386: thread 2 (the AP) stops at the hardware breakpoint" "" "^Thread 2 hit Breakpoint 1, 0x00008000 in \?\? \(\)$"
like "i386: eip is the linear pc, CS.base + IP" sipi "^eip +0x8000 +0x8000$"
like "i386: cs is the SIPI page" sipi "^cs +0x800 +2048$"
like "i386: cr0 has no PE" sipi "^cr0 +0x[0-9a-f]+ +\[ ET NW CD \]$"
like "i386: the trampoline's bytes at the linear pc" sipi "^0x8000:[[:space:]]+0xfa[[:space:]]+0xfc[[:space:]]+0x8c[[:space:]]+0xc8$"
like "i386: 16-bit disassembly at CS:IP (i8086)" sipi "^   0x8002:[[:space:]]+mov +%cs,%ax$"
like "i386: stepi in real mode" sipi '^\$1 = 0x8001$'
like "i386: the next instruction" sipi "^=> 0x8001:[[:space:]]+cld$"
like "i386: stepped on into long mode" long "^cs +0x8 +8$"
like "i386: ... with EFER.LMA" long "^efer +0x[0-9a-f]+ +\[ LME LMA .*\]$"
like "i386: the AP thread is in long mode now" long "^\* 2 +Thread 2 \(vCPU 1, long mode, CPL 0\)"
[ -n "$HWBP_GAP" ] || vitro_stop

[ -n "$HWBP_GAP" ] || vitro_start x86-64 -G w0 -c 2 -k "$elf" || gdb_done
[ -n "$HWBP_GAP" ] || gdb_run x86-64 "" <<EOF
hbreak *0x8000
continue
echo @@sipi\n
info registers rip cs
info threads
monitor info vcpus
x/4xb \$pc
set var \$pc = 0x8001
p/x \$pc
info registers cs
stepi
p/x \$pc
echo @@long\n
$to_long_mode
info registers rip cs efer
EOF
like "x86-64: thread 2 (the AP) stops at the hardware breakpoint" "" "^Thread 2 hit Breakpoint 1, 0x0000000000008000 in \?\? \(\)$"
like "x86-64: rip is the linear pc" sipi "^rip +0x8000 +0x8000$"
like "x86-64: cs is the SIPI page" sipi "^cs +0x800 +2048$"
like "x86-64: info threads says real mode" sipi "^\* 2 +Thread 2 \(vCPU 1, real mode, CPL 0\) +0x0000000000008000 in \?\? \(\)$"
like "x86-64: monitor info vcpus says real mode, pc 0x8000" sipi "^vCPU 1, real mode, CPL 0: pc 0x8000 "
like "x86-64: the trampoline's bytes at the linear pc" sipi "^0x8000:[[:space:]]+0xfa[[:space:]]+0xfc[[:space:]]+0x8c[[:space:]]+0xc8$"
like "x86-64: pc moved to 0x8001 (skipping cli)" sipi '^\$1 = 0x8001$'
is "$(sect sipi | grep -c '^cs  *0x800  *2048$')" 2 "x86-64: ... within the same code segment"
like "x86-64: stepi runs the cld there" sipi '^\$2 = 0x8002$'
like "x86-64: stepped on into long mode" long "^cs +0x8 +8$"
like "x86-64: ... with EFER.LMA" long "^efer +0x[0-9a-f]+ +\[ LME LMA .*\]$"
gl_skipping ""
[ -n "$HWBP_GAP" ] || vitro_stop
gdb_done
