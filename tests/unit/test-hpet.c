/*
 * test-hpet.c: the vmm core's HPET model (vmm/vmm_hpet.c) with a clock of
 * the test's own and an interrupt callback that records the lines:
 * capabilities, the counter running only while enabled, read-only bits,
 * 32-bit halves, level and edge interrupts, periodic timers with VAL_SET
 * (and no burst after a stall), 32-bit mode and its wrap, legacy routing,
 * reset, get/set state; then the MMIO window (monitor/dev/hpet.c) over
 * libvmmapi through a transport that reaches the same model, with its
 * save -> reset -> restore round trip.  Single-threaded.
 */
#include <errno.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/dev/hpet.h"
#include "monitor/platform.h"
#include "monitor/region.h"
#include "tests/tap.h"
#include "vmm/vmm_hpet.h"

#define TICK HPET_TICK_NS

static int64_t fake_now;
static int level[24]; /* each GSI's line */
static int pulses[24]; /* rising edges seen on each */
static bool pit_off; /* the legacy callback's last word */

static int64_t fake_clock(void)
{
	return fake_now;
}

static void fake_irq(void *arg, int gsi, int lvl)
{
	(void)arg;
	if (gsi < 0 || gsi >= 24)
		tap_bail("interrupt on GSI %d", gsi);
	if (lvl && !level[gsi])
		pulses[gsi]++;
	level[gsi] = lvl;
}

static void fake_legacy(void *arg, bool on)
{
	(void)arg;
	pit_off = on;
}

static void setup(struct vmm_hpet *h)
{
	fake_now = 1000000;
	memset(level, 0, sizeof(level));
	memset(pulses, 0, sizeof(pulses));
	pit_off = false;
	vmm_hpet_init(h, fake_clock, fake_irq, fake_legacy, NULL);
}

static uint64_t rd(struct vmm_hpet *h, uint32_t off, uint32_t size)
{
	struct vm_hpet_mmio m = { .offset = off, .size = size };

	if (vmm_hpet_mmio_read(h, &m) < 0)
		return 0xeeeeeeee;
	return m.value;
}

static int wr(struct vmm_hpet *h, uint32_t off, uint32_t size, uint64_t v)
{
	struct vm_hpet_mmio m = { .offset = off, .size = size, .value = v };

	return vmm_hpet_mmio_write(h, &m);
}

/* Let ticks ticks pass, firing what is due. */
static void run(struct vmm_hpet *h, uint64_t ticks)
{
	fake_now += (int64_t)ticks * TICK;
	vmm_hpet_poll(h);
}

static void test_caps(void)
{
	struct vmm_hpet h;
	uint64_t cap;

	setup(&h);
	cap = rd(&h, HPET_GCAP_ID, 8);
	is_hex(cap & 0xff, 1, "GCAP_ID: revision 1");
	is_int((cap >> 8) & 0x1f, 2, "GCAP_ID: 3 timers (NUM_TIM_CAP 2)");
	ok(cap & (1 << 13), "GCAP_ID: 64-bit counter");
	ok(cap & (1 << 15), "GCAP_ID: legacy replacement capable");
	is_hex((cap >> 16) & 0xffff, 0x8086, "GCAP_ID: vendor");
	is_int(cap >> 32, 10000000, "GCAP_ID: period 10 ns in fs");
	is_hex(rd(&h, HPET_GCAP_ID, 4), (uint32_t)cap, "GCAP_ID: low half");
	is_hex(rd(&h, HPET_GCAP_ID + 4, 4), 10000000,
	       "GCAP_ID: high half is the period");
	is_int(wr(&h, HPET_GCAP_ID, 8, 0), 0, "GCAP_ID write accepted");
	is_hex(rd(&h, HPET_GCAP_ID, 8), cap, "GCAP_ID is read only");
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		uint64_t c = rd(&h, HPET_TN_CONF(i), 8);

		is_hex(c,
		       (uint64_t)HPET_ROUTE_CAP << 32 | HPET_TN_PER_CAP |
			       HPET_TN_SIZE_CAP,
		       "T%d_CONF at reset: periodic and 64-bit capable, "
		       "routes 20-23",
		       i);
		is_hex(rd(&h, HPET_TN_CMP(i), 8), ~0ULL,
		       "T%d comparator all ones at reset", i);
	}
	is_int(rd(&h, HPET_GEN_CONF, 8), 0, "GEN_CONF 0 at reset");
	is_int(rd(&h, HPET_MAIN_CNT, 8), 0, "counter 0 at reset");
	is_int(rd(&h, 0x400 - 8, 8), 0, "a register that does not exist: 0");
	is_int(rd(&h, HPET_TN_FSB(0), 8), 0, "no FSB route");
	vmm_hpet_fini(&h);
}

static void test_bad_access(void)
{
	struct vmm_hpet h;
	struct vm_hpet_mmio m = { .offset = 0, .size = 2 };

	setup(&h);
	is_int(vmm_hpet_mmio_read(&h, &m), -EINVAL, "size 2 refused");
	m = (struct vm_hpet_mmio){ .offset = 4, .size = 8 };
	is_int(vmm_hpet_mmio_read(&h, &m), -EINVAL, "8 bytes at offset 4");
	m = (struct vm_hpet_mmio){ .offset = 2, .size = 4 };
	is_int(vmm_hpet_mmio_write(&h, &m), -EINVAL, "4 bytes at offset 2");
	m = (struct vm_hpet_mmio){ .offset = 0x400, .size = 4 };
	is_int(vmm_hpet_mmio_read(&h, &m), -EINVAL, "offset 0x400: past it");
	vmm_hpet_fini(&h);
}

static void test_counter(void)
{
	struct vmm_hpet h;

	setup(&h);
	run(&h, 1000);
	is_int(rd(&h, HPET_MAIN_CNT, 8), 0, "counter stopped while disabled");
	wr(&h, HPET_GEN_CONF, 4, ~0u);
	is_int(rd(&h, HPET_GEN_CONF, 8), 3, "GEN_CONF: only ENABLE, LEG_RT");
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 1234);
	is_int(rd(&h, HPET_MAIN_CNT, 8), 1234, "counter runs: 1 per 10 ns");
	fake_now += 5;
	is_int(rd(&h, HPET_MAIN_CNT, 8), 1234, "no tick in 5 ns");
	wr(&h, HPET_GEN_CONF, 4, 0);
	run(&h, 1000);
	is_int(rd(&h, HPET_MAIN_CNT, 8), 1234, "stops where it was");

	/* 32-bit halves */
	wr(&h, HPET_MAIN_CNT, 4, 0x89abcdef);
	wr(&h, HPET_MAIN_CNT + 4, 4, 0x01234567);
	is_hex(rd(&h, HPET_MAIN_CNT, 8), 0x0123456789abcdefULL,
	       "counter written in two halves");
	is_hex(rd(&h, HPET_MAIN_CNT + 4, 4), 0x01234567, "high half read");
	is_hex(rd(&h, HPET_MAIN_CNT, 4), 0x89abcdef, "low half read");
	wr(&h, HPET_MAIN_CNT, 4, 0xfffffff0);
	is_hex(rd(&h, HPET_MAIN_CNT, 8), 0x01234567fffffff0ULL,
	       "a low-half write keeps the high half");
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 0x20);
	is_hex(rd(&h, HPET_MAIN_CNT, 8), 0x0123456800000010ULL,
	       "the low half carries into the high one");
	wr(&h, HPET_MAIN_CNT, 8, 5);
	run(&h, 10);
	is_int(rd(&h, HPET_MAIN_CNT, 8), 15, "written while running");
	vmm_hpet_fini(&h);
}

static void test_tn_conf(void)
{
	struct vmm_hpet h;
	uint64_t c;

	setup(&h);
	wr(&h, HPET_TN_CONF(2), 8, ~0ULL);
	c = rd(&h, HPET_TN_CONF(2), 8);
	is_hex(c & 0xffffffff,
	       HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC |
		       HPET_TN_PER_CAP | HPET_TN_SIZE_CAP | HPET_TN_32BIT,
	       "T2_CONF: read-only and reserved bits stay, route 31 refused");
	is_hex(c >> 32, HPET_ROUTE_CAP, "INT_ROUTE_CAP read only");
	wr(&h, HPET_TN_CONF(2), 4, 21 << HPET_TN_ROUTE_SHIFT);
	is_hex(rd(&h, HPET_TN_CONF(2), 4) & HPET_TN_ROUTE,
	       21 << HPET_TN_ROUTE_SHIFT, "route 21 taken");
	wr(&h, HPET_TN_CONF(2), 4, 3 << HPET_TN_ROUTE_SHIFT);
	is_hex(rd(&h, HPET_TN_CONF(2), 4) & HPET_TN_ROUTE,
	       21 << HPET_TN_ROUTE_SHIFT, "route 3 (not in the cap) ignored");
	vmm_hpet_fini(&h);
}

static void test_level(void)
{
	struct vmm_hpet h;

	setup(&h);
	wr(&h, HPET_TN_CONF(2), 4,
	   HPET_TN_LEVEL | HPET_TN_INT_ENB | 20 << HPET_TN_ROUTE_SHIFT);
	wr(&h, HPET_TN_CMP(2), 8, 1000);
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 999);
	is_int(rd(&h, HPET_GINTR_STA, 8), 0, "level: nothing before the match");
	is_int(level[20], 0, "line 20 low");
	run(&h, 1);
	is_hex(rd(&h, HPET_GINTR_STA, 8), 4, "level: the match sets ISR bit 2");
	is_int(level[20], 1, "line 20 held");
	run(&h, 100000);
	is_int(pulses[20], 1, "one-shot: once");
	wr(&h, HPET_GINTR_STA, 4, 3);
	is_int(level[20], 1, "writing other bits leaves it");
	wr(&h, HPET_GINTR_STA, 4, 4);
	is_int(rd(&h, HPET_GINTR_STA, 8), 0, "ISR cleared by writing 1");
	is_int(level[20], 0, "line 20 released");

	/* Held across a disable, and released by reset. */
	wr(&h, HPET_TN_CMP(2), 8, rd(&h, HPET_MAIN_CNT, 8) + 10);
	run(&h, 10);
	is_int(level[20], 1, "fired again after a new comparator");
	wr(&h, HPET_TN_CONF(2), 4, HPET_TN_INT_ENB | 20 << HPET_TN_ROUTE_SHIFT);
	is_int(rd(&h, HPET_GINTR_STA, 8), 0, "edge mode clears the bit");
	is_int(level[20], 0, "and releases the line");
	wr(&h, HPET_TN_CONF(2), 4,
	   HPET_TN_LEVEL | HPET_TN_INT_ENB | 20 << HPET_TN_ROUTE_SHIFT);
	wr(&h, HPET_TN_CMP(2), 8, rd(&h, HPET_MAIN_CNT, 8) + 10);
	run(&h, 10);
	is_int(level[20], 1, "held");
	vmm_hpet_reset(&h);
	is_int(level[20], 0, "reset releases it");
	is_int(rd(&h, HPET_GINTR_STA, 8), 0, "reset: ISR 0");
	is_int(rd(&h, HPET_MAIN_CNT, 8), 0, "reset: counter 0");
	is_hex(rd(&h, HPET_TN_CONF(2), 4), HPET_TN_PER_CAP | HPET_TN_SIZE_CAP,
	       "reset: T2_CONF");
	is_hex(rd(&h, HPET_TN_CMP(2), 8), ~0ULL, "reset: comparator");

	/* Disabled interrupts: no ISR bit, no line. */
	wr(&h, HPET_TN_CONF(2), 4, HPET_TN_LEVEL | 20 << HPET_TN_ROUTE_SHIFT);
	wr(&h, HPET_TN_CMP(2), 8, 10);
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 20);
	is_int(rd(&h, HPET_GINTR_STA, 8) | level[20], 0,
	       "INT_ENB off: neither ISR nor line");
	vmm_hpet_fini(&h);
}

static void test_shared_line(void)
{
	struct vmm_hpet h;

	setup(&h);
	for (int i = 1; i < 3; i++) {
		wr(&h, HPET_TN_CONF(i), 4,
		   HPET_TN_LEVEL | HPET_TN_INT_ENB | 21 << HPET_TN_ROUTE_SHIFT);
		wr(&h, HPET_TN_CMP(i), 8, 10 * i);
	}
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 20);
	is_hex(rd(&h, HPET_GINTR_STA, 8), 6, "two level timers on pin 21");
	wr(&h, HPET_GINTR_STA, 4, 2);
	is_int(level[21], 1, "one cleared: the other holds the line");
	wr(&h, HPET_GINTR_STA, 4, 4);
	is_int(level[21], 0, "both cleared: released");
	vmm_hpet_fini(&h);
}

static void test_periodic(void)
{
	struct vmm_hpet h;

	setup(&h);
	wr(&h, HPET_TN_CONF(0), 4,
	   HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_INT_ENB |
		   20 << HPET_TN_ROUTE_SHIFT);
	is_int(rd(&h, HPET_TN_CONF(0), 4) & HPET_TN_VAL_SET, 0,
	       "VAL_SET reads 0");
	wr(&h, HPET_TN_CMP(0), 8, 100);
	wr(&h, HPET_TN_CMP(0), 8, 50);
	is_int(rd(&h, HPET_TN_CMP(0), 8), 100,
	       "VAL_SET: the first write sets the comparator, the second "
	       "only the period");
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 99);
	is_int(pulses[20], 0, "nothing before 100");
	run(&h, 1);
	is_int(pulses[20], 1, "edge: a pulse at 100");
	is_int(level[20], 0, "edge: the line is low after it");
	is_int(rd(&h, HPET_GINTR_STA, 8), 0, "edge: no ISR bit");
	is_int(rd(&h, HPET_TN_CMP(0), 8), 150, "comparator + period");
	run(&h, 50);
	is_int(pulses[20], 2, "a pulse at 150");
	run(&h, 100);
	is_int(pulses[20], 3, "polled a period late (250): one pulse");
	is_int(rd(&h, HPET_TN_CMP(0), 8), 300, "the comparator moves past");
	run(&h, 10000);
	is_int(pulses[20], 4, "a stall of 200 periods: one pulse, no burst");
	is_int(rd(&h, HPET_TN_CMP(0), 8), 10300,
	       "the comparator skips past the counter (10250)");
	run(&h, 50);
	is_int(pulses[20], 5, "back on the grid at 10300");

	/* Without VAL_SET a write changes only the period. */
	wr(&h, HPET_TN_CMP(0), 8, 1000);
	is_int(rd(&h, HPET_TN_CMP(0), 8), 10350,
	       "no VAL_SET: the comparator stays");
	run(&h, 50);
	is_int(rd(&h, HPET_TN_CMP(0), 8), 11350, "the new period is taken");
	vmm_hpet_fini(&h);
}

static void test_32bit(void)
{
	struct vmm_hpet h;

	setup(&h);
	wr(&h, HPET_TN_CMP(1), 8, 0x123456789ULL);
	wr(&h, HPET_TN_CONF(1), 4,
	   HPET_TN_32BIT | HPET_TN_INT_ENB | 22 << HPET_TN_ROUTE_SHIFT);
	is_hex(rd(&h, HPET_TN_CMP(1), 8), 0x23456789,
	       "32-bit mode truncates the comparator");
	wr(&h, HPET_TN_CMP(1) + 4, 4, 0xffffffff);
	is_hex(rd(&h, HPET_TN_CMP(1), 8), 0x23456789,
	       "32-bit mode: the high half ignores writes");
	wr(&h, HPET_MAIN_CNT, 8, 0x7fffffff0ULL);
	wr(&h, HPET_TN_CMP(1), 4, 0x10);
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	run(&h, 0xf);
	is_int(pulses[22], 0, "nothing before the wrap");
	run(&h, 1);
	is_int(pulses[22], 1, "one-shot 32-bit: a pulse at the wrap");
	run(&h, 0xf);
	is_int(pulses[22], 1, "nothing between");
	run(&h, 1);
	is_int(pulses[22], 2, "and at the comparator, low 32 bits matched");
	is_hex(rd(&h, HPET_MAIN_CNT, 8), 0x800000010ULL,
	       "the counter itself is 64 bits");

	/* Periodic, 32 bits: the comparator wraps with the counter. */
	wr(&h, HPET_GEN_CONF, 4, 0);
	wr(&h, HPET_MAIN_CNT, 8, 0xffffff00);
	wr(&h, HPET_TN_CONF(1), 4,
	   HPET_TN_32BIT | HPET_TN_PERIODIC | HPET_TN_VAL_SET |
		   HPET_TN_INT_ENB | 22 << HPET_TN_ROUTE_SHIFT);
	wr(&h, HPET_TN_CMP(1), 4, 0xffffff80);
	wr(&h, HPET_TN_CMP(1), 4, 0x100);
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	pulses[22] = 0;
	run(&h, 0x80);
	is_int(pulses[22], 1, "periodic 32-bit: at 0xffffff80");
	is_hex(rd(&h, HPET_TN_CMP(1), 8), 0x80, "comparator wrapped to 0x80");
	run(&h, 0x100);
	is_int(pulses[22], 2, "and at 0x80 after the wrap");
	vmm_hpet_fini(&h);
}

static void test_legacy(void)
{
	struct vmm_hpet h;

	setup(&h);
	for (int i = 0; i < 3; i++) {
		wr(&h, HPET_TN_CONF(i), 4,
		   HPET_TN_INT_ENB | (20 + i) << HPET_TN_ROUTE_SHIFT);
		wr(&h, HPET_TN_CMP(i), 8, 10);
	}
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE | HPET_CONF_LEG_RT);
	ok(pit_off, "legacy: the PIT is told to stop");
	run(&h, 10);
	is_int(pulses[HPET_LEG_IRQ0], 1, "legacy: timer 0 on IRQ 0");
	is_int(pulses[HPET_LEG_IRQ1], 1, "legacy: timer 1 on IRQ 8");
	is_int(pulses[20] + pulses[21], 0, "not on their own routes");
	is_int(pulses[22], 1, "timer 2 on its route");
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE);
	ok(!pit_off, "LEG_RT off: the PIT resumes");
	for (int i = 0; i < 3; i++)
		wr(&h, HPET_TN_CMP(i), 8, 20);
	run(&h, 10);
	is_int(pulses[20] + pulses[21] + pulses[22], 1 + 3,
	       "LEG_RT off: every timer on its route");
	is_int(pulses[0] + pulses[8], 2, "none more on IRQs 0 and 8");
	vmm_hpet_fini(&h);
}

static void test_state(void)
{
	struct vmm_hpet h;
	struct vm_hpet_state s, s2;

	setup(&h);
	wr(&h, HPET_TN_CONF(0), 4,
	   HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_INT_ENB);
	wr(&h, HPET_TN_CMP(0), 8, 100);
	wr(&h, HPET_TN_CONF(2), 4,
	   HPET_TN_LEVEL | HPET_TN_INT_ENB | 23 << HPET_TN_ROUTE_SHIFT);
	wr(&h, HPET_TN_CMP(2), 8, 30);
	wr(&h, HPET_GEN_CONF, 4, HPET_CONF_ENABLE | HPET_CONF_LEG_RT);
	run(&h, 40);
	is_int(level[23], 1, "T2's level interrupt held");
	is_int(vmm_hpet_get_state(&h, &s), 0, "get state");
	is_int(s.counter, 40, "state: the counter now");
	is_int(s.isr, 4, "state: ISR");
	is_int(s.timer[0].flags, VM_HPET_TIMER_ARMED, "state: T0 armed");
	is_int(s.timer[2].flags, 0, "state: T2 fired, not armed");
	vmm_hpet_reset(&h);
	is_int(level[23], 0, "reset releases the line");
	is_int(vmm_hpet_set_state(&h, &s), 0, "set state");
	is_int(level[23], 1, "restored: the line held again");
	vmm_hpet_get_state(&h, &s2);
	ok(memcmp(&s, &s2, sizeof(s)) == 0, "get after set: the same state");
	run(&h, 60);
	is_int(pulses[0], 1, "restored: T0 fires at 100 on IRQ 0");
	s2 = s;
	s2.config = 4;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL, "bad GEN_CONF refused");
	s2 = s;
	s2.isr = 8;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL, "bad ISR refused");
	s2 = s;
	s2.timer[1].config = HPET_TN_PER_CAP;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL, "read-only bit refused");
	s2 = s;
	s2.timer[1].config = 5 << HPET_TN_ROUTE_SHIFT;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL, "route 5 refused");
	s2 = s;
	s2.timer[1].config = HPET_TN_32BIT;
	s2.timer[1].cmp = 1ULL << 32;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL,
	       "a 32-bit timer's 33-bit comparator refused");
	s2 = s;
	s2.timer[1].flags = 4;
	is_int(vmm_hpet_set_state(&h, &s2), -EINVAL, "unknown flags refused");
	vmm_hpet_fini(&h);
}

/* A transport that reaches a vmm_hpet: the MMIO window's VM. */
static int fake_call(void *arg, uint32_t cmd, void *data)
{
	struct vmm_hpet *h = arg;

	switch (cmd) {
	case VM_CTL_HELLO:
		return 0;
	case VM_HPET_MMIO_READ:
		return vmm_hpet_mmio_read(h, data);
	case VM_HPET_MMIO_WRITE:
		return vmm_hpet_mmio_write(h, data);
	case VM_HPET_GET_STATE:
		return vmm_hpet_get_state(h, data);
	case VM_HPET_SET_STATE:
		return vmm_hpet_set_state(h, data);
	}
	return -ENOTTY;
}

static uint64_t mmio(struct region_map *m, bool write, uint64_t off,
		     unsigned size, uint64_t v)
{
	if (region_dispatch(m, NULL, 0, write, HPET_BASE + off, size, &v) < 0)
		return 0xdead;
	return v;
}

static void test_window(void)
{
	static const struct vm_transport_ops ops = { .call = fake_call };
	struct region_map *m = region_map_create("mmio");
	struct vmm_hpet h;
	struct vmctx *ctx;
	uint8_t buf[512];
	uint64_t v;
	int n;

	setup(&h);
	ctx = vm_open_transport(&ops, &h);
	is_int(hpet_dev_register(ctx, m), 0, "window registered");
	is_hex(mmio(m, false, 0, 8, 0), HPET_GCAP_ID_VALUE,
	       "window: GCAP_ID, 8 bytes");
	is_hex(mmio(m, false, 4, 4, 0), VM_HPET_PERIOD_FS,
	       "window: the period, 4 bytes");
	is_hex(mmio(m, false, 1, 1, 0), 0xa2, "window: byte 1 of GCAP_ID");
	is_hex(mmio(m, false, 2, 2, 0), 0x8086, "window: the vendor, a word");
	mmio(m, true, HPET_GEN_CONF, 1, 1);
	is_int(mmio(m, false, HPET_GEN_CONF, 4, 0), 0,
	       "window: a byte write is dropped");
	mmio(m, true, HPET_TN_CONF(0), 4, HPET_TN_INT_ENB);
	mmio(m, true, HPET_TN_CMP(0), 8, 1000);
	mmio(m, true, HPET_GEN_CONF, 4, HPET_CONF_ENABLE | HPET_CONF_LEG_RT);
	run(&h, 10);
	is_int(vm_hpet_read(ctx, HPET_MAIN_CNT, 8, &v), 0, "vm_hpet_read");
	is_int(v, 10, "the counter through libvmmapi");

	/* save -> reset -> restore */
	n = hpet_dev_save(ctx, NULL, 0);
	ok(n > 0 && n <= (int)sizeof(buf), "save: size needed %d", n);
	is_int(hpet_dev_save(ctx, buf, 4), -ENOSPC, "save: too small a buffer");
	is_int(hpet_dev_save(ctx, buf, sizeof(buf)), n, "save");
	is_int(hpet_dev_reset(ctx), 0, "reset");
	is_int(mmio(m, false, HPET_GEN_CONF, 4, 0), 0, "reset: disabled");
	is_hex(mmio(m, false, HPET_TN_CMP(0), 8, 0), ~0ULL,
	       "reset: the comparator all ones");
	is_int(hpet_dev_restore(ctx, buf, n), 0, "restore");
	is_int(mmio(m, false, HPET_GEN_CONF, 4, 0), 3,
	       "restored: enabled, legacy");
	is_int(mmio(m, false, HPET_MAIN_CNT, 8, 0), 10, "restored: counter");
	is_int(mmio(m, false, HPET_TN_CMP(0), 8, 0), 1000,
	       "restored: comparator");
	run(&h, 990);
	is_int(pulses[0], 1, "restored: timer 0 fires on IRQ 0");
	is_int(hpet_dev_restore(ctx, buf, n - 1), -EINVAL, "restore: bad size");
	buf[0] ^= 1;
	is_int(hpet_dev_restore(ctx, buf, n), -EINVAL, "restore: bad magic");
	vm_destroy(ctx);
	region_map_destroy(m);
	vmm_hpet_fini(&h);
}

int main(void)
{
	test_caps();
	test_bad_access();
	test_counter();
	test_tn_conf();
	test_level();
	test_shared_line();
	test_periodic();
	test_32bit();
	test_legacy();
	test_state();
	test_window();
	return tap_done();
}
