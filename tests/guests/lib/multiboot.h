/*
 * multiboot.h: the Multiboot 1 information structure, as the boot loader
 * (vitro, on both boot paths) hands it to a guest.
 *
 * Layouts only; all addresses in it are 32-bit physical addresses, and the
 * guests run with those identity-mapped.
 */
#ifndef GUESTS_MULTIBOOT_H
#define GUESTS_MULTIBOOT_H

#include <stdint.h>

#define MB_INFO_MEMORY 0x001 /* mem_lower, mem_upper */
#define MB_INFO_BOOTDEV 0x002
#define MB_INFO_CMDLINE 0x004
#define MB_INFO_MODS 0x008
#define MB_INFO_AOUT_SYMS 0x010
#define MB_INFO_ELF_SHDR 0x020
#define MB_INFO_MEM_MAP 0x040

/* Multiboot header flags a kernel may request. */
#define MB_HEADER_PAGE_ALIGN 0x1 /* modules on 4 KiB boundaries */
#define MB_HEADER_MEMORY_INFO 0x2 /* mem_* and the memory map */

#define MB_MEMORY_AVAILABLE 1

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
};

struct mb_module {
	uint32_t mod_start;
	uint32_t mod_end; /* first byte after the module */
	uint32_t string;
	uint32_t reserved;
};

/* `size` does not count itself: the next entry is at +size+4. */
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
};

#endif
