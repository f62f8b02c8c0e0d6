/*
 * acpi.c: powers off as an ACPI operating system does, from the tables
 * alone.  It scans 0xe0000-0xfffff for the RSDP, checks its checksums,
 * follows the XSDT to the FADT and MADT, checks theirs, counts the MADT's
 * processors, finds the MP floating pointer, reads SLP_TYP from the
 * DSDT's \_S5 and writes it with SLP_EN to the FADT's PM1a_CNT_BLK.
 * vitro should exit with status 1 (poweroff); if the guest is still
 * running after the write it exits with fail.
 *
 * Options: cpus=N (the MADT must list N enabled processors; default:
 * not checked).  Exit: fail on any check (the console says which).
 */
#include "rt.h"

const char guest_name[] = "acpi";

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *find(uint64_t from, uint64_t to, const char *sig,
			   unsigned siglen, unsigned sumlen)
{
	for (uint64_t a = from; a < to; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (memcmp(p, sig, siglen) == 0 && sum(p, sumlen) == 0)
			return p;
	}
	return NULL;
}

/* A table with its signature and a good checksum, or NULL. */
static const uint8_t *table(uint64_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)addr;

	if (memcmp(t, sig, 4) != 0) {
		rt_printf("@FAIL: no %s at %#lx\n", sig, (unsigned long)addr);
		return NULL;
	}
	if (sum(t, rd32(t + 4)) != 0) {
		rt_printf("@FAIL: %s checksum\n", sig);
		return NULL;
	}
	rt_printf("@ok: %s at %#lx, %u bytes, checksum good\n", sig,
		  (unsigned long)addr, rd32(t + 4));
	return t;
}

int guest_main(void)
{
	const uint8_t *rsdp, *xsdt, *fadt = NULL, *madt = NULL, *dsdt, *mp;
	uint64_t want_cpus = 0;
	unsigned cpus = 0, slp_typ = 99;
	uint32_t port;

	if (cmdline_get_u64(rt_cmdline, "cpus", &want_cpus) < 0) {
		rt_printf("@FAIL: bad cpus= option\n");
		return GUEST_EXIT_FAIL;
	}
	rsdp = find(0xe0000, 0x100000, "RSD PTR ", 8, 20);
	if (!rsdp || sum(rsdp, 36) != 0 || rsdp[15] < 2) {
		rt_printf("@FAIL: no ACPI 2.0 RSDP in 0xe0000-0xfffff\n");
		return GUEST_EXIT_FAIL;
	}
	rt_printf("@ok: RSDP at %#lx, revision %u\n", (unsigned long)rsdp,
		  rsdp[15]);
	xsdt = table(rd64(rsdp + 24), "XSDT");
	if (!xsdt)
		return GUEST_EXIT_FAIL;
	for (uint32_t off = 36; off + 8 <= rd32(xsdt + 4); off += 8) {
		const uint8_t *t = (const uint8_t *)rd64(xsdt + off);

		if (memcmp(t, "FACP", 4) == 0)
			fadt = table((uint64_t)t, "FACP");
		else if (memcmp(t, "APIC", 4) == 0)
			madt = table((uint64_t)t, "APIC");
	}
	if (!fadt || !madt)
		return GUEST_EXIT_FAIL;

	for (uint32_t off = 44; off + 2 <= rd32(madt + 4);
	     off += madt[off + 1]) {
		if ((madt[off] == 0 && (madt[off + 4] & 1)) ||
		    (madt[off] == 9 && (madt[off + 8] & 1)))
			cpus++;
		if (madt[off + 1] < 2)
			break;
	}
	rt_printf("@ok: the MADT lists %u processors\n", cpus);
	if (want_cpus && cpus != want_cpus) {
		rt_printf("@FAIL: expected %lu processors\n",
			  (unsigned long)want_cpus);
		return GUEST_EXIT_FAIL;
	}
	mp = find(0xf0000, 0x100000, "_MP_", 4, 16);
	if (!mp || memcmp((const uint8_t *)(uint64_t)rd32(mp + 4), "PCMP", 4)) {
		rt_printf("@FAIL: no MP floating pointer and table\n");
		return GUEST_EXIT_FAIL;
	}
	rt_printf("@ok: MP table at %#x\n", rd32(mp + 4));

	dsdt = table(rd64(fadt + 140), "DSDT");
	if (!dsdt)
		return GUEST_EXIT_FAIL;
	/* Name (_S5, Package (n) { BytePrefix SLP_TYPa ... }) */
	for (uint32_t off = 36; off + 10 <= rd32(dsdt + 4); off++) {
		const uint8_t *p = dsdt + off;

		if (p[0] == 0x08 && memcmp(p + 1, "_S5_", 4) == 0 &&
		    p[5] == 0x12) {
			if (p[8] == 0x0a)
				slp_typ = p[9];
			else if (p[8] <= 1)
				slp_typ = p[8]; /* ZeroOp, OneOp */
			break;
		}
	}
	if (slp_typ > 7) {
		rt_printf("@FAIL: no \\_S5 with a SLP_TYP in the DSDT\n");
		return GUEST_EXIT_FAIL;
	}
	port = (uint32_t)rd64(fadt + 172 + 4);
	if (!port)
		port = rd32(fadt + 64);
	rt_printf("@ok: \\_S5 SLP_TYP %u; powering off through port %#x\n",
		  slp_typ, port);
	outw(port, slp_typ << 10 | 1 << 13);
	rt_printf("@FAIL: still running after SLP_EN\n");
	return GUEST_EXIT_FAIL;
}
