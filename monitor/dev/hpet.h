/*
 * hpet.h: the HPET's MMIO window at HPET_BASE (monitor/platform.h),
 * VM_HPET_MMIO_SIZE bytes: the timers themselves are in the vmm core
 * (VM_HPET_* in vmm/vmm_dev.h), reached with vm_hpet_read/vm_hpet_write.
 * 32- and 64-bit accesses go through as they are; a smaller read gets its
 * bytes of the 32-bit register around it, a smaller or misaligned write is
 * dropped (the spec allows neither).
 *
 * Save writes the model's whole state (vm_hpet_get_state) and restore puts
 * it back; reset returns the model to power-on state.
 *
 * Threads: no state here; every function may be called from any thread.
 */
#ifndef MONITOR_DEV_HPET_H
#define MONITOR_DEV_HPET_H

#include <stddef.h>

struct vmctx;
struct region_map;

/* Register the window as the region "hpet". */
int hpet_dev_register(struct vmctx *ctx, struct region_map *map);

/* As i8042_save/i8042_restore; they return -errno from libvmmapi too. */
int hpet_dev_reset(struct vmctx *ctx);
int hpet_dev_save(struct vmctx *ctx, void *buf, size_t len);
int hpet_dev_restore(struct vmctx *ctx, const void *buf, size_t len);

#endif
