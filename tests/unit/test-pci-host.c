/*
 * test-pci-host.c: configuration mechanism #1 and the reset control
 * register (monitor/dev/pci_host.c): the address register as a dword
 * only, the host bridge's registers at every width and offset, other
 * functions all ones, read-only registers, 0xcf9 as a byte, the port
 * glue, and save -> reset -> restore.
 */
#include <errno.h>

#include "monitor/dev/pci_host.h"
#include "monitor/region.h"
#include "tests/tap.h"

static int resets;

static void rec_reset(void *arg)
{
	(void)arg;
	resets++;
}

static uint32_t conf_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_CONF_ENABLE | bus << 16 | dev << 11 | fn << 8 | reg;
}

/* 00:00.0's first 16 bytes, as a 440FX has them here. */
static const uint8_t hdr[16] = {
	0x86, 0x80, 0x37, 0x12, 0x06, 0x00, 0x80, 0x02,
	0x02, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00
};

static void test_config(void)
{
	struct pci_host *p = pci_host_create(rec_reset, NULL);
	int bad = 0;

	pci_host_out(p, PCI_CONF_ADDR, 4, 0xffffffff);
	is_hex(pci_host_in(p, PCI_CONF_ADDR, 4), 0x80fffffc,
	       "address register: reserved bits read 0");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0));
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0x12378086,
	       "00:00.0: 8086:1237");
	/* Every width at every offset of the first 16 bytes. */
	for (unsigned reg = 0; reg < 16; reg += 4) {
		pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, reg));
		for (unsigned size = 1; size <= 4; size *= 2) {
			for (unsigned off = 0; off + size <= 4; off++) {
				uint32_t want = 0,
					 got = pci_host_in(
						 p, PCI_CONF_DATA + off, size);

				for (unsigned i = 0; i < size; i++)
					want |= (uint32_t)hdr[reg + off + i]
						<< (8 * i);
				if (got != want) {
					bad++;
					tap_diag("reg %u off %u size %u: "
						 "0x%x, want 0x%x",
						 reg, off, size, got, want);
				}
			}
		}
	}
	is_int(bad, 0, "bytes, words, dwords at every offset of 0x00-0x0f");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0x08));
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4) >> 8, 0x060000,
	       "class 0x060000, a host bridge");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0x0c));
	is_hex(pci_host_in(p, PCI_CONF_DATA + 2, 1), 0, "header type 0");
	is_hex(pci_host_in(p, PCI_CONF_DATA + 3, 2), 0xffff,
	       "a word past 0xcff reads all ones");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0x40));
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0, "0x40: 0");

	/* Other functions, and the enable bit. */
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 1, 0, 0));
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0xffffffff, "00:01.0: none");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 1, 0));
	is_hex(pci_host_in(p, PCI_CONF_DATA, 2), 0xffff, "00:00.1: none");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(1, 0, 0, 0));
	is_hex(pci_host_in(p, PCI_CONF_DATA + 1, 1), 0xff, "01:00.0: none");
	pci_host_out(p, PCI_CONF_ADDR, 4, 0);
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0xffffffff,
	       "enable bit clear: all ones");

	/* Writes: the command register and 0x0c/0x0d, nothing else. */
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0));
	pci_host_out(p, PCI_CONF_DATA, 4, 0xdeadbeef);
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0x12378086,
	       "the IDs are read only");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 4));
	pci_host_out(p, PCI_CONF_DATA, 2, 0x0000);
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0x02800000,
	       "command written, status kept");
	pci_host_out(p, PCI_CONF_DATA + 2, 2, 0xffff);
	is_hex(pci_host_in(p, PCI_CONF_DATA + 2, 2), 0x0280,
	       "status is read only here");
	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0x0c));
	pci_host_out(p, PCI_CONF_DATA + 1, 1, 0x40);
	is_hex(pci_host_in(p, PCI_CONF_DATA, 4), 0x00004000,
	       "latency timer written by byte at 0xcfd");

	/* Widths at 0xcf8: only a dword is the address register. */
	pci_host_out(p, PCI_CONF_ADDR, 1, 0x12);
	pci_host_out(p, PCI_CONF_ADDR, 2, 0x1234);
	is_hex(pci_host_in(p, PCI_CONF_ADDR, 4), conf_addr(0, 0, 0, 0x0c),
	       "byte and word writes at 0xcf8 leave the address alone");
	is_hex(pci_host_in(p, PCI_CONF_ADDR, 2), 0xffff,
	       "a word read at 0xcf8: all ones");
	pci_host_destroy(p);
}

static void test_reset_control(void)
{
	struct pci_host *p = pci_host_create(rec_reset, NULL);
	struct region_map *m = region_map_create("pio");
	uint64_t v;

	is_int(pci_host_register(p, m), 0, "0xcf8-0xcff registered");
	resets = 0;
	v = PCI_RCR_SYS_RST;
	region_dispatch(m, NULL, 0, true, PCI_RESET_CONTROL, 1, &v);
	is_int(resets, 0, "0xcf9 = 2: no reset yet");
	region_dispatch(m, NULL, 0, false, PCI_RESET_CONTROL, 1, &v);
	is_hex(v, 2, "0xcf9 reads back the reset kind");
	v = 0x06;
	region_dispatch(m, NULL, 0, true, PCI_RESET_CONTROL, 1, &v);
	is_int(resets, 1, "0xcf9 = 6: reset");
	v = conf_addr(0, 0, 0, 0);
	region_dispatch(m, NULL, 0, true, PCI_CONF_ADDR, 4, &v);
	is_int(resets, 1, "a dword to 0xcf8 with bit 10 set is no reset");
	region_dispatch(m, NULL, 0, false, PCI_CONF_DATA, 4, &v);
	is_hex(v, 0x12378086, "config read through the region");
	v = 0x0400;
	region_dispatch(m, NULL, 0, true, PCI_CONF_ADDR, 2, &v);
	is_int(resets, 1, "a word to 0xcf8 is not the reset register");
	region_dispatch(m, NULL, 0, false, 0xcfa, 1, &v);
	is_hex(v, 0xff, "0xcfa: all ones");
	region_map_destroy(m);
	pci_host_destroy(p);
}

static void test_state(void)
{
	struct pci_host *p = pci_host_create(rec_reset, NULL);
	uint8_t buf[512];
	int n;

	pci_host_out(p, PCI_CONF_ADDR, 4, conf_addr(0, 0, 0, 0x0c));
	pci_host_out(p, PCI_CONF_DATA + 1, 1, 0x20);
	pci_host_out(p, PCI_RESET_CONTROL, 1, PCI_RCR_SYS_RST);
	n = pci_host_save(p, NULL, 0);
	ok(n > 0 && n <= (int)sizeof(buf), "save: needs %d bytes", n);
	is_int(pci_host_save(p, buf, 8), -ENOSPC, "save: too small");
	is_int(pci_host_save(p, buf, sizeof(buf)), n, "save");
	pci_host_reset(p);
	is_hex(pci_host_in(p, PCI_CONF_ADDR, 4), 0, "reset: address 0");
	is_hex(pci_host_in(p, PCI_RESET_CONTROL, 1), 0, "reset: 0xcf9 0");
	is_int(pci_host_restore(p, buf, n), 0, "restore");
	is_hex(pci_host_in(p, PCI_CONF_ADDR, 4), conf_addr(0, 0, 0, 0x0c),
	       "restored: the address");
	is_hex(pci_host_in(p, PCI_CONF_DATA + 1, 1), 0x20,
	       "restored: the latency timer");
	is_hex(pci_host_in(p, PCI_RESET_CONTROL, 1), 2, "restored: 0xcf9");
	buf[16] ^= 0xff; /* the vendor ID, read only */
	is_int(pci_host_restore(p, buf, n), -EINVAL,
	       "restore: a read-only register changed");
	is_int(pci_host_restore(p, buf, 3), -EINVAL, "restore: bad size");
	pci_host_destroy(p);
}

int main(void)
{
	test_config();
	test_reset_control();
	test_state();
	return tap_done();
}
