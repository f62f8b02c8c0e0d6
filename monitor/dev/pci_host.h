/*
 * pci_host.h: the PCI host bridge's configuration mechanism #1 and the
 * reset control register, all in ports 0xcf8-0xcff.
 *
 * - 0xcf8 as a dword: the address register (enable bit 31, bus 23-16,
 *   device 15-11, function 10-8, register 7-2; bits 30-24 and 1-0 read 0).
 * - 0xcfc-0xcff: the data window, bytes, words or dwords at any offset
 *   that stays inside it, reaching register (address & 0xfc) + the offset
 *   of the port.  Bus 0, device 0, function 0 is the host bridge, an Intel
 *   440FX (8086:1237, class 0x060000, header type 0); every other
 *   function reads all ones.  Of its registers the command register, the
 *   cache line size and the latency timer are writable; writes to the
 *   others are ignored.  With the enable bit clear the window reads all
 *   ones and ignores writes.
 * - 0xcf9 as a byte: the reset control register; writing bit 2 set calls
 *   reset(arg) (bits 1 and 3, the kind of reset, read back).
 * Any other access in the range reads all ones and is ignored.
 *
 * Threads.  One mutex guards the state; every function may be called from
 * any thread; reset runs without the mutex held.
 */
#ifndef MONITOR_DEV_PCI_HOST_H
#define MONITOR_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_HOST_PORT 0xcf8 /* first port of the range */
#define PCI_HOST_PORTS 8
#define PCI_CONF_ADDR 0xcf8
#define PCI_RESET_CONTROL 0xcf9
#define PCI_CONF_DATA 0xcfc

#define PCI_CONF_ENABLE 0x80000000u
#define PCI_RCR_SYS_RST 0x02 /* hard reset */
#define PCI_RCR_RST_CPU 0x04 /* write 1: reset now */
#define PCI_RCR_FULL_RST 0x08

#define PCI_HOST_VENDOR 0x8086
#define PCI_HOST_DEVICE 0x1237 /* 82441FX, the 440FX host bridge */

struct pci_host;
struct region_map;

typedef void pci_host_reset_fn(void *arg);

/* A host bridge in its power-on state.  NULL with errno set. */
struct pci_host *pci_host_create(pci_host_reset_fn *reset, void *arg);
void pci_host_destroy(struct pci_host *p);

/*
 * A guest access of size bytes (1, 2 or 4) at port (0xcf8-0xcff):
 * pci_host_in returns the value (all ones where nothing answers).
 */
uint32_t pci_host_in(struct pci_host *p, unsigned port, unsigned size);
void pci_host_out(struct pci_host *p, unsigned port, unsigned size,
		  uint32_t val);

/* Register ports 0xcf8-0xcff as the region "pci-host". */
int pci_host_register(struct pci_host *p, struct region_map *map);
int pci_host_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
			   unsigned size, uint64_t *val);

/* Power-on state; save and restore as i8042_save/i8042_restore. */
void pci_host_reset(struct pci_host *p);
int pci_host_save(struct pci_host *p, void *buf, size_t len);
int pci_host_restore(struct pci_host *p, const void *buf, size_t len);

#endif
