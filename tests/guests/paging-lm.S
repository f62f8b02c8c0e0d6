/*
 * paging-lm.S: the 64-bit half of paging.elf, which otherwise stays in a
 * 32-bit compatibility-mode segment once long mode is on.
 *
 * lm_access(op, gla, val) far-calls 64-bit code to read or write 8 bytes
 * at a linear address compatibility mode cannot reach (above 4 GiB).
 * lm_trap_stubs are the 64-bit IDT's targets for vectors 0-31: they save
 * vector, error code, rip and cr2, return to compatibility mode on a stack
 * of their own and call trap_report, which prints them and exits.
 *
 * Single CPU, interrupts off.
 */
#include "rt_defs.h"

	.text
	.code32
/* uint64_t lm_access(uint32_t op, uint64_t gla, uint64_t val): op 0 reads,
 * 1 writes val; returns the value read or written. */
	.globl lm_access
lm_access:
	push %ebp
	mov %esp, %ebp
	push %ebx
	push %esi
	push %edi
	mov 8(%ebp), %ecx
	mov 12(%ebp), %esi
	mov 16(%ebp), %edi
	mov 20(%ebp), %eax
	mov 24(%ebp), %edx
	lcall $RT_SEL_CODE64, $lm_access64
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

	.code64
lm_access64:
	/* The upper halves of registers are undefined after compatibility
	 * mode: rebuild every 64-bit value from its 32-bit halves. */
	mov %esp, %esp
	mov %esi, %esi
	shl $32, %rdi
	or %rsi, %rdi
	mov %eax, %eax
	shl $32, %rdx
	or %rdx, %rax
	cmp $1, %ecx
	je 1f
	mov (%rdi), %rax
	jmp 2f
1:	mov %rax, (%rdi)
2:	mov %rax, %rdx
	shr $32, %rdx
	lretl /* 32-bit far return: the lcall pushed CS and EIP as 32 bits */

	.align 16
	.globl lm_trap_stubs
lm_trap_stubs:
	.set vec, 0
	.rept 32
	.align 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp lm_trap_common
	.set vec, vec + 1
	.endr

lm_trap_common:
	/* Symbols only as 32-bit immediates: this is an ELF32 object. */
	mov $lm_fault, %ebx
	pop %rax
	mov %eax, 0(%rbx) /* vector */
	pop %rax
	mov %eax, 4(%rbx) /* error code */
	pop %rax
	mov %rax, 8(%rbx) /* rip */
	mov %cr2, %rax
	mov %rax, 16(%rbx) /* cr2 */
	mov $lm_fault_stack + 4096, %esp
	pushq $RT_SEL_CODE32
	mov $lm_trap32, %eax
	push %rax
	lretq

	.code32
lm_trap32:
	mov $RT_SEL_DATA, %eax
	mov %eax, %ss
	mov %eax, %ds
	mov %eax, %es
	push lm_fault + 20
	push lm_fault + 16
	push lm_fault + 12
	push lm_fault + 8
	push lm_fault + 4
	push lm_fault
	call trap_report
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
lm_fault: /* vector, error code (u32); rip, cr2 (u64) */
	.skip 24
	.align 16
lm_fault_stack:
	.skip 4096
