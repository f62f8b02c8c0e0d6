/*
 * acpi.c: the ACPI tables (acpi.h), written field by field in little
 * endian into a caller's buffer.  No state; any thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "monitor/boot/acpi.h"
#include "monitor/dev/pci_host.h"
#include "monitor/platform.h"

#define OEM_ID "VITRO " /* 6 bytes */
#define OEM_TABLE_ID "VITROVM " /* 8 bytes */
#define OEM_REVISION 1
#define CREATOR_ID "VTRO"
#define CREATOR_REVISION 1

#define HDR_LEN 36 /* the common table header */
#define RSDP_LEN 36
#define FADT_LEN 276 /* revision 6 */
#define FACS_LEN 64
#define HPET_LEN 56

/* FADT */
#define FADT_REVISION 6
#define FADT_MINOR 0
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define RESET_PORT 0xcf9
#define RESET_VALUE 0x06 /* CPU reset, full reset */
#define RTC_CENTURY_INDEX 0x32

/* Generic Address Structure */
#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1
#define GAS_BYTE 1
#define GAS_WORD 2
#define GAS_DWORD 3

/* MADT */
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 10
#define MADT_ENABLED 1
#define MPS_HIGH_LEVEL 0x000d /* polarity active high, trigger level */
#define MPS_CONFORMS 0x0000

/* AML */
#define AML_ZERO_OP 0x00
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_DWORD_PREFIX 0x0c
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5c
#define AML_EXT_OP 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP */
#define AML_MAX 512 /* bytes of AML the DSDT holds */

/* Resource descriptors (ACPI 6.x, 6.4) */
#define RES_IO 0x47 /* small: I/O port, 7 bytes */
#define RES_IO_DECODE16 0x01
#define RES_END 0x79 /* small: end tag, 1 byte of checksum */
#define RES_DWORD_SPACE 0x87 /* large: DWord address space */
#define RES_WORD_SPACE 0x88 /* large: Word address space */
#define RES_SPACE_MEM 0
#define RES_SPACE_IO 1
#define RES_SPACE_BUS 2
#define RES_MIN_MAX_FIXED 0x0c /* producer, positive decode, _MIF, _MAF */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_RW_UNCACHED 0x01

/* A cursor in the output buffer; errors stick in err. */
struct out {
	uint8_t *buf;
	size_t len;
	size_t pos;
	uint64_t base; /* guest-physical address of buf[0] */
	int err;
};

static uint8_t *at(struct out *o, size_t off, size_t n)
{
	if (off > o->len || n > o->len - off) {
		o->err = -ENOSPC;
		return NULL;
	}
	return o->buf + off;
}

static void put8(struct out *o, size_t off, uint8_t v)
{
	uint8_t *p = at(o, off, 1);

	if (p)
		*p = v;
}

static void put16(struct out *o, size_t off, uint16_t v)
{
	put8(o, off, v);
	put8(o, off + 1, v >> 8);
}

static void put32(struct out *o, size_t off, uint32_t v)
{
	put16(o, off, v);
	put16(o, off + 2, v >> 16);
}

static void put64(struct out *o, size_t off, uint64_t v)
{
	put32(o, off, v);
	put32(o, off + 4, v >> 32);
}

static void putstr(struct out *o, size_t off, const char *s, size_t n)
{
	uint8_t *p = at(o, off, n);

	if (p)
		memcpy(p, s, n);
}

/* Reserve n bytes aligned to align; the offset of the first. */
static size_t take(struct out *o, size_t n, size_t align)
{
	size_t off = (o->pos + align - 1) & ~(align - 1);

	if (!at(o, off, n))
		return 0;
	o->pos = off + n;
	return off;
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void fix_checksum(struct out *o, size_t off, size_t len, size_t csum)
{
	if (o->err)
		return;
	o->buf[off + csum] = 0;
	o->buf[off + csum] = acpi_checksum(o->buf + off, len);
}

/* A table's header; its length and checksum come with table_end. */
static size_t table_begin(struct out *o, const char *sig, uint8_t rev,
			  size_t len, size_t align)
{
	size_t off = take(o, len, align);

	putstr(o, off, sig, 4);
	put8(o, off + 8, rev);
	putstr(o, off + 10, OEM_ID, 6);
	putstr(o, off + 16, OEM_TABLE_ID, 8);
	put32(o, off + 24, OEM_REVISION);
	putstr(o, off + 28, CREATOR_ID, 4);
	put32(o, off + 32, CREATOR_REVISION);
	return off;
}

static void table_end(struct out *o, size_t off)
{
	size_t len = o->pos - off;

	put32(o, off + 4, len);
	fix_checksum(o, off, len, 9);
}

/* Append n bytes to the table being built; the offset of the first. */
static size_t grow(struct out *o, size_t n)
{
	return take(o, n, 1);
}

static void put_gas(struct out *o, size_t off, uint8_t width, uint8_t access,
		    uint64_t addr)
{
	put8(o, off, GAS_SYSTEM_IO);
	put8(o, off + 1, width);
	put8(o, off + 2, 0);
	put8(o, off + 3, access);
	put64(o, off + 4, addr);
}

static uint64_t gpa(const struct out *o, size_t off)
{
	return o->base + off;
}

static size_t build_facs(struct out *o)
{
	size_t off = take(o, FACS_LEN, 64);

	putstr(o, off, "FACS", 4);
	put32(o, off + 4, FACS_LEN);
	put8(o, off + 32, 2); /* version */
	return off;
}

/*
 * AML, written into a bounded buffer.  A package (a scope, a device, a
 * buffer) is opened where its content starts and closed once the content
 * is written: aml_close moves the content up to put the opcode and its
 * PkgLength (1 to 3 bytes, which count themselves) in front.
 */
struct aml {
	uint8_t b[AML_MAX];
	size_t n;
	bool overflow;
};

static void aml_put(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > sizeof(a->b) - a->n) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->n, p, n);
	a->n += n;
}

static void aml_u8(struct aml *a, uint8_t v)
{
	aml_put(a, &v, 1);
}

static void aml_u16(struct aml *a, uint16_t v)
{
	aml_u8(a, (uint8_t)v);
	aml_u8(a, (uint8_t)(v >> 8));
}

static void aml_u32(struct aml *a, uint32_t v)
{
	aml_u16(a, (uint16_t)v);
	aml_u16(a, (uint16_t)(v >> 16));
}

static void aml_close(struct aml *a, size_t from, const uint8_t *op,
		      size_t oplen)
{
	size_t body = a->n - from, lenlen = 1, len;
	uint8_t hdr[8];
	size_t h = 0;

	if (a->overflow)
		return;
	if (body + 1 > 63)
		lenlen = body + 2 <= 0xfff ? 2 : 3;
	len = body + lenlen;
	memcpy(hdr, op, oplen);
	h = oplen;
	if (lenlen == 1) {
		hdr[h++] = (uint8_t)len;
	} else {
		hdr[h++] = (uint8_t)((lenlen - 1) << 6 | (len & 0x0f));
		hdr[h++] = (uint8_t)(len >> 4);
		if (lenlen == 3)
			hdr[h++] = (uint8_t)(len >> 12);
	}
	if (h > sizeof(a->b) - a->n) {
		a->overflow = true;
		return;
	}
	memmove(a->b + from + h, a->b + from, body);
	memcpy(a->b + from, hdr, h);
	a->n += h;
}

/* Name (SEG, ...): the name; the value follows. */
static void aml_name(struct aml *a, const char seg[4])
{
	aml_u8(a, AML_NAME_OP);
	aml_put(a, seg, 4);
}

/* A Word address space descriptor: producer, _MIN and _MAX fixed. */
static void res_word(struct aml *a, uint8_t space, uint8_t type_flags,
		     uint16_t min, uint16_t max)
{
	aml_u8(a, RES_WORD_SPACE);
	aml_u16(a, 13);
	aml_u8(a, space);
	aml_u8(a, RES_MIN_MAX_FIXED);
	aml_u8(a, type_flags);
	aml_u16(a, 0); /* _GRA */
	aml_u16(a, min);
	aml_u16(a, max);
	aml_u16(a, 0); /* _TRA */
	aml_u16(a, (uint16_t)(max - min + 1));
}

static void res_dword(struct aml *a, uint8_t space, uint8_t type_flags,
		      uint32_t min, uint32_t max)
{
	aml_u8(a, RES_DWORD_SPACE);
	aml_u16(a, 23);
	aml_u8(a, space);
	aml_u8(a, RES_MIN_MAX_FIXED);
	aml_u8(a, type_flags);
	aml_u32(a, 0); /* _GRA */
	aml_u32(a, min);
	aml_u32(a, max);
	aml_u32(a, 0); /* _TRA */
	aml_u32(a, max - min + 1);
}

/*
 * The PCI root bridge, \_SB.PCI0, as a PNP0A03 device whose _CRS gives
 * bus 0-255, claims configuration mechanism #1's ports and passes on the
 * rest of the port space and the 32-bit hole below the IOAPIC.  Without
 * it an ACPI guest never scans bus 0.
 */
static void aml_pci0(struct aml *a)
{
	static const uint8_t scope[] = { AML_SCOPE_OP };
	static const uint8_t device[] = { AML_EXT_OP, AML_DEVICE_OP };
	static const uint8_t buffer[] = { AML_BUFFER_OP };
	size_t sb, dev, crs, res;

	sb = a->n;
	aml_u8(a, AML_ROOT_CHAR);
	aml_put(a, "_SB_", 4);
	dev = a->n;
	aml_put(a, "PCI0", 4);
	aml_name(a, "_HID");
	aml_u8(a, AML_DWORD_PREFIX);
	aml_u32(a, 0x030ad041); /* EisaId ("PNP0A03") */
	aml_name(a, "_UID");
	aml_u8(a, AML_ZERO_OP);
	aml_name(a, "_BBN");
	aml_u8(a, AML_ZERO_OP);
	aml_name(a, "_CRS");
	crs = a->n;
	aml_u8(a, AML_BYTE_PREFIX); /* the buffer's size: patched below */
	aml_u8(a, 0);
	res = a->n;
	res_word(a, RES_SPACE_BUS, 0, 0, 0xff);
	aml_u8(a, RES_IO);
	aml_u8(a, RES_IO_DECODE16);
	aml_u16(a, PCI_HOST_PORT);
	aml_u16(a, PCI_HOST_PORT);
	aml_u8(a, 1); /* alignment */
	aml_u8(a, PCI_HOST_PORTS);
	res_word(a, RES_SPACE_IO, RES_IO_ENTIRE_RANGE, 0, PCI_HOST_PORT - 1);
	res_word(a, RES_SPACE_IO, RES_IO_ENTIRE_RANGE,
		 PCI_HOST_PORT + PCI_HOST_PORTS, 0xffff);
	res_dword(a, RES_SPACE_MEM, RES_MEM_RW_UNCACHED, PCI_MMIO_BASE,
		  IOAPIC_BASE - 1);
	aml_u8(a, RES_END);
	aml_u8(a, 0); /* checksum: none */
	if (!a->overflow)
		a->b[crs + 1] = (uint8_t)(a->n - res);
	aml_close(a, crs, buffer, sizeof(buffer));
	aml_close(a, dev, device, sizeof(device));
	aml_close(a, sb, scope, sizeof(scope));
}

static size_t build_dsdt(struct out *o)
{
	/* Name (_S5, Package (4) { S5, S5, Zero, Zero }) */
	static const uint8_t s5[] = {
		AML_NAME_OP,
		'_',
		'S',
		'5',
		'_',
		AML_PACKAGE_OP,
		8, /* PkgLength: itself and the 7 bytes after it */
		4, /* NumElements */
		AML_BYTE_PREFIX,
		ACPI_S5_SLP_TYP, /* PM1a_CNT.SLP_TYP */
		AML_BYTE_PREFIX,
		ACPI_S5_SLP_TYP, /* PM1b_CNT.SLP_TYP */
		0x00,
		0x00, /* reserved */
	};
	size_t off = table_begin(o, "DSDT", 2, HDR_LEN, 16);
	struct aml a = { .n = 0 };
	uint8_t *p;

	aml_put(&a, s5, sizeof(s5));
	aml_pci0(&a);
	if (a.overflow) {
		o->err = -ENOSPC;
		return off;
	}
	p = at(o, grow(o, a.n), a.n);
	if (p)
		memcpy(p, a.b, a.n);
	table_end(o, off);
	return off;
}

static size_t build_fadt(struct out *o, size_t facs, size_t dsdt)
{
	size_t off = table_begin(o, "FACP", FADT_REVISION, FADT_LEN, 16);

	/*
	 * Both the 32- and 64-bit addresses, equal, as bhyve does: ACPICA
	 * takes the 64-bit ones and warns only when they differ.
	 */
	put32(o, off + 36, gpa(o, facs));
	put32(o, off + 40, gpa(o, dsdt));
	put16(o, off + 46, ACPI_SCI_IRQ);
	/* SMI_CMD (48), ACPI_ENABLE, ACPI_DISABLE: 0, always in ACPI mode */
	put32(o, off + 56, ACPI_PM1A_EVT_PORT);
	put32(o, off + 64, ACPI_PM1A_CNT_PORT);
	put8(o, off + 88, ACPI_PM1A_EVT_LEN);
	put8(o, off + 89, ACPI_PM1A_CNT_LEN);
	/* No C2/C3 states: latencies above 100 and 1000 us. */
	put16(o, off + 96, 101);
	put16(o, off + 98, 1001);
	put8(o, off + 108, RTC_CENTURY_INDEX);
	put16(o, off + 109,
	      BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA);
	put32(o, off + 112,
	      FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
		      FADT_RESET_REG_SUP);
	put_gas(o, off + 116, 8, GAS_BYTE, RESET_PORT);
	put8(o, off + 128, RESET_VALUE);
	put8(o, off + 131, FADT_MINOR);
	put64(o, off + 132, gpa(o, facs));
	put64(o, off + 140, gpa(o, dsdt));
	put_gas(o, off + 148, ACPI_PM1A_EVT_LEN * 8, GAS_WORD,
		ACPI_PM1A_EVT_PORT);
	put_gas(o, off + 172, ACPI_PM1A_CNT_LEN * 8, GAS_WORD,
		ACPI_PM1A_CNT_PORT);
	putstr(o, off + 268, "VITRO   ", 8); /* hypervisor vendor */
	table_end(o, off);
	return off;
}

static size_t build_madt(struct out *o, const struct acpi_config *c)
{
	size_t off = table_begin(o, "APIC", 4, HDR_LEN + 8, 16);
	uint32_t max_id = 0;
	bool x2apic = false;
	size_t e;

	put32(o, off + 36, LAPIC_BASE);
	put32(o, off + 40, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < c->ncpus; i++) {
		uint32_t id = c->apic_id[i];

		if (id > max_id)
			max_id = id;
		if (id < 0xff) {
			e = grow(o, 8);
			put8(o, e, MADT_LAPIC);
			put8(o, e + 1, 8);
			put8(o, e + 2, i); /* ACPI processor UID */
			put8(o, e + 3, id);
			put32(o, e + 4, MADT_ENABLED);
		} else {
			x2apic = true;
			e = grow(o, 16);
			put8(o, e, MADT_X2APIC);
			put8(o, e + 1, 16);
			put32(o, e + 4, id);
			put32(o, e + 8, MADT_ENABLED);
			put32(o, e + 12, i);
		}
	}

	e = grow(o, 12);
	put8(o, e, MADT_IOAPIC);
	put8(o, e + 1, 12);
	/* An 8-bit ID after the highest APIC ID, where there is one. */
	put8(o, e + 2, max_id < 0xfe ? max_id + 1 : 0);
	put32(o, e + 4, IOAPIC_BASE);
	put32(o, e + 8, 0); /* GSI base */

	if (c->irq0_gsi != 0) {
		e = grow(o, 10);
		put8(o, e, MADT_ISO);
		put8(o, e + 1, 10);
		put8(o, e + 2, 0); /* ISA */
		put8(o, e + 3, 0);
		put32(o, e + 4, c->irq0_gsi);
		put16(o, e + 8, MPS_CONFORMS);
	}
	e = grow(o, 10);
	put8(o, e, MADT_ISO);
	put8(o, e + 1, 10);
	put8(o, e + 2, 0);
	put8(o, e + 3, ACPI_SCI_IRQ);
	put32(o, e + 4, ACPI_SCI_IRQ);
	put16(o, e + 8, MPS_HIGH_LEVEL);

	e = grow(o, 6);
	put8(o, e, MADT_LAPIC_NMI);
	put8(o, e + 1, 6);
	put8(o, e + 2, 0xff); /* every processor */
	put16(o, e + 3, MPS_CONFORMS);
	put8(o, e + 5, 1); /* LINT1 */
	if (x2apic) {
		e = grow(o, 12);
		put8(o, e, MADT_X2APIC_NMI);
		put8(o, e + 1, 12);
		put16(o, e + 2, MPS_CONFORMS);
		put32(o, e + 4, 0xffffffff);
		put8(o, e + 8, 1);
	}
	table_end(o, off);
	return off;
}

uint32_t acpi_apic_id(const struct vm_cpu_topology *t, unsigned cpu)
{
	unsigned threads = t->threads ? t->threads : 1;
	unsigned cores = t->cores ? t->cores : 1;
	unsigned smt = 0, core = 0;

	while ((1u << smt) < threads)
		smt++;
	while ((1u << core) < cores)
		core++;
	return (cpu / (threads * cores)) << (smt + core) |
	       ((cpu / threads) % cores) << smt | cpu % threads;
}

/* The HPET description table (IA-PC HPET 1.0a, 3.2.4). */
static size_t build_hpet(struct out *o, const struct acpi_config *c)
{
	size_t off = table_begin(o, "HPET", 1, HPET_LEN, 16);

	put32(o, off + 36, c->hpet_id);
	put8(o, off + 40, GAS_SYSTEM_MEMORY);
	put8(o, off + 41, 64); /* register width */
	put64(o, off + 44, c->hpet_base);
	put8(o, off + 52, 0); /* HPET number */
	put16(o, off + 53, VM_HPET_MIN_TICK);
	put8(o, off + 55, 0); /* no page protection */
	table_end(o, off);
	return off;
}

void acpi_config_init(struct acpi_config *c, const struct vm_cpu_topology *t,
		      unsigned ncpus)
{
	memset(c, 0, sizeof(*c));
	c->ncpus = ncpus;
	for (unsigned i = 0; i < ncpus && i < VM_MAXCPU; i++)
		c->apic_id[i] = acpi_apic_id(t, i);
	c->irq0_gsi = ISA_IRQ0_GSI;
}

int acpi_build(const struct acpi_config *c, uint64_t base, void *buf,
	       size_t len, size_t *used)
{
	struct out o = { .buf = buf, .len = len, .base = base };
	size_t rsdp, rsdt, xsdt, fadt, facs, madt, dsdt, hpet = 0;
	unsigned n = c->hpet_base ? 3 : 2; /* RSDT and XSDT entries */

	if (c->ncpus == 0 || c->ncpus > VM_MAXCPU || c->irq0_gsi > 23 ||
	    (base & 15) || base + len > (1ULL << 32) || base + len < base)
		return -EINVAL;
	memset(buf, 0, len);

	rsdp = take(&o, RSDP_LEN, 16);
	rsdt = table_begin(&o, "RSDT", 1, HDR_LEN + n * 4, 16);
	xsdt = table_begin(&o, "XSDT", 1, HDR_LEN + n * 8, 16);
	/* The FADT points at these two, so they come first. */
	facs = build_facs(&o);
	dsdt = build_dsdt(&o);
	fadt = build_fadt(&o, facs, dsdt);
	madt = build_madt(&o, c);
	if (c->hpet_base)
		hpet = build_hpet(&o, c);

	put32(&o, rsdt + HDR_LEN, gpa(&o, fadt));
	put32(&o, rsdt + HDR_LEN + 4, gpa(&o, madt));
	put64(&o, xsdt + HDR_LEN, gpa(&o, fadt));
	put64(&o, xsdt + HDR_LEN + 8, gpa(&o, madt));
	if (hpet) {
		put32(&o, rsdt + HDR_LEN + 8, gpa(&o, hpet));
		put64(&o, xsdt + HDR_LEN + 16, gpa(&o, hpet));
	}
	put32(&o, rsdt + 4, HDR_LEN + n * 4);
	fix_checksum(&o, rsdt, HDR_LEN + n * 4, 9);
	put32(&o, xsdt + 4, HDR_LEN + n * 8);
	fix_checksum(&o, xsdt, HDR_LEN + n * 8, 9);

	putstr(&o, rsdp, "RSD PTR ", 8);
	putstr(&o, rsdp + 9, OEM_ID, 6);
	put8(&o, rsdp + 15, 2); /* ACPI 2.0 and later */
	put32(&o, rsdp + 16, gpa(&o, rsdt));
	put32(&o, rsdp + 20, RSDP_LEN);
	put64(&o, rsdp + 24, gpa(&o, xsdt));
	fix_checksum(&o, rsdp, 20, 8);
	fix_checksum(&o, rsdp, RSDP_LEN, 32);
	if (o.err)
		return o.err;
	*used = o.pos;
	return 0;
}
