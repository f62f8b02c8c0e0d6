/*
 * cpuid.c: prints what CPUID shows the guest kernel, for the CPU model
 * tests (tests/kvm/cpumodel.sh): leaf 1 ECX and EDX, leaf 7 EBX and ECX,
 * at CPL 0, then leaves with GUEST_EXIT_PASS.  No options.
 */
#include "rt.h"

const char guest_name[] = "cpuid";

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

int guest_main(void)
{
	uint32_t l1[4], l7[4] = { 0 }, l0[4];

	cpuid(0, 0, l0);
	cpuid(1, 0, l1);
	if (l0[0] >= 7)
		cpuid(7, 0, l7);
	rt_printf("@cpuid 1.ecx=%08x 1.edx=%08x 7.ebx=%08x 7.ecx=%08x\n", l1[2],
		  l1[3], l7[1], l7[2]);
	return GUEST_EXIT_PASS;
}
