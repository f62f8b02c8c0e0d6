/*
 * pio-loop.c: the exit-rate benchmark's guest.  Writes to port 0x80, which
 * nothing claims, count times in a tight loop (each write is one exit to
 * the monitor), then exits with GUEST_EXIT_PASS.
 *
 * Options: count=N (default 1000000).
 */
#include "rt.h"

const char guest_name[] = "pio-loop";

__attribute__((noinline)) void pio_loop(uint64_t count);
void pio_loop(uint64_t count)
{
	if (!count)
		return;
	__asm__ volatile("1:\n\t"
			 "outb %%al, $0x80\n\t"
			 "dec %0\n\t"
			 "jnz 1b"
			 : "+r"(count)
			 : "a"(0)
			 : "memory");
}

int guest_main(void)
{
	uint64_t count = 1000000;

	if (cmdline_get_u64(rt_cmdline, "count", &count) < 0) {
		rt_printf("@bad option count: expected a number\n");
		return GUEST_EXIT_FAIL;
	}
	rt_printf("@%llu writes to port 0x80\n", (unsigned long long)count);
	pio_loop(count);
	return GUEST_EXIT_PASS;
}
