#!/usr/bin/env bash
# registers.sh: registers and variables on dbgtest.elf: info registers
# (general, segment, control registers, EFER, fs_base, SSE), p, and
# writes to registers and globals that the guest then acts on.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

elf=$GUESTS/dbgtest.elf
vitro_start dbgtest -k "$elf" || gdb_done
wait_for "$VOUT" "^dbgtest: running" 30

# Every session here starts at a breakpoint.
gl_skipping "$BP_GAP"
[ -n "$BP_GAP" ] || gdb_run regs "$elf" <<'EOF'
break dbg_add
continue
echo @@info\n
info registers
echo @@sse\n
info registers xmm0
p $xmm1
p $mxcsr
echo @@p\n
p a
p b
p dbg_ro
p/x dbg_alias
p $rip == dbg_add
echo @@xmm-write\n
set var $xmm1.v2_int64[0] = 0x1122334455667788
set var $xmm1.v2_int64[1] = 0x99aabbccddeeff00
set var $xmm7.v4_int32[2] = -5
stepi
continue
p/x $xmm1.uint128
p $xmm7.v4_int32
echo @@reg-write\n
set var $rdi = 1000
finish
next
p dbg_sum
echo @@var-write\n
delete
set var dbg_ro = 7
break dbg_add
continue
p b
delete
echo @@exit\n
set var dbg_stop_after = dbg_rounds + 100
continue
EOF

like "info registers: rip in dbg_add" info "^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <dbg_add>$"
like "info registers: rax" info "^rax +0x[0-9a-f]+ +[0-9]+$"
like "info registers: r15" info "^r15 +0x[0-9a-f]+ +-?[0-9]+$"
like "info registers: eflags" info "^eflags +0x[0-9a-f]+ +\[ .*\]$"
like "info registers: cs is the 64-bit code selector" info "^cs +0x8 +8$"
like "info registers: ss" info "^ss +0x10 +16$"
like "info registers: fs_base as the guest set it" info "^fs_base +0x5a5a000 +94740480$"
like "info registers: gs_base" info "^gs_base +0x[0-9a-f]+ +[0-9]+$"
like "info registers: k_gs_base" info "^k_gs_base +0x[0-9a-f]+ +[0-9]+$"
like "info registers: cr0 with PE and PG" info "^cr0 +0x[0-9a-f]+ +\[ PE .*PG \]$"
like "info registers: cr2" info "^cr2 +0x[0-9a-f]+ +[0-9]+$"
like "info registers: cr3 is the boot page tables" info "^cr3 +0x10000 +65536$"
like "info registers: cr4 with PAE" info "^cr4 +0x[0-9a-f]+ +\[ .*PAE.* \]$"
like "info registers: cr8" info "^cr8 +0x0 +0$"
like "info registers: efer with LME and LMA" info "^efer +0x[0-9a-f]+ +\[ LME LMA .*\]$"
like "info registers xmm0: the SSE register" sse "^xmm0 +\{v8_bfloat16 = |^xmm0 +\{v4_float = "
like "p \$xmm1: its fields" sse "^\\\$[0-9]+ = \{.*v2_int64 = \{0, 0\}, uint128 = 0\}$"
like "p \$mxcsr" sse "^\\\$[0-9]+ = \[ .*\]$"

like "p a: dbg_add's first argument is the sum so far" p '^\$[0-9]+ = [0-9]+$'
is "$(val p 2)" 42 "p b: its second is dbg_ro (42)"
is "$(val p 3)" 42 "p dbg_ro: a global"
is "$(val p 4)" 0x3fe00000 "p/x dbg_alias: an initialised global"
is "$(val p)" 1 "p \$rip == dbg_add"

like "xmm1 written, read back after the guest ran" xmm-write "^\\\$[0-9]+ = 0x99aabbccddeeff001122334455667788$"
like "xmm7 written, read back after the guest ran" xmm-write "^\\\$[0-9]+ = \{0, 0, -5, 0\}$"

like "set var \$rdi = 1000: dbg_add returns 1000 + 42" reg-write "^Value returned is \\\$[0-9]+ = 1042$"
is "$(val reg-write)" 1042 "... and the guest stores 1042 in dbg_sum"

is "$(val var-write)" 7 "set var dbg_ro = 7: the guest reads 7 next"
like "set var dbg_stop_after: the guest ends its loop and exits" exit "^\[Inferior 1 \(Remote target\) exited with code 041\]"
[ -n "$BP_GAP" ] || vitro_wait 30
is "$VST" 33 "vitro exits with the guest's status"
gl_skipping ""
gdb_done
