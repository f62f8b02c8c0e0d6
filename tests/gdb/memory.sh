#!/usr/bin/env bash
# memory.sh: guest memory through gdb on dbgtest.elf: a 1 MiB dump (many
# packets) that matches the ELF's .text, a 100 KiB write that crosses
# pages (restore: X or M packets) read back intact, a variable written
# across a page boundary, an address with no memory behind it, and a
# large read through the alias mapping (linear differs from physical).
# TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init
command -v objcopy >/dev/null 2>&1 || gl_skip "no objcopy"

elf=$GUESTS/dbgtest.elf
vitro_start dbgtest -k "$elf" || gdb_done
wait_for "$VOUT" "^dbgtest: running" 30

objcopy -O binary -j .text "$elf" "$T/text.bin"
head -c 102400 /dev/urandom >"$T/pattern.bin"
gdb_run memory "$elf" <<'EOF'
echo @@dump\n
p/x &_start
dump binary memory @T@/image.bin 0x100000 0x200000
echo @@restore\n
restore @T@/pattern.bin binary 0x300ffc
dump binary memory @T@/back.bin 0x300ffc 0x300ffc+102400
echo @@alias\n
dump binary memory @T@/alias.bin 0x3fe00000+0x100000 0x3fe00000+0x200000
echo @@cross\n
set var *(unsigned long *)0x401ffc = 0x1122334455667788
x/2wx 0x401ffc
p/x *(unsigned long *)0x401ffc
echo @@none\n
x/2gx 0x100000000
EOF
is "$(val dump)" 0x100000 "_start is at 1 MiB"
is "$(stat -c %s "$T/image.bin" 2>/dev/null)" 1048576 "dump binary memory: 1 MiB"
cmp -s -n "$(stat -c %s "$T/text.bin")" "$T/text.bin" "$T/image.bin"
ok $? "the dump starts with the ELF's .text, byte for byte" "$GOUT"
# gdb sends all 100 KiB in one X packet, as the advertised PacketSize
# allows: binary data may fill a whole packet.
cmp -s "$T/pattern.bin" "$T/back.bin"
ok $? "restore of 100 KiB across pages (one X packet), read back intact" "$GOUT"
cmp -s -n "$(stat -c %s "$T/text.bin")" "$T/text.bin" "$T/alias.bin"
ok $? "the alias mapping at 0x3fe00000 reads the same image (1 MiB)" "$GOUT"
like "a write across a page boundary: first half" cross "^0x401ffc:[[:space:]]+0x55667788[[:space:]]+0x11223344$"
is "$(val cross)" 0x1122334455667788 "... read back whole"
like "no memory at 4 GiB: gdb says it cannot access it" none "Cannot access memory at address 0x100000000"
vitro_alive
ok $? "vitro still runs"
gdb_done
