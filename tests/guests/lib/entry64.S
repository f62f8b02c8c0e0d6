/*
 * entry64.S: the 64-bit entry of an ELF64 guest (monitor/platform.h): long
 * mode on the boot page tables, RDI = Multiboot information, EAX = magic.
 * Switches to CPU 0's stack and calls rt_start64(magic, info).  Also the
 * first code an AP runs in .text, after the trampoline.
 *
 * The CFI marks both as outermost frames, so a debugger's backtrace ends
 * there.
 */
#include "rt_defs.h"

	.cfi_sections .debug_frame
	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	.cfi_startproc
	.cfi_undefined %rip
	cli
	cld
	lea rt_stacks + RT_STACK_SIZE(%rip), %rsp
	xor %ebp, %ebp
	mov %rdi, %rsi
	mov %eax, %edi
	call rt_start64
1:	cli
	hlt
	jmp 1b
	.cfi_endproc

/* From the trampoline: EDI = CPU index, RSP = its stack top. */
	.globl rt_ap_start64
rt_ap_start64:
	.cfi_startproc
	.cfi_undefined %rip
	xor %ebp, %ebp
	call tramp_entry
1:	cli
	hlt
	jmp 1b
	.cfi_endproc
