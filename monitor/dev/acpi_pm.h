/*
 * acpi_pm.h: the ACPI fixed-hardware PM1a registers (the FADT's
 * PM1a_EVT_BLK and PM1a_CNT_BLK, monitor/platform.h) - what a guest's
 * ACPI driver powers off through, as bhyve's pm.c.
 *
 * The model: PM1_STS (write 1 to clear), PM1_EN, PM1_CNT (SCI_EN always
 * set: there is no SMI command port, the machine is in ACPI mode from the
 * start; SLP_EN and GBL_RLS read 0).  The SCI is level-triggered: it is
 * asserted while a status bit and its enable bit are both set, through
 * the sci callback.  Writing SLP_EN calls sleep with SLP_TYP; the device
 * glue powers the VM off for ACPI_S5_SLP_TYP and ignores other types (the
 * DSDT offers no other sleep state).  Accesses of 1, 2 or 4 bytes at any
 * offset of the blocks work byte by byte.
 *
 * Threads: one mutex guards the registers; the callbacks run on the
 * accessing vCPU's thread with it released.
 */
#ifndef MONITOR_DEV_ACPI_PM_H
#define MONITOR_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PM1_TMR_STS 0x0001
#define PM1_GBL_STS 0x0020
#define PM1_PWRBTN_STS 0x0100
#define PM1_SLPBTN_STS 0x0200
#define PM1_RTC_STS 0x0400
#define PM1_WAK_STS 0x8000
#define PM1_SCI_EN 0x0001
#define PM1_BM_RLD 0x0002
#define PM1_GBL_RLS 0x0004
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x1c00
#define PM1_SLP_EN 0x2000

struct acpi_pm;
struct vitro;

typedef void acpi_pm_sci_fn(void *arg, bool level);
typedef void acpi_pm_sleep_fn(void *arg, unsigned slp_typ);

/* A new device in its reset state, or NULL with errno set. */
struct acpi_pm *acpi_pm_create(acpi_pm_sci_fn *sci, acpi_pm_sleep_fn *sleep,
			       void *arg);
void acpi_pm_destroy(struct acpi_pm *pm);

/*
 * The region handler (monitor/region.h) for both blocks, with pm as arg:
 * addr is a port of ACPI_PM1A_EVT_PORT or ACPI_PM1A_CNT_PORT's blocks.
 */
int acpi_pm_access(void *arg, int vcpuid, bool write, uint64_t addr,
		   unsigned size, uint64_t *val);

/* The fixed power button is pressed: PWRBTN_STS, and the SCI if enabled. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* The device table's entry (monitor/devices.c): vm->acpi_pm. */
int acpi_pm_device_init(struct vitro *vm, char *err, size_t errlen);
void acpi_pm_device_fini(struct vitro *vm);

#endif
