/*
 * trampoline.S: AP start-up code, copied to RT_TRAMP_ADDR by smp_start.
 * An AP arrives from SIPI in real mode at CS = RT_TRAMP_ADDR >> 4, IP = 0;
 * it loads the runtime's GDT, enters protected mode, then long mode on the
 * BSP's CR3/CR4/EFER/CR0, takes the next CPU index, and jumps to
 * rt_ap_start64 (entry64.S) on that CPU's stack.  Position-dependent on
 * RT_TRAMP_ADDR: every address is computed from it.  smp_start fills the
 * parameter block (tramp_params) in the copy.
 */
#include "rt_defs.h"

#define MSR_EFER 0xc0000080
#define T(sym) (RT_TRAMP_ADDR + (sym) - tramp_start)

	.section .rodata.trampoline, "a"
	.globl tramp_start, tramp_end, tramp_params
	.code16
tramp_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tramp_gdtr - tramp_start
	mov %cr0, %eax
	or $1, %eax /* CR0.PE */
	mov %eax, %cr0
	ljmpl $RT_SEL_CODE32, $T(tramp_32)

	.code32
tramp_32:
	mov $RT_SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov T(tramp_cr4), %eax
	mov %eax, %cr4
	mov T(tramp_cr3), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	mov T(tramp_efer), %eax
	xor %edx, %edx
	wrmsr
	mov T(tramp_cr0), %eax /* PG with EFER.LME: long mode */
	mov %eax, %cr0
	ljmp $RT_SEL_CODE64, $T(tramp_64)

	.code64
tramp_64:
	mov $1, %eax
	lock xadd %eax, T(tramp_next)
	cmp T(tramp_max), %eax
	jae tramp_park
	mov %eax, %edi
	lea 1(%rax), %rax
	imul T(tramp_stack_size), %rax
	add T(tramp_stacks), %rax
	mov %rax, %rsp
	xor %ebp, %ebp
	mov T(tramp_entry), %rax
	jmp *%rax
tramp_park:
	cli
	hlt
	jmp tramp_park

	.align 8
tramp_params:
tramp_entry:	.quad 0 /* rt_ap_start64, EDI = the CPU index */
tramp_stacks:	.quad 0 /* stack of CPU i: stacks + i * stack_size .. + size */
tramp_stack_size: .quad 0
tramp_cr3:	.long 0
tramp_cr4:	.long 0
tramp_cr0:	.long 0
tramp_efer:	.long 0
tramp_next:	.long 0 /* next CPU index, taken with lock xadd */
tramp_max:	.long 0 /* indexes from here on park */
tramp_gdtr:	.word 0
		.long 0
tramp_end:
