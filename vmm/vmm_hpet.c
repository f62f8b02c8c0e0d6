/*
 * vmm_hpet.c: the HPET, an IA-PC HPET 1.0a event timer block as QEMU's
 * hw/timer/hpet.c and bhyve's vhpet.c model it (the commands are in
 * vmm_dev.h, the registers in vmm_hpet.h).
 *
 * The main counter is kept as its value at base_ns and runs from there
 * at HPET_TICK_NS per tick while ENABLE is on.  An armed timer knows the
 * tick (since base_ns) at which its comparator matches, or, for a 32-bit
 * one-shot, at which the low 32 bits wrap first (the spec raises an
 * interrupt there too); every access first fires what is due, and the
 * timer thread sleeps until the next deadline.  A periodic timer that
 * fell behind fires once and moves its comparator past the counter, so
 * that a stalled host does not send a burst.  Whatever changes the base
 * (ENABLE, a counter write, a restore) arms the timers again from their
 * comparators.
 *
 * In legacy replacement mode the 8254 no longer interrupts (the spec
 * disconnects it from IRQ 0): the legacy callback tells KVM's PIT.
 *
 * Locking: hpet->lock guards every field but clock, irq, legacy and
 * irq_arg; the callbacks run with it held.  The timer thread, started on the
 * first ENABLE when the model uses the host's clock, takes it for each
 * wake-up; vmm_hpet_fini stops it with a bounded join.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/vmm_hpet.h"

#define NS 1000000000LL
#define JOIN_TIMEOUT_S 2
/* The thread's shortest sleep: a 1-tick period must not spin the host. */
#define MIN_WAIT_NS (VM_HPET_MIN_TICK * HPET_TICK_NS)

static int64_t host_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static bool enabled(const struct vmm_hpet *h)
{
	return h->config & HPET_CONF_ENABLE;
}

/* Ticks since base_ns at time now. */
static uint64_t elapsed(const struct vmm_hpet *h, int64_t now)
{
	if (!enabled(h) || now <= h->base_ns)
		return 0;
	return (uint64_t)(now - h->base_ns) / HPET_TICK_NS;
}

static uint64_t counter_at(const struct vmm_hpet *h, uint64_t e)
{
	return h->counter + e;
}

static uint64_t width_mask(const struct vmm_hpet_timer *t)
{
	return t->config & HPET_TN_32BIT ? 0xffffffffULL : ~0ULL;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* The GSI timer i interrupts on, or -1 when its route is not allowed. */
static int route(const struct vmm_hpet *h, int i)
{
	unsigned r;

	if ((h->config & HPET_CONF_LEG_RT) && i < 2)
		return i == 0 ? HPET_LEG_IRQ0 : HPET_LEG_IRQ1;
	r = (unsigned)(h->t[i].config & HPET_TN_ROUTE) >> HPET_TN_ROUTE_SHIFT;
	return (HPET_ROUTE_CAP >> r) & 1 ? (int)r : -1;
}

static void set_line(struct vmm_hpet *h, int gsi, int level)
{
	if (h->irq)
		h->irq(h->irq_arg, gsi, level);
}

/* Whether a timer other than i holds line gsi (timers may share one). */
static bool held_by_other(const struct vmm_hpet *h, int i, int gsi)
{
	for (int j = 0; j < VM_HPET_NTIMERS; j++) {
		if (j != i && h->t[j].line == gsi)
			return true;
	}
	return false;
}

/* Hold or release timer i's level interrupt as its state says. */
static void update_line(struct vmm_hpet *h, int i)
{
	struct vmm_hpet_timer *t = &h->t[i];
	int want = -1;

	if ((h->isr & (1u << i)) && (t->config & HPET_TN_LEVEL) &&
	    (t->config & HPET_TN_INT_ENB) && enabled(h))
		want = route(h, i);
	if (want == t->line)
		return;
	if (t->line >= 0 && !held_by_other(h, i, t->line))
		set_line(h, t->line, 0);
	if (want >= 0 && !held_by_other(h, i, want))
		set_line(h, want, 1);
	t->line = want;
}

static void update_lines(struct vmm_hpet *h)
{
	for (int i = 0; i < VM_HPET_NTIMERS; i++)
		update_line(h, i);
}

static void raise_irq(struct vmm_hpet *h, int i)
{
	struct vmm_hpet_timer *t = &h->t[i];
	int gsi;

	if (!(t->config & HPET_TN_INT_ENB))
		return;
	if (t->config & HPET_TN_LEVEL) {
		h->isr |= 1u << i;
		update_line(h, i);
	} else if ((gsi = route(h, i)) >= 0) {
		set_line(h, gsi, 1);
		set_line(h, gsi, 0);
	}
}

/* Arm timer i from its comparator, the counter being at tick e. */
static void arm(struct vmm_hpet *h, int i, uint64_t e)
{
	struct vmm_hpet_timer *t = &h->t[i];
	uint64_t c = counter_at(h, e), m = width_mask(t);
	uint64_t d = (t->cmp - c) & m;

	t->armed = enabled(h);
	t->wrap = false;
	if (!t->armed)
		return;
	if ((t->config & (HPET_TN_32BIT | HPET_TN_PERIODIC)) == HPET_TN_32BIT) {
		uint64_t dw = (1ULL << 32) - (uint32_t)c;

		if (dw < d) {
			t->wrap = true;
			d = dw;
		}
	}
	t->fire = sat_add(e, d);
}

static void fire(struct vmm_hpet *h, int i, uint64_t now_e)
{
	struct vmm_hpet_timer *t = &h->t[i];
	uint64_t fe = t->fire, m = width_mask(t), p = t->period & m, k, step;

	raise_irq(h, i);
	if (t->wrap) {
		/* The low half is 0 now: the comparator is cmp ticks away. */
		t->wrap = false;
		t->fire = sat_add(fe, t->cmp & 0xffffffffULL);
		return;
	}
	if (!(t->config & HPET_TN_PERIODIC) || p == 0) {
		t->armed = false;
		return;
	}
	/* Behind by a period or more: one interrupt, then past now. */
	k = now_e - fe >= p ? (now_e - fe) / p + 1 : 1;
	if (__builtin_mul_overflow(k, p, &step)) {
		t->armed = false;
		return;
	}
	t->fire = sat_add(fe, step);
	t->cmp = (t->cmp + step) & m;
}

/* Fire what is due at now; the next deadline in ns, or INT64_MAX. */
static int64_t poll_locked(struct vmm_hpet *h, int64_t now)
{
	uint64_t e = elapsed(h, now), next = UINT64_MAX;

	if (!enabled(h))
		return INT64_MAX;
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		struct vmm_hpet_timer *t = &h->t[i];

		while (t->armed && t->fire <= e)
			fire(h, i, e);
		if (t->armed && t->fire < next)
			next = t->fire;
	}
	if (next == UINT64_MAX ||
	    next > (uint64_t)(INT64_MAX - h->base_ns) / HPET_TICK_NS)
		return INT64_MAX;
	return h->base_ns + (int64_t)next * HPET_TICK_NS;
}

/* The counter moved to c at now: a new base, and every timer re-armed. */
static void rebase(struct vmm_hpet *h, uint64_t c, int64_t now, bool all)
{
	h->counter = c;
	h->base_ns = now;
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		if (all || h->t[i].armed)
			arm(h, i, 0);
	}
}

static void *hpet_thread(void *arg)
{
	struct vmm_hpet *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		int64_t now = h->clock(), dl = poll_locked(h, now);
		struct timespec ts;

		if (dl == INT64_MAX) {
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		if (dl < now + MIN_WAIT_NS)
			dl = now + MIN_WAIT_NS;
		ts.tv_sec = dl / NS;
		ts.tv_nsec = dl % NS;
		pthread_cond_timedwait(&h->cond, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void set_legacy(struct vmm_hpet *h, bool on)
{
	if (h->legacy)
		h->legacy(h->irq_arg, on);
}

static void reset_locked(struct vmm_hpet *h)
{
	if (h->config & HPET_CONF_LEG_RT)
		set_legacy(h, false);
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		struct vmm_hpet_timer *t = &h->t[i];

		if (t->line >= 0)
			set_line(h, t->line, 0);
		*t = (struct vmm_hpet_timer){ .cmp = ~0ULL, .line = -1 };
	}
	h->config = h->isr = h->counter = 0;
	h->base_ns = 0;
}

void vmm_hpet_init(struct vmm_hpet *hpet, vmm_hpet_clock_fn *clock,
		   vmm_hpet_irq_fn *irq, vmm_hpet_legacy_fn *legacy,
		   void *irq_arg)
{
	pthread_condattr_t ca;

	memset(hpet, 0, sizeof(*hpet));
	pthread_mutex_init(&hpet->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hpet->cond, &ca);
	pthread_condattr_destroy(&ca);
	hpet->clock = clock ? clock : host_clock;
	hpet->threaded = !clock;
	hpet->irq = irq;
	hpet->legacy = legacy;
	hpet->irq_arg = irq_arg;
	for (int i = 0; i < VM_HPET_NTIMERS; i++)
		hpet->t[i].line = -1;
	reset_locked(hpet);
}

void vmm_hpet_fini(struct vmm_hpet *hpet)
{
	struct timespec ts;
	int r;

	pthread_mutex_lock(&hpet->lock);
	hpet->stop = true;
	pthread_cond_signal(&hpet->cond);
	pthread_mutex_unlock(&hpet->lock);
	if (hpet->thread_on) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += JOIN_TIMEOUT_S;
		r = pthread_timedjoin_np(hpet->thread, NULL, &ts);
		if (r != 0) {
			/* Never seen: the thread only waits on the lock. */
			fprintf(stderr, "vmm: HPET timer thread: %s\n",
				strerror(r));
			pthread_detach(hpet->thread);
			return;
		}
		hpet->thread_on = false;
	}
	pthread_cond_destroy(&hpet->cond);
	pthread_mutex_destroy(&hpet->lock);
}

void vmm_hpet_reset(struct vmm_hpet *hpet)
{
	pthread_mutex_lock(&hpet->lock);
	reset_locked(hpet);
	pthread_cond_signal(&hpet->cond);
	pthread_mutex_unlock(&hpet->lock);
}

int64_t vmm_hpet_poll(struct vmm_hpet *hpet)
{
	int64_t r;

	pthread_mutex_lock(&hpet->lock);
	r = poll_locked(hpet, hpet->clock());
	pthread_mutex_unlock(&hpet->lock);
	return r;
}

/* The timer a register offset belongs to, or -1. */
static int timer_of(uint32_t reg)
{
	if (reg < HPET_TN_CONF(0) || reg >= HPET_TN_CONF(VM_HPET_NTIMERS))
		return -1;
	return (int)(reg - HPET_TN_CONF(0)) / 0x20;
}

static int check_access(const struct vm_hpet_mmio *m)
{
	if ((m->size != 4 && m->size != 8) || m->offset >= VM_HPET_MMIO_SIZE ||
	    m->offset % m->size)
		return -EINVAL;
	return 0;
}

static uint64_t reg_read(struct vmm_hpet *h, uint32_t reg, int64_t now)
{
	int n = timer_of(reg);

	switch (reg) {
	case HPET_GCAP_ID:
		return HPET_GCAP_ID_VALUE;
	case HPET_GEN_CONF:
		return h->config;
	case HPET_GINTR_STA:
		return h->isr;
	case HPET_MAIN_CNT:
		return counter_at(h, elapsed(h, now));
	}
	if (n < 0)
		return 0;
	if (reg == HPET_TN_CONF(n))
		return (h->t[n].config & ~(uint64_t)HPET_TN_VAL_SET) |
		       HPET_TN_PER_CAP | HPET_TN_SIZE_CAP |
		       (uint64_t)HPET_ROUTE_CAP << 32;
	if (reg == HPET_TN_CMP(n))
		return h->t[n].cmp;
	return 0;
}

int vmm_hpet_mmio_read(struct vmm_hpet *hpet, struct vm_hpet_mmio *m)
{
	int64_t now;
	uint64_t v;
	int r;

	if ((r = check_access(m)) < 0)
		return r;
	pthread_mutex_lock(&hpet->lock);
	now = hpet->clock();
	poll_locked(hpet, now);
	v = reg_read(hpet, m->offset & ~7u, now);
	pthread_mutex_unlock(&hpet->lock);
	if (m->size == 4)
		v = m->offset & 4 ? v >> 32 : (uint32_t)v;
	m->value = v;
	return 0;
}

static void write_gen_conf(struct vmm_hpet *h, uint64_t v, int64_t now)
{
	uint64_t old = h->config;

	v &= HPET_CONF_ENABLE | HPET_CONF_LEG_RT;
	if ((old ^ v) & HPET_CONF_ENABLE) {
		if (v & HPET_CONF_ENABLE) {
			h->config = v;
			rebase(h, h->counter, now, true);
		} else {
			/* Freeze the counter where it is. */
			h->counter = counter_at(h, elapsed(h, now));
			h->config = v;
			for (int i = 0; i < VM_HPET_NTIMERS; i++)
				h->t[i].armed = h->t[i].wrap = false;
		}
	}
	h->config = v;
	if ((old ^ v) & HPET_CONF_LEG_RT)
		set_legacy(h, v & HPET_CONF_LEG_RT);
	update_lines(h);
}

static void write_tn_conf(struct vmm_hpet *h, int n, uint64_t v, int64_t now)
{
	struct vmm_hpet_timer *t = &h->t[n];
	uint64_t old = t->config;
	unsigned r = (unsigned)(v & HPET_TN_ROUTE) >> HPET_TN_ROUTE_SHIFT;

	v &= HPET_TN_WRITABLE;
	/* A route the capability does not offer is not taken. */
	if (!((HPET_ROUTE_CAP >> r) & 1))
		v = (v & ~(uint64_t)HPET_TN_ROUTE) | (old & HPET_TN_ROUTE);
	t->config = v;
	if (v & HPET_TN_32BIT) {
		t->cmp &= 0xffffffffULL;
		t->period &= 0xffffffffULL;
	}
	/* In edge mode the ISR bit means nothing: clear it. */
	if (!(v & HPET_TN_LEVEL))
		h->isr &= ~(1u << n);
	if ((old ^ v) & (HPET_TN_PERIODIC | HPET_TN_32BIT))
		arm(h, n, elapsed(h, now));
	update_line(h, n);
}

static void write_tn_cmp(struct vmm_hpet *h, int n, uint64_t v, uint64_t mask,
			 int64_t now)
{
	struct vmm_hpet_timer *t = &h->t[n];

	if (t->config & HPET_TN_32BIT) {
		mask &= 0xffffffffULL;
		if (!mask)
			return;
	}
	if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_VAL_SET))
		t->cmp = (t->cmp & ~mask) | (v & mask);
	t->period = (t->period & ~mask) | (v & mask);
	t->config &= ~(uint64_t)HPET_TN_VAL_SET;
	arm(h, n, elapsed(h, now));
}

static int start_thread(struct vmm_hpet *h)
{
	int r;

	if (!h->threaded || h->thread_on)
		return 0;
	r = pthread_create(&h->thread, NULL, hpet_thread, h);
	if (r)
		return -r;
	h->thread_on = true;
	return 0;
}

int vmm_hpet_mmio_write(struct vmm_hpet *hpet, const struct vm_hpet_mmio *m)
{
	uint32_t reg = m->offset & ~7u;
	uint64_t mask = ~0ULL, v = m->value, cur;
	int n = timer_of(reg), r;
	int64_t now;

	if ((r = check_access(m)) < 0)
		return r;
	if (m->size == 4) {
		mask = m->offset & 4 ? 0xffffffff00000000ULL : 0xffffffffULL;
		v = m->offset & 4 ? v << 32 : (uint32_t)v;
	}
	pthread_mutex_lock(&hpet->lock);
	now = hpet->clock();
	poll_locked(hpet, now);
	cur = reg_read(hpet, reg, now);
	v = (cur & ~mask) | (v & mask);
	switch (reg) {
	case HPET_GEN_CONF:
		write_gen_conf(hpet, v, now);
		if (hpet->config & HPET_CONF_ENABLE)
			r = start_thread(hpet);
		break;
	case HPET_GINTR_STA:
		hpet->isr &= ~(v & mask);
		update_lines(hpet);
		break;
	case HPET_MAIN_CNT:
		rebase(hpet, v, now, false);
		break;
	default:
		if (n >= 0 && reg == HPET_TN_CONF(n))
			write_tn_conf(hpet, n, v, now);
		else if (n >= 0 && reg == HPET_TN_CMP(n))
			write_tn_cmp(hpet, n, v, mask, now);
		break;
	}
	pthread_cond_signal(&hpet->cond);
	pthread_mutex_unlock(&hpet->lock);
	return r;
}

int vmm_hpet_get_state(struct vmm_hpet *hpet, struct vm_hpet_state *s)
{
	int64_t now;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&hpet->lock);
	now = hpet->clock();
	poll_locked(hpet, now);
	s->config = hpet->config;
	s->isr = hpet->isr;
	s->counter = counter_at(hpet, elapsed(hpet, now));
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		const struct vmm_hpet_timer *t = &hpet->t[i];

		s->timer[i].config = t->config;
		s->timer[i].cmp = t->cmp;
		s->timer[i].period = t->period;
		s->timer[i].flags = (t->armed ? VM_HPET_TIMER_ARMED : 0) |
				    (t->wrap ? VM_HPET_TIMER_WRAP : 0);
	}
	pthread_mutex_unlock(&hpet->lock);
	return 0;
}

static int check_state(const struct vm_hpet_state *s)
{
	if (s->config & ~(uint64_t)(HPET_CONF_ENABLE | HPET_CONF_LEG_RT) ||
	    s->isr >> VM_HPET_NTIMERS)
		return -EINVAL;
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		const struct vm_hpet_timer_state *t = &s->timer[i];
		unsigned r = (unsigned)(t->config & HPET_TN_ROUTE) >>
			     HPET_TN_ROUTE_SHIFT;

		if (t->config & ~(uint64_t)HPET_TN_WRITABLE ||
		    (r && !((HPET_ROUTE_CAP >> r) & 1)) ||
		    t->flags & ~(uint32_t)(VM_HPET_TIMER_ARMED |
					   VM_HPET_TIMER_WRAP) ||
		    t->pad ||
		    ((t->config & HPET_TN_32BIT) &&
		     (t->cmp >> 32 || t->period >> 32)))
			return -EINVAL;
	}
	return 0;
}

int vmm_hpet_set_state(struct vmm_hpet *hpet, const struct vm_hpet_state *s)
{
	int r;

	if ((r = check_state(s)) < 0)
		return r;
	pthread_mutex_lock(&hpet->lock);
	/* Lines go from what was held to what the state holds. */
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		if (hpet->t[i].line >= 0)
			set_line(hpet, hpet->t[i].line, 0);
		hpet->t[i].line = -1;
	}
	if ((hpet->config ^ s->config) & HPET_CONF_LEG_RT)
		set_legacy(hpet, s->config & HPET_CONF_LEG_RT);
	hpet->config = s->config;
	hpet->isr = s->isr;
	for (int i = 0; i < VM_HPET_NTIMERS; i++) {
		struct vmm_hpet_timer *t = &hpet->t[i];

		t->config = s->timer[i].config;
		t->cmp = s->timer[i].cmp;
		t->period = s->timer[i].period;
		t->armed = s->timer[i].flags & VM_HPET_TIMER_ARMED;
	}
	rebase(hpet, s->counter, hpet->clock(), false);
	update_lines(hpet);
	if (enabled(hpet))
		r = start_thread(hpet);
	pthread_cond_signal(&hpet->cond);
	pthread_mutex_unlock(&hpet->lock);
	return r;
}
