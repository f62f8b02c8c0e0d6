/*
 * loader.c: the loader's entry points: recognise an image (a table of
 * format probes), then place the plan in guest memory.
 *
 * loader_place() works in three passes so that a refusal leaves guest
 * memory alone: check every range against the memory layout, map every
 * range through the caller's callback, and only then write.  A new format
 * adds a probe to loader_formats and, if it needs its own boot
 * structures, an entry mode handled in loader_place(), as Linux's PVH and
 * 64-bit boot protocol entries are (linux.c).
 * Pure and stateless; see loader.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/boot/loader.h"
#include "monitor/boot/loader_int.h"
#include "monitor/boot/multiboot.h"
#include "monitor/platform.h"

/* Physical addresses stop at 52 bits on x86-64. */
#define LOADER_PHYS_LIMIT (1ULL << 52)

struct loader_format_ops {
	const char *name;
	int (*probe)(const uint8_t *data, size_t len, struct loader_image *img,
		     char *msg, size_t msglen);
};

/*
 * In order: a bzImage's setup header ("HdrS" and the boot flag) is solid
 * evidence, and comes first; a Multiboot header decides over the ELF
 * header, as in GRUB, so an ELF64 kernel with one is entered in 32-bit
 * mode; an ELF with Linux's notes is a vmlinux, any other ELF64 a plain
 * 64-bit kernel.
 */
static const struct loader_format_ops loader_formats[] = {
	{ "bzImage", loader_bzimage_probe },
	{ "Multiboot", loader_mb_probe },
	{ "vmlinux", loader_vmlinux_probe },
	{ "ELF", loader_elf_probe },
};

int loader_fail(char *msg, size_t msglen, int err, const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *loader_format_name(enum loader_format fmt)
{
	switch (fmt) {
	case LOADER_FMT_ELF64:
		return "ELF64 x86-64";
	case LOADER_FMT_MB_ELF32:
		return "Multiboot ELF32 i386";
	case LOADER_FMT_MB_ELF64:
		return "Multiboot ELF64 x86-64";
	case LOADER_FMT_MB_AOUT:
		return "Multiboot a.out kludge";
	case LOADER_FMT_LINUX_ELF:
		return "Linux vmlinux";
	case LOADER_FMT_LINUX_BZIMAGE:
		return "Linux bzImage";
	}
	return "unknown";
}

const char *loader_entry_name(enum loader_entry mode)
{
	switch (mode) {
	case LOADER_ENTRY_MB32:
		return "32-bit";
	case LOADER_ENTRY_LONG64:
		return "64-bit";
	case LOADER_ENTRY_PVH:
		return "pvh";
	case LOADER_ENTRY_LINUX64:
		return "linux64";
	}
	return "unknown";
}

int loader_parse(const void *data, size_t len, struct loader_image *img,
		 char *msg, size_t msglen)
{
	struct loader_image tmp;
	unsigned int i;
	int err;

	if (!img || (!data && len))
		return loader_fail(
			msg, msglen, -EINVAL,
			"loader_parse called without an image buffer or plan");
	if (len == 0)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"kernel image is empty (0 bytes); expected an ELF, Multiboot or Linux bzImage image");
	for (i = 0; i < sizeof(loader_formats) / sizeof(loader_formats[0]);
	     i++) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.data = data;
		tmp.len = len;
		err = loader_formats[i].probe(data, len, &tmp, msg, msglen);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		*img = tmp;
		return 0;
	}
	return loader_fail(
		msg, msglen, -ENOEXEC,
		"not a kernel vitro boots: no ELF magic, no Multiboot header in the first %d bytes, no Linux bzImage setup header",
		MB1_SEARCH_LEN);
}

/* "256 MiB", "3 GiB", "1536 KiB", "1000 bytes". */
static void fmt_size(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB",
					     "TiB" };
	unsigned int u = 0;

	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes &&
	       bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, n, "%" PRIu64 " %s", bytes, units[u]);
}

static int check_params(const struct loader_params *p, char *msg, size_t msglen)
{
	char size[32];
	unsigned int i;

	if (!p->map)
		return loader_fail(
			msg, msglen, -EINVAL,
			"loader called without a guest memory map callback");
	if (p->nmodules && !p->modules)
		return loader_fail(
			msg, msglen, -EINVAL,
			"loader called with %u modules but no module array",
			p->nmodules);
	if (p->lowmem_size < KERNEL_MIN_ADDR) {
		fmt_size(size, sizeof(size), p->lowmem_size);
		return loader_fail(
			msg, msglen, -EINVAL,
			"guest has %s of memory below 4 GiB; vitro needs at least 1 MiB for the boot area",
			size);
	}
	if (p->lowmem_size > VM_LOWMEM_LIMIT)
		return loader_fail(
			msg, msglen, -EINVAL,
			"low memory size 0x%llx is above the PCI hole at 0x%llx",
			(unsigned long long)p->lowmem_size, VM_LOWMEM_LIMIT);
	if (p->highmem_size > LOADER_PHYS_LIMIT - VM_HIGHMEM_BASE)
		return loader_fail(
			msg, msglen, -EINVAL,
			"high memory size 0x%llx reaches past the 52-bit physical address space",
			(unsigned long long)p->highmem_size);
	if (p->nmodules > LOADER_MAX_MODULES)
		return loader_fail(
			msg, msglen, -E2BIG,
			"too many modules (%u); at most %d fit in the Multiboot module list",
			p->nmodules, LOADER_MAX_MODULES);
	for (i = 0; i < p->nmodules; i++)
		if (p->modules[i].len && !p->modules[i].data)
			return loader_fail(
				msg, msglen, -EINVAL,
				"module %u has %zu bytes but no data", i,
				p->modules[i].len);
	return 0;
}

/* Does [start, end) lie in RAM the entry mode can reach? */
static bool seg_fits(const struct loader_params *p, enum loader_entry mode,
		     uint64_t start, uint64_t end)
{
	if (start >= KERNEL_MIN_ADDR && end <= p->lowmem_size)
		return true;
	return (mode == LOADER_ENTRY_LONG64 || mode == LOADER_ENTRY_LINUX64) &&
	       start >= VM_HIGHMEM_BASE &&
	       end - VM_HIGHMEM_BASE <= p->highmem_size;
}

static int seg_refuse(const struct loader_params *p, enum loader_entry mode,
		      const struct loader_segment *s, char *msg, size_t msglen)
{
	unsigned long long start = s->paddr, end = s->paddr + s->memsz;
	char size[32];

	if ((mode == LOADER_ENTRY_MB32 || mode == LOADER_ENTRY_PVH) &&
	    p->highmem_size)
		return loader_fail(
			msg, msglen, -ENOMEM,
			"%s [0x%llx, 0x%llx) is not in the RAM a %s kernel can use, [0x%x, 0x%llx)",
			s->what, start, end,
			mode == LOADER_ENTRY_PVH ? "PVH (32-bit entry)" :
						   "32-bit Multiboot",
			KERNEL_MIN_ADDR, (unsigned long long)p->lowmem_size);
	fmt_size(size, sizeof(size), p->lowmem_size + p->highmem_size);
	if (p->highmem_size)
		return loader_fail(
			msg, msglen, -ENOMEM,
			"%s [0x%llx, 0x%llx) does not fit in %s of guest memory (RAM is [0x%x, 0x%llx) and [0x%llx, 0x%llx))",
			s->what, start, end, size, KERNEL_MIN_ADDR,
			(unsigned long long)p->lowmem_size, VM_HIGHMEM_BASE,
			(unsigned long long)(VM_HIGHMEM_BASE +
					     p->highmem_size));
	return loader_fail(
		msg, msglen, -ENOMEM,
		"%s [0x%llx, 0x%llx) does not fit in %s of guest memory (kernels load into [0x%x, 0x%llx))",
		s->what, start, end, size, KERNEL_MIN_ADDR,
		(unsigned long long)p->lowmem_size);
}

/* Check the plan's segments; find the kernel's extent. */
static int check_segments(const struct loader_image *img,
			  const struct loader_params *p,
			  struct loader_result *r, uint64_t *low_end, char *msg,
			  size_t msglen)
{
	unsigned int i;

	if (img->nsegs == 0 || img->nsegs > LOADER_MAX_SEGMENTS)
		return loader_fail(
			msg, msglen, -EINVAL,
			"load plan has %u segments; expected 1 to %d",
			img->nsegs, LOADER_MAX_SEGMENTS);
	if (img->entry_mode != LOADER_ENTRY_MB32 &&
	    img->entry_mode != LOADER_ENTRY_LONG64 &&
	    img->entry_mode != LOADER_ENTRY_PVH &&
	    img->entry_mode != LOADER_ENTRY_LINUX64)
		return loader_fail(msg, msglen, -EINVAL,
				   "load plan has an unknown entry mode %d",
				   (int)img->entry_mode);
	r->kernel_start = UINT64_MAX;
	r->kernel_end = 0;
	*low_end = KERNEL_MIN_ADDR;
	for (i = 0; i < img->nsegs; i++) {
		const struct loader_segment *s = &img->segs[i];
		uint64_t end = s->paddr + s->memsz;

		if (s->filesz > s->memsz ||
		    (s->filesz &&
		     (!img->data ||
		      !loader_range_in(s->offset, s->filesz, img->len))))
			return loader_fail(
				msg, msglen, -EINVAL,
				"load plan: %s takes bytes [0x%llx, +0x%llx) from a %zu-byte image into %llu bytes of memory",
				s->what, (unsigned long long)s->offset,
				(unsigned long long)s->filesz, img->len,
				(unsigned long long)s->memsz);
		if (end < s->paddr ||
		    !seg_fits(p, img->entry_mode, s->paddr, end))
			return seg_refuse(p, img->entry_mode, s, msg, msglen);
		if (s->paddr < r->kernel_start)
			r->kernel_start = s->paddr;
		if (end > r->kernel_end)
			r->kernel_end = end;
		if (end <= p->lowmem_size && end > *low_end)
			*low_end = end;
	}
	if (img->entry < r->kernel_start || img->entry >= r->kernel_end)
		return loader_fail(
			msg, msglen, -EINVAL,
			"entry point 0x%llx is outside the kernel [0x%llx, 0x%llx)",
			(unsigned long long)img->entry,
			(unsigned long long)r->kernel_start,
			(unsigned long long)r->kernel_end);
	if ((img->entry_mode == LOADER_ENTRY_LONG64 ||
	     img->entry_mode == LOADER_ENTRY_LINUX64) &&
	    img->entry >= LOADER_PGTABLE_MAX_GIB * LOADER_GIB)
		return loader_fail(
			msg, msglen, -ENOMEM,
			"entry point 0x%llx lies above the %d GiB the boot page tables map",
			(unsigned long long)img->entry, LOADER_PGTABLE_MAX_GIB);
	return 0;
}

static int check_strings(const struct loader_params *p, char *msg,
			 size_t msglen)
{
	size_t total = loader_mb_strings_len(p);
	size_t cmd = p->cmdline ? strlen(p->cmdline) : 0;

	if (total <= BOOT_CMDLINE_MAX)
		return 0;
	if (cmd >= BOOT_CMDLINE_MAX - sizeof(LOADER_BOOT_LOADER_NAME))
		return loader_fail(
			msg, msglen, -E2BIG,
			"command line too long (%zu bytes); at most %zu fit",
			cmd,
			BOOT_CMDLINE_MAX - sizeof(LOADER_BOOT_LOADER_NAME) - 1);
	return loader_fail(
		msg, msglen, -E2BIG,
		"command line and module names too long (%zu bytes with their NULs); at most %d fit",
		total, BOOT_CMDLINE_MAX);
}

/* Modules go page-aligned after the kernel's highest byte in low memory. */
static int place_modules(const struct loader_params *p, uint64_t low_end,
			 uint64_t *mod_addr, struct loader_result *r, char *msg,
			 size_t msglen)
{
	uint64_t next =
		(low_end + LOADER_PAGE_SIZE - 1) & ~(LOADER_PAGE_SIZE - 1);
	unsigned int i;

	r->nmodules = p->nmodules;
	r->modules_start = 0;
	r->modules_end = 0;
	for (i = 0; i < p->nmodules; i++) {
		const struct loader_module *m = &p->modules[i];

		if (!loader_range_in(next, m->len, p->lowmem_size))
			return loader_fail(
				msg, msglen, -ENOMEM,
				"module %u (\"%.40s\", %zu bytes) does not fit in low memory: it would start at 0x%llx, but RAM below 4 GiB ends at 0x%llx",
				i, m->name ? m->name : "", m->len,
				(unsigned long long)next,
				(unsigned long long)p->lowmem_size);
		mod_addr[i] = next;
		if (i == 0)
			r->modules_start = next;
		r->modules_end = next + m->len;
		next = (next + m->len + LOADER_PAGE_SIZE - 1) &
		       ~(LOADER_PAGE_SIZE - 1);
	}
	return 0;
}

static void *map_range(const struct loader_params *p, uint64_t gpa,
		       uint64_t len, const char *what, int *err, char *msg,
		       size_t msglen)
{
	void *host;

	if (*err)
		return NULL;
	host = p->map(p->map_arg, gpa, len);
	if (!host)
		*err = loader_fail(
			msg, msglen, -EFAULT,
			"guest-physical [0x%llx, 0x%llx) for %s is not mapped RAM (the map callback returned NULL)",
			(unsigned long long)gpa,
			(unsigned long long)(gpa + len), what);
	return host;
}

/* Append to the log line, which stops, cut, at its end. */
static void desc_add(struct loader_result *r, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void desc_add(struct loader_result *r, size_t *n, const char *fmt, ...)
{
	size_t cap = sizeof(r->desc);
	va_list ap;
	int k;

	if (*n >= cap - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->desc + *n, cap - *n, fmt, ap);
	va_end(ap);
	*n += k > 0 && (size_t)k < cap - *n ? (size_t)k : cap - *n - 1;
}

static void describe_linux(const struct loader_image *img,
			   const struct loader_params *p,
			   struct loader_result *r)
{
	const struct loader_linux *lx = &img->lx;
	size_t n = 0;

	desc_add(r, &n, "%s", loader_format_name(img->format));
	if (lx->has_hdr)
		desc_add(r, &n, " (protocol %u.%02u)", lx->version >> 8,
			 lx->version & 0xff);
	if (lx->compression)
		desc_add(r, &n, ", %s %zu -> %zu bytes", lx->compression,
			 lx->compressed_len, lx->kernel_len);
	else
		desc_add(r, &n, ", %zu bytes", lx->kernel_len);
	desc_add(r, &n,
		 ": entry 0x%llx (%s), kernel [0x%llx, 0x%llx) in %u segment%s",
		 (unsigned long long)r->entry,
		 img->entry_mode == LOADER_ENTRY_PVH ? "PVH, 32-bit" :
						       "64-bit boot protocol",
		 (unsigned long long)r->kernel_start,
		 (unsigned long long)r->kernel_end, img->nsegs,
		 img->nsegs == 1 ? "" : "s");
	if (p->initrd_len)
		desc_add(r, &n, ", initrd [0x%llx, 0x%llx) %zu bytes",
			 (unsigned long long)r->initrd_start,
			 (unsigned long long)r->initrd_end, p->initrd_len);
	desc_add(r, &n, ", command line %zu bytes",
		 p->cmdline ? strlen(p->cmdline) : 0);
}

static void describe(const struct loader_image *img, struct loader_result *r)
{
	size_t n = 0, cap = sizeof(r->desc);
	int k;

	k = snprintf(
		r->desc, cap,
		"%s: entry 0x%llx (%s), kernel [0x%llx, 0x%llx) in %u segment%s",
		loader_format_name(img->format), (unsigned long long)r->entry,
		loader_entry_name(img->entry_mode),
		(unsigned long long)r->kernel_start,
		(unsigned long long)r->kernel_end, img->nsegs,
		img->nsegs == 1 ? "" : "s");
	n = k > 0 && (size_t)k < cap ? (size_t)k : cap - 1;
	if (r->nmodules) {
		k = snprintf(r->desc + n, cap - n,
			     ", %u module%s [0x%llx, 0x%llx)", r->nmodules,
			     r->nmodules == 1 ? "" : "s",
			     (unsigned long long)r->modules_start,
			     (unsigned long long)r->modules_end);
		n += k > 0 && (size_t)k < cap - n ? (size_t)k : cap - n - 1;
	}
	if (img->note)
		snprintf(r->desc + n, cap - n, "; %s", img->note);
}

int loader_place(const struct loader_image *img, const struct loader_params *p,
		 struct loader_result *res, char *msg, size_t msglen)
{
	uint64_t mod_addr[LOADER_MAX_MODULES];
	void *mod_host[LOADER_MAX_MODULES];
	void *seg_host[LOADER_MAX_SEGMENTS];
	uint8_t *boot, *pgt = NULL;
	struct loader_result r;
	unsigned int i, gib = 0;
	uint64_t low_end = KERNEL_MIN_ADDR;
	bool lx = loader_is_linux(img);
	void *initrd_host = NULL;
	int err;

	if (!img || !p || !res)
		return loader_fail(
			msg, msglen, -EINVAL,
			"loader_place called without a plan, parameters or result");
	memset(&r, 0, sizeof(r));
	err = check_params(p, msg, msglen);
	if (!err)
		err = check_segments(img, p, &r, &low_end, msg, msglen);
	if (!err && !lx && p->initrd)
		err = loader_fail(
			msg, msglen, -EINVAL,
			"an initrd is for a Linux kernel; a %s kernel takes Multiboot modules",
			loader_format_name(img->format));
	if (!err && lx)
		err = loader_linux_check(img, p, low_end, &r, msg, msglen);
	if (!err && !lx)
		err = check_strings(p, msg, msglen);
	if (!err && !lx)
		err = place_modules(p, low_end, mod_addr, &r, msg, msglen);
	if (err)
		return err;

	boot = map_range(p, BOOT_GDT_ADDR, LOADER_BOOT_AREA_LEN, "boot area",
			 &err, msg, msglen);
	if (img->entry_mode == LOADER_ENTRY_LONG64 ||
	    img->entry_mode == LOADER_ENTRY_LINUX64) {
		gib = loader_x86_pgtable_gib(p->highmem_size);
		pgt = map_range(p, BOOT_PGTABLE_ADDR,
				loader_x86_pgtable_len(gib), "boot page tables",
				&err, msg, msglen);
	}
	for (i = 0; i < img->nsegs; i++)
		seg_host[i] =
			map_range(p, img->segs[i].paddr, img->segs[i].memsz,
				  img->segs[i].what, &err, msg, msglen);
	if (r.initrd_end > r.initrd_start)
		initrd_host = map_range(p, r.initrd_start, p->initrd_len,
					"the initrd", &err, msg, msglen);
	for (i = 0; !lx && i < p->nmodules; i++) {
		mod_host[i] = NULL;
		if (p->modules[i].len)
			mod_host[i] =
				map_range(p, mod_addr[i], p->modules[i].len,
					  "a module", &err, msg, msglen);
	}
	if (err)
		return err;

	memset(boot, 0, LOADER_BOOT_AREA_LEN);
	loader_x86_write_gdt(boot, img->entry_mode);
	if (lx)
		loader_linux_write(boot, img, p, &r);
	else
		loader_mb_write_info(boot, p, mod_addr);
	if (pgt)
		loader_x86_write_pgtables(pgt, gib);
	for (i = 0; i < img->nsegs; i++) {
		const struct loader_segment *s = &img->segs[i];
		uint8_t *host = seg_host[i];

		if (s->filesz)
			memcpy(host, img->data + s->offset, s->filesz);
		memset(host + s->filesz, 0, s->memsz - s->filesz);
	}
	for (i = 0; !lx && i < p->nmodules; i++)
		if (p->modules[i].len)
			memcpy(mod_host[i], p->modules[i].data,
			       p->modules[i].len);
	if (initrd_host)
		memcpy(initrd_host, p->initrd, p->initrd_len);

	loader_x86_regs(img, p->nxe, &r);
	r.format = img->format;
	r.entry_mode = img->entry_mode;
	r.entry = img->entry;
	if (lx)
		describe_linux(img, p, &r);
	else
		describe(img, &r);
	*res = r;
	return 0;
}

int loader_load(const struct loader_params *p, struct loader_result *res,
		char *msg, size_t msglen)
{
	struct loader_image img;
	int err;

	if (!p)
		return loader_fail(msg, msglen, -EINVAL,
				   "loader_load called without parameters");
	err = loader_parse(p->image, p->image_len, &img, msg, msglen);
	if (err)
		return err;
	err = loader_place(&img, p, res, msg, msglen);
	loader_image_free(&img);
	return err;
}
