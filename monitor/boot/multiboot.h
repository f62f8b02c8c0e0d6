/*
 * multiboot.h: Multiboot 1 (specification 0.6.96) structures, as the
 * kernel image and the guest memory hold them: little-endian, packed.
 *
 * Only definitions; the loader (loader_multiboot.c) fills them and tests
 * read them back.
 */
#ifndef MONITOR_MULTIBOOT_H
#define MONITOR_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/platform.h"

#define MB1_SEARCH_LEN 8192 /* the header lies in the first 8 KiB */
#define MB1_HEADER_ALIGN 4

/* Header flags: bits 0-15 are requirements, 16-31 optional features. */
#define MB1_HDR_PAGE_ALIGN (1u << 0) /* modules on 4 KiB boundaries */
#define MB1_HDR_MEMORY_INFO (1u << 1) /* mem_* and mmap wanted */
#define MB1_HDR_VIDEO_MODE (1u << 2) /* mode_type..depth valid */
#define MB1_HDR_ADDRESS (1u << 16) /* header_addr..entry_addr valid */
#define MB1_HDR_REQUIRED_MASK 0xffffu

/* The header in the image; which fields exist depends on the flags. */
struct mb1_header {
	uint32_t magic; /* MULTIBOOT_HEADER_MAGIC */
	uint32_t flags;
	uint32_t checksum; /* magic + flags + checksum == 0 */
	uint32_t header_addr; /* MB1_HDR_ADDRESS: where magic is loaded */
	uint32_t load_addr; /* where file offset (header - ...) goes */
	uint32_t load_end_addr; /* end of text+data, 0: end of file */
	uint32_t bss_end_addr; /* end of bss, 0: none */
	uint32_t entry_addr;
	uint32_t mode_type; /* MB1_HDR_VIDEO_MODE */
	uint32_t width;
	uint32_t height;
	uint32_t depth;
} __attribute__((packed));

#define MB1_HEADER_BASE_LEN 12 /* magic, flags, checksum */
#define MB1_HEADER_ADDR_LEN 32 /* ... entry_addr */
#define MB1_HEADER_VIDEO_LEN 48 /* ... depth */

/* Information structure flags: which fields are valid. */
#define MB1_INFO_MEMORY (1u << 0) /* mem_lower, mem_upper */
#define MB1_INFO_BOOTDEV (1u << 1)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3) /* mods_count, mods_addr */
#define MB1_INFO_AOUT_SYMS (1u << 4)
#define MB1_INFO_ELF_SHDR (1u << 5)
#define MB1_INFO_MMAP (1u << 6) /* mmap_length, mmap_addr */
#define MB1_INFO_DRIVES (1u << 7)
#define MB1_INFO_CONFIG_TABLE (1u << 8)
#define MB1_INFO_BOOT_LOADER_NAME (1u << 9)
#define MB1_INFO_APM_TABLE (1u << 10)
#define MB1_INFO_VBE (1u << 11)
#define MB1_INFO_FRAMEBUFFER (1u << 12)

/* The information structure, at BOOT_INFO_ADDR; EBX/RDI points to it. */
struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB of RAM from 0 */
	uint32_t mem_upper; /* KiB of RAM from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline; /* physical address of a C string */
	uint32_t mods_count;
	uint32_t mods_addr; /* physical address of struct mb1_module[] */
	uint32_t syms[4];
	uint32_t mmap_length; /* bytes of memory map */
	uint32_t mmap_addr; /* physical address of the first entry */
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name; /* physical address of a C string */
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch;
	uint32_t framebuffer_width;
	uint32_t framebuffer_height;
	uint8_t framebuffer_bpp;
	uint8_t framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));

/*
 * A memory map entry.  `size` counts the bytes after itself, so the next
 * entry is at (address of size) + size + 4; mmap_addr points at `size`.
 */
struct mb1_mmap_entry {
	uint32_t size; /* 20 */
	uint64_t base_addr;
	uint64_t length;
	uint32_t type; /* MB1_MEM_* */
} __attribute__((packed));

#define MB1_MEM_AVAILABLE 1
#define MB1_MEM_RESERVED 2

/* A module: [mod_start, mod_end) and its string. */
struct mb1_module {
	uint32_t mod_start;
	uint32_t mod_end; /* exclusive, as GRUB and QEMU set it */
	uint32_t string; /* physical address of a C string */
	uint32_t reserved; /* 0 */
} __attribute__((packed));

_Static_assert(sizeof(struct mb1_header) == MB1_HEADER_VIDEO_LEN,
	       "Multiboot header layout");
_Static_assert(offsetof(struct mb1_header, entry_addr) + 4 ==
		       MB1_HEADER_ADDR_LEN,
	       "Multiboot header address fields");
_Static_assert(offsetof(struct mb1_info, mmap_length) == 44,
	       "Multiboot info: mmap_length at 44");
_Static_assert(offsetof(struct mb1_info, boot_loader_name) == 64,
	       "Multiboot info: boot_loader_name at 64");
_Static_assert(offsetof(struct mb1_info, framebuffer_addr) == 88,
	       "Multiboot info: framebuffer_addr at 88");
_Static_assert(sizeof(struct mb1_info) == 116, "Multiboot info size");
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "mmap entry size");
_Static_assert(sizeof(struct mb1_module) == 16, "module entry size");

/* Room in the boot area (monitor/platform.h). */
_Static_assert(BOOT_INFO_ADDR + sizeof(struct mb1_info) <= BOOT_MMAP_ADDR,
	       "Multiboot info fits before the memory map");
_Static_assert(BOOT_MODS_ADDR + 64 * sizeof(struct mb1_module) <=
		       BOOT_CMDLINE_ADDR,
	       "64 module entries fit before the command line");

#endif
