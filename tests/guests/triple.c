/*
 * triple.c: prints a line, loads an empty IDT and touches a non-canonical
 * address.  The #GP cannot be delivered, nor the #DF after it: a triple
 * fault, which vitro reports and exits on with status 3.  No options.
 */
#include "rt.h"

const char guest_name[] = "triple";

int guest_main(void)
{
	struct desc_ptr empty = { 0, 0 };

	rt_printf("@empty IDT, then a #GP: this ends in a triple fault\n");
	lidt(&empty);
	__asm__ volatile("movq (%0), %0" : : "r"(0x8000000000000000ull));
	rt_printf("@still running after the fault\n");
	return GUEST_EXIT_FAIL;
}
