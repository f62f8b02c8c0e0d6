#!/usr/bin/env bash
# usermode.sh: a vCPU stopped in guest user mode (CPL 3, long mode).  On a
# KVM that can single-step user code, stepi works; on one that cannot (a
# software KVM running user code natively shuts the guest down instead),
# vitro refuses the step with a message and the guest lives on.  Which
# one this host is, vitro -v says at start-up; the test holds vitro to it.
# The kernel is assembled here.  TAP.
. "$(dirname "$0")/gdb-lib.bash"
gdb_init

src=$T/user.S
elf=$T/user.elf
cat >"$src" <<'EOF'
	.section .text
	.code64
	.globl _start
_start:
	/* User access to the first 2 MiB of vitro's boot page tables. */
	orq $4, 0x10000
	orq $4, 0x11000
	orq $4, 0x12000
	mov %cr3, %rax
	mov %rax, %cr3
	lgdt gdtr(%rip)
	pushq $0x23			/* user data, RPL 3 */
	pushq $0x180000			/* user stack */
	pushq $0x2			/* rflags */
	pushq $0x1b			/* user code, RPL 3 */
	leaq user(%rip), %rax
	pushq %rax
	iretq
	.globl user
user:
	inc %rbx
	jmp user
	.section .data
	.align 8
gdt:	.quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
	.quad 0x00affa000000ffff, 0x00cff2000000ffff
gdtr:	.word 39
	.quad gdt
EOF
if ! cc -c -g -o "$T/user.o" "$src" ||
	! ld -nostdlib -static -Ttext-segment=0x100000 -e _start \
		-o "$elf" "$T/user.o"; then
	echo "1..0 # skip cannot assemble the test kernel"
	exit 0
fi

vitro_start user -v -k "$elf" || gdb_done
sleep 1
gdb_run user "$elf" <<'EOF'
echo @@cpl\n
p $cs
info symbol $pc
echo @@step\n
python
try:
    gdb.execute("stepi")
    print("stepi done")
except gdb.error as e:
    print("stepi failed: %s" % e)
end
echo @@after\n
info symbol $pc
kill
EOF
like "stopped in user mode: cs is the user code selector" cpl '^\$1 = 27$'
like "... pc in the user loop" cpl '^user( \+ [0-9]+)? in section \.text'
if grep -q "single-step works in user mode" "$VERR"; then
	like "this KVM steps user code: stepi works" step "^stepi done"
else
	has "vitro's probe says this KVM cannot step user code" "$VERR" \
		"single-step cannot enter user mode"
	like "stepi in user mode is refused" step "Remote failure reply|^stepi failed"
	has "... with a message on vitro's stderr" "$VERR" \
		"cannot single-step vCPU 0 in user mode \(CPL 3\)"
fi
like "the guest is still there, in its loop" after '^user( \+ [0-9]+)? in section \.text'
unlike "... not shut down" "" "exited with code 03|Remote connection closed"
vitro_wait 30
is "$VST" 1 "kill powers it off"
gdb_done
