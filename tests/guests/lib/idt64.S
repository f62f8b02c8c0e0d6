/*
 * idt64.S: one stub per vector, 16 bytes apart from trap_stubs.  Each pushes
 * a zero error code where the CPU pushes none, then the vector, and joins
 * trap_common, which saves the registers as struct trap_frame and calls
 * trap_dispatch(frame).
 *
 * trap_common's CFI describes the interrupt frame, so a debugger stopped in
 * a handler unwinds into the interrupted code.
 */
	.cfi_sections .debug_frame
	.text
	.code64
	.align 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

	.macro save reg
	push %\reg
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %\reg, 0
	.endm

	.macro restore reg
	pop %\reg
	.cfi_adjust_cfa_offset -8
	.cfi_restore %\reg
	.endm

trap_common:
	.cfi_startproc simple
	.cfi_signal_frame
	/* RSP: vector, error code, then RIP CS RFLAGS RSP SS. */
	.cfi_def_cfa %rsp, 56
	.cfi_offset %rip, -40
	.cfi_offset %rsp, -16
	save rax
	save rbx
	save rcx
	save rdx
	save rsi
	save rdi
	save rbp
	save r8
	save r9
	save r10
	save r11
	save r12
	save r13
	save r14
	save r15
	mov %rsp, %rdi
	cld
	call trap_dispatch
	restore r15
	restore r14
	restore r13
	restore r12
	restore r11
	restore r10
	restore r9
	restore r8
	restore rbp
	restore rdi
	restore rsi
	restore rdx
	restore rcx
	restore rbx
	restore rax
	add $16, %rsp
	.cfi_adjust_cfa_offset -16
	iretq
	.cfi_endproc
