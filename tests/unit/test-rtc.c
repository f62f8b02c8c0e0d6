/*
 * test-rtc.c: the vmm core's CMOS RTC model (vmm/vmm_rtc.c) with a clock
 * of the test's own: the time registers in BCD and binary, 12 and 24
 * hours, UIP, registers C and D, setting the clock with SET, NVRAM and
 * its limits, settime/gettime; then the port device (monitor/dev/rtc.c)
 * over libvmmapi through a transport that reaches the same model, with
 * its save -> reset -> restore round trip.
 */
#include <errno.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/dev/rtc.h"
#include "monitor/region.h"
#include "tests/tap.h"
#include "vmm/vmm_rtc.h"

#define NS 1000000000LL
#define T0 1709214330LL /* 2024-02-29 13:45:30 UTC, a Thursday */

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static uint8_t rd(struct vmm_rtc *rtc, int off, bool guest)
{
	struct vm_rtc_data d = { .offset = off,
				 .flags = guest ? VM_RTC_F_GUEST : 0 };

	if (vmm_rtc_read(rtc, &d) < 0)
		return 0xee;
	return d.value;
}

static int wr(struct vmm_rtc *rtc, int off, uint8_t v, bool guest)
{
	struct vm_rtc_data d = { .offset = off,
				 .value = v,
				 .flags = guest ? VM_RTC_F_GUEST : 0 };

	return vmm_rtc_write(rtc, &d);
}

static int64_t gettime(struct vmm_rtc *rtc)
{
	struct vm_rtc_time t;

	vmm_rtc_gettime(rtc, &t);
	return t.secs;
}

static void test_time_regs(void)
{
	struct vmm_rtc rtc;

	fake_now = T0 * NS + NS / 2;
	vmm_rtc_init(&rtc, fake_clock);
	is_hex(rd(&rtc, RTC_REG_A, true), 0x26, "reg A at power-on: 0x26");
	is_hex(rd(&rtc, RTC_REG_B, true), 0x02, "reg B: 24 h, BCD");
	is_hex(rd(&rtc, RTC_REG_D, true), 0x80, "reg D: valid RAM and time");
	is_hex(rd(&rtc, RTC_SEC, true), 0x30, "seconds in BCD");
	is_hex(rd(&rtc, RTC_MIN, true), 0x45, "minutes");
	is_hex(rd(&rtc, RTC_HOUR, true), 0x13, "hours, 24 h");
	is_hex(rd(&rtc, RTC_WDAY, true), 0x05, "Thursday is day 5");
	is_hex(rd(&rtc, RTC_MDAY, true), 0x29, "day of the month");
	is_hex(rd(&rtc, RTC_MONTH, true), 0x02, "month");
	is_hex(rd(&rtc, RTC_YEAR, true), 0x24, "year");
	is_hex(rd(&rtc, VM_RTC_CENTURY, true), 0x20, "century byte 0x32");
	is_int(gettime(&rtc), T0, "gettime: the host's time");

	fake_now += 3 * NS;
	is_hex(rd(&rtc, RTC_SEC, true), 0x33, "the clock runs with the host");

	/* Binary, 12 hours. */
	wr(&rtc, RTC_REG_B, RTC_B_DM, true);
	is_hex(rd(&rtc, RTC_HOUR, true), 0x81, "12 h binary: 1 PM = 0x81");
	is_hex(rd(&rtc, RTC_YEAR, true), 24, "binary year");
	is_hex(rd(&rtc, VM_RTC_CENTURY, true), 20, "binary century");
	wr(&rtc, RTC_REG_B, 0, true);
	is_hex(rd(&rtc, RTC_HOUR, true), 0x81, "12 h BCD: 1 PM = 0x81");
	fake_now -= 13 * 3600 * NS;
	is_hex(rd(&rtc, RTC_HOUR, true), 0x12, "12 h: 00:45 is 12 AM = 0x12");
	fake_now += 12 * 3600 * NS;
	is_hex(rd(&rtc, RTC_HOUR, true), 0x92, "12 h: 12:45 is 12 PM = 0x92");
	vmm_rtc_fini(&rtc);
}

static void test_uip_and_c(void)
{
	struct vmm_rtc rtc;

	fake_now = T0 * NS;
	vmm_rtc_init(&rtc, fake_clock);
	fake_now = T0 * NS + NS - RTC_UIP_NS / 2;
	is_hex(rd(&rtc, RTC_REG_A, true), 0xa6, "UIP just before an update");
	fake_now = T0 * NS + NS / 2;
	is_hex(rd(&rtc, RTC_REG_A, true), 0x26, "no UIP mid-second");
	is_int(wr(&rtc, RTC_REG_A, 0xa6, true), 0, "guest writes reg A");
	is_hex(rd(&rtc, RTC_REG_A, true) & 0x80, 0, "UIP is read only");

	rd(&rtc, RTC_REG_C, true);
	fake_now += NS;
	is_hex(rd(&rtc, RTC_REG_C, false), RTC_C_UF | RTC_C_PF,
	       "reg C: update ended and periodic flags after a second");
	is_hex(rd(&rtc, RTC_REG_C, true), RTC_C_UF | RTC_C_PF,
	       "a guest read sees them...");
	is_hex(rd(&rtc, RTC_REG_C, true), 0, "...and clears them");
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_UIE, true);
	fake_now += NS;
	is_hex(rd(&rtc, RTC_REG_C, true), RTC_C_IRQF | RTC_C_UF | RTC_C_PF,
	       "IRQF with UIE on");
	/* Alarm at 13:45:40 (BCD, 24 h). */
	wr(&rtc, RTC_SEC_ALARM, 0x40, true);
	wr(&rtc, RTC_MIN_ALARM, 0x45, true);
	wr(&rtc, RTC_HOUR_ALARM, 0xff, true);
	fake_now = (T0 + 9) * NS + 1;
	rd(&rtc, RTC_REG_C, true);
	fake_now = (T0 + 10) * NS + 1;
	is_hex(rd(&rtc, RTC_REG_C, true) & RTC_C_AF, RTC_C_AF,
	       "AF when the alarm second passes (hour don't care)");
	is_int(wr(&rtc, RTC_REG_D, 0, true), 0, "reg D write is taken...");
	is_hex(rd(&rtc, RTC_REG_D, true), 0x80, "...and ignored");
	vmm_rtc_reset(&rtc);
	is_hex(rd(&rtc, RTC_REG_B, true), RTC_B_24H, "reset: interrupts off");
	vmm_rtc_fini(&rtc);
}

static void test_set_clock(void)
{
	struct vmm_rtc rtc;

	fake_now = T0 * NS;
	vmm_rtc_init(&rtc, fake_clock);
	/* A guest sets 1999-12-31 23:59:59, as a BIOS setup would. */
	wr(&rtc, RTC_REG_B, RTC_B_SET | RTC_B_24H, true);
	fake_now += 5 * NS;
	is_int(gettime(&rtc), T0, "SET stops the clock");
	wr(&rtc, RTC_SEC, 0x59, true);
	wr(&rtc, RTC_MIN, 0x59, true);
	wr(&rtc, RTC_HOUR, 0x23, true);
	wr(&rtc, RTC_MDAY, 0x31, true);
	wr(&rtc, RTC_MONTH, 0x12, true);
	wr(&rtc, RTC_YEAR, 0x99, true);
	wr(&rtc, VM_RTC_CENTURY, 0x19, true);
	is_hex(rd(&rtc, RTC_SEC, true), 0x59, "while SET, reads give writes");
	wr(&rtc, RTC_REG_B, RTC_B_24H, true);
	is_int(gettime(&rtc), 946684799, "clearing SET sets the clock");
	fake_now += NS;
	is_hex(rd(&rtc, RTC_YEAR, true), 0x00, "it runs into 2000...");
	is_hex(rd(&rtc, VM_RTC_CENTURY, true), 0x20, "...and the century");

	/* Binary mode, a write while running sets the field at once. */
	wr(&rtc, RTC_REG_B, RTC_B_24H | RTC_B_DM, true);
	wr(&rtc, RTC_HOUR, 5, true);
	is_int(gettime(&rtc), 946684800 + 5 * 3600,
	       "a running write of the hour moves the clock");

	/* A divider other than 010 stops the clock. */
	wr(&rtc, RTC_REG_A, 0x70, true);
	fake_now += 10 * NS;
	is_int(gettime(&rtc), 946684800 + 5 * 3600, "divider off: stopped");
	wr(&rtc, RTC_REG_A, 0x26, true);
	fake_now += 2 * NS;
	is_int(gettime(&rtc), 946684800 + 5 * 3600 + 2, "divider on: runs");

	/* settime / gettime */
	struct vm_rtc_time t = { .secs = 1000000000 };

	is_int(vmm_rtc_settime(&rtc, &t), 0, "settime");
	is_int(gettime(&rtc), 1000000000, "gettime after settime");
	fake_now += 7 * NS;
	is_int(gettime(&rtc), 1000000007, "and it runs on");
	t.secs = -1;
	is_int(vmm_rtc_settime(&rtc, &t), -EINVAL, "settime before 1970");
	t.secs = VM_RTC_TIME_MAX + 1;
	is_int(vmm_rtc_settime(&rtc, &t), -EINVAL, "settime past 2199");
	t.secs = VM_RTC_TIME_MAX;
	is_int(vmm_rtc_settime(&rtc, &t), 0, "settime to 2199-12-31");
	is_int(rd(&rtc, VM_RTC_CENTURY, false), 21, "century 21 (binary)");
	vmm_rtc_fini(&rtc);
}

static void test_nvram(void)
{
	struct vmm_rtc rtc;

	fake_now = T0 * NS;
	vmm_rtc_init(&rtc, fake_clock);
	is_int(wr(&rtc, 0x0e, 0xa5, false), 0, "NVRAM write at 0x0e");
	is_int(wr(&rtc, 0x7f, 0x5a, false), 0, "NVRAM write at 0x7f");
	is_hex(rd(&rtc, 0x0e, false), 0xa5, "NVRAM read back at 0x0e");
	is_hex(rd(&rtc, 0x7f, true), 0x5a, "and by the guest at 0x7f");
	is_int(wr(&rtc, 0x0d, 1, false), -EINVAL, "0x0d is not NVRAM");
	is_int(wr(&rtc, RTC_SEC, 1, false), -EINVAL, "nor the seconds");
	is_int(wr(&rtc, VM_RTC_CENTURY, 1, false), -EINVAL,
	       "nor the century byte");
	is_int(wr(&rtc, 0x80, 1, false), -EINVAL, "offset 0x80: past the end");
	is_int(wr(&rtc, -1, 1, false), -EINVAL, "offset -1");
	is_hex(rd(&rtc, 0x80, false), 0xee, "read at 0x80 refused");
	struct vm_rtc_data d = { .offset = 0x20, .flags = 2 };

	is_int(vmm_rtc_read(&rtc, &d), -EINVAL, "unknown flags refused");
	is_int(wr(&rtc, 0x40, 0x11, true), 0, "guest NVRAM write");
	is_hex(rd(&rtc, 0x40, false), 0x11, "read back");
	vmm_rtc_fini(&rtc);
}

/* A transport that reaches a vmm_rtc: the port device's VM. */
static int fake_call(void *arg, uint32_t cmd, void *data)
{
	struct vmm_rtc *rtc = arg;

	switch (cmd) {
	case VM_CTL_HELLO:
		return 0;
	case VM_RTC_READ:
		return vmm_rtc_read(rtc, data);
	case VM_RTC_WRITE:
		return vmm_rtc_write(rtc, data);
	case VM_RTC_SETTIME:
		return vmm_rtc_settime(rtc, data);
	case VM_RTC_GETTIME:
		return vmm_rtc_gettime(rtc, data);
	}
	return -ENOTTY;
}

static void test_ports(void)
{
	static const struct vm_transport_ops ops = { .call = fake_call };
	struct region_map *m = region_map_create("pio");
	struct vmm_rtc rtc;
	struct vmctx *ctx;
	struct rtc_dev *r;
	uint8_t buf[512];
	uint64_t v;
	time_t t;
	int n;

	fake_now = T0 * NS;
	vmm_rtc_init(&rtc, fake_clock);
	ctx = vm_open_transport(&ops, &rtc);
	r = rtc_dev_create(ctx);
	is_int(rtc_dev_register(r, m), 0, "ports 0x70-0x71 registered");
	v = 0x80 | RTC_HOUR;
	region_dispatch(m, NULL, 0, true, RTC_INDEX_PORT, 1, &v);
	ok(rtc_dev_nmi_disabled(r), "index bit 7 disables NMIs");
	region_dispatch(m, NULL, 0, false, RTC_DATA_PORT, 1, &v);
	is_hex(v & 0xff, 0x13, "port 0x71 reads the hour");
	region_dispatch(m, NULL, 0, false, RTC_INDEX_PORT, 1, &v);
	is_hex(v & 0xff, 0xff, "port 0x70 is write only");
	is_int(vm_rtc_settime(ctx, 1000000000), 0, "vm_rtc_settime");
	is_int(vm_rtc_gettime(ctx, &t), 0, "vm_rtc_gettime");
	is_int(t, 1000000000, "the time set");
	is_int(vm_rtc_write(ctx, 0x32, 0), -EINVAL,
	       "vm_rtc_write: the century is not NVRAM");
	is_int(rtc_dev_set_memsize(r, 64 << 20, 0), 0, "memory sizes");
	vm_rtc_read(ctx, 0x34, &buf[0]);
	vm_rtc_read(ctx, 0x35, &buf[1]);
	is_hex(buf[0] | buf[1] << 8, (48 << 20) >> 16,
	       "0x34: 64 KiB blocks above 16 MiB");

	/* save -> reset -> restore */
	n = rtc_dev_save(r, NULL, 0);
	ok(n > 0 && n <= (int)sizeof(buf), "save: size needed %d", n);
	is_int(rtc_dev_save(r, buf, 4), -ENOSPC, "save: too small a buffer");
	vm_rtc_write(ctx, 0x50, 0x77);
	vm_rtc_guest_write(ctx, RTC_REG_B, RTC_B_24H | RTC_B_DM);
	is_int(rtc_dev_save(r, buf, sizeof(buf)), n, "save");
	vm_rtc_write(ctx, 0x50, 0);
	vm_rtc_guest_write(ctx, RTC_REG_B, RTC_B_24H);
	vm_rtc_settime(ctx, 5);
	rtc_dev_reset(r);
	ok(!rtc_dev_nmi_disabled(r), "reset: NMIs enabled");
	is_int(rtc_dev_restore(r, buf, n), 0, "restore");
	ok(rtc_dev_nmi_disabled(r), "restored: the NMI bit");
	vm_rtc_read(ctx, 0x50, &buf[500]);
	is_hex(buf[500], 0x77, "restored: NVRAM");
	vm_rtc_read(ctx, RTC_REG_B, &buf[500]);
	is_hex(buf[500], RTC_B_24H | RTC_B_DM, "restored: reg B");
	vm_rtc_gettime(ctx, &t);
	is_int(t, 1000000000, "restored: the time");
	v = 0;
	region_dispatch(m, NULL, 0, false, RTC_DATA_PORT, 1, &v);
	is_hex(v & 0xff, 1, "restored: the index (hour, binary)");
	is_int(rtc_dev_restore(r, buf, n - 1), -EINVAL, "restore: bad size");
	buf[0] ^= 1;
	is_int(rtc_dev_restore(r, buf, n), -EINVAL, "restore: bad magic");
	rtc_dev_destroy(r);
	vm_destroy(ctx);
	region_map_destroy(m);
	vmm_rtc_fini(&rtc);
}

int main(void)
{
	test_time_regs();
	test_uip_and_c();
	test_set_clock();
	test_nvram();
	test_ports();
	return tap_done();
}
