/*
 * vmm_rtc.c: the CMOS RTC with its NVRAM, an MC146818 as bhyve's vrtc
 * (the commands are described in vmm_dev.h, the state in vmm_rtc.h).
 *
 * The model keeps the time in nanoseconds: the host's clock plus delta
 * while the clock runs, frozen while it is stopped (register B's SET, or
 * a divider other than 010 in register A).  The time registers (0, 2, 4,
 * 6-9 and the century byte) are made from that time in the format of
 * register B (BCD or binary, 12 or 24 hours) each time they are read,
 * except while SET is on: then they hold what the guest writes, and
 * clearing SET sets the clock from them.  A guest write to a time
 * register while the clock runs sets the clock at once.  UIP reads 1 in
 * the last RTC_UIP_NS of each second (the chip raises it that long before
 * an update).  Register C's flags are worked out when it is read, from
 * the time gone by since the last read: UF when a second ended, PF when
 * a period of the rate in register A ended, AF when the alarm matched.
 *
 * Locking: rtc->lock guards every field but clock, for each call.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vmm/vmm_rtc.h"

#define NS 1000000000LL
#define DAY 86400

static int64_t host_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool rtc_running(const struct vmm_rtc *rtc)
{
	return !(rtc->reg[RTC_REG_B] & RTC_B_SET) &&
	       (rtc->reg[RTC_REG_A] & RTC_A_DV) == RTC_A_DV_RUN;
}

static int64_t rtc_now(const struct vmm_rtc *rtc)
{
	return rtc_running(rtc) ? rtc->clock() + rtc->delta : rtc->frozen;
}

/* Set the time, whether the clock runs now or starts later. */
static void rtc_set_ns(struct vmm_rtc *rtc, int64_t t)
{
	rtc->frozen = t;
	rtc->delta = t - rtc->clock();
	rtc->last_c = t;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool binary_mode(const struct vmm_rtc *rtc)
{
	return rtc->reg[RTC_REG_B] & RTC_B_DM;
}

static uint8_t to_reg(const struct vmm_rtc *rtc, unsigned v)
{
	return binary_mode(rtc) ? (uint8_t)v :
				  (uint8_t)((v / 10) << 4 | v % 10);
}

/* A register's value as a number; -1 when it is not valid BCD. */
static int from_reg(const struct vmm_rtc *rtc, uint8_t v)
{
	if (binary_mode(rtc))
		return v;
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0xf);
}

/* Write the time registers for time t (ns). */
static void regs_from_time(struct vmm_rtc *rtc, int64_t t)
{
	int64_t secs = floor_div(t, NS), days = floor_div(secs, DAY), y;
	unsigned sod = (unsigned)(secs - days * DAY), m, d, h = sod / 3600;
	uint8_t *r = rtc->reg;

	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	r[RTC_SEC] = to_reg(rtc, sod % 60);
	r[RTC_MIN] = to_reg(rtc, sod / 60 % 60);
	if (r[RTC_REG_B] & RTC_B_24H)
		r[RTC_HOUR] = to_reg(rtc, h);
	else
		r[RTC_HOUR] = to_reg(rtc, h % 12 ? h % 12 : 12) |
			      (h >= 12 ? RTC_HOUR_PM : 0);
	/* 1970-01-01 was a Thursday, day 5 counting Sunday as 1. */
	r[RTC_WDAY] = to_reg(rtc, (unsigned)((days % 7 + 7 + 4) % 7) + 1);
	r[RTC_MDAY] = to_reg(rtc, d);
	r[RTC_MONTH] = to_reg(rtc, m);
	r[RTC_YEAR] = to_reg(rtc, (unsigned)(y % 100));
	r[VM_RTC_CENTURY] = to_reg(rtc, (unsigned)(y / 100));
}

/* The time the registers hold, in seconds: 0, or -EINVAL if invalid. */
static int regs_to_secs(const struct vmm_rtc *rtc, int64_t *out)
{
	const uint8_t *r = rtc->reg;
	int sec = from_reg(rtc, r[RTC_SEC]), min = from_reg(rtc, r[RTC_MIN]);
	int mday = from_reg(rtc, r[RTC_MDAY]),
	    mon = from_reg(rtc, r[RTC_MONTH]);
	int year = from_reg(rtc, r[RTC_YEAR]);
	int cent = from_reg(rtc, r[VM_RTC_CENTURY]), hour;
	int64_t secs;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };

	if (r[RTC_REG_B] & RTC_B_24H) {
		hour = from_reg(rtc, r[RTC_HOUR]);
	} else {
		hour = from_reg(rtc, r[RTC_HOUR] & ~RTC_HOUR_PM);
		if (hour < 1 || hour > 12)
			return -EINVAL;
		hour = hour % 12 + (r[RTC_HOUR] & RTC_HOUR_PM ? 12 : 0);
	}
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 ||
	    hour > 23 || mon < 1 || mon > 12 || mday < 1 ||
	    (unsigned)mday > mdays[mon - 1] || year < 0 || year > 99 ||
	    cent < 0 || cent > 99)
		return -EINVAL;
	secs = days_from_civil(cent * 100 + year, (unsigned)mon,
			       (unsigned)mday) *
		       DAY +
	       hour * 3600 + min * 60 + sec;
	/* Nanoseconds in 64 bits reach 2262: the clock stops at 2199. */
	if (secs < 0 || secs > VM_RTC_TIME_MAX)
		return -EINVAL;
	*out = secs;
	return 0;
}

static bool is_time_reg(int off)
{
	return off == RTC_SEC || off == RTC_MIN || off == RTC_HOUR ||
	       (off >= RTC_WDAY && off <= RTC_YEAR) || off == VM_RTC_CENTURY;
}

/* The periodic interrupt's period for rate bits rs, ns; 0 when off. */
static int64_t periodic_ns(unsigned rs)
{
	if (rs == 0)
		return 0;
	/* Rates 1 and 2 are 256 and 128 Hz, as rates 8 and 9. */
	if (rs < 3)
		rs += 7;
	return NS / (32768 >> (rs - 1));
}

static bool alarm_field(const struct vmm_rtc *rtc, int reg, unsigned v)
{
	uint8_t a = rtc->reg[reg];

	/* Values 0xc0-0xff are "don't care". */
	return (a & 0xc0) == 0xc0 || from_reg(rtc, a) == (int)v;
}

static bool alarm_hour(const struct vmm_rtc *rtc, unsigned h)
{
	uint8_t a = rtc->reg[RTC_HOUR_ALARM];
	int v;

	if ((a & 0xc0) == 0xc0 || rtc->reg[RTC_REG_B] & RTC_B_24H)
		return alarm_field(rtc, RTC_HOUR_ALARM, h);
	v = from_reg(rtc, a & ~RTC_HOUR_PM);
	return v >= 1 && v <= 12 &&
	       (unsigned)(v % 12 + (a & RTC_HOUR_PM ? 12 : 0)) == h;
}

/* Whether the alarm matched at a second in (from, to], in seconds. */
static bool alarm_between(const struct vmm_rtc *rtc, int64_t from, int64_t to)
{
	if (to - from > DAY)
		from = to - DAY;
	for (int64_t s = from + 1; s <= to; s++) {
		int64_t sod = s - floor_div(s, DAY) * DAY;

		if (alarm_field(rtc, RTC_SEC_ALARM, sod % 60) &&
		    alarm_field(rtc, RTC_MIN_ALARM, sod / 60 % 60) &&
		    alarm_hour(rtc, (unsigned)(sod / 3600)))
			return true;
	}
	return false;
}

/* Register C as time has gone by since it was last read. */
static uint8_t reg_c(const struct vmm_rtc *rtc, int64_t now)
{
	int64_t per = periodic_ns(rtc->reg[RTC_REG_A] & RTC_A_RS);
	int64_t s0 = floor_div(rtc->last_c, NS), s1 = floor_div(now, NS);
	uint8_t b = rtc->reg[RTC_REG_B], c = rtc->reg[RTC_REG_C];

	if (rtc_running(rtc)) {
		if (s1 > s0)
			c |= RTC_C_UF;
		if (s1 > s0 && alarm_between(rtc, s0, s1))
			c |= RTC_C_AF;
	}
	if (per && floor_div(now, per) > floor_div(rtc->last_c, per))
		c |= RTC_C_PF;
	if ((c & RTC_C_PF && b & RTC_B_PIE) ||
	    (c & RTC_C_AF && b & RTC_B_AIE) || (c & RTC_C_UF && b & RTC_B_UIE))
		c |= RTC_C_IRQF;
	return c;
}

static void rtc_power_on(struct vmm_rtc *rtc)
{
	memset(rtc->reg, 0, sizeof(rtc->reg));
	/* What a PC BIOS leaves: the clock running, 1024 Hz, BCD, 24 h. */
	rtc->reg[RTC_REG_A] = RTC_A_DV_RUN | 0x06;
	rtc->reg[RTC_REG_B] = RTC_B_24H;
	rtc->reg[RTC_REG_D] = RTC_D_VRT;
	rtc_set_ns(rtc, rtc->clock());
}

void vmm_rtc_init(struct vmm_rtc *rtc, vmm_rtc_clock_fn *clock)
{
	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->clock = clock ? clock : host_clock;
	rtc_power_on(rtc);
}

void vmm_rtc_fini(struct vmm_rtc *rtc)
{
	pthread_mutex_destroy(&rtc->lock);
}

void vmm_rtc_reset(struct vmm_rtc *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->reg[RTC_REG_B] &= ~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
	rtc->reg[RTC_REG_C] = 0;
	rtc->last_c = rtc_now(rtc);
	pthread_mutex_unlock(&rtc->lock);
}

int vmm_rtc_read(struct vmm_rtc *rtc, struct vm_rtc_data *d)
{
	bool guest = d->flags & VM_RTC_F_GUEST;
	int off = d->offset;
	int64_t now;
	uint8_t v;

	if (off < 0 || off >= VM_RTC_NREGS || (d->flags & ~VM_RTC_F_GUEST))
		return -EINVAL;
	pthread_mutex_lock(&rtc->lock);
	now = rtc_now(rtc);
	if (is_time_reg(off) && !(rtc->reg[RTC_REG_B] & RTC_B_SET))
		regs_from_time(rtc, now);
	switch (off) {
	case RTC_REG_A:
		v = rtc->reg[off];
		if (rtc_running(rtc) &&
		    now - floor_div(now, NS) * NS >= NS - RTC_UIP_NS)
			v |= RTC_A_UIP;
		break;
	case RTC_REG_C:
		v = reg_c(rtc, now);
		if (guest) {
			rtc->reg[RTC_REG_C] = 0;
			rtc->last_c = now;
		}
		break;
	default:
		v = rtc->reg[off];
		break;
	}
	pthread_mutex_unlock(&rtc->lock);
	d->value = v;
	return 0;
}

/* A write to register A or B: the clock may stop, start or be set. */
static void write_mode(struct vmm_rtc *rtc, int off, uint8_t v)
{
	int64_t t = rtc_now(rtc), secs;
	bool was_set = rtc->reg[RTC_REG_B] & RTC_B_SET;

	if (off == RTC_REG_A) {
		rtc->reg[RTC_REG_A] = v & ~RTC_A_UIP;
	} else {
		/* Setting SET clears UIE, as on the chip. */
		if (v & RTC_B_SET)
			v &= ~RTC_B_UIE;
		rtc->reg[RTC_REG_B] = v;
	}
	if (!was_set && (v & RTC_B_SET) && off == RTC_REG_B)
		regs_from_time(rtc, t);
	else if (was_set && !(rtc->reg[RTC_REG_B] & RTC_B_SET) &&
		 regs_to_secs(rtc, &secs) == 0)
		t = secs * NS;
	rtc->frozen = t;
	rtc->delta = t - rtc->clock();
}

int vmm_rtc_write(struct vmm_rtc *rtc, const struct vm_rtc_data *d)
{
	bool guest = d->flags & VM_RTC_F_GUEST;
	int off = d->offset;
	int64_t secs;

	if (off < 0 || off >= VM_RTC_NREGS || (d->flags & ~VM_RTC_F_GUEST))
		return -EINVAL;
	if (!guest && (off < VM_RTC_NVRAM_START || off == VM_RTC_CENTURY))
		return -EINVAL;
	pthread_mutex_lock(&rtc->lock);
	switch (off) {
	case RTC_REG_A:
	case RTC_REG_B:
		write_mode(rtc, off, d->value);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read only */
	default:
		if (!is_time_reg(off) || rtc->reg[RTC_REG_B] & RTC_B_SET) {
			rtc->reg[off] = d->value;
			break;
		}
		/* The clock runs: the new field sets it at once. */
		regs_from_time(rtc, rtc_now(rtc));
		rtc->reg[off] = d->value;
		if (regs_to_secs(rtc, &secs) == 0)
			rtc_set_ns(rtc, secs * NS);
		break;
	}
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}

int vmm_rtc_settime(struct vmm_rtc *rtc, const struct vm_rtc_time *t)
{
	if (t->secs < 0 || t->secs > VM_RTC_TIME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&rtc->lock);
	rtc_set_ns(rtc, t->secs * NS);
	if (rtc->reg[RTC_REG_B] & RTC_B_SET)
		regs_from_time(rtc, t->secs * NS);
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}

int vmm_rtc_gettime(struct vmm_rtc *rtc, struct vm_rtc_time *t)
{
	pthread_mutex_lock(&rtc->lock);
	t->secs = floor_div(rtc_now(rtc), NS);
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}
