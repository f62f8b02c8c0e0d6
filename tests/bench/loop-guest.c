/*
 * loop-guest.c: the benchmarks' guest, an ELF64 entered in 64-bit mode as
 * monitor/platform.h describes (CPL 0, identity-mapped, RDI = Multiboot
 * information).  Built freestanding with the host gcc, linked at 1 MiB.
 *
 * It reads "n=N" from its command line and does N port writes in a tight
 * loop (see bench.h for the ports and exit values); N = 0 makes it a guest
 * that exits almost at once.  vitro boots it, and bare-kvm.c loads the very
 * same file, so both run identical instruction bytes.  Single-threaded, no
 * interrupts, no stack use beyond calls.  The loop runs LOOP_DEPTH calls
 * deep, with frame pointers (-fno-omit-frame-pointer), so that a traced
 * run's stack walk (`-T FILE,stack=8`) has a real chain to follow.
 */
#include <stdint.h>

#include "monitor/platform.h"
#include "tests/bench/bench.h"

#define MB1_INFO_CMDLINE (1u << 2)

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static const char *find_arg(const char *s)
{
	while (*s) {
		if (s[0] == 'n' && s[1] == '=' && s[2] >= '0' && s[2] <= '9')
			return s + 2;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return 0;
}

static void guest_exit(uint8_t v)
{
	for (;;) {
		outb(DEBUG_EXIT_PORT, v);
		__asm__ volatile("hlt");
	}
}

#define LOOP_DEPTH 8

/*
 * The measured loop, in asm so that its bytes do not depend on the
 * compiler: one exit per iteration, two more instructions run by the
 * guest (emulated at CPL 0 on a software KVM).
 */
static __attribute__((noinline)) void loop(uint64_t n)
{
	__asm__ volatile("test %%rcx, %%rcx\n\t"
			 "jz 2f\n"
			 "1:\n\t"
			 "outb %%al, %%dx\n\t"
			 "dec %%rcx\n\t"
			 "jnz 1b\n"
			 "2:"
			 : "+c"(n)
			 : "a"(0), "d"(BENCH_PORT_LOOP)
			 : "cc", "memory");
}

/* depth frames, then the loop; the asm after the call keeps each frame. */
static __attribute__((noinline)) void nest(int depth, uint64_t n)
{
	if (depth > 0)
		nest(depth - 1, n);
	else
		loop(n);
	__asm__ volatile("" : : : "memory");
}

void guest_main(const uint32_t *mbi);

void guest_main(const uint32_t *mbi)
{
	const char *p = 0;
	uint64_t n = 0;

	if (mbi[0] & MB1_INFO_CMDLINE)
		p = find_arg((const char *)(uintptr_t)mbi[4]);
	if (!p)
		guest_exit(BENCH_EXIT_BADARG);
	for (; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (uint64_t)(*p - '0');

	outb(BENCH_PORT_START, 0);
	nest(LOOP_DEPTH - 2, n); /* with guest_main and loop: LOOP_DEPTH */
	outb(BENCH_PORT_END, 0);
	guest_exit(BENCH_EXIT_OK);
}

/* Entry: RSP is BOOT_STACK_TOP, RDI the Multiboot information address. */
__asm__(".section .text.start, \"ax\"\n"
	".globl _start\n"
	"_start:\n\t"
	"xor %ebp, %ebp\n\t" /* the outermost frame */
	"call guest_main\n"
	"0:\thlt\n\t"
	"jmp 0b\n"
	".previous");
