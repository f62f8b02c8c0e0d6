/*
 * test-mptable.c: unit tests of the MP table builder
 * (monitor/boot/mptable.h).  The tables are built into a buffer standing
 * for guest memory at MPTABLE_ADDR and read back as Linux's mpparse does:
 * the floating pointer found by a scan, its checksum, the configuration
 * table's header and checksum, then every entry.  Single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "monitor/boot/mptable.h"
#include "monitor/platform.h"
#include "tests/tap.h"

static uint8_t mem[MPTABLE_MAX];

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static void check(const struct acpi_config *c, const char *what)
{
	const uint8_t *fp = NULL, *h, *e, *end;
	unsigned cpus = 0, buses = 0, ioapics = 0, bad = 0, entries = 0;
	unsigned pin_of[16], extint_pin = 99, lint_ext = 99, lint_nmi = 99;
	uint32_t max_id = 0, ptr;
	uint8_t ioapic_id = 0;
	size_t used = 0;

	memset(mem, 0xa5, sizeof(mem));
	is_int(mptable_build(c, MPTABLE_ADDR, mem, sizeof(mem), &used), 0,
	       "%s: mptable_build", what);
	ok(used > 0 && used <= MPTABLE_BUILD_MAX, "%s: %zu bytes", what, used);
	for (size_t off = 0; off + 16 <= sizeof(mem); off += 16)
		if (memcmp(mem + off, "_MP_", 4) == 0 &&
		    sum(mem + off, 16) == 0) {
			fp = mem + off;
			break;
		}
	if (!ok(fp == mem, "%s: a scan finds the floating pointer first", what))
		return;
	is_int(fp[8], 1, "%s: floating pointer length 1 (16 bytes)", what);
	is_int(fp[9], 4, "%s: spec revision 1.4", what);
	is_int(fp[11], 0, "%s: feature 1: a configuration table", what);
	is_int(fp[12], 0, "%s: feature 2: virtual wire mode", what);
	ptr = rd32(fp + 4);
	if (!ok(ptr >= MPTABLE_ADDR && ptr + 44 <= MPTABLE_ADDR + used,
		"%s: table pointer %#x inside", what, ptr))
		return;
	h = mem + (ptr - MPTABLE_ADDR);
	ok(memcmp(h, "PCMP", 4) == 0, "%s: PCMP signature", what);
	is_int(ptr - MPTABLE_ADDR + rd16(h + 4), used,
	       "%s: base table length ends the bytes written", what);
	is_int(sum(h, rd16(h + 4)), 0, "%s: table checksum", what);
	is_int(h[6], 4, "%s: table spec revision", what);
	is_hex(rd32(h + 36), LAPIC_BASE, "%s: local APIC address", what);
	is_int(rd16(h + 40), 0, "%s: no extended table", what);

	for (unsigned i = 0; i < 16; i++)
		pin_of[i] = 99;
	for (unsigned i = 0; i < c->ncpus; i++)
		if (c->apic_id[i] > max_id)
			max_id = c->apic_id[i];
	e = h + 44;
	end = h + rd16(h + 4);
	while (e < end) {
		entries++;
		switch (e[0]) {
		case 0:
			if (cpus >= c->ncpus || e[1] != c->apic_id[cpus] ||
			    e[3] != (cpus == 0 ? 3 : 1) || e[2] != 0x14)
				bad++;
			cpus++;
			e += 20;
			break;
		case 1:
			buses++;
			if (e[1] != 0 || memcmp(e + 2, "ISA   ", 6))
				bad++;
			e += 8;
			break;
		case 2:
			ioapics++;
			ioapic_id = e[1];
			if (e[3] != 1 || rd32(e + 4) != IOAPIC_BASE)
				bad++;
			e += 8;
			break;
		case 3:
			if (e[4] != 0 || e[6] != ioapic_id || e[5] > 15) {
				bad++;
			} else if (e[1] == 3) {
				extint_pin = e[7];
			} else if (e[1] == 0) {
				pin_of[e[5]] = e[7];
				if (rd16(e + 2) !=
				    (e[5] == ACPI_SCI_IRQ ? 0xd : 0))
					bad++;
			} else {
				bad++;
			}
			e += 8;
			break;
		case 4:
			if (e[6] != 0xff)
				bad++;
			if (e[1] == 3)
				lint_ext = e[7];
			else if (e[1] == 1)
				lint_nmi = e[7];
			e += 8;
			break;
		default:
			bad++;
			e = end;
		}
	}
	ok(e == end, "%s: entries end with the table", what);
	is_int(entries, rd16(h + 34), "%s: entry count", what);
	is_int(cpus, c->ncpus, "%s: a processor per vCPU, BSP first", what);
	is_int(buses, 1, "%s: the ISA bus", what);
	is_int(ioapics, 1, "%s: one IOAPIC", what);
	is_int(ioapic_id, max_id + 1, "%s: IOAPIC ID after the APIC IDs", what);
	is_int(bad, 0, "%s: every entry as expected", what);
	is_int(pin_of[0], c->irq0_gsi, "%s: IRQ 0 at pin %u", what,
	       c->irq0_gsi);
	is_int(pin_of[2], 99, "%s: no entry for the cascade", what);
	bad = 0;
	for (unsigned i = 1; i < 16; i++)
		if (i != 2 && pin_of[i] != i)
			bad++;
	is_int(bad, 0, "%s: ISA IRQs 1, 3-15 at their own pins", what);
	is_int(extint_pin, 99, "%s: no ExtINT at an IOAPIC pin", what);
	is_int(lint_ext, 0, "%s: ExtINT on LINT0", what);
	is_int(lint_nmi, 1, "%s: NMI on LINT1", what);
}

static void check_topo(uint16_t s, uint16_t co, uint16_t t, unsigned n,
		       const char *what)
{
	struct vm_cpu_topology topo = { s, co, t, s * co * t };
	struct acpi_config c;

	acpi_config_init(&c, &topo, n);
	check(&c, what);
}

int main(void)
{
	struct vm_cpu_topology one = { 1, 1, 1, 1 };
	struct vm_cpu_topology big = { 85, 3, 1, 255 };
	struct acpi_config c;
	uint8_t small[64];
	size_t used = 7;

	check_topo(1, 1, 1, 1, "1 vCPU");
	check_topo(2, 1, 1, 2, "2 vCPUs");
	check_topo(8, 1, 1, 8, "8 vCPUs");
	check_topo(2, 3, 2, 12, "2x3x2 topology");
	acpi_config_init(&c, &one, 2);
	c.irq0_gsi = 0;
	check(&c, "IRQ 0 at pin 0");

	acpi_config_init(&c, &big, 255);
	is_int(mptable_build(&c, MPTABLE_ADDR, mem, sizeof(mem), &used),
	       -ERANGE, "APIC IDs past 254: ERANGE");
	acpi_config_init(&c, &one, 1);
	is_int(mptable_build(&c, MPTABLE_ADDR, small, sizeof(small), &used),
	       -ENOSPC, "a small buffer: ENOSPC");
	c.ncpus = 0;
	is_int(mptable_build(&c, MPTABLE_ADDR, mem, sizeof(mem), &used),
	       -EINVAL, "no vCPUs: EINVAL");
	c.ncpus = 1;
	is_int(mptable_build(&c, MPTABLE_ADDR + 4, mem, sizeof(mem), &used),
	       -EINVAL, "a base off 16 bytes: EINVAL");
	is_int(used, 7, "failures leave *used alone");
	return tap_done();
}
