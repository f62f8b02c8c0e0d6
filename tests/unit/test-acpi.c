/*
 * test-acpi.c: unit tests of the ACPI table builder (monitor/boot/acpi.h).
 *
 * The tables are built into a buffer that stands for guest memory at
 * ACPI_TABLES_ADDR and parsed back as a guest would: the RSDP found by a
 * scan, the XSDT and RSDT followed to the FADT and MADT, the FADT to the
 * DSDT and FACS.  Every MADT entry is checked for 1, 2 and 8 vCPUs, a
 * topology with threads (APIC IDs with gaps), and one with APIC IDs past
 * 254 (x2APIC entries).  The HPET table, when the configuration has an
 * HPET, and its absence otherwise.  APIC IDs are compared with vmm's own
 * vmm_apic_id.  Where iasl is installed, it disassembles each table.
 * Single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/boot/acpi.h"
#include "monitor/platform.h"
#include "tests/tap.h"

/* vmm/vmm_cpuid.c, in libvmmapi.a: the IDs the vCPUs really get. */
uint32_t vmm_apic_id(const struct vm_cpu_topology *t, int cpuid);

static uint8_t mem[ACPI_TABLES_MAX];

static const uint8_t *g2h(uint64_t gpa, size_t len)
{
	if (gpa < ACPI_TABLES_ADDR || gpa - ACPI_TABLES_ADDR > sizeof(mem) ||
	    len > sizeof(mem) - (gpa - ACPI_TABLES_ADDR))
		return NULL;
	return mem + (gpa - ACPI_TABLES_ADDR);
}

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A table with a good header at gpa, or NULL (checks reported). */
static const uint8_t *table(uint64_t gpa, const char *sig, const char *what)
{
	const uint8_t *t = g2h(gpa, 36);

	if (!ok(t && memcmp(t, sig, 4) == 0, "%s: signature %s at %#llx", what,
		sig, (unsigned long long)gpa))
		return NULL;
	if (!ok(g2h(gpa, rd32(t + 4)) && rd32(t + 4) >= 36,
		"%s: length %u inside the area", what, rd32(t + 4)))
		return NULL;
	is_int(sum(t, rd32(t + 4)), 0, "%s: checksum", what);
	ok(memcmp(t + 10, "VITRO ", 6) == 0, "%s: OEM ID", what);
	return t;
}

/* The RSDP as a guest finds it: the first 16-byte-aligned signature. */
static const uint8_t *find_rsdp(void)
{
	for (size_t off = 0; off + 36 <= sizeof(mem); off += 16)
		if (memcmp(mem + off, "RSD PTR ", 8) == 0 &&
		    sum(mem + off, 20) == 0)
			return mem + off;
	return NULL;
}

struct parsed {
	const uint8_t *fadt, *madt, *dsdt, *facs, *hpet;
};

static void check_fadt(const uint8_t *f, struct parsed *p)
{
	uint32_t flags;
	uint16_t arch;

	is_int(rd32(f + 4), 276, "FADT: revision-6 length");
	is_int(f[8], 6, "FADT: revision 6");
	is_int(f[131], 0, "FADT: minor version");
	is_hex(rd32(f + 40), rd64(f + 140), "FADT: DSDT == X_DSDT");
	is_hex(rd32(f + 36), rd64(f + 132),
	       "FADT: FIRMWARE_CTRL == X_FIRMWARE_CTRL");
	is_int(rd16(f + 46), ACPI_SCI_IRQ, "FADT: SCI_INT");
	is_int(rd32(f + 48), 0, "FADT: no SMI_CMD (always in ACPI mode)");
	is_hex(rd32(f + 56), ACPI_PM1A_EVT_PORT, "FADT: PM1a_EVT_BLK");
	is_hex(rd32(f + 60), 0, "FADT: no PM1b_EVT_BLK");
	is_hex(rd32(f + 64), ACPI_PM1A_CNT_PORT, "FADT: PM1a_CNT_BLK");
	is_hex(rd32(f + 76), 0, "FADT: no PM timer");
	is_hex(rd32(f + 80), 0, "FADT: no GPE0 block");
	is_int(f[88], 4, "FADT: PM1_EVT_LEN");
	is_int(f[89], 2, "FADT: PM1_CNT_LEN");
	is_int(f[91], 0, "FADT: PM_TMR_LEN");
	ok(rd16(f + 96) > 100 && rd16(f + 98) > 1000,
	   "FADT: no C2 (%u us), no C3 (%u us)", rd16(f + 96), rd16(f + 98));
	is_hex(f[108], 0x32, "FADT: RTC century index");
	arch = rd16(f + 109);
	ok(arch & 2, "FADT: IAPC_BOOT_ARCH says there is an 8042 (%#x)", arch);
	ok(arch & 4, "FADT: IAPC_BOOT_ARCH says no VGA");
	ok(!(arch & 0x20), "FADT: IAPC_BOOT_ARCH keeps the CMOS RTC");
	ok(!(arch & 8), "FADT: IAPC_BOOT_ARCH leaves MSI allowed");
	flags = rd32(f + 112);
	ok(flags & (1u << 10), "FADT: RESET_REG_SUP (flags %#x)", flags);
	ok(!(flags & (1u << 20)), "FADT: not hardware-reduced");
	ok(!(flags & (1u << 4)), "FADT: the power button is fixed hardware");
	ok(!(flags & (1u << 8)), "FADT: no RTC wake from S4");
	is_int(f[116], 1, "FADT: RESET_REG in system I/O");
	is_int(f[117], 8, "FADT: RESET_REG 8 bits wide");
	is_int(f[118], 0, "FADT: RESET_REG at bit 0");
	is_hex(rd64(f + 120), 0xcf9, "FADT: RESET_REG at port 0xcf9");
	is_int(f[128], 6, "FADT: RESET_VALUE");
	is_int(f[148], 1, "FADT: X_PM1a_EVT_BLK in system I/O");
	is_int(f[149], 32, "FADT: X_PM1a_EVT_BLK 32 bits");
	is_hex(rd64(f + 152), ACPI_PM1A_EVT_PORT, "FADT: X_PM1a_EVT_BLK port");
	is_hex(rd64(f + 164), 0, "FADT: no X_PM1b_EVT_BLK");
	is_int(f[172], 1, "FADT: X_PM1a_CNT_BLK in system I/O");
	is_int(f[173], 16, "FADT: X_PM1a_CNT_BLK 16 bits");
	is_hex(rd64(f + 176), ACPI_PM1A_CNT_PORT, "FADT: X_PM1a_CNT_BLK port");
	is_hex(rd64(f + 212), 0, "FADT: no X_PM_TMR_BLK");
	is_hex(rd64(f + 224), 0, "FADT: no X_GPE0_BLK");
	ok(memcmp(f + 268, "VITRO   ", 8) == 0, "FADT: hypervisor vendor");

	p->dsdt = table(rd64(f + 140), "DSDT", "DSDT");
	p->facs = g2h(rd64(f + 132), 64);
	ok(p->facs && memcmp(p->facs, "FACS", 4) == 0 &&
		   rd32(p->facs + 4) == 64,
	   "FACS: signature and length 64");
	is_int(rd64(f + 132) % 64, 0, "FACS: 64-byte aligned");
}

/* A PkgLength at p: the length it encodes; *n gets its own bytes. */
static size_t pkglen(const uint8_t *p, size_t *n)
{
	size_t follow = p[0] >> 6, len = follow ? p[0] & 0x0f : p[0];

	for (size_t i = 0; i < follow; i++)
		len |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + follow;
	return len;
}

/*
 * After \_S5: Scope (\_SB) { Device (PCI0) { _HID PNP0A03, _UID 0,
 * _BBN 0, _CRS } }, whose resources are walked to the end tag.
 */
static void check_pci0(const uint8_t *a, size_t len)
{
	static const uint8_t head[] = { 0x5c, '_', 'S', 'B', '_' };
	static const uint8_t hid[] = { 0x08, '_',  'H',	 'I',  'D',
				       0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	const uint8_t *p, *end = a + len, *crs = NULL, *res;
	size_t n, body, buflen;
	bool bus = false, cfg = false, io_lo = false, io_hi = false;
	bool window = false, tag = false;
	int others = 0;

	ok(len > 8 && a[0] == 0x10, "DSDT: a Scope follows \\_S5");
	if (len <= 8 || a[0] != 0x10)
		return;
	body = pkglen(a + 1, &n);
	is_int(body + 1, len, "DSDT: the scope runs to the table's end");
	p = a + 1 + n;
	ok(memcmp(p, head, sizeof(head)) == 0, "DSDT: Scope (\\_SB)");
	p += sizeof(head);
	ok(p[0] == 0x5b && p[1] == 0x82, "DSDT: a Device in it");
	body = pkglen(p + 2, &n);
	p += 2 + n;
	ok(memcmp(p, "PCI0", 4) == 0, "DSDT: named PCI0");
	ok(memmem(p, (size_t)(end - p), hid, sizeof(hid)) != NULL,
	   "DSDT: PCI0's _HID is EisaId (\"PNP0A03\")");
	for (const uint8_t *q = p; q + 6 < end; q++)
		if (memcmp(q, "\x08_CRS\x11", 6) == 0)
			crs = q + 6;
	ok(crs != NULL, "DSDT: PCI0 has a _CRS buffer");
	if (!crs)
		return;
	body = pkglen(crs, &n);
	ok(crs + body <= end, "DSDT: the _CRS buffer fits");
	is_int(crs[n], 0x0a, "_CRS: a byte-sized buffer length");
	buflen = crs[n + 1];
	is_int(buflen + n + 2, body,
	       "_CRS: its length agrees with the package");
	res = crs + n + 2;
	for (p = res; p < res + buflen && !tag;) {
		if (p[0] == 0x79) { /* end tag */
			tag = true;
			is_int(p + 2 - res, buflen,
			       "_CRS: the end tag ends it");
			break;
		}
		if (p[0] == 0x47) { /* I/O port */
			cfg = rd16(p + 2) == 0xcf8 && rd16(p + 4) == 0xcf8 &&
			      p[7] == 8;
			p += 8;
			continue;
		}
		if (p[0] == 0x88 && rd16(p + 1) == 13) { /* Word space */
			uint16_t min = rd16(p + 8), max = rd16(p + 10);

			if (p[3] == 2)
				bus = min == 0 && max == 0xff;
			else if (p[3] == 1 && min == 0)
				io_lo = max == 0xcf7;
			else if (p[3] == 1)
				io_hi = min == 0xd00 && max == 0xffff;
			else
				others++;
			p += 16;
			continue;
		}
		if (p[0] == 0x87 && rd16(p + 1) == 23) { /* DWord space */
			window = p[3] == 0 && rd32(p + 10) == PCI_MMIO_BASE &&
				 rd32(p + 14) == IOAPIC_BASE - 1 &&
				 rd32(p + 22) == IOAPIC_BASE - PCI_MMIO_BASE;
			p += 26;
			continue;
		}
		others++;
		break;
	}
	ok(tag, "_CRS: ends with an end tag");
	ok(bus, "_CRS: WordBusNumber 0-255");
	ok(cfg, "_CRS: IO 0xcf8, 8 ports (configuration mechanism #1)");
	ok(io_lo && io_hi, "_CRS: WordIO 0-0xcf7 and 0xd00-0xffff");
	ok(window, "_CRS: DWordMemory 0xc0000000 up to the IOAPIC");
	is_int(others, 0, "_CRS: nothing else");
}

static void check_dsdt(const uint8_t *d)
{
	static const uint8_t s5[] = { 0x08, '_',
				      'S',  '5',
				      '_',  0x12,
				      0x08, 0x04,
				      0x0a, ACPI_S5_SLP_TYP,
				      0x0a, ACPI_S5_SLP_TYP,
				      0x00, 0x00 };

	if (!d)
		return;
	is_int(d[8], 2, "DSDT: revision 2 (64-bit integers)");
	ok(rd32(d + 4) > 36 + sizeof(s5), "DSDT: header, \\_S5 and more");
	ok(memcmp(d + 36, s5, sizeof(s5)) == 0,
	   "DSDT: Name (_S5, Package (4) { 5, 5, 0, 0 }) as AML");
	check_pci0(d + 36 + sizeof(s5), rd32(d + 4) - 36 - sizeof(s5));
}

/*
 * Walk the root tables to the others; NULLs where they are missing.  They
 * list 3 tables with an HPET, else 2.
 */
static struct parsed parse_n(const char *what, unsigned n)
{
	struct parsed p = { 0 };
	const uint8_t *rsdp = find_rsdp(), *xsdt, *rsdt;
	char name[96];

	if (!ok(rsdp, "%s: a scan finds the RSDP", what))
		return p;
	is_int(rsdp - mem, 0, "%s: RSDP first, at ACPI_TABLES_ADDR", what);
	is_int(rsdp[15], 2, "%s: RSDP revision 2", what);
	is_int(rd32(rsdp + 20), 36, "%s: RSDP length", what);
	is_int(sum(rsdp, 36), 0, "%s: RSDP extended checksum", what);
	snprintf(name, sizeof(name), "%s: XSDT", what);
	xsdt = table(rd64(rsdp + 24), "XSDT", name);
	snprintf(name, sizeof(name), "%s: RSDT", what);
	rsdt = table(rd32(rsdp + 16), "RSDT", name);
	if (!xsdt || !rsdt)
		return p;
	is_int(rd32(xsdt + 4), 36 + 8 * n, "%s: XSDT has %u entries", what, n);
	is_int(rd32(rsdt + 4), 36 + 4 * n, "%s: RSDT has %u entries", what, n);
	for (int i = 0; i < (int)n; i++) {
		uint64_t a = rd64(xsdt + 36 + 8 * i);
		const uint8_t *t = g2h(a, 36);

		is_hex(rd32(rsdt + 36 + 4 * i), a, "%s: RSDT entry %d = XSDT's",
		       what, i);
		if (t && memcmp(t, "FACP", 4) == 0)
			p.fadt = table(a, "FACP", "FADT");
		else if (t && memcmp(t, "APIC", 4) == 0)
			p.madt = table(a, "APIC", "MADT");
		else if (t && memcmp(t, "HPET", 4) == 0)
			p.hpet = table(a, "HPET", "HPET table");
	}
	ok(p.fadt && p.madt, "%s: the XSDT lists the FADT and the MADT", what);
	if (n == 3)
		ok(p.hpet, "%s: the XSDT lists the HPET table", what);
	else
		ok(!p.hpet, "%s: no HPET table without an HPET", what);
	return p;
}

static struct parsed parse(const char *what)
{
	return parse_n(what, 2);
}

/* The HPET description table: IA-PC HPET 1.0a, 3.2.4. */
static void check_hpet(const uint8_t *h, const struct acpi_config *c)
{
	is_int(rd32(h + 4), 56, "HPET: length 56");
	is_int(h[8], 1, "HPET: revision 1");
	is_hex(rd32(h + 36), c->hpet_id, "HPET: event timer block ID");
	is_int(h[40], 0, "HPET: base in system memory");
	is_int(h[41], 64, "HPET: 64-bit registers");
	is_int(h[42], 0, "HPET: bit offset 0");
	is_hex(rd64(h + 44), c->hpet_base, "HPET: base address");
	is_int(h[52], 0, "HPET: number 0");
	is_int(rd16(h + 53), VM_HPET_MIN_TICK, "HPET: minimum tick");
	is_int(h[55], 0, "HPET: no page protection claimed");
}

/* Every MADT entry, in order, for the configuration c. */
static void check_madt(const uint8_t *m, const struct acpi_config *c,
		       const char *what)
{
	uint32_t len = rd32(m + 4), off = 44, max_id = 0, want_off;
	unsigned cpu = 0, ioapics = 0, nmis = 0, x2nmis = 0, bad = 0;
	bool sci = false, irq0 = false, x2 = false;

	is_int(m[8], 4, "%s: MADT revision", what);
	is_hex(rd32(m + 36), LAPIC_BASE, "%s: MADT local APIC address", what);
	is_int(rd32(m + 40), 1, "%s: MADT PCAT_COMPAT (8259s present)", what);
	for (unsigned i = 0; i < c->ncpus; i++)
		if (c->apic_id[i] > max_id)
			max_id = c->apic_id[i];
	while (off + 2 <= len) {
		const uint8_t *e = m + off;

		if (e[1] < 2 || off + e[1] > len)
			break;
		switch (e[0]) {
		case 0:
			if (e[1] != 8 || cpu >= c->ncpus || e[2] != cpu ||
			    e[3] != c->apic_id[cpu] || rd32(e + 4) != 1)
				bad++;
			cpu++;
			break;
		case 9:
			x2 = true;
			if (e[1] != 16 || cpu >= c->ncpus ||
			    rd32(e + 12) != cpu ||
			    rd32(e + 4) != c->apic_id[cpu] ||
			    rd32(e + 4) < 0xff || rd32(e + 8) != 1)
				bad++;
			cpu++;
			break;
		case 1:
			ioapics++;
			is_int(e[1], 12, "%s: IOAPIC entry length", what);
			is_int(e[2], max_id + 1 < 0xff ? max_id + 1 : 0,
			       "%s: IOAPIC ID after the last APIC ID", what);
			is_hex(rd32(e + 4), IOAPIC_BASE, "%s: IOAPIC address",
			       what);
			is_int(rd32(e + 8), 0, "%s: IOAPIC GSI base", what);
			break;
		case 2:
			if (e[1] != 10 || e[2] != 0)
				bad++;
			if (e[3] == ACPI_SCI_IRQ) {
				sci = true;
				is_int(rd32(e + 4), ACPI_SCI_IRQ,
				       "%s: SCI at its own GSI", what);
				is_hex(rd16(e + 8), 0xd,
				       "%s: SCI level, active high", what);
			} else if (e[3] == 0) {
				irq0 = true;
				is_int(rd32(e + 4), c->irq0_gsi,
				       "%s: IRQ 0 override to GSI %u", what,
				       c->irq0_gsi);
				is_hex(rd16(e + 8), 0, "%s: IRQ 0 conforms",
				       what);
			} else {
				bad++;
			}
			break;
		case 4:
			nmis++;
			if (e[1] != 6 || e[2] != 0xff || rd16(e + 3) != 0 ||
			    e[5] != 1)
				bad++;
			break;
		case 10:
			x2nmis++;
			if (e[1] != 12 || rd32(e + 4) != 0xffffffff ||
			    e[8] != 1)
				bad++;
			break;
		default:
			bad++;
		}
		off += e[1];
	}
	is_int(off, len, "%s: MADT entries fill the table exactly", what);
	is_int(cpu, c->ncpus, "%s: one processor entry per vCPU, in order",
	       what);
	is_int(bad, 0, "%s: every processor/override/NMI entry as expected",
	       what);
	is_int(ioapics, 1, "%s: one IOAPIC", what);
	ok(sci, "%s: the SCI override is there", what);
	is_int(irq0, c->irq0_gsi != 0, "%s: IRQ 0 override only off pin 0",
	       what);
	is_int(nmis, 1, "%s: one LAPIC NMI entry (all, LINT1)", what);
	is_int(x2nmis, x2, "%s: an x2APIC NMI entry with x2APIC entries", what);
	want_off = 44 + 8 * c->ncpus + 12 + (c->irq0_gsi ? 20 : 10) + 6;
	if (!x2)
		is_int(len, want_off, "%s: MADT length", what);
}

/* iasl -d on one table written to a file: no errors, a .dsl out. */
static void check_iasl(const char *dir, const char *name, const uint8_t *t)
{
	char path[256], cmd[600], out[8192];
	size_t n;
	FILE *f;
	int st;

	if (!t) {
		ok(0, "iasl -d %s: no table", name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(t, 1, rd32(t + 4), f) != rd32(t + 4)) {
		ok(0, "iasl -d %s: cannot write %s", name, path);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat 2>&1", dir, name);
	f = popen(cmd, "r");
	n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = 0;
	st = f ? pclose(f) : -1;
	ok(st == 0 && !strstr(out, "Error") && !strstr(out, "Warning") &&
		   !strstr(out, "Invalid"),
	   "iasl -d %s: disassembles cleanly", name);
	if (st != 0 || strstr(out, "Error") || strstr(out, "Warning") ||
	    strstr(out, "Invalid"))
		tap_diag("iasl said:\n%s", out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	ok(access(path, R_OK) == 0, "iasl -d %s: wrote %s.dsl", name, name);
}

static void check_iasl_all(const struct parsed *p)
{
	char dir[] = "/tmp/test-acpi-XXXXXX", cmd[64];
	int st = system("iasl -v >/dev/null 2>&1");

	if (st != 0) {
		for (int i = 0; i < 8; i++)
			tap_skip("iasl not installed (Debian's acpica-tools)");
		return;
	}
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	check_iasl(dir, "dsdt", p->dsdt);
	check_iasl(dir, "facp", p->fadt);
	check_iasl(dir, "apic", p->madt);
	check_iasl(dir, "hpet", p->hpet);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

static void build(const struct acpi_config *c, const char *what)
{
	size_t used = 0;
	int r;

	memset(mem, 0xa5, sizeof(mem));
	r = acpi_build(c, ACPI_TABLES_ADDR, mem, sizeof(mem), &used);
	is_int(r, 0, "%s: acpi_build", what);
	ok(used > 0 && used <= ACPI_BUILD_MAX, "%s: %zu bytes, within %d", what,
	   used, ACPI_BUILD_MAX);
}

static void check_topology(uint16_t sockets, uint16_t cores, uint16_t threads,
			   unsigned ncpus, const char *what)
{
	struct vm_cpu_topology t = { sockets, cores, threads,
				     sockets * cores * threads };
	struct acpi_config c;
	struct parsed p;
	unsigned bad = 0;

	acpi_config_init(&c, &t, ncpus);
	for (unsigned i = 0; i < ncpus; i++)
		if (c.apic_id[i] != vmm_apic_id(&t, i))
			bad++;
	is_int(bad, 0, "%s: APIC IDs as vmm assigns them", what);
	is_int(c.irq0_gsi, ISA_IRQ0_GSI, "%s: IRQ 0 as platform.h says", what);
	build(&c, what);
	p = parse(what);
	if (p.madt)
		check_madt(p.madt, &c, what);
}

int main(void)
{
	struct vm_cpu_topology one = { 1, 1, 1, 1 };
	struct acpi_config c;
	struct parsed p;
	size_t used = 0;
	uint8_t small[256];

	/* One vCPU and an HPET: everything, FADT and DSDT in detail. */
	acpi_config_init(&c, &one, 1);
	is_int(c.hpet_base, 0, "acpi_config_init: no HPET");
	c.hpet_base = HPET_BASE;
	c.hpet_id = 0x8086a201;
	build(&c, "1 vCPU");
	p = parse_n("1 vCPU", 3);
	if (!p.fadt || !p.madt || !p.hpet)
		tap_bail("no FADT, MADT or HPET table to check further");
	check_fadt(p.fadt, &p);
	check_dsdt(p.dsdt);
	check_madt(p.madt, &c, "1 vCPU");
	check_hpet(p.hpet, &c);
	check_iasl_all(&p);

	check_topology(2, 1, 1, 2, "2 vCPUs");
	check_topology(8, 1, 1, 8, "8 vCPUs");
	/* 2 threads, 3 cores (2 bits): IDs 0,1,2,3,4,5, 8,9,... */
	check_topology(2, 3, 2, 12, "2x3x2 topology");
	is_int(acpi_apic_id(&(struct vm_cpu_topology){ 2, 3, 2, 12 }, 6), 8,
	       "2x3x2: vCPU 6 (socket 1) has APIC ID 8");
	check_topology(2, 2, 1, 3, "3 of 4 vCPUs");
	/* 85 sockets of 3 cores: IDs up to 84 << 2 = 336, x2APIC entries. */
	check_topology(85, 3, 1, 255, "255 vCPUs, IDs past 254");

	/* IRQ 0 identity-mapped (KVM's default routing): no override. */
	acpi_config_init(&c, &one, 2);
	c.irq0_gsi = 0;
	build(&c, "IRQ 0 at GSI 0");
	p = parse("IRQ 0 at GSI 0");
	if (p.madt)
		check_madt(p.madt, &c, "IRQ 0 at GSI 0");

	/* Bad configurations and buffers. */
	acpi_config_init(&c, &one, 1);
	c.ncpus = 0;
	is_int(acpi_build(&c, ACPI_TABLES_ADDR, mem, sizeof(mem), &used),
	       -EINVAL, "no vCPUs: EINVAL");
	c.ncpus = VM_MAXCPU + 1;
	is_int(acpi_build(&c, ACPI_TABLES_ADDR, mem, sizeof(mem), &used),
	       -EINVAL, "too many vCPUs: EINVAL");
	c.ncpus = 1;
	is_int(acpi_build(&c, ACPI_TABLES_ADDR + 8, mem, sizeof(mem), &used),
	       -EINVAL, "a base off 16 bytes: EINVAL");
	is_int(acpi_build(&c, 0xfffff000, mem, sizeof(mem), &used), -EINVAL,
	       "tables past 4 GiB: EINVAL");
	used = 12345;
	is_int(acpi_build(&c, ACPI_TABLES_ADDR, small, sizeof(small), &used),
	       -ENOSPC, "a small buffer: ENOSPC");
	is_int(used, 12345, "a failed build leaves *used alone");
	is_int(acpi_checksum("\x01\x02\xfd", 3), 0,
	       "acpi_checksum of a sum-0 "
	       "run is 0");
	is_int(acpi_checksum("\x10", 1), 0xf0, "acpi_checksum completes");
	return tap_done();
}
