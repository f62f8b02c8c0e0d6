/*
 * acpi.h: the ACPI tables vitro gives every guest, built in C as bhyve's
 * acpi.c builds them (the DSDT's AML is written as bytes, not compiled
 * from ASL).  Pure: a configuration and a buffer in, bytes out; the caller
 * copies them into guest memory.  No state; any thread.
 *
 * Layout from the base address (ACPI_TABLES_ADDR): the RSDP first (so a
 * scan of 0xe0000-0xfffff on 16-byte boundaries finds it), then RSDT,
 * XSDT, FACS (64-byte aligned), DSDT, FADT and MADT.  The RSDP is
 * revision 2 and carries both the RSDT and the XSDT address.
 *
 * What the tables describe (monitor/platform.h): one Local APIC per vCPU
 * (x2APIC entries for APIC IDs from 255), the IOAPIC at IOAPIC_BASE with
 * GSI base 0 and the ID after the highest APIC ID, ISA IRQ 0 at GSI
 * irq0_gsi, the SCI on IRQ ACPI_SCI_IRQ (level, active high), NMI on every
 * LAPIC's LINT1; a revision-6 FADT with the PM1a blocks at
 * ACPI_PM1A_EVT_PORT / ACPI_PM1A_CNT_PORT, no PM timer, no SMI command port
 * (ACPI mode from the start), the reset register (port 0xcf9, value 6),
 * an 8042, no VGA, a CMOS RTC with a century byte; a DSDT with \_S5 =
 * { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP } and the PCI root bridge \_SB.PCI0
 * (PNP0A03: bus 0-255, the configuration ports, the rest of the port
 * space and the memory from PCI_MMIO_BASE up to the IOAPIC as its
 * windows); when hpet_base is not 0, an HPET
 * table after the MADT (HPET number 0, the block at hpet_base in system
 * memory, minimum tick VM_HPET_MIN_TICK), listed third in RSDT and XSDT.
 */
#ifndef MONITOR_BOOT_ACPI_H
#define MONITOR_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

/* The vCPUs and interrupt wiring both the ACPI and the MP tables state. */
struct acpi_config {
	unsigned ncpus; /* vCPUs 0 .. ncpus-1, 1 .. VM_MAXCPU */
	uint32_t apic_id[VM_MAXCPU]; /* vCPU i's local APIC ID */
	unsigned irq0_gsi; /* the IOAPIC pin ISA IRQ 0 (the PIT) reaches */
	uint64_t hpet_base; /* the HPET's registers; 0: no HPET table */
	uint32_t hpet_id; /* its event timer block ID (GCAP_ID, low half) */
};

/* Bytes acpi_build writes at most (ACPI_TABLES_MAX must hold them). */
#define ACPI_BUILD_MAX 0x4000

/*
 * The APIC ID vmm gives vCPU `cpu` in topology t (vmm/vmm_cpuid.c): thread,
 * core and socket packed in fields as wide as their counts need.
 */
uint32_t acpi_apic_id(const struct vm_cpu_topology *t, unsigned cpu);

/*
 * Fill c for ncpus vCPUs of topology t: their APIC IDs, and ISA IRQ 0 at
 * ISA_IRQ0_GSI (monitor/platform.h); no HPET.
 */
void acpi_config_init(struct acpi_config *c, const struct vm_cpu_topology *t,
		      unsigned ncpus);

/*
 * Build the tables for guest-physical address base into buf (len bytes,
 * zeroed first); *used gets the bytes written.  -EINVAL for a bad
 * configuration (no vCPUs, too many, base not 16-byte aligned or above
 * 4 GiB), -ENOSPC when len is too small.
 */
int acpi_build(const struct acpi_config *c, uint64_t base, void *buf,
	       size_t len, size_t *used);

/* The 8-bit sum that makes len bytes from p add up to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
