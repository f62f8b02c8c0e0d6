/*
 * vmm_hpet.h: the HPET model of the vmm core (an IA-PC HPET 1.0a event
 * timer block, as QEMU's hpet and bhyve's vhpet), behind VM_HPET_*
 * (vmm_dev.h says what they do).  Kept apart from KVM: interrupts leave
 * through a callback, and the unit tests drive it with a clock of their
 * own and vmm_hpet_poll instead of the timer thread.
 *
 * Threads: every function may be called from any thread; hpet.lock
 * guards the state, and the callback is called with it held.
 */
#ifndef VMM_HPET_H
#define VMM_HPET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

/* Register offsets. */
#define HPET_GCAP_ID 0x000
#define HPET_GEN_CONF 0x010
#define HPET_GINTR_STA 0x020
#define HPET_MAIN_CNT 0x0f0
#define HPET_TN_CONF(n) (0x100u + 0x20u * (unsigned)(n))
#define HPET_TN_CMP(n) (0x108u + 0x20u * (unsigned)(n))
#define HPET_TN_FSB(n) (0x110u + 0x20u * (unsigned)(n))

/* GCAP_ID: revision 1, NUM_TIM_CAP, COUNT_SIZE_CAP, LEG_RT_CAP, Intel. */
#define HPET_CAP_REV 0x01
#define HPET_CAP_COUNT_SIZE (1u << 13)
#define HPET_CAP_LEG_RT (1u << 15)
#define HPET_CAP_VENDOR 0x8086
#define HPET_GCAP_ID_VALUE                                                     \
	((uint64_t)VM_HPET_PERIOD_FS << 32 | (uint64_t)HPET_CAP_VENDOR << 16 | \
	 HPET_CAP_LEG_RT | HPET_CAP_COUNT_SIZE | (VM_HPET_NTIMERS - 1) << 8 |  \
	 HPET_CAP_REV)
#define HPET_TICK_NS (VM_HPET_PERIOD_FS / 1000000)

/* GEN_CONF */
#define HPET_CONF_ENABLE 1u
#define HPET_CONF_LEG_RT 2u

/* Tn_CONF */
#define HPET_TN_LEVEL (1u << 1)
#define HPET_TN_INT_ENB (1u << 2)
#define HPET_TN_PERIODIC (1u << 3)
#define HPET_TN_PER_CAP (1u << 4) /* read only */
#define HPET_TN_SIZE_CAP (1u << 5) /* read only: 64-bit */
#define HPET_TN_VAL_SET (1u << 6)
#define HPET_TN_32BIT (1u << 8)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_TN_ROUTE (0x1fu << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_WRITABLE                                      \
	(HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | \
	 HPET_TN_VAL_SET | HPET_TN_32BIT | HPET_TN_ROUTE)
#define HPET_ROUTE_CAP 0x00f00000u /* IOAPIC pins 20-23 */

/* Legacy replacement: the ISA IRQs (KVM's GSIs) of timers 0 and 1. */
#define HPET_LEG_IRQ0 0
#define HPET_LEG_IRQ1 8

/* Nanoseconds of CLOCK_MONOTONIC, or of a test's clock. */
typedef int64_t vmm_hpet_clock_fn(void);
/* Set an interrupt line (a KVM GSI) to level 0 or 1. */
typedef void vmm_hpet_irq_fn(void *arg, int gsi, int level);
/* LEG_RT went on or off: the 8254 stops or resumes raising IRQ 0. */
typedef void vmm_hpet_legacy_fn(void *arg, bool on);

struct vmm_hpet_timer {
	uint64_t config; /* Tn_CONF: the writable bits */
	uint64_t cmp; /* the comparator, 32 bits wide in 32-bit mode */
	uint64_t period; /* a periodic timer's increment */
	bool armed; /* fire is when the comparator matches */
	bool wrap; /* fire is the 32-bit wrap before the match */
	uint64_t fire; /* when, in ticks since base_ns */
	int line; /* the GSI held for a level interrupt, or -1 */
};

struct vmm_hpet {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* wakes the timer thread: a deadline moved */
	vmm_hpet_clock_fn *clock;
	vmm_hpet_irq_fn *irq;
	vmm_hpet_legacy_fn *legacy;
	void *irq_arg; /* for irq and legacy */
	uint64_t config; /* GEN_CONF */
	uint64_t isr; /* GINTR_STA */
	uint64_t counter; /* the main counter at base_ns */
	int64_t base_ns; /* when the counter was counter, while enabled */
	struct vmm_hpet_timer t[VM_HPET_NTIMERS];
	bool threaded; /* start the timer thread on the first ENABLE */
	bool thread_on; /* thread is running */
	bool stop; /* the thread is to end */
	pthread_t thread;
};

/*
 * Power-on state.  clock NULL: CLOCK_MONOTONIC, and a timer thread that
 * starts when the guest first sets ENABLE; with a clock of its own the
 * caller calls vmm_hpet_poll.  irq and legacy may be NULL.
 */
void vmm_hpet_init(struct vmm_hpet *hpet, vmm_hpet_clock_fn *clock,
		   vmm_hpet_irq_fn *irq, vmm_hpet_legacy_fn *legacy,
		   void *irq_arg);
/* Stop the timer thread (a bounded join) and free the lock. */
void vmm_hpet_fini(struct vmm_hpet *hpet);
/* Back to power-on state; lines held are released. */
void vmm_hpet_reset(struct vmm_hpet *hpet);
int vmm_hpet_mmio_read(struct vmm_hpet *hpet, struct vm_hpet_mmio *m);
int vmm_hpet_mmio_write(struct vmm_hpet *hpet, const struct vm_hpet_mmio *m);
int vmm_hpet_get_state(struct vmm_hpet *hpet, struct vm_hpet_state *s);
int vmm_hpet_set_state(struct vmm_hpet *hpet, const struct vm_hpet_state *s);
/*
 * Fire the timers due by the clock's time now; the time of the next
 * deadline (ns), or INT64_MAX when no timer is armed.
 */
int64_t vmm_hpet_poll(struct vmm_hpet *hpet);

#endif
