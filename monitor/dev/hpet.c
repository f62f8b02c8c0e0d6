/*
 * hpet.c: the HPET's MMIO window over the vmm core's HPET (see hpet.h).
 *
 * Locking: none here; the model's lock in vmm orders the accesses.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/dev/hpet.h"
#include "monitor/platform.h"
#include "monitor/region.h"

#define STATE_MAGIC 0x74657068 /* "hpet" */

/* Everything save writes: fixed-width fields. */
struct hpet_saved {
	uint32_t magic; /* STATE_MAGIC */
	uint32_t pad;
	struct vm_hpet_state s; /* the model */
};
_Static_assert(sizeof(struct hpet_saved) == 8 + sizeof(struct vm_hpet_state),
	       "struct hpet_saved changed size");

static int hpet_access(void *arg, int vcpuid, bool write, uint64_t addr,
		       unsigned size, uint64_t *val)
{
	struct vmctx *ctx = arg;
	uint32_t off = (uint32_t)(addr - HPET_BASE), sh = (off & 3) * 8;
	uint64_t v = 0;

	(void)vcpuid;
	if ((size == 4 || size == 8) && off % size == 0) {
		if (write)
			return vm_hpet_write(ctx, off, size, *val);
		if (vm_hpet_read(ctx, off, size, &v) < 0)
			v = 0;
		*val = v;
		return 0;
	}
	if (write)
		return 0;
	/* A byte or a word of one 32-bit register. */
	if ((off & 3) + size <= 4 && vm_hpet_read(ctx, off & ~3u, 4, &v) == 0)
		v >>= sh;
	else
		v = 0;
	*val = size >= 8 ? v : v & ((1ULL << (size * 8)) - 1);
	return 0;
}

int hpet_dev_register(struct vmctx *ctx, struct region_map *map)
{
	return region_register(map, "hpet", HPET_BASE, VM_HPET_MMIO_SIZE,
			       hpet_access, ctx);
}

int hpet_dev_reset(struct vmctx *ctx)
{
	struct vm_hpet_state s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < VM_HPET_NTIMERS; i++)
		s.timer[i].cmp = ~0ULL;
	return vm_hpet_set_state(ctx, &s);
}

int hpet_dev_save(struct vmctx *ctx, void *buf, size_t len)
{
	struct hpet_saved h = { .magic = STATE_MAGIC };
	int e;

	if (len == 0)
		return sizeof(h);
	if (len < sizeof(h))
		return -ENOSPC;
	if ((e = vm_hpet_get_state(ctx, &h.s)) < 0)
		return e;
	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

int hpet_dev_restore(struct vmctx *ctx, const void *buf, size_t len)
{
	struct hpet_saved h;

	if (len != sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != STATE_MAGIC || h.pad)
		return -EINVAL;
	return vm_hpet_set_state(ctx, &h.s);
}
