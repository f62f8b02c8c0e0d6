/*
 * smp.c: per-CPU data and AP start-up.
 *
 * How many CPUs: the BSP broadcasts INIT, SIPI, SIPI to all others and
 * counts the CPUs that check in.  There are no firmware tables to read,
 * and CPUID's topology leaves describe a package, not how many vCPUs the
 * VMM created, so counting arrivals is the one robust way.  The wait is
 * bounded: it ends SMP_SETTLE_US after the last arrival (and no earlier
 * than SMP_MIN_US after the SIPIs), or at SMP_MAX_US.  An AP that arrives
 * later still runs ap_main and counts itself in rt_ncpus; a guest that
 * cares reads rt_ncpus again.
 *
 * The BSP writes the trampoline parameters before the SIPIs; each AP then
 * writes only its own rt_percpu entry, and rt_ncpus atomically.
 */
#include "rt.h"

#define SMP_MIN_US 100000
#define SMP_SETTLE_US 100000
#define SMP_MAX_US 2000000

/* The trampoline's parameter block, in the order trampoline.S lays it out. */
struct __attribute__((packed)) tramp_params {
	uint64_t entry;
	uint64_t stacks;
	uint64_t stack_size;
	uint32_t cr3;
	uint32_t cr4;
	uint32_t cr0;
	uint32_t efer;
	uint32_t next;
	uint32_t max;
	uint16_t gdt_limit;
	uint32_t gdt_base;
};

extern const char tramp_start[], tramp_end[], tramp_params[];
extern uint64_t rt_gdt[4];
void rt_gdt_load(void);
void rt_percpu_init(uint32_t index);
void tramp_entry(uint32_t index) RT_NORETURN;
extern const char rt_ap_start64[];

uint8_t rt_stacks[GUEST_MAX_CPUS][RT_STACK_SIZE] RT_ALIGNED(16);
struct percpu rt_percpu[GUEST_MAX_CPUS];
volatile uint32_t rt_ncpus = 1;
ap_main_fn rt_ap_main;

void rt_percpu_init(uint32_t index)
{
	struct percpu *p = &rt_percpu[index];

	p->index = index;
	p->apic_id = lapic_id();
	p->self = p;
	wrmsr(MSR_GS_BASE, (uintptr_t)p);
}

void tramp_entry(uint32_t index)
{
	rt_gdt_load();
	rt_percpu_init(index);
	trap_load();
	lapic_enable();
	__atomic_fetch_add(&rt_ncpus, 1, __ATOMIC_SEQ_CST);
	rt_ap_main(index);
}

uint32_t smp_start(ap_main_fn ap_main)
{
	struct tramp_params *tp;
	uint64_t start, now, last;
	uint32_t seen;

	if (tramp_end - tramp_start > RT_TRAMP_MAX)
		rt_panic("trampoline too large");
	if (read_cr3() >> 32)
		rt_panic("page tables above 4 GiB: APs cannot load them");
	rt_ap_main = ap_main;
	memcpy((void *)RT_TRAMP_ADDR, tramp_start, tramp_end - tramp_start);
	tp = (struct tramp_params *)(RT_TRAMP_ADDR +
				     (tramp_params - tramp_start));
	tp->entry = (uintptr_t)rt_ap_start64;
	tp->stacks = (uintptr_t)rt_stacks;
	tp->stack_size = RT_STACK_SIZE;
	tp->cr3 = (uint32_t)read_cr3();
	tp->cr4 = (uint32_t)read_cr4() & ~(1u << 17); /* PCIDE: not yet */
	tp->cr0 = (uint32_t)read_cr0();
	tp->efer = (uint32_t)rdmsr(MSR_EFER) & ~EFER_LMA;
	tp->next = 1;
	tp->max = GUEST_MAX_CPUS;
	tp->gdt_limit = sizeof(rt_gdt) - 1;
	tp->gdt_base = (uint32_t)(uintptr_t)rt_gdt;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_init_sipi_all(RT_TRAMP_SIPI_VECTOR);
	start = last = time_us();
	seen = rt_ncpus;
	for (;;) {
		sleep_us(10000);
		now = time_us();
		if (rt_ncpus != seen) {
			seen = rt_ncpus;
			last = now;
		}
		if (now - start >= SMP_MAX_US)
			break;
		if (now - start >= SMP_MIN_US && now - last >= SMP_SETTLE_US)
			break;
	}
	return rt_ncpus;
}
