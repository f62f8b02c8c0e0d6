/*
 * lapic.c: the local APIC in xAPIC mode at LAPIC_BASE (identity-mapped):
 * enable, EOI, the timer, IPIs and the INIT/SIPI/SIPI start-up sequence.
 *
 * Each CPU touches only its own LAPIC; rt_lapic_khz is set once by
 * time_init on the BSP.
 */
#include "rt.h"

#define APIC_BASE_ENABLE 0x800 /* MSR_APIC_BASE: global enable */
#define SVR_ENABLE 0x100
#define LAPIC_TPR 0x080
#define LVT_MASKED 0x10000
#define LVT_TIMER_PERIODIC 0x20000
#define TIMER_DIV_16 0x3

#define ICR_FIXED 0x000
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_PENDING 0x1000 /* delivery status: send pending */
#define ICR_ASSERT 0x4000
#define ICR_LEVEL 0x8000
#define ICR_ALL_BUT_SELF 0xc0000

uint64_t rt_lapic_khz;

void lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SVR_ENABLE | RT_VECTOR_SPURIOUS);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_periodic(uint8_t vector, uint32_t period_us)
{
	uint64_t count = rt_lapic_khz * period_us / 1000;

	if (count == 0)
		count = 1;
	if (count > 0xffffffff)
		count = 0xffffffff;
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
}

static void icr_send(uint32_t dest, uint32_t lo)
{
	while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING)
		cpu_relax();
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, lo);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_send_ipi_others(uint8_t vector)
{
	icr_send(0, ICR_ALL_BUT_SELF | ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_send_init_sipi_all(uint8_t vector)
{
	icr_send(0, ICR_ALL_BUT_SELF | ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	delay_us(10000);
	icr_send(0, ICR_ALL_BUT_SELF | ICR_STARTUP | ICR_ASSERT | vector);
	delay_us(200);
	icr_send(0, ICR_ALL_BUT_SELF | ICR_STARTUP | ICR_ASSERT | vector);
}
