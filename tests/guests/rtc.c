/*
 * rtc.c: reads the CMOS RTC through ports 0x70/0x71 as a kernel does
 * (wait for UIP to clear, read the time registers, read again until two
 * reads agree, BCD or binary and 12 or 24 hours as register B says) and
 * prints the time and NVRAM byte 0x40 on COM1 each time either changes:
 *   rtc: 2001-09-09 01:46:40 epoch=1000000000 nvram40=0x00
 * Options: lines=N (exit with GUEST_EXIT_PASS after N lines; default 0,
 * never).
 */
#include "rt.h"

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_A_UIP 0x80
#define REG_B_DM 0x04
#define REG_B_24H 0x02
#define CENTURY 0x32
#define NVRAM_BYTE 0x40

const char guest_name[] = "rtc";

struct rtc_time {
	unsigned sec, min, hour, mday, mon, year;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

__attribute__((noinline)) void rtc_read_time(struct rtc_time *t);
void rtc_read_time(struct rtc_time *t)
{
	uint8_t r[10], again, b, h;
	bool bin;

	do {
		while (cmos_read(REG_A) & REG_A_UIP)
			;
		for (int i = 0; i < 10; i++)
			r[i] = cmos_read((uint8_t)i);
		r[1] = cmos_read(CENTURY); /* slot 1 is an alarm: reuse it */
		again = cmos_read(0);
	} while (again != r[0]);
	b = cmos_read(REG_B);
	bin = b & REG_B_DM;
	t->sec = bcd(r[0], bin);
	t->min = bcd(r[2], bin);
	h = r[4];
	if (b & REG_B_24H)
		t->hour = bcd(h, bin);
	else
		t->hour = bcd(h & 0x7f, bin) % 12 + (h & 0x80 ? 12 : 0);
	t->mday = bcd(r[7], bin);
	t->mon = bcd(r[8], bin);
	t->year = bcd(r[1], bin) * 100 + bcd(r[9], bin);
}

static uint64_t epoch(const struct rtc_time *t)
{
	uint64_t y = t->year - (t->mon <= 2), era = y / 400,
		 yoe = y - era * 400;
	uint64_t doy =
		(153 * (t->mon + (t->mon > 2 ? -3 : 9)) + 2) / 5 + t->mday - 1;
	uint64_t days =
		era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;

	return days * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

int guest_main(void)
{
	uint64_t lines = 0, printed = 0, last = ~0ULL;
	unsigned last_nv = 0x100;

	if (cmdline_get_u64(rt_cmdline, "lines", &lines) < 0) {
		rt_printf("@bad option lines: expected a number\n");
		return GUEST_EXIT_FAIL;
	}
	for (;;) {
		struct rtc_time t;
		unsigned nv;
		uint64_t e;

		rtc_read_time(&t);
		nv = cmos_read(NVRAM_BYTE);
		e = epoch(&t);
		if (e != last || nv != last_nv) {
			rt_printf("@%04u-%02u-%02u %02u:%02u:%02u epoch=%llu "
				  "nvram40=0x%02x\n",
				  t.year, t.mon, t.mday, t.hour, t.min, t.sec,
				  (unsigned long long)e, nv);
			last = e;
			last_nv = nv;
			if (lines && ++printed >= lines)
				return GUEST_EXIT_PASS;
		}
		for (int i = 0; i < 20000; i++)
			__asm__ volatile("pause");
	}
}
