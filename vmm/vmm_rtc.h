/*
 * vmm_rtc.h: the CMOS RTC model of the vmm core (an MC146818 with its
 * NVRAM, as bhyve's vrtc), behind VM_RTC_READ/WRITE/SETTIME/GETTIME
 * (vmm_dev.h says what they do).  Kept apart from KVM so that the unit
 * tests drive it with a clock of their own.
 *
 * Threads: every function may be called from any thread; rtc.lock guards
 * the state.
 */
#ifndef VMM_RTC_H
#define VMM_RTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

/* Register indexes and bits of the MC146818. */
#define RTC_SEC 0x00
#define RTC_SEC_ALARM 0x01
#define RTC_MIN 0x02
#define RTC_MIN_ALARM 0x03
#define RTC_HOUR 0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_WDAY 0x06 /* day of the week, 1 (Sunday) to 7 */
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09 /* year in the century */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d

#define RTC_A_UIP 0x80 /* update in progress (read only) */
#define RTC_A_DV 0x70 /* divider: 010 runs the clock */
#define RTC_A_DV_RUN 0x20
#define RTC_A_RS 0x0f /* periodic rate */
#define RTC_B_SET 0x80 /* updates stopped, the time being set */
#define RTC_B_PIE 0x40 /* periodic interrupt enable */
#define RTC_B_AIE 0x20 /* alarm interrupt enable */
#define RTC_B_UIE 0x10 /* update-ended interrupt enable */
#define RTC_B_DM 0x04 /* binary (1) or BCD (0) */
#define RTC_B_24H 0x02 /* 24-hour (1) or 12-hour (0) */
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80 /* valid RAM and time */
#define RTC_HOUR_PM 0x80 /* in 12-hour mode */

#define RTC_UIP_NS 244000 /* UIP rises this long before an update */

/* Nanoseconds since the epoch, as CLOCK_REALTIME gives them. */
typedef int64_t vmm_rtc_clock_fn(void);

struct vmm_rtc {
	pthread_mutex_t lock;
	vmm_rtc_clock_fn *clock; /* the host's clock */
	int64_t delta; /* RTC time minus host time, ns, while it runs */
	int64_t frozen; /* the RTC's time, ns, while it is stopped */
	int64_t last_c; /* RTC time when register C was last read */
	uint8_t reg[VM_RTC_NREGS]; /* the chip's bytes (see vmm_rtc.c) */
};

/* Power-on state at the host's time; clock NULL: CLOCK_REALTIME. */
void vmm_rtc_init(struct vmm_rtc *rtc, vmm_rtc_clock_fn *clock);
void vmm_rtc_fini(struct vmm_rtc *rtc);
/* A machine reset: interrupts off, flags clear; time and NVRAM stay. */
void vmm_rtc_reset(struct vmm_rtc *rtc);
int vmm_rtc_read(struct vmm_rtc *rtc, struct vm_rtc_data *d);
int vmm_rtc_write(struct vmm_rtc *rtc, const struct vm_rtc_data *d);
int vmm_rtc_settime(struct vmm_rtc *rtc, const struct vm_rtc_time *t);
int vmm_rtc_gettime(struct vmm_rtc *rtc, struct vm_rtc_time *t);

#endif
