/*
 * memsieve-entry.S: memsieve.elf's Multiboot 1 header and 32-bit entry,
 * and its way into and out of CPL 3.
 *
 * memsieve is 64-bit code, linked as an ELF64 and converted to an ELF32
 * (objcopy) so that QEMU's -kernel boots it as vitro does: both enter
 * memsieve_entry32 in 32-bit protected mode, paging off, EAX = magic, EBX
 * = Multiboot information.  It builds 4-level page tables that map the
 * first 4 GiB one to one with 2 MiB pages (0-3 GiB: RAM, user, writable,
 * write-back; 3-4 GiB: the LAPIC and other MMIO, supervisor, uncached),
 * turns on long mode and jumps to entry64.S's _start as vitro's own
 * 64-bit entry would.
 *
 * user_run and user_return run on the BSP only (memsieve is one CPU).
 */
#include "rt_defs.h"

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x3 /* page-aligned modules, memory information */

#define PTE_TABLE 0x07 /* present, writable, user */
#define PDE_RAM 0x87 /* present, writable, user, 2 MiB */
#define PDE_MMIO 0x9b /* present, writable, PWT, PCD, 2 MiB; supervisor */
#define PDE_MMIO_FIRST 1536 /* the 2 MiB entry at 3 GiB */

#define USER_SEL_DATA 0x23 /* memsieve.c's GDT, RPL 3 */
#define USER_SEL_CODE 0x2b

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.section .text.entry32, "ax"
	.code32
	.globl memsieve_entry32
memsieve_entry32:
	cli
	cld
	mov %eax, %esi
	mov %ebx, %edi
	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	movl $ms_pdpt + PTE_TABLE, ms_pml4
	mov $ms_pd + PTE_TABLE, %eax
	xor %ecx, %ecx
1:	mov %eax, ms_pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 1b
	/* 2048 entries of 2 MiB; the high halves stay 0 (all below 4 GiB). */
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $PDE_RAM, %eax
	cmp $PDE_MMIO_FIRST, %ecx
	jb 3f
	xor $(PDE_RAM ^ PDE_MMIO), %eax
3:	mov %eax, ms_pd(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	mov %cr4, %eax
	or $0x20, %eax /* PAE */
	mov %eax, %cr4
	mov $ms_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	and $0x9fffffff, %eax /* caches on (CD, NW clear) */
	or $0x80000001, %eax /* PG, PE */
	mov %eax, %cr0
	lgdt ms_gdt_ptr
	ljmp $RT_SEL_CODE64, $4f

	.code64
4:	mov $RT_SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %esi, %eax
	mov %edi, %edi
	jmp _start

/*
 * uint64_t user_run(void (*fn)(void *), void *arg, void *stack_top)
 *
 * Runs fn(arg) at CPL 3 on stack_top, interrupts off; fn ends with
 * `int $MEMSIEVE_SYSCALL`, whose handler calls user_return, which
 * returns from user_run here in ring 0.
 */
	.text
	.globl user_run
user_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, user_kernel_rsp(%rip)
	pushq $USER_SEL_DATA
	lea -8(%rdx), %rax /* as after a call: RSP + 8 16-byte aligned */
	push %rax
	pushq $0x2 /* RFLAGS: IF and IOPL 0 */
	pushq $USER_SEL_CODE
	push %rdi
	mov %rsi, %rdi
	iretq

/* void user_return(void): back into user_run's caller, in ring 0. */
	.globl user_return
user_return:
	mov user_kernel_rsp(%rip), %rsp
	mov $RT_SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.section .rodata
	.align 16
ms_gdt:
	.quad 0
	.quad 0x00af9b000000ffff /* RT_SEL_CODE64 */
	.quad 0x00cf93000000ffff /* RT_SEL_DATA */
ms_gdt_end:
ms_gdt_ptr:
	.word ms_gdt_end - ms_gdt - 1
	.long ms_gdt

	.section .bss
	.align 4096
ms_pml4:
	.skip 4096
ms_pdpt:
	.skip 4096
ms_pd:
	.skip 4 * 4096
	.align 8
user_kernel_rsp:
	.skip 8
