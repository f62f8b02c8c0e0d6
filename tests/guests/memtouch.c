/*
 * memtouch.c: writes one byte in every 4 KiB page of guest memory from
 * 16 MiB to the end of low memory, so that the host backs all of it, says
 *   memtouch: touched N MiB
 * and then spins with interrupts off (never halts), so that a host test
 * can look at vitro's memory while the VM runs.  Options: exit (leave with
 * GUEST_EXIT_PASS instead of spinning).
 */
#include "rt.h"

#define TOUCH_START (16ULL << 20)
#define LOWMEM_MAX (3ULL << 30) /* the identity map's low memory */

const char guest_name[] = "memtouch";

int guest_main(void)
{
	uint64_t end = mb_memory_size(rt_mbi);

	if (end > LOWMEM_MAX)
		end = LOWMEM_MAX;
	if (end <= TOUCH_START) {
		rt_printf("memtouch: FAIL: %llu MiB of memory, need more "
			  "than 16\n",
			  (unsigned long long)(end >> 20));
		return GUEST_EXIT_FAIL;
	}
	for (uint64_t a = TOUCH_START; a < end; a += 4096)
		*(volatile uint8_t *)a = (uint8_t)(a >> 12);
	rt_printf("memtouch: touched %llu MiB\n",
		  (unsigned long long)((end - TOUCH_START) >> 20));
	if (cmdline_has(rt_cmdline, "exit"))
		return GUEST_EXIT_PASS;
	for (;;)
		__asm__ volatile("pause");
}
