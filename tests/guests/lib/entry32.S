/*
 * entry32.S: the Multiboot 1 header and 32-bit entry of an ELF32 guest:
 * protected mode, paging off, EAX = magic, EBX = Multiboot information.
 * Switches to the boot stack and calls rt_start32(magic, info).
 */
#include "rt_defs.h"

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x3 /* page-aligned modules, memory information */

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov $rt_boot_stack + RT_STACK_SIZE, %esp
	xor %ebp, %ebp
	push %ebx
	push %eax
	call rt_start32
1:	cli
	hlt
	jmp 1b

	.section .bss
	.align 16
	.globl rt_boot_stack
rt_boot_stack:
	.skip RT_STACK_SIZE
