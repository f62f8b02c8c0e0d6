/*
 * time.c: a clock from the TSC, and the LAPIC timer's rate, both measured
 * against PIT channel 2 (the median of three 10 ms runs, gated through port 0x61 and polled),
 * which needs no interrupt.  sleep_us halts on a one-shot LAPIC timer so a
 * waiting vCPU gives its host CPU back.
 *
 * time_init runs once on the BSP before the APs start; afterwards the rates
 * are read-only.
 */
#include "rt.h"

#define PIT_HZ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61 /* bit 0 gate 2, bit 1 speaker, bit 5 OUT 2 */
#define CALIB_US 10000
#define CALIB_POLLS 10000000
#define CALIB_RUNS 3

#define LVT_MASKED 0x10000

uint64_t rt_tsc_khz;
uint64_t rt_tsc_start;

/* TSC and LAPIC ticks over CALIB_US; false if OUT 2 never rose. */
static bool pit_measure(uint64_t *tsc, uint32_t *lapic)
{
	uint32_t count = (uint32_t)((uint64_t)PIT_HZ * CALIB_US / 1000000);
	uint64_t t0;
	uint32_t l0;
	long n;

	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(PIT_CH2, (uint8_t)count);
	outb(PIT_CH2, (uint8_t)(count >> 8));
	t0 = rdtsc();
	l0 = lapic_read(LAPIC_TIMER_CUR);
	for (n = 0; n < CALIB_POLLS; n++)
		if (inb(PIT_GATE) & 0x20)
			break;
	*tsc = rdtsc() - t0;
	*lapic = l0 - lapic_read(LAPIC_TIMER_CUR);
	return n < CALIB_POLLS;
}

static uint64_t tsc_khz_from_cpuid(void)
{
	uint32_t a, b, c, d;

	if (cpuid_max(0) >= 0x15) {
		cpuid_count(0x15, 0, &a, &b, &c, &d);
		if (a && b && c)
			return (uint64_t)c * b / a / 1000;
	}
	if (cpuid_max(0) >= 0x16) {
		cpuid_count(0x16, 0, &a, &b, &c, &d);
		if (a & 0xffff)
			return (uint64_t)(a & 0xffff) * 1000;
	}
	return 1000000;
}

void time_init(void)
{
	uint64_t tsc;
	uint32_t lapic;

	uint64_t t[CALIB_RUNS], tmp;
	uint32_t l[CALIB_RUNS], ltmp;
	int i, j, ok = 0;

	lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	/*
	 * A vCPU descheduled inside one measurement skews it either way; the
	 * median run is the one to trust.
	 */
	for (i = 0; i < CALIB_RUNS; i++)
		ok += pit_measure(&t[i], &l[i]) && t[i] && l[i];
	for (i = 0; i < CALIB_RUNS; i++)
		for (j = i + 1; j < CALIB_RUNS; j++)
			if (t[j] < t[i]) {
				tmp = t[i], t[i] = t[j], t[j] = tmp;
				ltmp = l[i], l[i] = l[j], l[j] = ltmp;
			}
	tsc = t[CALIB_RUNS / 2];
	lapic = l[CALIB_RUNS / 2];
	if (ok == CALIB_RUNS) {
		rt_tsc_khz = tsc * 1000 / CALIB_US;
		rt_lapic_khz = (uint64_t)lapic * 1000 / CALIB_US;
	} else {
		rt_tsc_khz = tsc_khz_from_cpuid();
		rt_lapic_khz = 62500; /* KVM's 1 GHz APIC bus, divided by 16 */
		rt_printf("@PIT channel 2 did not count: TSC %llu kHz from "
			  "CPUID, LAPIC timer %llu kHz assumed\n",
			  (unsigned long long)rt_tsc_khz,
			  (unsigned long long)rt_lapic_khz);
	}
	lapic_write(LAPIC_TIMER_INIT, 0);
	rt_tsc_start = rdtsc();
}

uint64_t time_us(void)
{
	return (rdtsc() - rt_tsc_start) * 1000 / rt_tsc_khz;
}

void delay_us(uint64_t us)
{
	uint64_t end = time_us() + us;

	while (time_us() < end)
		cpu_relax();
}

static void wake(struct trap_frame *f)
{
	lapic_eoi();
}

void sleep_us(uint64_t us)
{
	uint64_t now = time_us(), end = now + us, left;
	unsigned long flags = irq_save();

	trap_set_handler(RT_VECTOR_WAKE, wake);
	while ((now = time_us()) < end) {
		left = (end - now) * rt_lapic_khz / 1000 + 1;
		lapic_write(LAPIC_TIMER_DIV, 0x3);
		lapic_write(LAPIC_LVT_TIMER, RT_VECTOR_WAKE);
		lapic_write(LAPIC_TIMER_INIT,
			    left > 0xffffffff ? 0xffffffff : (uint32_t)left);
		irq_enable_and_halt();
		irq_disable();
	}
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
	irq_restore(flags);
}
