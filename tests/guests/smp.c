/*
 * smp.c: every vCPU counts, forever.  The BSP starts all APs and fills the
 * result area (guest_abi.h, GUEST_SMP_*): the number of CPUs and their
 * LAPIC ids, then one 64-bit counter per CPU that it increments in a
 * tight loop.  A host test suspends and resumes vCPUs and watches which
 * counters move.  Once every CPU found is counting, the BSP writes
 * GUEST_REQ_SMP_READY to the test request port.  No options; never exits.
 *
 * Each CPU writes only its own counter and LAPIC id slot.
 */
#include "rt.h"

const char guest_name[] = "smp";

#define RESULT(off) ((volatile void *)(uintptr_t)(GUEST_RESULT_ADDR + (off)))

static volatile uint64_t *smp_counter(uint32_t cpu)
{
	return RESULT(GUEST_SMP_COUNTERS + cpu * GUEST_SMP_COUNTER_STRIDE);
}

__attribute__((noreturn, noinline)) void smp_count(uint32_t cpu);
void smp_count(uint32_t cpu)
{
	volatile uint64_t *c = smp_counter(cpu);

	for (;;)
		(*c)++;
}

__attribute__((noreturn)) void smp_ap_main(uint32_t cpu);
void smp_ap_main(uint32_t cpu)
{
	((volatile uint32_t *)RESULT(GUEST_SMP_APIC_IDS))[cpu] = lapic_id();
	smp_count(cpu);
}

int guest_main(void)
{
	uint32_t n;

	memset((void *)GUEST_RESULT_ADDR, 0, GUEST_RESULT_SIZE);
	lapic_enable();
	time_init();
	((volatile uint32_t *)RESULT(GUEST_SMP_APIC_IDS))[0] = lapic_id();
	n = smp_start(smp_ap_main);
	*(volatile uint32_t *)RESULT(GUEST_SMP_NCPUS) = n;
	*(volatile uint32_t *)RESULT(GUEST_RESULT_STATE) = GUEST_STATE_READY;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(volatile uint32_t *)RESULT(GUEST_RESULT_MAGIC) = GUEST_SMP_MAGIC;
	rt_printf("@%u CPUs counting at %#x\n", n,
		  GUEST_RESULT_ADDR + GUEST_SMP_COUNTERS);
	outl(GUEST_TEST_PORT, GUEST_REQ_SMP_READY);
	smp_count(0);
}
