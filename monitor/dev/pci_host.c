/*
 * pci_host.c: configuration mechanism #1 with a 440FX host bridge at
 * 00:00.0, and the reset control register (see pci_host.h).
 *
 * Locking: p->mtx guards the state; reset runs after it is dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/dev/pci_host.h"
#include "monitor/region.h"

#define CONF_SIZE 256
#define ADDR_MASK 0x80fffffcu /* bits that read back */
#define RCR_MASK (PCI_RCR_SYS_RST | PCI_RCR_FULL_RST)
#define STATE_MAGIC 0x74736f68 /* "host" */

/* Everything save writes: fixed-width fields. */
struct pci_host_state {
	uint32_t magic; /* STATE_MAGIC */
	uint32_t addr; /* the address register */
	uint8_t rcr; /* reset control: bits 1 and 3 */
	uint8_t pad[7];
	uint8_t conf[CONF_SIZE]; /* 00:00.0's configuration space */
};

struct pci_host {
	pthread_mutex_t mtx;
	struct pci_host_state s; /* mtx */
	pci_host_reset_fn *reset;
	void *arg;
};

/* The writable bits of 00:00.0's registers, by byte. */
static uint8_t wmask(unsigned reg)
{
	switch (reg) {
	case 0x04: /* command: I/O, memory, bus master, SERR... */
		return 0x47;
	case 0x05:
		return 0x01;
	case 0x0c: /* cache line size */
	case 0x0d: /* latency timer */
		return 0xff;
	default:
		return 0;
	}
}

static void put16(uint8_t *c, unsigned reg, uint16_t v)
{
	c[reg] = (uint8_t)v;
	c[reg + 1] = (uint8_t)(v >> 8);
}

static void power_on(struct pci_host_state *s)
{
	uint8_t *c = s->conf;

	memset(s, 0, sizeof(*s));
	s->magic = STATE_MAGIC;
	put16(c, 0x00, PCI_HOST_VENDOR);
	put16(c, 0x02, PCI_HOST_DEVICE);
	put16(c, 0x04, 0x0006); /* memory and bus master on */
	put16(c, 0x06, 0x0280); /* fast back-to-back, medium DEVSEL */
	c[0x08] = 0x02; /* revision */
	c[0x0b] = 0x06; /* class: bridge, host bridge (0x060000) */
	c[0x0e] = 0x00; /* header type 0, single function */
}

struct pci_host *pci_host_create(pci_host_reset_fn *reset, void *arg)
{
	struct pci_host *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->mtx, NULL);
	p->reset = reset;
	p->arg = arg;
	power_on(&p->s);
	return p;
}

void pci_host_destroy(struct pci_host *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The host bridge's register for the address, or -1 for no function. */
static int conf_reg(const struct pci_host_state *s, unsigned port,
		    unsigned size)
{
	uint32_t a = s->addr;
	unsigned off = port - PCI_CONF_DATA;

	if (off + size > 4 || !(a & PCI_CONF_ENABLE) || (a & 0x00ffff00u))
		return -1; /* bus 0, device 0, function 0 only */
	return (int)((a & 0xfc) + off);
}

uint32_t pci_host_in(struct pci_host *p, unsigned port, unsigned size)
{
	struct pci_host_state *s = &p->s;
	uint32_t v = ones(size);
	int reg;

	if (size != 1 && size != 2 && size != 4)
		return ~0u;
	pthread_mutex_lock(&p->mtx);
	if (port == PCI_CONF_ADDR && size == 4) {
		v = s->addr;
	} else if (port == PCI_RESET_CONTROL && size == 1) {
		v = s->rcr;
	} else if (port >= PCI_CONF_DATA &&
		   (reg = conf_reg(s, port, size)) >= 0) {
		v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)s->conf[reg + i] << (8 * i);
	}
	pthread_mutex_unlock(&p->mtx);
	return v;
}

void pci_host_out(struct pci_host *p, unsigned port, unsigned size,
		  uint32_t val)
{
	struct pci_host_state *s = &p->s;
	bool reset = false;
	int reg;

	if (size != 1 && size != 2 && size != 4)
		return;
	pthread_mutex_lock(&p->mtx);
	if (port == PCI_CONF_ADDR && size == 4) {
		s->addr = val & ADDR_MASK;
	} else if (port == PCI_RESET_CONTROL && size == 1) {
		s->rcr = val & RCR_MASK;
		reset = val & PCI_RCR_RST_CPU;
	} else if (port >= PCI_CONF_DATA &&
		   (reg = conf_reg(s, port, size)) >= 0) {
		for (unsigned i = 0; i < size; i++) {
			uint8_t m = wmask(reg + i), b = val >> (8 * i);

			s->conf[reg + i] = (s->conf[reg + i] & ~m) | (b & m);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	if (reset && p->reset)
		p->reset(p->arg);
}

int pci_host_region_access(void *arg, int vcpuid, bool write, uint64_t addr,
			   unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;

	if (write)
		pci_host_out(p, (unsigned)addr, size, (uint32_t)*val);
	else
		*val = pci_host_in(p, (unsigned)addr, size);
	return 0;
}

int pci_host_register(struct pci_host *p, struct region_map *map)
{
	return region_register(map, "pci-host", PCI_HOST_PORT, PCI_HOST_PORTS,
			       pci_host_region_access, p);
}

void pci_host_reset(struct pci_host *p)
{
	pthread_mutex_lock(&p->mtx);
	power_on(&p->s);
	pthread_mutex_unlock(&p->mtx);
}

int pci_host_save(struct pci_host *p, void *buf, size_t len)
{
	if (len == 0)
		return sizeof(p->s);
	if (len < sizeof(p->s))
		return -ENOSPC;
	pthread_mutex_lock(&p->mtx);
	memcpy(buf, &p->s, sizeof(p->s));
	pthread_mutex_unlock(&p->mtx);
	return sizeof(p->s);
}

int pci_host_restore(struct pci_host *p, const void *buf, size_t len)
{
	struct pci_host_state s, ref;

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.magic != STATE_MAGIC || (s.addr & ~ADDR_MASK) ||
	    (s.rcr & ~RCR_MASK))
		return -EINVAL;
	/* Read-only registers must be what the bridge has. */
	power_on(&ref);
	for (unsigned i = 0; i < CONF_SIZE; i++) {
		if ((s.conf[i] ^ ref.conf[i]) & ~wmask(i))
			return -EINVAL;
	}
	pthread_mutex_lock(&p->mtx);
	p->s = s;
	pthread_mutex_unlock(&p->mtx);
	return 0;
}
