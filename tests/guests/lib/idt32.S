/*
 * idt32.S: the 32-bit counterpart of idt64.S, for Multiboot guests in
 * protected mode: stubs 16 bytes apart from trap_stubs, a common path that
 * saves the registers (pusha) as struct trap_frame and calls
 * trap_dispatch(frame).
 *
 * The way back avoids `iret`: this host's instruction emulator (kvm_pvm)
 * fails on a protected-mode iret.  Handlers only ever return to ring 0 in
 * the same CS, so popf; ret does the same job.
 */
	.text
	.code32
	.align 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushl $0
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pusha
	mov %esp, %eax
	cld
	push %eax
	call trap_dispatch
	add $4, %esp
	popa
	add $8, %esp
	/* eip, cs, eflags -> eflags, eip: then popf; ret. */
	push %eax
	mov 12(%esp), %eax
	mov %eax, 8(%esp)
	mov 4(%esp), %eax
	mov %eax, 12(%esp)
	pop %eax
	add $4, %esp
	popf
	ret
