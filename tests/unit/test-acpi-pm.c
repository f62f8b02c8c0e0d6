/*
 * test-acpi-pm.c: unit tests of the ACPI PM1a registers
 * (monitor/dev/acpi_pm.h) through their region handler, with callbacks
 * that record the SCI level and sleep requests.  Single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "monitor/dev/acpi_pm.h"
#include "monitor/platform.h"
#include "tests/tap.h"

#define EVT ACPI_PM1A_EVT_PORT
#define CNT ACPI_PM1A_CNT_PORT

struct rec {
	int sci_calls;
	bool sci;
	int sleeps;
	unsigned slp_typ;
};

static void on_sci(void *arg, bool level)
{
	struct rec *r = arg;

	r->sci_calls++;
	r->sci = level;
}

static void on_sleep(void *arg, unsigned slp_typ)
{
	struct rec *r = arg;

	r->sleeps++;
	r->slp_typ = slp_typ;
}

static uint64_t rd(struct acpi_pm *pm, uint64_t port, unsigned size)
{
	uint64_t v = 0xdeadbeef;

	if (acpi_pm_access(pm, 0, false, port, size, &v) < 0)
		return ~0ULL;
	return v;
}

static void wr(struct acpi_pm *pm, uint64_t port, unsigned size, uint64_t v)
{
	acpi_pm_access(pm, 0, true, port, size, &v);
}

int main(void)
{
	struct rec r = { 0 };
	struct acpi_pm *pm = acpi_pm_create(on_sci, on_sleep, &r);
	uint64_t v = 0;

	if (!pm)
		tap_bail("acpi_pm_create: %s", strerror(errno));
	is_hex(rd(pm, EVT, 2), 0, "PM1_STS starts clear");
	is_hex(rd(pm, EVT + 2, 2), 0, "PM1_EN starts clear");
	is_hex(rd(pm, CNT, 2), PM1_SCI_EN, "PM1_CNT: SCI_EN (ACPI mode)");
	is_hex(rd(pm, CNT + 2, 2), 0xffff, "past the blocks reads all ones");

	wr(pm, EVT + 2, 2, 0xffff);
	is_hex(rd(pm, EVT + 2, 2),
	       PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_SLPBTN_STS |
		       PM1_RTC_STS,
	       "PM1_EN keeps only the enable bits");
	wr(pm, EVT + 2, 2, 0);
	acpi_pm_power_button(pm);
	is_hex(rd(pm, EVT, 2), PM1_PWRBTN_STS, "power button: PWRBTN_STS");
	is_int(r.sci_calls, 0, "no SCI while PWRBTN_EN is clear");
	wr(pm, EVT + 3, 1, PM1_PWRBTN_STS >> 8);
	ok(r.sci_calls == 1 && r.sci, "enabling it raises the SCI (1 byte)");
	is_hex(rd(pm, EVT, 4), PM1_PWRBTN_STS | PM1_PWRBTN_STS << 16,
	       "a 4-byte read gives STS and EN");
	wr(pm, EVT, 2, PM1_TMR_STS);
	is_hex(rd(pm, EVT, 2), PM1_PWRBTN_STS, "writing 0 bits keeps STS");
	ok(r.sci_calls == 1 && r.sci, "and the SCI stays up");
	wr(pm, EVT, 2, PM1_PWRBTN_STS);
	is_hex(rd(pm, EVT, 2), 0, "writing 1 clears PWRBTN_STS");
	ok(r.sci_calls == 2 && !r.sci, "and lowers the SCI");

	wr(pm, CNT, 2, ACPI_S5_SLP_TYP << PM1_SLP_TYP_SHIFT);
	is_int(r.sleeps, 0, "SLP_TYP alone sleeps nowhere");
	is_hex(rd(pm, CNT, 2),
	       PM1_SCI_EN | ACPI_S5_SLP_TYP << PM1_SLP_TYP_SHIFT,
	       "PM1_CNT keeps SLP_TYP, SCI_EN stays");
	wr(pm, CNT, 2,
	   PM1_SLP_EN | ACPI_S5_SLP_TYP << PM1_SLP_TYP_SHIFT | PM1_GBL_RLS);
	ok(r.sleeps == 1 && r.slp_typ == ACPI_S5_SLP_TYP,
	   "SLP_EN with S5's SLP_TYP asks for S5 (got %d, type %u)", r.sleeps,
	   r.slp_typ);
	is_hex(rd(pm, CNT, 2) & (PM1_SLP_EN | PM1_GBL_RLS), 0,
	       "SLP_EN and GBL_RLS read 0");
	wr(pm, CNT + 1, 1, (PM1_SLP_EN | 3 << PM1_SLP_TYP_SHIFT) >> 8);
	ok(r.sleeps == 2 && r.slp_typ == 3,
	   "a 1-byte write of the high half: type 3");
	wr(pm, CNT, 2, 0);
	is_hex(rd(pm, CNT, 2), PM1_SCI_EN, "SCI_EN cannot be cleared");
	is_int(acpi_pm_access(pm, 0, false, EVT, 3, &v), -EINVAL,
	       "a 3-byte access is refused");
	acpi_pm_destroy(pm);
	acpi_pm_destroy(NULL);
	ok(1, "destroy, and destroy of NULL");
	return tap_done();
}
