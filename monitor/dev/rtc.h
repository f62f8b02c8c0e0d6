/*
 * rtc.h: the CMOS RTC's ports, 0x70 (index, with the NMI-disable bit 7;
 * write only, reads all ones) and 0x71 (data): the chip itself is in the
 * vmm core (VM_RTC_* in vmm/vmm_dev.h), reached with vm_rtc_guest_read
 * and vm_rtc_guest_write.
 *
 * Save writes the index, the NMI bit and the chip (its time, registers A,
 * B and the alarm, and the NVRAM); restore puts them back through
 * libvmmapi.
 *
 * Threads.  One mutex guards the index; every function may be called from
 * any thread.
 */
#ifndef MONITOR_DEV_RTC_H
#define MONITOR_DEV_RTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT 0x71
#define RTC_NMI_DISABLE 0x80 /* in the index */

struct rtc_dev;
struct vmctx;
struct region_map;

/* The ports of ctx's RTC.  NULL with errno set. */
struct rtc_dev *rtc_dev_create(struct vmctx *ctx);
void rtc_dev_destroy(struct rtc_dev *r);

/*
 * Write the memory sizes a PC BIOS leaves in NVRAM (as bhyve does): KiB of
 * extended memory at 0x17/0x30, 64 KiB units above 16 MiB at 0x34 and
 * above 4 GiB at 0x5b.  0 or -errno.
 */
int rtc_dev_set_memsize(struct rtc_dev *r, uint64_t lowmem, uint64_t highmem);

uint8_t rtc_dev_read(struct rtc_dev *r, unsigned port);
void rtc_dev_write(struct rtc_dev *r, unsigned port, uint8_t val);
/* Whether the guest has NMIs disabled (bit 7 of the last index). */
bool rtc_dev_nmi_disabled(struct rtc_dev *r);

/* Register ports 0x70-0x71 as the region "rtc". */
int rtc_dev_register(struct rtc_dev *r, struct region_map *map);

/*
 * Reset: the index to 0 and NMIs enabled (the chip keeps its time and
 * NVRAM, as a battery-backed one does).  Save and restore as
 * i8042_save/i8042_restore; they return -errno from libvmmapi too.
 */
void rtc_dev_reset(struct rtc_dev *r);
int rtc_dev_save(struct rtc_dev *r, void *buf, size_t len);
int rtc_dev_restore(struct rtc_dev *r, const void *buf, size_t len);

#endif
