/*
 * mptable.c: the MP floating pointer and configuration table (mptable.h),
 * little endian, into a caller's buffer.  No state; any thread.
 */
#include <errno.h>
#include <string.h>

#include "monitor/boot/mptable.h"
#include "monitor/platform.h"

#define MPFP_LEN 16
#define MPCT_HDR_LEN 44
#define MP_SPEC_REV 4 /* 1.4 */
#define MP_OEM_ID "VITRO   " /* 8 bytes */
#define MP_PRODUCT_ID "VITRO VM    " /* 12 bytes */

#define MPE_PROC 0
#define MPE_BUS 1
#define MPE_IOAPIC 2
#define MPE_IOINT 3
#define MPE_LOCALINT 4

#define PROC_LEN 20
#define ENTRY_LEN 8
#define PROC_EN 0x01
#define PROC_BP 0x02
#define LAPIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define IOAPIC_EN 0x01
#define CPU_SIGNATURE 0x600 /* family 6 */
#define CPU_FEATURES 0x201 /* FPU, APIC */

#define INT_INT 0
#define INT_NMI 1
#define INT_EXTINT 3
#define INT_CONFORMS 0x0000
#define INT_HIGH_LEVEL 0x000d /* polarity active high, trigger level */

#define ISA_BUS 0
#define ALL_LAPICS 0xff

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint8_t *ioint(uint8_t *e, uint8_t type, uint16_t flags, uint8_t irq,
		      uint8_t ioapic, uint8_t pin)
{
	e[0] = MPE_IOINT;
	e[1] = type;
	put16(e + 2, flags);
	e[4] = ISA_BUS;
	e[5] = irq;
	e[6] = ioapic;
	e[7] = pin;
	return e + ENTRY_LEN;
}

static uint8_t *localint(uint8_t *e, uint8_t type, uint8_t lint)
{
	e[0] = MPE_LOCALINT;
	e[1] = type;
	put16(e + 2, INT_CONFORMS);
	e[4] = ISA_BUS;
	e[5] = 0;
	e[6] = ALL_LAPICS;
	e[7] = lint;
	return e + ENTRY_LEN;
}

int mptable_build(const struct acpi_config *c, uint64_t base, void *buf,
		  size_t len, size_t *used)
{
	uint8_t *b = buf, *hdr, *e;
	uint32_t max_id = 0;
	uint8_t ioapic_id;
	unsigned n = 0;

	if (c->ncpus == 0 || c->ncpus > VM_MAXCPU || c->irq0_gsi > 23 ||
	    (base & 15) || base + len > (1ULL << 32) || base + len < base)
		return -EINVAL;
	for (unsigned i = 0; i < c->ncpus; i++) {
		if (c->apic_id[i] > 0xfe)
			return -ERANGE;
		if (c->apic_id[i] > max_id)
			max_id = c->apic_id[i];
	}
	if (len < MPFP_LEN + MPCT_HDR_LEN + PROC_LEN * c->ncpus +
			  ENTRY_LEN * (3 + 16 + 2))
		return -ENOSPC;
	memset(buf, 0, len);
	/* As the MADT: after the highest APIC ID, 0 if none is left. */
	ioapic_id = max_id < 0xfe ? max_id + 1 : 0;

	hdr = b + MPFP_LEN;
	e = hdr + MPCT_HDR_LEN;
	for (unsigned i = 0; i < c->ncpus; i++, n++) {
		e[0] = MPE_PROC;
		e[1] = c->apic_id[i];
		e[2] = LAPIC_VERSION;
		e[3] = PROC_EN | (i == 0 ? PROC_BP : 0);
		put32(e + 4, CPU_SIGNATURE);
		put32(e + 8, CPU_FEATURES);
		e += PROC_LEN;
	}
	e[0] = MPE_BUS;
	e[1] = ISA_BUS;
	memcpy(e + 2, "ISA   ", 6);
	e += ENTRY_LEN;
	n++;
	e[0] = MPE_IOAPIC;
	e[1] = ioapic_id;
	e[2] = IOAPIC_VERSION;
	e[3] = IOAPIC_EN;
	put32(e + 4, IOAPIC_BASE);
	e += ENTRY_LEN;
	n++;
	/*
	 * No ExtINT at an IOAPIC pin (bhyve has one at pin 0): KVM's 8259s
	 * reach the LAPICs' LINT0 only.
	 */
	for (unsigned irq = 0; irq < 16; irq++) {
		unsigned pin = irq == 0 ? c->irq0_gsi : irq;

		if (irq == 2 || (irq != 0 && pin == c->irq0_gsi))
			continue; /* the cascade; a pin IRQ 0 took */
		e = ioint(e, INT_INT,
			  irq == ACPI_SCI_IRQ ? INT_HIGH_LEVEL : INT_CONFORMS,
			  irq, ioapic_id, pin);
		n++;
	}
	e = localint(e, INT_EXTINT, 0);
	e = localint(e, INT_NMI, 1);
	n += 2;

	memcpy(hdr, "PCMP", 4);
	put16(hdr + 4, e - hdr);
	hdr[6] = MP_SPEC_REV;
	memcpy(hdr + 8, MP_OEM_ID, 8);
	memcpy(hdr + 16, MP_PRODUCT_ID, 12);
	put16(hdr + 34, n);
	put32(hdr + 36, LAPIC_BASE);
	hdr[7] = acpi_checksum(hdr, e - hdr);

	memcpy(b, "_MP_", 4);
	put32(b + 4, base + MPFP_LEN);
	b[8] = 1; /* length in 16-byte units */
	b[9] = MP_SPEC_REV;
	/* Feature bytes 0: a configuration table, virtual wire mode. */
	b[10] = acpi_checksum(b, MPFP_LEN);
	*used = e - b;
	return 0;
}
