/*
 * acpi_pm.c: the ACPI PM1a event and control registers (acpi_pm.h).
 *
 * Threads: pm->lock guards the registers; handlers run on vCPU threads,
 * init and fini on the main thread before the vCPUs start and after they
 * stop.  Callbacks run with the lock released.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/dev/acpi_pm.h"
#include "monitor/platform.h"
#include "monitor/vitro.h"

/* The status bits that have an enable bit at the same place. */
#define PM1_EN_MASK                                                    \
	(PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_SLPBTN_STS | \
	 PM1_RTC_STS)

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t sts; /* PM1_STS: events seen, write 1 to clear */
	uint16_t en; /* PM1_EN: which events raise the SCI */
	uint16_t cnt; /* PM1_CNT: SCI_EN, BM_RLD, SLP_TYP last written */
	bool sci; /* the SCI line's level as last signalled */
	acpi_pm_sci_fn *sci_fn;
	acpi_pm_sleep_fn *sleep_fn;
	void *arg;
};

struct acpi_pm *acpi_pm_create(acpi_pm_sci_fn *sci, acpi_pm_sleep_fn *sleep,
			       void *arg)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->cnt = PM1_SCI_EN;
	pm->sci_fn = sci;
	pm->sleep_fn = sleep;
	pm->arg = arg;
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* With the lock held: the SCI level the registers call for. */
static bool sci_wanted(const struct acpi_pm *pm)
{
	return (pm->sts & pm->en & PM1_EN_MASK) != 0;
}

/* Byte i of the 6-byte register file: STS, EN, CNT; -1 if no port. */
static int reg_byte(uint64_t port)
{
	if (port >= ACPI_PM1A_EVT_PORT &&
	    port < ACPI_PM1A_EVT_PORT + ACPI_PM1A_EVT_LEN)
		return port - ACPI_PM1A_EVT_PORT;
	if (port >= ACPI_PM1A_CNT_PORT &&
	    port < ACPI_PM1A_CNT_PORT + ACPI_PM1A_CNT_LEN)
		return 4 + (port - ACPI_PM1A_CNT_PORT);
	return -1;
}

static uint8_t read_byte(const struct acpi_pm *pm, int i)
{
	uint16_t r;

	switch (i / 2) {
	case 0:
		r = pm->sts;
		break;
	case 1:
		r = pm->en;
		break;
	case 2:
		r = pm->cnt;
		break;
	default:
		return 0xff;
	}
	return i & 1 ? r >> 8 : r & 0xff;
}

/* With the lock held; true when the byte set SLP_EN. */
static bool write_byte(struct acpi_pm *pm, int i, uint8_t v)
{
	uint16_t mask = i & 1 ? 0xff00 : 0x00ff;
	uint16_t v16 = i & 1 ? (uint16_t)v << 8 : v;

	switch (i / 2) {
	case 0:
		pm->sts &= ~v16;
		return false;
	case 1:
		pm->en = (pm->en & ~mask) | (v16 & PM1_EN_MASK);
		return false;
	case 2:
		/* GBL_RLS would hand a global lock to firmware: none here. */
		pm->cnt = (pm->cnt & ~mask) |
			  (v16 & (PM1_BM_RLD | PM1_SLP_TYP_MASK));
		pm->cnt |= PM1_SCI_EN;
		return (v16 & PM1_SLP_EN) != 0;
	}
	return false;
}

int acpi_pm_access(void *arg, int vcpuid, bool write, uint64_t addr,
		   unsigned size, uint64_t *val)
{
	struct acpi_pm *pm = arg;
	bool sleep = false, sci, sci_changed;
	unsigned slp_typ;
	uint64_t v = 0;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	for (unsigned b = 0; b < size; b++) {
		int i = reg_byte(addr + b);

		if (!write)
			v |= (uint64_t)(i < 0 ? 0xff : read_byte(pm, i))
			     << (8 * b);
		else if (i >= 0 && write_byte(pm, i, *val >> (8 * b)))
			sleep = true;
	}
	slp_typ = (pm->cnt & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;
	sci = sci_wanted(pm);
	sci_changed = sci != pm->sci;
	pm->sci = sci;
	pthread_mutex_unlock(&pm->lock);

	if (!write)
		*val = v;
	if (sci_changed && pm->sci_fn)
		pm->sci_fn(pm->arg, sci);
	if (sleep && pm->sleep_fn)
		pm->sleep_fn(pm->arg, slp_typ);
	return 0;
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	bool sci, sci_changed;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_PWRBTN_STS;
	sci = sci_wanted(pm);
	sci_changed = sci != pm->sci;
	pm->sci = sci;
	pthread_mutex_unlock(&pm->lock);
	if (sci_changed && pm->sci_fn)
		pm->sci_fn(pm->arg, sci);
}

static void vm_sci(void *arg, bool level)
{
	struct vitro *vm = arg;

	if (level)
		vm_isa_assert_irq(vm->ctx, ACPI_SCI_IRQ);
	else
		vm_isa_deassert_irq(vm->ctx, ACPI_SCI_IRQ);
}

static void vm_sleep(void *arg, unsigned slp_typ)
{
	struct vitro *vm = arg;

	if (slp_typ != ACPI_S5_SLP_TYP)
		return;
	/* As the reset register: the vCPU that asked reports it. */
	if (vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF) < 0)
		vitro_end(vm, VITRO_EXIT_POWEROFF, "the guest powered off");
}

int acpi_pm_device_init(struct vitro *vm, char *err, size_t errlen)
{
	int r;

	vm->acpi_pm = acpi_pm_create(vm_sci, vm_sleep, vm);
	if (!vm->acpi_pm) {
		r = -errno;
		snprintf(err, errlen, "ACPI PM: %s", strerror(errno));
		return r;
	}
	r = region_register(vm->pio, "acpi-pm1a-evt", ACPI_PM1A_EVT_PORT,
			    ACPI_PM1A_EVT_LEN, acpi_pm_access, vm->acpi_pm);
	if (r == 0)
		r = region_register(vm->pio, "acpi-pm1a-cnt",
				    ACPI_PM1A_CNT_PORT, ACPI_PM1A_CNT_LEN,
				    acpi_pm_access, vm->acpi_pm);
	if (r < 0) {
		snprintf(err, errlen, "ACPI PM ports: %s", strerror(-r));
		region_unregister(vm->pio, ACPI_PM1A_EVT_PORT);
		acpi_pm_destroy(vm->acpi_pm);
		vm->acpi_pm = NULL;
	}
	return r;
}

void acpi_pm_device_fini(struct vitro *vm)
{
	acpi_pm_destroy(vm->acpi_pm);
	vm->acpi_pm = NULL;
}
