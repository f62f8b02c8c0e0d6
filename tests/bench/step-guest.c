/*
 * step-guest.c: the gdb benchmark's guest (gdb-vs-qemu.c), a Multiboot 1
 * kernel in ELF32 that vitro and QEMU (-kernel) both boot.  Entered as the
 * Multiboot specification says: 32-bit protected mode, CPL 0, paging off
 * (linear = physical), interrupts off.  Built freestanding with the host
 * gcc (-m32), linked at 1 MiB.
 *
 * The entry point is the top of an endless loop: a store of STEP_SIGNATURE
 * to STEP_SIGNATURE_ADDR (the last word of the range the benchmark dumps,
 * so that the dump shows guest-written memory), a few arithmetic
 * instructions and a jump back.  The benchmark stops the guest on a
 * hardware breakpoint at the entry point (QEMU reaches it through its
 * firmware, vitro starts there) and single-steps from there, so both step
 * the same instructions in the same mode.  No stack, no memory but that
 * one word.
 *
 * Top-level asm only: the Multiboot header must open .text (it has to lie
 * in the first 8 KiB of the file), and the loop's bytes must not depend
 * on the compiler.
 */
#include "monitor/platform.h"
#include "tests/bench/bench.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define MB_MAGIC STR(MULTIBOOT_HEADER_MAGIC)
#define SIG STR(STEP_SIGNATURE)
#define SIG_ADDR STR(STEP_SIGNATURE_ADDR)

/* The header's flags are 0: an ELF image, and nothing asked for. */
__asm__(".text\n\t"
	".balign 4\n"
	"multiboot_header:\n\t"
	".long " MB_MAGIC ", 0, -(" MB_MAGIC ")\n\t"
	".globl _start\n"
	"_start:\n\t"
	"movl $" SIG ", " SIG_ADDR "\n\t"
	"addl $1, %eax\n\t"
	"addl %eax, %ebx\n\t"
	"xorl %ebx, %ecx\n\t"
	"leal 3(%ecx,%eax,2), %edx\n\t"
	"jmp _start\n");
