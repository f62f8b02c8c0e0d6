/*
 * hpet.c: checks the HPET at HPET_BASE as a kernel would use it: GCAP_ID
 * (3 timers, 64-bit counter, legacy capable, period 10 ns), the main
 * counter's rate against the TSC (within a factor of 2: nested KVM is
 * slow), timer 0 in legacy replacement mode on ISA IRQ 0 through IOAPIC
 * pin ISA_IRQ0_GSI (one-shot once, then periodic N times), and timer 2
 * level-triggered on IOAPIC pin 20, which stays pending (delivered again
 * after each EOI) until the guest clears its ISR bit.  One line per check:
 *   hpet: ok: <what>
 * Options: ticks=N (periodic interrupts to wait for; default 5).
 * Exit: pass, or fail with the check that failed.
 */
#include "rt.h"

#define HPET_GCAP_ID 0x000
#define HPET_GEN_CONF 0x010
#define HPET_GINTR_STA 0x020
#define HPET_MAIN_CNT 0x0f0
#define HPET_TN_CONF(n) (0x100 + 0x20 * (n))
#define HPET_TN_CMP(n) (0x108 + 0x20 * (n))
#define CONF_ENABLE 1
#define CONF_LEG_RT 2
#define TN_LEVEL (1u << 1)
#define TN_INT_ENB (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_VAL_SET (1u << 6)
#define TN_ROUTE_SHIFT 9

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define REDIR_LEVEL (1u << 15)
#define REDIR_MASKED (1u << 16)

#define LEVEL_PIN 20
#define VEC_IRQ0 0x30
#define VEC_LEVEL 0x31
#define LEVEL_REPEATS 3 /* deliveries of the level interrupt before clearing */
#define WAIT_US 5000000 /* for any interrupt: slow nested KVM */

const char guest_name[] = "hpet";

static volatile uint32_t irq0_count, level_count, level_isr_seen;
static uint64_t period_fs;

static uint64_t hpet_rd(uint32_t off)
{
	return *(volatile uint64_t *)(uintptr_t)(HPET_BASE + off);
}

static void hpet_wr(uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)(HPET_BASE + off) = v;
}

static uint32_t hpet_rd32(uint32_t off)
{
	return *(volatile uint32_t *)(uintptr_t)(HPET_BASE + off);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + IOAPIC_REGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + IOAPIC_WIN) = v;
}

static void ioapic_route(unsigned pin, uint8_t vector, uint32_t flags)
{
	ioapic_write(IOAPIC_REDTBL(pin) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REDTBL(pin), vector | flags);
}

static void irq0(struct trap_frame *f)
{
	(void)f;
	irq0_count++;
	lapic_eoi();
}

static void level_irq(struct trap_frame *f)
{
	(void)f;
	if (hpet_rd(HPET_GINTR_STA) & 4)
		level_isr_seen++;
	/* Left set, the line stays up and the IOAPIC delivers again. */
	if (++level_count >= LEVEL_REPEATS)
		hpet_wr(HPET_GINTR_STA, 4);
	lapic_eoi();
}

/* Wait with interrupts on until *count reaches n; false on a timeout. */
static bool wait_count(volatile uint32_t *count, uint32_t n)
{
	uint64_t t0 = time_us();

	irq_enable();
	while (*count < n && time_us() - t0 < WAIT_US)
		cpu_relax();
	irq_disable();
	return *count >= n;
}

static uint64_t ticks_us(uint64_t us)
{
	return us * 1000000000ULL / period_fs;
}

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			rt_printf("@FAIL: " __VA_ARGS__); \
			return GUEST_EXIT_FAIL;           \
		}                                         \
	} while (0)

static int check_caps(void)
{
	uint64_t cap = hpet_rd(HPET_GCAP_ID);

	period_fs = cap >> 32;
	CHECK((cap & 0xff) != 0, "GCAP_ID %#llx: revision 0\n",
	      (unsigned long long)cap);
	CHECK(((cap >> 8) & 0x1f) == 2, "GCAP_ID %#llx: not 3 timers\n",
	      (unsigned long long)cap);
	CHECK(cap & (1 << 13), "GCAP_ID %#llx: 32-bit counter\n",
	      (unsigned long long)cap);
	CHECK(cap & (1 << 15), "GCAP_ID %#llx: no legacy replacement\n",
	      (unsigned long long)cap);
	CHECK(period_fs == 10000000, "GCAP_ID %#llx: period %llu fs\n",
	      (unsigned long long)cap, (unsigned long long)period_fs);
	CHECK(hpet_rd32(HPET_GCAP_ID + 4) == period_fs,
	      "a 32-bit read of the period: %#x\n",
	      hpet_rd32(HPET_GCAP_ID + 4));
	rt_printf("@ok: GCAP_ID %#llx: 3 timers, 64-bit, legacy, %llu fs\n",
		  (unsigned long long)cap, (unsigned long long)period_fs);
	return 0;
}

static int check_rate(void)
{
	uint64_t c0, c1, t0, t1, ns_hpet, ns_tsc;

	hpet_wr(HPET_GEN_CONF, 0);
	hpet_wr(HPET_MAIN_CNT, 0);
	c0 = hpet_rd(HPET_MAIN_CNT);
	delay_us(1000);
	CHECK(hpet_rd(HPET_MAIN_CNT) == c0, "the counter runs while halted\n");
	hpet_wr(HPET_GEN_CONF, CONF_ENABLE);
	t0 = time_us();
	c0 = hpet_rd(HPET_MAIN_CNT);
	delay_us(50000);
	c1 = hpet_rd(HPET_MAIN_CNT);
	t1 = time_us();
	ns_hpet = (c1 - c0) * period_fs / 1000000;
	ns_tsc = (t1 - t0) * 1000;
	CHECK(ns_hpet * 2 > ns_tsc && ns_hpet < ns_tsc * 2,
	      "counter: %llu ns by the HPET in %llu ns by the TSC\n",
	      (unsigned long long)ns_hpet, (unsigned long long)ns_tsc);
	rt_printf("@ok: counter: %llu ns by the HPET in %llu ns by the TSC\n",
		  (unsigned long long)ns_hpet, (unsigned long long)ns_tsc);
	return 0;
}

static int check_legacy(uint32_t ticks)
{
	uint64_t now, p = ticks_us(2000);

	trap_set_handler(VEC_IRQ0, irq0);
	ioapic_route(ISA_IRQ0_GSI, VEC_IRQ0, 0);
	hpet_wr(HPET_GEN_CONF, CONF_ENABLE | CONF_LEG_RT);

	/* One-shot, 1 ms ahead. */
	hpet_wr(HPET_TN_CONF(0), TN_INT_ENB);
	hpet_wr(HPET_TN_CMP(0), hpet_rd(HPET_MAIN_CNT) + ticks_us(1000));
	CHECK(wait_count(&irq0_count, 1), "one-shot: no IRQ 0 in %u ms\n",
	      WAIT_US / 1000);
	delay_us(20000);
	irq_enable();
	delay_us(20000);
	irq_disable();
	CHECK(irq0_count == 1, "one-shot: %u interrupts\n", irq0_count);
	rt_printf("@ok: one-shot: IRQ 0 once through IOAPIC pin %d\n",
		  ISA_IRQ0_GSI);

	/* Periodic, every 2 ms. */
	irq0_count = 0;
	now = hpet_rd(HPET_MAIN_CNT);
	hpet_wr(HPET_TN_CONF(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET);
	hpet_wr(HPET_TN_CMP(0), now + p);
	hpet_wr(HPET_TN_CMP(0), p);
	CHECK(wait_count(&irq0_count, ticks), "periodic: %u of %u interrupts\n",
	      irq0_count, ticks);
	hpet_wr(HPET_TN_CONF(0), 0);
	rt_printf("@ok: periodic: %u interrupts on IRQ 0\n", ticks);
	hpet_wr(HPET_GEN_CONF, CONF_ENABLE);
	ioapic_write(IOAPIC_REDTBL(ISA_IRQ0_GSI), REDIR_MASKED);
	return 0;
}

static int check_level(void)
{
	uint64_t t0;

	trap_set_handler(VEC_LEVEL, level_irq);
	ioapic_route(LEVEL_PIN, VEC_LEVEL, REDIR_LEVEL);
	hpet_wr(HPET_TN_CONF(2),
		TN_LEVEL | TN_INT_ENB | LEVEL_PIN << TN_ROUTE_SHIFT);
	CHECK(((hpet_rd(HPET_TN_CONF(2)) >> TN_ROUTE_SHIFT) & 0x1f) ==
		      LEVEL_PIN,
	      "timer 2 does not take route %d\n", LEVEL_PIN);
	/* Interrupts off: the ISR bit rises and stays. */
	hpet_wr(HPET_TN_CMP(2), hpet_rd(HPET_MAIN_CNT) + ticks_us(1000));
	t0 = time_us();
	while (!(hpet_rd(HPET_GINTR_STA) & 4) && time_us() - t0 < WAIT_US)
		cpu_relax();
	CHECK(hpet_rd(HPET_GINTR_STA) & 4, "level: the ISR bit never rose\n");
	CHECK(wait_count(&level_count, LEVEL_REPEATS),
	      "level: %u of %u deliveries while the ISR bit is set\n",
	      level_count, LEVEL_REPEATS);
	irq_enable();
	delay_us(20000);
	irq_disable();
	CHECK(level_count == LEVEL_REPEATS && level_isr_seen == LEVEL_REPEATS,
	      "level: %u deliveries (%u with the ISR bit), want %u\n",
	      level_count, level_isr_seen, LEVEL_REPEATS);
	CHECK(!(hpet_rd(HPET_GINTR_STA) & 4), "level: the ISR bit stays\n");
	rt_printf("@ok: level: pending on pin %d until the ISR bit was "
		  "cleared (%u deliveries)\n",
		  LEVEL_PIN, level_count);
	return 0;
}

int guest_main(void)
{
	uint64_t ticks = 5;
	int r;

	if (cmdline_get_u64(rt_cmdline, "ticks", &ticks) < 0 || ticks == 0 ||
	    ticks > 1000) {
		rt_printf("@bad option ticks: expected 1 to 1000\n");
		return GUEST_EXIT_FAIL;
	}
	lapic_enable();
	time_init();
	if ((r = check_caps()) || (r = check_rate()) ||
	    (r = check_legacy((uint32_t)ticks)) || (r = check_level()))
		return r;
	hpet_wr(HPET_GEN_CONF, 0);
	return GUEST_EXIT_PASS;
}
