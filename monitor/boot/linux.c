/*
 * linux.c: Linux kernels, booted without firmware as Firecracker does.
 *
 * A vmlinux is an ELF64 x86-64 executable that carries an ELF note of
 * owner "Linux" (the build salt every kernel since 4.18 has) or "Xen"; its
 * segments load at their physical addresses.  With the Xen PHYS32_ENTRY
 * note it is entered through PVH (32-bit protected mode, EBX = struct
 * hvm_start_info), else through the 64-bit boot protocol (long mode,
 * RSI = the zero page).  A bzImage (setup header "HdrS", protocol 2.08 or
 * later, a 64-bit kernel) has its payload decompressed here on the host;
 * the vmlinux in it is entered through the 64-bit boot protocol, with the
 * bzImage's own setup header in the zero page.
 *
 * The command line goes to BOOT_CMDLINE_ADDR, the initrd page-aligned at
 * the top of low memory (below the kernel's initrd_addr_max and above the
 * kernel), the zero page to LINUX_BOOT_PARAMS_ADDR or the start info to
 * LINUX_PVH_INFO_ADDR; both point at the ACPI tables at ACPI_TABLES_ADDR.
 * Pure and stateless, like the rest of the loader.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "monitor/boot/linux_boot.h"
#include "monitor/boot/loader_int.h"
#include "monitor/platform.h"

#define LINUX_PVH_MEMMAP_ADDR (LINUX_PVH_INFO_ADDR + 0x40)
#define LINUX_PVH_MODLIST_ADDR BOOT_MODS_ADDR
#define LINUX_E820_MAX 4 /* the map below never has more */
#define LINUX_INITRD_ADDR_MAX_DEFAULT 0x37ffffff /* before protocol 2.03 */

_Static_assert(LINUX_PVH_INFO_ADDR + sizeof(struct hvm_start_info) <=
		       LINUX_PVH_MEMMAP_ADDR,
	       "start info fits before its memory map");
_Static_assert(LINUX_PVH_MEMMAP_ADDR +
			       LINUX_E820_MAX *
				       sizeof(struct hvm_memmap_table_entry) <=
		       LINUX_PVH_MODLIST_ADDR,
	       "memory map fits before the module list");
_Static_assert(LINUX_PVH_MODLIST_ADDR + sizeof(struct hvm_modlist_entry) <=
		       BOOT_CMDLINE_ADDR,
	       "module list fits before the command line");
_Static_assert(BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX <= LINUX_BOOT_PARAMS_ADDR,
	       "command line fits before the zero page");
_Static_assert(LINUX_BOOT_PARAMS_ADDR + sizeof(struct linux_boot_params) <=
		       BOOT_INFO_END,
	       "zero page lies in the boot area");

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A note's owner is `owner` (namesz counts the NUL). */
static bool note_owner(const uint8_t *name, uint32_t namesz, const char *owner)
{
	size_t n = strlen(owner) + 1;

	return namesz == n && memcmp(name, owner, n) == 0;
}

/*
 * Scan an ELF64 x86-64 file's PT_NOTE segments for Linux's notes.
 * Returns false (not a vmlinux, or too broken to tell) without a "Linux"
 * or "Xen" note; the ELF probe judges the rest.
 */
static bool linux_notes(const uint8_t *data, size_t len,
			struct loader_linux *lx)
{
	bool found = false;
	Elf64_Ehdr eh;
	unsigned int i;

	if (!loader_is_elf(data, len) || len < sizeof(eh) ||
	    data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		return false;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_machine != EM_X86_64 || eh.e_phentsize < sizeof(Elf64_Phdr) ||
	    !loader_range_in(eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize,
			     len))
		return false;
	for (i = 0; i < eh.e_phnum; i++) {
		const uint8_t *n;
		uint64_t left;
		Elf64_Phdr ph;

		memcpy(&ph, data + eh.e_phoff + (uint64_t)i * eh.e_phentsize,
		       sizeof(ph));
		if (ph.p_type != PT_NOTE ||
		    !loader_range_in(ph.p_offset, ph.p_filesz, len))
			continue;
		n = data + ph.p_offset;
		left = ph.p_filesz;
		while (left >= 12) {
			uint32_t namesz = loader_le32(n);
			uint32_t descsz = loader_le32(n + 4);
			uint32_t type = loader_le32(n + 8);
			uint64_t name_len = ((uint64_t)namesz + 3) & ~3ULL;
			uint64_t desc_len = ((uint64_t)descsz + 3) & ~3ULL;
			const uint8_t *desc = n + 12 + name_len;

			if (name_len > left - 12 ||
			    desc_len > left - 12 - name_len)
				break;
			if (note_owner(n + 12, namesz, "Linux")) {
				found = true;
			} else if (note_owner(n + 12, namesz, "Xen")) {
				found = true;
				if (type == XEN_ELFNOTE_PHYS32_ENTRY &&
				    (descsz == 4 || descsz == 8)) {
					lx->has_pvh = true;
					lx->pvh_entry =
						descsz == 4 ?
							loader_le32(desc) :
							le64(desc);
				}
			}
			n += 12 + name_len + desc_len;
			left -= 12 + name_len + desc_len;
		}
	}
	return found;
}

/* Is [a, a + 1) inside a loaded segment?  Then it is a physical entry. */
static bool in_segment(const struct loader_image *img, uint64_t a)
{
	for (unsigned int i = 0; i < img->nsegs; i++)
		if (a >= img->segs[i].paddr &&
		    a - img->segs[i].paddr < img->segs[i].memsz)
			return true;
	return false;
}

/* Plan a vmlinux whose notes are in lx; `what` names it in messages. */
static int vmlinux_plan(const uint8_t *data, size_t len,
			struct loader_image *img, const char *what, char *msg,
			size_t msglen)
{
	struct loader_linux lx = img->lx;
	char sub[LOADER_MSG_MAX];
	Elf64_Ehdr eh;
	int err;

	err = loader_elf_parse(data, len, false, img, sub, sizeof(sub));
	if (err)
		return loader_fail(msg, msglen, err, "%s: %s", what, sub);
	memcpy(&eh, data, sizeof(eh));
	/* vmlinux's e_entry is physical (phys_startup_64): prefer it. */
	lx.entry64 = in_segment(img, eh.e_entry) ? eh.e_entry : img->entry;
	if (lx.has_pvh &&
	    (lx.pvh_entry > UINT32_MAX || !in_segment(img, lx.pvh_entry)))
		return loader_fail(
			msg, msglen, -EINVAL,
			"%s: the PVH entry note (Xen, type %d) points at 0x%llx, which is not in a loaded segment below 4 GiB",
			what, XEN_ELFNOTE_PHYS32_ENTRY,
			(unsigned long long)lx.pvh_entry);
	lx.kernel_len = len;
	img->lx = lx;
	img->entry_mode = lx.has_pvh ? LOADER_ENTRY_PVH : LOADER_ENTRY_LINUX64;
	img->entry = lx.has_pvh ? lx.pvh_entry : lx.entry64;
	return 0;
}

int loader_vmlinux_probe(const uint8_t *data, size_t len,
			 struct loader_image *img, char *msg, size_t msglen)
{
	int err;

	memset(&img->lx, 0, sizeof(img->lx));
	if (!linux_notes(data, len, &img->lx))
		return -ENOENT;
	err = vmlinux_plan(data, len, img, "vmlinux", msg, msglen);
	if (err)
		return err;
	img->format = LOADER_FMT_LINUX_ELF;
	img->lx.cmdline_max = LINUX_VMLINUX_CMDLINE_MAX;
	img->lx.initrd_addr_max = UINT32_MAX;
	return 0;
}

static int bz_header(const uint8_t *data, size_t len,
		     struct linux_setup_header *h, struct loader_linux *lx,
		     char *msg, size_t msglen)
{
	size_t hlen;

	lx->version = le16(data + 0x206);
	if (lx->version < LINUX_PROTO_MIN)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"bzImage boot protocol version %u.%02u is too old; vitro needs 2.08 or later (payload_offset and payload_length)",
			lx->version >> 8, lx->version & 0xff);
	/* The header ends where its first jump lands, at 0x202 + byte. */
	hlen = 0x202 + (size_t)data[0x201] - LINUX_SETUP_HDR_OFF;
	if (hlen > sizeof(*h))
		hlen = sizeof(*h);
	if (len < LINUX_SETUP_HDR_OFF + hlen ||
	    hlen < offsetof(struct linux_setup_header, setup_data))
		return loader_fail(
			msg, msglen, -EINVAL,
			"bzImage setup header is truncated: the file is %zu bytes, a version %u.%02u header ends at 0x%zx",
			len, lx->version >> 8, lx->version & 0xff,
			(size_t)LINUX_SETUP_HDR_OFF +
				offsetof(struct linux_setup_header,
					 setup_data));
	memset(h, 0, sizeof(*h));
	memcpy(h, data + LINUX_SETUP_HDR_OFF, hlen);
	memcpy(lx->hdr, data + LINUX_SETUP_HDR_OFF, hlen);
	lx->hdr_len = hlen;
	lx->has_hdr = true;
	if (!(h->loadflags & LINUX_LOADED_HIGH))
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"a zImage (loadflags without LOADED_HIGH), which loads below 1 MiB; vitro boots bzImages");
	if (!(h->xloadflags & LINUX_XLF_KERNEL_64))
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"bzImage is not a 64-bit kernel (xloadflags 0x%x lacks XLF_KERNEL_64); vitro boots x86-64 Linux",
			h->xloadflags);
	return 0;
}

int loader_bzimage_probe(const uint8_t *data, size_t len,
			 struct loader_image *img, char *msg, size_t msglen)
{
	struct linux_setup_header h;
	struct loader_linux lx = { 0 };
	const char *comp = NULL;
	uint64_t pm, off;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int err;

	if (len < 0x206 || le16(data + 0x1fe) != LINUX_BOOT_FLAG ||
	    loader_le32(data + 0x202) != LINUX_HDRS_MAGIC)
		return -ENOENT;
	err = bz_header(data, len, &h, &lx, msg, msglen);
	if (err)
		return err;
	pm = (uint64_t)((h.setup_sects ? h.setup_sects :
					 LINUX_DEFAULT_SETUP_SECTS) +
			1) *
	     LINUX_SECTOR;
	off = pm + h.payload_offset;
	if (h.payload_length < 4 ||
	    !loader_range_in(off, h.payload_length, len))
		return loader_fail(
			msg, msglen, -EINVAL,
			"bzImage payload [0x%llx, +0x%x) is not inside the %zu-byte file (truncated?)",
			(unsigned long long)off, h.payload_length, len);
	err = loader_linux_decompress(data + off, h.payload_length, &comp, &out,
				      &outlen, msg, msglen);
	if (err)
		return err;
	lx.compression = comp;
	lx.compressed_len = h.payload_length;
	lx.file = data;
	lx.pm_off = pm;
	lx.pm_len = len - pm;
	lx.pref_address = h.pref_address;
	lx.init_size = h.init_size;
	if (!loader_is_elf(out, outlen)) {
		err = loader_fail(
			msg, msglen, -EINVAL,
			"bzImage payload (%s) decompresses to %zu bytes that are not an ELF vmlinux",
			comp, outlen);
		free(out);
		return err;
	}
	img->lx = lx;
	linux_notes(out, outlen, &img->lx);
	err = vmlinux_plan(out, outlen, img, "bzImage's decompressed vmlinux",
			   msg, msglen);
	if (err) {
		free(out);
		return err;
	}
	img->format = LOADER_FMT_LINUX_BZIMAGE;
	img->entry_mode = LOADER_ENTRY_LINUX64;
	img->entry = img->lx.entry64;
	img->data = out;
	img->len = outlen;
	img->owned = out;
	img->lx.cmdline_max = h.cmdline_size;
	img->lx.initrd_addr_max = h.initrd_addr_max ?
					  h.initrd_addr_max :
					  LINUX_INITRD_ADDR_MAX_DEFAULT;
	return 0;
}

bool loader_is_linux(const struct loader_image *img)
{
	return img && (img->format == LOADER_FMT_LINUX_ELF ||
		       img->format == LOADER_FMT_LINUX_BZIMAGE);
}

int loader_set_entry(struct loader_image *img, enum loader_entry mode,
		     char *msg, size_t msglen)
{
	if (!loader_is_linux(img))
		return loader_fail(
			msg, msglen, -EINVAL,
			"entry=%s is for Linux kernels; this is a %s image",
			loader_entry_name(mode),
			img ? loader_format_name(img->format) : "missing");
	if (mode == LOADER_ENTRY_PVH) {
		if (!img->lx.has_pvh)
			return loader_fail(
				msg, msglen, -EINVAL,
				"entry=pvh: the kernel has no PVH entry note (ELF note Xen, type %d; build it with CONFIG_PVH)",
				XEN_ELFNOTE_PHYS32_ENTRY);
		img->entry = img->lx.pvh_entry;
	} else if (mode == LOADER_ENTRY_LINUX64) {
		img->entry = img->lx.entry64;
	} else {
		return loader_fail(
			msg, msglen, -EINVAL,
			"a Linux kernel is entered through pvh or linux64, not %s",
			loader_entry_name(mode));
	}
	img->entry_mode = mode;
	return 0;
}

int loader_set_self_decompress(struct loader_image *img, char *msg,
			       size_t msglen)
{
	struct loader_linux *lx;
	struct loader_segment *sg;
	uint64_t load;

	if (!img || img->format != LOADER_FMT_LINUX_BZIMAGE || !img->lx.file)
		return loader_fail(
			msg, msglen, -EINVAL,
			"entry=bzimage is for bzImages; this is a %s image",
			img ? loader_format_name(img->format) : "missing");
	lx = &img->lx;
	sg = &img->segs[0];
	load = lx->pref_address;
	if (load < KERNEL_MIN_ADDR || load % LOADER_PAGE_SIZE ||
	    lx->init_size < lx->pm_len)
		return loader_fail(
			msg, msglen, -EINVAL,
			"entry=bzimage: the setup header's pref_address 0x%llx or init_size 0x%x is unusable",
			(unsigned long long)load, lx->init_size);
	img->nsegs = 1;
	memset(sg, 0, sizeof(*sg));
	snprintf(sg->what, sizeof(sg->what), "protected-mode kernel");
	sg->offset = lx->pm_off;
	sg->filesz = lx->pm_len;
	sg->memsz = lx->init_size;
	sg->paddr = load;
	/* Segments copy from img->data: the file, not the vmlinux. */
	img->data = lx->file;
	img->len = lx->pm_off + lx->pm_len;
	img->entry = load + LINUX_STARTUP_64_OFF;
	img->entry_mode = LOADER_ENTRY_LINUX64;
	lx->self_decompress = true;
	return 0;
}

int loader_entry_parse(const char *name, enum loader_entry *mode,
		       bool *self_decompress)
{
	*self_decompress = false;
	if (name && strcmp(name, "bzimage") == 0) {
		*mode = LOADER_ENTRY_LINUX64;
		*self_decompress = true;
	} else if (name && strcmp(name, "pvh") == 0)
		*mode = LOADER_ENTRY_PVH;
	else if (name && strcmp(name, "linux64") == 0)
		*mode = LOADER_ENTRY_LINUX64;
	else
		return -EINVAL;
	return 0;
}

void loader_image_free(struct loader_image *img)
{
	if (!img || !img->owned)
		return;
	free(img->owned);
	img->owned = NULL;
	img->data = NULL;
	img->len = 0;
}

int loader_linux_check(const struct loader_image *img,
		       const struct loader_params *p, uint64_t low_end,
		       struct loader_result *r, char *msg, size_t msglen)
{
	const struct loader_linux *lx = &img->lx;
	size_t cmd = p->cmdline ? strlen(p->cmdline) : 0;
	uint64_t top, addr, kend;

	if (p->nmodules)
		return loader_fail(
			msg, msglen, -EINVAL,
			"a Linux kernel takes one initrd, not %u Multiboot module%s",
			p->nmodules, p->nmodules == 1 ? "" : "s");
	if (p->initrd_len && !p->initrd)
		return loader_fail(msg, msglen, -EINVAL,
				   "initrd of %zu bytes without data",
				   p->initrd_len);
	if (cmd > lx->cmdline_max)
		return loader_fail(
			msg, msglen, -E2BIG,
			"command line too long (%zu bytes); this kernel takes at most %u (%s)",
			cmd, lx->cmdline_max,
			lx->has_hdr ? "its setup header's cmdline_size" :
				      "a vmlinux without a setup header");
	if (cmd >= BOOT_CMDLINE_MAX)
		return loader_fail(
			msg, msglen, -E2BIG,
			"command line too long (%zu bytes); at most %d fit",
			cmd, BOOT_CMDLINE_MAX - 1);
	r->initrd_start = 0;
	r->initrd_end = 0;
	if (!p->initrd_len)
		return 0;
	top = p->lowmem_size;
	if (lx->initrd_addr_max < top - 1)
		top = lx->initrd_addr_max + 1;
	kend = (low_end + LOADER_PAGE_SIZE - 1) & ~(LOADER_PAGE_SIZE - 1);
	addr = p->initrd_len <= top ?
		       (top - p->initrd_len) & ~(LOADER_PAGE_SIZE - 1) :
		       0;
	if (p->initrd_len > top || addr < kend)
		return loader_fail(
			msg, msglen, -ENOMEM,
			"initrd%s%s%s (%zu bytes) does not fit in memory: it must lie between the kernel's end 0x%llx and 0x%llx (%s)",
			p->initrd_name ? " '" : "",
			p->initrd_name ? p->initrd_name : "",
			p->initrd_name ? "'" : "", p->initrd_len,
			(unsigned long long)kend, (unsigned long long)top,
			top < p->lowmem_size ? "the kernel's initrd_addr_max" :
					       "the end of memory below 4 GiB");
	r->initrd_start = addr;
	r->initrd_end = addr + p->initrd_len;
	return 0;
}

/* RAM below the EBDA and from 1 MiB, the BIOS areas reserved, high RAM. */
static unsigned int linux_e820(const struct loader_params *p,
			       struct linux_e820_entry *e)
{
	unsigned int n = 0;

	e[n++] = (struct linux_e820_entry){ 0, LOWMEM_FREE_END, E820_TYPE_RAM };
	e[n++] = (struct linux_e820_entry){ LOWMEM_FREE_END,
					    KERNEL_MIN_ADDR - LOWMEM_FREE_END,
					    E820_TYPE_RESERVED };
	if (p->lowmem_size > KERNEL_MIN_ADDR)
		e[n++] = (struct linux_e820_entry){ KERNEL_MIN_ADDR,
						    p->lowmem_size -
							    KERNEL_MIN_ADDR,
						    E820_TYPE_RAM };
	if (p->highmem_size)
		e[n++] = (struct linux_e820_entry){ VM_HIGHMEM_BASE,
						    p->highmem_size,
						    E820_TYPE_RAM };
	return n;
}

static void write_pvh(uint8_t *boot, const struct loader_params *p,
		      const struct loader_result *r,
		      const struct linux_e820_entry *e, unsigned int ne)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = BOOT_CMDLINE_ADDR,
		.rsdp_paddr = ACPI_TABLES_ADDR,
		.memmap_paddr = LINUX_PVH_MEMMAP_ADDR,
		.memmap_entries = ne,
	};
	unsigned int i;

	for (i = 0; i < ne; i++) {
		struct hvm_memmap_table_entry m = { e[i].addr, e[i].size,
						    e[i].type, 0 };

		memcpy(boot + LINUX_PVH_MEMMAP_ADDR - BOOT_GDT_ADDR +
			       i * sizeof(m),
		       &m, sizeof(m));
	}
	if (p->initrd_len) {
		struct hvm_modlist_entry m = { .paddr = r->initrd_start,
					       .size = p->initrd_len };

		memcpy(boot + LINUX_PVH_MODLIST_ADDR - BOOT_GDT_ADDR, &m,
		       sizeof(m));
		si.nr_modules = 1;
		si.modlist_paddr = LINUX_PVH_MODLIST_ADDR;
	}
	memcpy(boot + LINUX_PVH_INFO_ADDR - BOOT_GDT_ADDR, &si, sizeof(si));
}

/* The boot area is zeroed already; the zero page's fields are packed. */
static void write_zero_page(uint8_t *boot, const struct loader_image *img,
			    const struct loader_params *p,
			    const struct loader_result *r,
			    const struct linux_e820_entry *e, unsigned int ne)
{
	const struct loader_linux *lx = &img->lx;
	struct linux_boot_params *bp =
		(void *)(boot + LINUX_BOOT_PARAMS_ADDR - BOOT_GDT_ADDR);

	if (lx->has_hdr)
		memcpy(&bp->hdr, lx->hdr, lx->hdr_len);
	else
		bp->hdr.kernel_alignment = LINUX_DEFAULT_ALIGN;
	bp->hdr.boot_flag = LINUX_BOOT_FLAG;
	bp->hdr.header = LINUX_HDRS_MAGIC;
	bp->hdr.type_of_loader = LINUX_LOADER_TYPE_UNDEFINED;
	bp->hdr.cmd_line_ptr = BOOT_CMDLINE_ADDR;
	bp->hdr.cmdline_size = lx->cmdline_max;
	bp->hdr.ramdisk_image = (uint32_t)r->initrd_start;
	bp->hdr.ramdisk_size = (uint32_t)p->initrd_len;
	bp->acpi_rsdp_addr = ACPI_TABLES_ADDR;
	bp->e820_entries = (uint8_t)ne;
	memcpy(bp->e820_table, e, ne * sizeof(*e));
}

void loader_linux_write(uint8_t *boot, const struct loader_image *img,
			const struct loader_params *p,
			const struct loader_result *r)
{
	struct linux_e820_entry e[LINUX_E820_MAX];
	unsigned int ne = linux_e820(p, e);
	size_t cmd = p->cmdline ? strlen(p->cmdline) : 0;

	memcpy(boot + BOOT_CMDLINE_ADDR - BOOT_GDT_ADDR,
	       p->cmdline ? p->cmdline : "", cmd + 1);
	if (img->entry_mode == LOADER_ENTRY_PVH)
		write_pvh(boot, p, r, e, ne);
	else
		write_zero_page(boot, img, p, r, e, ne);
}
