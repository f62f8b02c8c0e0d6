/*
 * linux_boot.h: the x86 Linux boot protocol (Documentation/arch/x86/
 * boot.rst) and the PVH start info (xen/include/public/arch-x86/
 * hvm/start_info.h), as vitro's own definitions: the setup header of a
 * bzImage, the "zero page" (struct boot_params), e820 entries, and
 * hvm_start_info with its memory map and module list.
 *
 * Only types and constants, in the guest's (little-endian) layout; the
 * offsets are checked below.  No locking: nothing here has state.
 */
#ifndef MONITOR_LINUX_BOOT_H
#define MONITOR_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* bzImage: the setup header lies at LINUX_SETUP_HDR_OFF of the file. */
#define LINUX_SETUP_HDR_OFF 0x1f1
#define LINUX_BOOT_FLAG 0xaa55 /* at 0x1fe */
#define LINUX_HDRS_MAGIC 0x53726448 /* "HdrS" at 0x202 */
#define LINUX_SECTOR 512
#define LINUX_DEFAULT_SETUP_SECTS 4 /* setup_sects 0 means 4 */
#define LINUX_PROTO_MIN 0x0208 /* payload_offset, payload_length */

/* loadflags */
#define LINUX_LOADED_HIGH 0x01
#define LINUX_KEEP_SEGMENTS 0x40
#define LINUX_CAN_USE_HEAP 0x80

/* xloadflags */
#define LINUX_XLF_KERNEL_64 0x0001
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002

#define LINUX_LOADER_TYPE_UNDEFINED 0xff /* type_of_loader */
#define LINUX_VMLINUX_CMDLINE_MAX 2048 /* without a setup header */
#define LINUX_OLD_CMDLINE_MAX 255 /* protocol before 2.06 */
#define LINUX_DEFAULT_ALIGN 0x1000000 /* kernel_alignment of a vmlinux */

/* e820 entry types */
#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI 3
#define E820_TYPE_NVS 4
#define E820_TYPE_UNUSABLE 5

#define LINUX_E820_MAX_ZEROPAGE 128

struct linux_setup_header {
	uint8_t setup_sects; /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag; /* 0x1fe */
	uint16_t jump; /* 0x200 */
	uint32_t header; /* 0x202 */
	uint16_t version; /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader; /* 0x210 */
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image; /* 0x218 */
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr; /* 0x228 */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags; /* 0x236 */
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset; /* 0x248 */
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset; /* 0x268 */
} __attribute__((packed));

struct linux_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The zero page.  Offsets are from the start of the page. */
struct linux_boot_params {
	uint8_t screen_info[0x40]; /* 0x000 */
	uint8_t apm_bios_info[0x14]; /* 0x040 */
	uint8_t _pad2[4];
	uint64_t tboot_addr; /* 0x058 */
	uint8_t ist_info[0x10]; /* 0x060 */
	uint64_t acpi_rsdp_addr; /* 0x070 */
	uint8_t _pad3[8];
	uint8_t hd0_info[16]; /* 0x080 */
	uint8_t hd1_info[16];
	uint8_t sys_desc_table[16]; /* 0x0a0 */
	uint8_t olpc_ofw_header[16];
	uint32_t ext_ramdisk_image; /* 0x0c0 */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t _pad4[112];
	uint32_t cc_blob_address; /* 0x13c */
	uint8_t edid_info[0x80]; /* 0x140 */
	uint8_t efi_info[0x20]; /* 0x1c0 */
	uint32_t alt_mem_k; /* 0x1e0 */
	uint32_t scratch;
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t _pad5[2];
	uint8_t sentinel; /* 0x1ef */
	uint8_t _pad6[1];
	struct linux_setup_header hdr; /* 0x1f1 */
	uint8_t _pad7[0x290 - 0x1f1 - sizeof(struct linux_setup_header)];
	uint32_t edd_mbr_sig_buffer[16]; /* 0x290 */
	struct linux_e820_entry e820_table[LINUX_E820_MAX_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad8[48]; /* 0xcd0 */
	uint8_t eddbuf[6 * 82]; /* 0xd00 */
	uint8_t _pad9[276]; /* 0xeec */
} __attribute__((packed));

/* PVH: EBX points at this, in 32-bit protected mode with paging off. */
#define HVM_START_MAGIC 0x336ec578
#define HVM_START_VERSION 1 /* with the memory map */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820_TYPE_* */
	uint32_t reserved;
};

/* ELF notes that say "Linux": owner "Xen" type 18 is the PVH entry. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

_Static_assert(sizeof(struct linux_setup_header) == 0x26c - 0x1f1,
	       "setup header ends at 0x26c");
_Static_assert(offsetof(struct linux_setup_header, header) == 0x202 - 0x1f1,
	       "HdrS at 0x202");
_Static_assert(offsetof(struct linux_setup_header, type_of_loader) ==
		       0x210 - 0x1f1,
	       "type_of_loader at 0x210");
_Static_assert(offsetof(struct linux_setup_header, cmd_line_ptr) ==
		       0x228 - 0x1f1,
	       "cmd_line_ptr at 0x228");
_Static_assert(offsetof(struct linux_setup_header, xloadflags) == 0x236 - 0x1f1,
	       "xloadflags at 0x236");
_Static_assert(offsetof(struct linux_setup_header, payload_offset) ==
		       0x248 - 0x1f1,
	       "payload_offset at 0x248");
_Static_assert(offsetof(struct linux_setup_header, kernel_info_offset) ==
		       0x268 - 0x1f1,
	       "kernel_info_offset at 0x268");
_Static_assert(sizeof(struct linux_e820_entry) == 20, "e820 entry");
_Static_assert(sizeof(struct linux_boot_params) == 4096, "zero page");
_Static_assert(offsetof(struct linux_boot_params, acpi_rsdp_addr) == 0x070,
	       "acpi_rsdp_addr at 0x070");
_Static_assert(offsetof(struct linux_boot_params, ext_ramdisk_image) == 0x0c0,
	       "ext_ramdisk_image at 0x0c0");
_Static_assert(offsetof(struct linux_boot_params, e820_entries) == 0x1e8,
	       "e820_entries at 0x1e8");
_Static_assert(offsetof(struct linux_boot_params, sentinel) == 0x1ef,
	       "sentinel at 0x1ef");
_Static_assert(offsetof(struct linux_boot_params, hdr) == 0x1f1,
	       "hdr at 0x1f1");
_Static_assert(offsetof(struct linux_boot_params, e820_table) == 0x2d0,
	       "e820_table at 0x2d0");
_Static_assert(offsetof(struct linux_boot_params, eddbuf) == 0xd00,
	       "eddbuf at 0xd00");
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry");

#endif
