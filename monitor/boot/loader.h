/*
 * loader.h: guest kernel loaders.
 *
 * Formats: an ELF64 x86-64 kernel without a Multiboot header, entered in
 * 64-bit mode as monitor/platform.h describes; a Multiboot 1 kernel (ELF32
 * i386, ELF64 x86-64 with 32-bit entry code, or any file through the
 * header's address fields, the "a.out kludge"), entered in 32-bit
 * protected mode.  Both get a Multiboot information structure.
 *
 * Linux (linux.c): a vmlinux (an ELF64 x86-64 with a "Linux" or "Xen" ELF
 * note) is entered through PVH when it has the Xen PHYS32_ENTRY note, else
 * through the 64-bit boot protocol; a bzImage's payload is decompressed on
 * the host (gzip, xz, lzma, zstd, lz4) and the vmlinux in it entered
 * through the 64-bit boot protocol with the bzImage's setup header.
 * loader_set_entry() picks the other entry.  The initrd is one file
 * (loader_params.initrd), placed at the top of low memory.  A bzImage's
 * plan owns the decompressed kernel: loader_image_free() releases it.
 *
 * Pure code: no KVM, no libvmmapi.  The monitor reads the files and hands
 * over their bytes, the guest memory layout and a callback that gives a
 * host pointer for a guest-physical range.  Loading has two steps:
 * loader_parse() validates the image alone and produces a plan, and
 * loader_place() checks the plan against guest memory, writes the kernel,
 * modules, boot GDT, boot information and page tables, and computes the
 * boot vCPU's registers.  Nothing in the image is trusted: every offset,
 * size, count and address is checked before use, and a refusal comes with
 * a sentence saying what is wrong and what was expected.
 *
 * An ELF e_entry that lies in a segment's virtual range is moved to the
 * matching physical address (as GRUB does); the entry must then lie in a
 * loaded segment.
 *
 * Threading: reentrant, no state.  The caller keeps the vCPUs stopped and
 * guest memory otherwise untouched while loading.
 *
 * Errors: 0 or -errno (-ENOEXEC not a format vitro boots, -EINVAL malformed
 * image or parameters, -ENOMEM does not fit in guest memory, -E2BIG too
 * many modules or strings too long, -EFAULT the map callback refused a
 * range that should be RAM).  On failure `msg` (when msglen > 0) holds the
 * reason and the out-parameters are untouched.
 */
#ifndef MONITOR_LOADER_H
#define MONITOR_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

#define LOADER_MAX_SEGMENTS 32 /* loadable segments of one image */
#define LOADER_MAX_MODULES 64 /* as many as BOOT_MODS_ADDR has room for */
#define LOADER_MAX_REGS 64 /* registers of the boot vCPU state */
#define LOADER_DESC_MAX 256 /* the log line, with the NUL */
#define LOADER_MSG_MAX 256 /* enough for any refusal message */
#define LOADER_PGTABLE_MAX_GIB 64 /* the 64-bit boot map stops here */

/* Host pointer to guest-physical [gpa, gpa+len), or NULL if not RAM. */
typedef void *(*loader_gpa_map_fn)(void *arg, uint64_t gpa, size_t len);

enum loader_format {
	LOADER_FMT_ELF64, /* ELF64 x86-64, 64-bit entry */
	LOADER_FMT_MB_ELF32, /* Multiboot, ELF32 i386 */
	LOADER_FMT_MB_ELF64, /* Multiboot, ELF64 x86-64, 32-bit entry */
	LOADER_FMT_MB_AOUT, /* Multiboot, header address fields */
	LOADER_FMT_LINUX_ELF, /* Linux vmlinux, ELF64 x86-64 */
	LOADER_FMT_LINUX_BZIMAGE, /* Linux bzImage, payload decompressed */
};

enum loader_entry {
	LOADER_ENTRY_MB32, /* Multiboot: protected mode, paging off */
	LOADER_ENTRY_LONG64, /* long mode, identity-mapped */
	LOADER_ENTRY_PVH, /* Linux PVH: protected mode, EBX = start info */
	LOADER_ENTRY_LINUX64, /* Linux 64-bit boot protocol: RSI = zero page */
};

#define LOADER_LINUX_HDR_MAX 128 /* bytes of setup header kept */

/* What a Linux image brings besides its segments. */
struct loader_linux {
	bool has_pvh; /* the PVH entry note is there */
	uint64_t pvh_entry; /* its physical entry point */
	uint64_t entry64; /* the 64-bit protocol's entry (e_entry) */
	bool has_hdr; /* a bzImage: hdr holds its setup header */
	uint16_t version; /* boot protocol version, 0 without a header */
	uint8_t hdr[LOADER_LINUX_HDR_MAX]; /* from offset 0x1f1 */
	size_t hdr_len;
	uint32_t cmdline_max; /* bytes, without the NUL */
	uint64_t initrd_addr_max; /* highest byte an initrd may use */
	const char *compression; /* "gzip"..., or NULL */
	size_t compressed_len; /* the bzImage's payload */
	size_t kernel_len; /* the vmlinux (decompressed) */
};

/* A boot module: bytes, and the string the kernel sees for it. */
struct loader_module {
	const char *name; /* name and arguments; NULL for "" */
	const void *data;
	size_t len;
};

/* Something to copy into guest memory. */
struct loader_segment {
	char what[24]; /* "ELF segment 3", for messages */
	uint64_t offset; /* in the image */
	uint64_t filesz; /* bytes copied from the image */
	uint64_t memsz; /* bytes in guest memory; past filesz zeroed */
	uint64_t paddr; /* guest-physical load address */
};

/* loader_parse's plan: what the image asks for, checked against itself. */
struct loader_image {
	enum loader_format format;
	enum loader_entry entry_mode;
	uint64_t entry; /* guest-physical entry point */
	unsigned int nsegs;
	struct loader_segment segs[LOADER_MAX_SEGMENTS];
	uint32_t mb_flags; /* the Multiboot header's flags, or 0 */
	const char *note; /* something the log should mention, or NULL */
	const uint8_t *data; /* the image, which place copies from */
	size_t len;
	struct loader_linux lx; /* Linux formats only */
	uint8_t *owned; /* data, when the loader allocated it */
};

struct loader_params {
	const void *image; /* the kernel file's bytes */
	size_t image_len;
	const char *cmdline; /* NULL for "" */
	const struct loader_module *modules; /* Multiboot kernels only */
	unsigned int nmodules;
	const void *initrd; /* Linux kernels only: the initrd, or NULL */
	size_t initrd_len;
	const char *initrd_name; /* for messages; NULL for "initrd" */
	uint64_t lowmem_size; /* RAM at [0, lowmem_size), <= VM_LOWMEM_LIMIT */
	uint64_t highmem_size; /* RAM at [VM_HIGHMEM_BASE, +highmem_size) */
	bool nxe; /* set EFER.NXE for a 64-bit entry (the CPU has NX) */
	loader_gpa_map_fn map;
	void *map_arg;
};

/* The boot vCPU, and what was loaded where. */
struct loader_result {
	unsigned int nregs; /* for one vm_set_register_set() call */
	int regnums[LOADER_MAX_REGS]; /* enum vm_reg_name */
	uint64_t regvals[LOADER_MAX_REGS];
	enum loader_format format;
	enum loader_entry entry_mode;
	uint64_t entry;
	uint64_t kernel_start; /* lowest byte the kernel occupies */
	uint64_t kernel_end; /* past its highest byte, bss included */
	unsigned int nmodules;
	uint64_t modules_start; /* first module's page (0 without modules) */
	uint64_t modules_end; /* past the last module's last byte */
	uint64_t initrd_start; /* Linux: the initrd's page, 0 without one */
	uint64_t initrd_end;
	char desc[LOADER_DESC_MAX]; /* one line for the log */
};

/*
 * Recognise and validate `len` bytes of kernel image.  `img` keeps a
 * pointer to `data`, which must stay valid until loader_place().
 */
int loader_parse(const void *data, size_t len, struct loader_image *img,
		 char *msg, size_t msglen);

/*
 * Load a parsed image with p's command line, modules and memory (p->image
 * is not used).  Everything is checked before guest memory is written.
 */
int loader_place(const struct loader_image *img, const struct loader_params *p,
		 struct loader_result *res, char *msg, size_t msglen);

/*
 * loader_parse() of p->image, then loader_place().  Typical use:
 *
 *	struct loader_params p = { .image = buf, .image_len = len,
 *		.cmdline = cmd, .lowmem_size = low, .highmem_size = high,
 *		.nxe = cpu_has_nx, .map = map_fn, .map_arg = ctx };
 *	if (loader_load(&p, &res, msg, sizeof(msg)) < 0)
 *		-> report msg, exit 4
 *	vm_set_register_set(vcpu0, res.nregs, res.regnums, res.regvals);
 *	-> log res.desc
 *
 * with map_fn(ctx, gpa, len) returning vm_map_gpa(ctx, gpa, len).  The
 * register set must be applied in one call: its parts (CR0.PG, EFER.LMA,
 * CS.L) are only consistent together.
 */
int loader_load(const struct loader_params *p, struct loader_result *res,
		char *msg, size_t msglen);

const char *loader_format_name(enum loader_format fmt);
const char *loader_entry_name(enum loader_entry mode);

/* Is the plan a Linux kernel (which takes an initrd, not modules)? */
bool loader_is_linux(const struct loader_image *img);

/*
 * Enter a Linux image through `mode` (LOADER_ENTRY_PVH or
 * LOADER_ENTRY_LINUX64) instead of the one loader_parse() chose; -EINVAL
 * if the image does not have that entry.
 */
int loader_set_entry(struct loader_image *img, enum loader_entry mode,
		     char *msg, size_t msglen);

/* "pvh" or "linux64" to the entry mode; -EINVAL otherwise. */
int loader_entry_parse(const char *name, enum loader_entry *mode);

/* Free what loader_parse() allocated (a bzImage's kernel); idempotent. */
void loader_image_free(struct loader_image *img);

#endif
