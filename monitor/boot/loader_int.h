/*
 * loader_int.h: what the loader's files share (not for other modules).
 *
 * loader.c dispatches over the formats and places a plan in guest memory;
 * loader_elf.c and loader_multiboot.c parse images into plans;
 * loader_multiboot.c also writes the Multiboot information structure and
 * loader_x86.c the boot GDT, page tables and vCPU registers; linux.c
 * recognises Linux kernels and writes their boot structures, and
 * linux_decompress.c unpacks a bzImage's payload.  All pure and stateless.
 */
#ifndef MONITOR_LOADER_INT_H
#define MONITOR_LOADER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "monitor/boot/loader.h"
#include "monitor/platform.h"

#define LOADER_PAGE_SIZE 4096ULL
#define LOADER_GIB (1ULL << 30)
#define LOADER_BOOT_LOADER_NAME "vitro" /* for the Multiboot information */
#define LOADER_LINUX_KERNEL_MAX (1024ULL << 20) /* decompressed vmlinux */

/* Format `fmt` into msg (if any) and return err. */
int loader_fail(char *msg, size_t msglen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Is [off, off + size) within [0, total)?  Overflow-safe. */
static inline bool loader_range_in(uint64_t off, uint64_t size, uint64_t total)
{
	return off <= total && size <= total - off;
}

static inline uint32_t loader_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Format probes, tried in order by loader_parse().  Each returns 0 with
 * `img` filled when the image is its format and valid, -ENOENT when the
 * image is not its format (msg untouched), or another -errno with msg
 * filled when it is its format but cannot be loaded.  img->data and
 * img->len are set by the caller.
 */
int loader_mb_probe(const uint8_t *data, size_t len, struct loader_image *img,
		    char *msg, size_t msglen);
int loader_elf_probe(const uint8_t *data, size_t len, struct loader_image *img,
		     char *msg, size_t msglen);
int loader_bzimage_probe(const uint8_t *data, size_t len,
			 struct loader_image *img, char *msg, size_t msglen);
int loader_vmlinux_probe(const uint8_t *data, size_t len,
			 struct loader_image *img, char *msg, size_t msglen);

/*
 * Decompress a bzImage payload by its magic into a new malloc'd buffer;
 * *name is the compression's name.  -ENOEXEC for an unknown or
 * unsupported compression, -EINVAL corrupt or truncated, -E2BIG larger
 * than LOADER_LINUX_KERNEL_MAX, -ENOMEM.
 */
int loader_linux_decompress(const uint8_t *in, size_t len, const char **name,
			    uint8_t **out, size_t *outlen, char *msg,
			    size_t msglen);

/* The Linux part of loader_place(): checks, then writes. */
int loader_linux_check(const struct loader_image *img,
		       const struct loader_params *p, uint64_t low_end,
		       struct loader_result *r, char *msg, size_t msglen);
/* Command line and zero page or start info into the boot area. */
void loader_linux_write(uint8_t *boot, const struct loader_image *img,
			const struct loader_params *p,
			const struct loader_result *r);

bool loader_is_elf(const uint8_t *data, size_t len);

/*
 * Load plan from the ELF program headers.  With `multiboot` the image has
 * a Multiboot header and is entered in 32-bit mode: ELF32 i386 or ELF64
 * x86-64 are accepted; without, only ELF64 x86-64.
 */
int loader_elf_parse(const uint8_t *data, size_t len, bool multiboot,
		     struct loader_image *img, char *msg, size_t msglen);

/*
 * The boot area: guest-physical [BOOT_GDT_ADDR, BOOT_INFO_END), which
 * holds the GDT and everything the Multiboot information points to.
 * Writers get its host address and store at (gpa - BOOT_GDT_ADDR).
 */
#define LOADER_BOOT_AREA_LEN (BOOT_INFO_END - BOOT_GDT_ADDR)

/* Bytes of strings at BOOT_CMDLINE_ADDR, NULs included; SIZE_MAX if huge. */
size_t loader_mb_strings_len(const struct loader_params *p);

/* The information structure, memory map, module list and strings. */
void loader_mb_write_info(uint8_t *boot, const struct loader_params *p,
			  const uint64_t *mod_addr);

/* The boot GDT for the entry mode. */
void loader_x86_write_gdt(uint8_t *boot, enum loader_entry mode);

/* Page directories (one per GiB) the 64-bit boot map needs. */
unsigned int loader_x86_pgtable_gib(uint64_t highmem_size);

/* Bytes of page tables at BOOT_PGTABLE_ADDR for `gib` page directories. */
size_t loader_x86_pgtable_len(unsigned int gib);

/* Identity-map [0, gib GiB) with 2 MiB pages; `host` is BOOT_PGTABLE_ADDR. */
void loader_x86_write_pgtables(uint8_t *host, unsigned int gib);

/* The boot vCPU's registers for img's entry mode. */
void loader_x86_regs(const struct loader_image *img, bool nxe,
		     struct loader_result *res);

#endif
