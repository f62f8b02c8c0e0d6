/*
 * rtc.c: the CMOS RTC's index and data ports over the vmm core's RTC
 * (see rtc.h).
 *
 * Locking: r->mtx guards the index and is held across the data access, so
 * that an index write and the data access after it stay paired.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/dev/rtc.h"
#include "monitor/region.h"

#define STATE_MAGIC 0x63747276 /* "vrtc" */
/* The chip's registers this file touches (vmm/vmm_rtc.h has them all). */
#define REG_SEC_ALARM 0x01
#define REG_MIN_ALARM 0x03
#define REG_HOUR_ALARM 0x05
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_B_SET 0x80

struct rtc_dev {
	pthread_mutex_t mtx;
	struct vmctx *ctx;
	uint8_t index; /* the register port 0x71 reaches; mtx */
	bool nmi_disabled; /* bit 7 of the last index written; mtx */
};

/* Everything save writes: fixed-width fields. */
struct rtc_state {
	uint32_t magic; /* STATE_MAGIC */
	uint8_t index;
	uint8_t nmi_disabled;
	uint8_t pad[2];
	int64_t secs; /* the chip's time */
	uint8_t cmos[VM_RTC_NREGS]; /* the chip's bytes */
};

struct rtc_dev *rtc_dev_create(struct vmctx *ctx)
{
	struct rtc_dev *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->mtx, NULL);
	r->ctx = ctx;
	return r;
}

void rtc_dev_destroy(struct rtc_dev *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mtx);
	free(r);
}

static int put16(struct vmctx *ctx, int off, uint64_t v)
{
	int e = vm_rtc_write(ctx, off, (uint8_t)v);

	return e ? e : vm_rtc_write(ctx, off + 1, (uint8_t)(v >> 8));
}

int rtc_dev_set_memsize(struct rtc_dev *r, uint64_t lowmem, uint64_t highmem)
{
	const uint64_t m16 = 16ULL << 20;
	uint64_t ext = lowmem > (1 << 20) ? (lowmem - (1 << 20)) >> 10 : 0;
	uint64_t above16 = lowmem > m16 ? (lowmem - m16) >> 16 : 0;
	uint64_t above4g = highmem >> 16;
	int e;

	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	if ((e = put16(r->ctx, 0x17, ext)) || (e = put16(r->ctx, 0x30, ext)) ||
	    (e = put16(r->ctx, 0x34, above16)) ||
	    (e = put16(r->ctx, 0x5b, above4g)))
		return e;
	return vm_rtc_write(r->ctx, 0x5d, (uint8_t)(above4g >> 16));
}

uint8_t rtc_dev_read(struct rtc_dev *r, unsigned port)
{
	uint8_t v = 0xff;

	/* The index port is write only. */
	if (port != RTC_DATA_PORT)
		return 0xff;
	pthread_mutex_lock(&r->mtx);
	if (vm_rtc_guest_read(r->ctx, r->index, &v) < 0)
		v = 0xff;
	pthread_mutex_unlock(&r->mtx);
	return v;
}

void rtc_dev_write(struct rtc_dev *r, unsigned port, uint8_t val)
{
	pthread_mutex_lock(&r->mtx);
	if (port == RTC_INDEX_PORT) {
		r->index = val & (VM_RTC_NREGS - 1);
		r->nmi_disabled = val & RTC_NMI_DISABLE;
	} else {
		(void)vm_rtc_guest_write(r->ctx, r->index, val);
	}
	pthread_mutex_unlock(&r->mtx);
}

bool rtc_dev_nmi_disabled(struct rtc_dev *r)
{
	bool v;

	pthread_mutex_lock(&r->mtx);
	v = r->nmi_disabled;
	pthread_mutex_unlock(&r->mtx);
	return v;
}

static int rtc_access(void *arg, int vcpuid, bool write, uint64_t addr,
		      unsigned size, uint64_t *val)
{
	struct rtc_dev *r = arg;

	if (write)
		rtc_dev_write(r, (unsigned)addr, (uint8_t)*val);
	else
		*val = ~0xffULL | rtc_dev_read(r, (unsigned)addr);
	return 0;
}

int rtc_dev_register(struct rtc_dev *r, struct region_map *map)
{
	return region_register(map, "rtc", RTC_INDEX_PORT, 2, rtc_access, r);
}

void rtc_dev_reset(struct rtc_dev *r)
{
	pthread_mutex_lock(&r->mtx);
	r->index = 0;
	r->nmi_disabled = false;
	pthread_mutex_unlock(&r->mtx);
}

int rtc_dev_save(struct rtc_dev *r, void *buf, size_t len)
{
	struct rtc_state s = { .magic = STATE_MAGIC };
	time_t secs;
	int e;

	if (len == 0)
		return sizeof(s);
	if (len < sizeof(s))
		return -ENOSPC;
	pthread_mutex_lock(&r->mtx);
	s.index = r->index;
	s.nmi_disabled = r->nmi_disabled;
	e = vm_rtc_gettime(r->ctx, &secs);
	for (int i = 0; i < VM_RTC_NREGS && e == 0; i++)
		e = vm_rtc_read(r->ctx, i, &s.cmos[i]);
	pthread_mutex_unlock(&r->mtx);
	if (e)
		return e;
	s.secs = secs;
	memcpy(buf, &s, sizeof(s));
	return sizeof(s);
}

int rtc_dev_restore(struct rtc_dev *r, const void *buf, size_t len)
{
	static const int alarms[] = { REG_SEC_ALARM, REG_MIN_ALARM,
				      REG_HOUR_ALARM };
	struct rtc_state s;
	int e;

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.magic != STATE_MAGIC || s.index >= VM_RTC_NREGS ||
	    s.nmi_disabled > 1 || s.secs < 0 || s.secs > VM_RTC_TIME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&r->mtx);
	/*
	 * The mode first with the clock running, then the time, then SET if
	 * it was on (which stops the clock at that time).
	 */
	e = vm_rtc_guest_write(r->ctx, REG_A, s.cmos[REG_A]);
	if (!e)
		e = vm_rtc_guest_write(r->ctx, REG_B,
				       s.cmos[REG_B] & ~REG_B_SET);
	if (!e)
		e = vm_rtc_settime(r->ctx, (time_t)s.secs);
	for (unsigned i = 0; i < 3 && !e; i++)
		e = vm_rtc_guest_write(r->ctx, alarms[i], s.cmos[alarms[i]]);
	for (int i = VM_RTC_NVRAM_START; i < VM_RTC_NREGS && !e; i++) {
		if (i != VM_RTC_CENTURY)
			e = vm_rtc_write(r->ctx, i, s.cmos[i]);
	}
	if (!e && (s.cmos[REG_B] & REG_B_SET))
		e = vm_rtc_guest_write(r->ctx, REG_B, s.cmos[REG_B]);
	if (!e) {
		r->index = s.index;
		r->nmi_disabled = s.nmi_disabled;
	}
	pthread_mutex_unlock(&r->mtx);
	return e;
}
