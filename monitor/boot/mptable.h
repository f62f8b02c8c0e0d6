/*
 * mptable.h: the Intel MultiProcessor Specification 1.4 tables vitro gives
 * every guest, as bhyve's mptbl.c builds them: the floating pointer at the
 * base (MPTABLE_ADDR, found by a scan of 0xf0000-0xfffff), then the
 * configuration table.  Pure, as acpi.h's builder; no state, any thread.
 *
 * Entries: a processor per vCPU (the first is the bootstrap processor),
 * the ISA bus, the IOAPIC (the ID the MADT gives it), I/O interrupts for
 * ISA IRQs 0-15 but the cascade (2) - IRQ 0 at pin irq0_gsi, the others
 * at their own pins, the SCI level-triggered and active high - and local
 * interrupts ExtINT on LINT0 and NMI on LINT1 of every LAPIC.
 */
#ifndef MONITOR_BOOT_MPTABLE_H
#define MONITOR_BOOT_MPTABLE_H

#include "monitor/boot/acpi.h"

/* Bytes mptable_build writes at most (MPTABLE_MAX must hold them). */
#define MPTABLE_BUILD_MAX (0x200 + 20 * VM_MAXCPU)

/*
 * Build the tables for guest-physical address base into buf (len bytes,
 * zeroed first); *used gets the bytes written.  -EINVAL for a bad
 * configuration (as acpi_build), -ERANGE when an APIC ID does not fit the
 * 8 bits of an MP processor entry, -ENOSPC when len is too small.
 */
int mptable_build(const struct acpi_config *c, uint64_t base, void *buf,
		  size_t len, size_t *used);

#endif
