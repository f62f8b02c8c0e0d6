/*
 * loader_multiboot.c: Multiboot 1 kernels (specification 0.6.96), and the
 * Multiboot information structure every vitro kernel gets.
 *
 * The header is searched for in the first 8192 bytes at 4-byte alignment.
 * With flags bit 16 the header's address fields say what to load (the
 * "a.out kludge", which works for any file); otherwise the file must be
 * ELF.  Of the required flags (bits 0-15) vitro honours 0 (modules are
 * page-aligned anyway) and 1 (memory information is always given), and
 * ignores 2 (a video mode) with a note; any other required bit makes the
 * kernel unbootable, as the specification says.  Pure and stateless.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/boot/loader_int.h"
#include "monitor/boot/multiboot.h"
#include "monitor/platform.h"

#define MB1_HDR_KNOWN \
	(MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO | MB1_HDR_VIDEO_MODE)

/* Find a header with a good checksum: its offset, or -ENOENT / -EINVAL. */
static int mb_find(const uint8_t *data, size_t len, size_t *found, char *msg,
		   size_t msglen)
{
	size_t lim = len < MB1_SEARCH_LEN ? len : MB1_SEARCH_LEN;
	size_t off, bad = SIZE_MAX;
	uint32_t badsum = 0;

	for (off = 0; off + MB1_HEADER_BASE_LEN <= lim;
	     off += MB1_HEADER_ALIGN) {
		uint32_t magic = loader_le32(data + off);
		uint32_t sum;

		if (magic != MULTIBOOT_HEADER_MAGIC)
			continue;
		sum = magic + loader_le32(data + off + 4) +
		      loader_le32(data + off + 8);
		if (sum == 0) {
			*found = off;
			return 0;
		}
		if (bad == SIZE_MAX) {
			bad = off;
			badsum = sum;
		}
	}
	if (bad == SIZE_MAX)
		return -ENOENT;
	return loader_fail(
		msg, msglen, -EINVAL,
		"Multiboot header at offset 0x%zx has a bad checksum: magic + flags + checksum is 0x%08x, expected 0",
		bad, badsum);
}

/* Flags bit 16: load [load_addr, load_end_addr) from the file, then bss. */
static int mb_parse_aout(const struct mb1_header *h, size_t off, size_t len,
			 struct loader_image *img, char *msg, size_t msglen)
{
	struct loader_segment *s = &img->segs[0];
	uint64_t delta, foff, filesz, memsz;

	if (h->load_addr > h->header_addr)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot load_addr 0x%x is above header_addr 0x%x; load_addr must be at or below it",
			h->load_addr, h->header_addr);
	delta = h->header_addr - h->load_addr;
	if (delta > off)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot header_addr 0x%x and load_addr 0x%x put the load start 0x%llx bytes before the header, but the header is at file offset 0x%zx",
			h->header_addr, h->load_addr, (unsigned long long)delta,
			off);
	foff = off - delta;
	if (h->load_end_addr == 0) {
		filesz = len - foff;
	} else {
		if (h->load_end_addr < h->load_addr)
			return loader_fail(
				msg, msglen, -EINVAL,
				"Multiboot load_end_addr 0x%x is below load_addr 0x%x",
				h->load_end_addr, h->load_addr);
		filesz = h->load_end_addr - h->load_addr;
		if (filesz > len - foff)
			return loader_fail(
				msg, msglen, -EINVAL,
				"Multiboot load range [0x%x, 0x%x) needs 0x%llx bytes from file offset 0x%llx, beyond the end of the %zu-byte file",
				h->load_addr, h->load_end_addr,
				(unsigned long long)filesz,
				(unsigned long long)foff, len);
	}
	memsz = filesz;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + filesz)
			return loader_fail(
				msg, msglen, -EINVAL,
				"Multiboot bss_end_addr 0x%x is below the end of the loaded data, 0x%llx",
				h->bss_end_addr,
				(unsigned long long)(h->load_addr + filesz));
		memsz = h->bss_end_addr - h->load_addr;
	}
	if (memsz == 0)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot address fields load nothing (load_addr 0x%x, load_end_addr 0x%x, bss_end_addr 0x%x)",
			h->load_addr, h->load_end_addr, h->bss_end_addr);
	if (h->load_addr < KERNEL_MIN_ADDR)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot load range [0x%x, 0x%llx) overlaps the boot area below 1 MiB; kernels must load at or above 0x%x",
			h->load_addr,
			(unsigned long long)(h->load_addr + memsz),
			KERNEL_MIN_ADDR);
	if (h->entry_addr < h->load_addr ||
	    h->entry_addr - h->load_addr >= memsz)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot entry_addr 0x%x lies outside the loaded image [0x%x, 0x%llx)",
			h->entry_addr, h->load_addr,
			(unsigned long long)(h->load_addr + memsz));

	snprintf(s->what, sizeof(s->what), "Multiboot load range");
	s->offset = foff;
	s->filesz = filesz;
	s->memsz = memsz;
	s->paddr = h->load_addr;
	img->nsegs = 1;
	img->entry = h->entry_addr;
	img->format = LOADER_FMT_MB_AOUT;
	img->entry_mode = LOADER_ENTRY_MB32;
	return 0;
}

int loader_mb_probe(const uint8_t *data, size_t len, struct loader_image *img,
		    char *msg, size_t msglen)
{
	size_t lim = len < MB1_SEARCH_LEN ? len : MB1_SEARCH_LEN;
	struct mb1_header h;
	size_t off = 0, need;
	uint32_t unknown;
	int err;

	err = mb_find(data, len, &off, msg, msglen);
	if (err)
		return err;

	memset(&h, 0, sizeof(h));
	memcpy(&h, data + off, MB1_HEADER_BASE_LEN);
	unknown = h.flags & MB1_HDR_REQUIRED_MASK & ~MB1_HDR_KNOWN;
	if (unknown)
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"Multiboot header at offset 0x%zx requires features vitro does not provide (flags 0x%08x, unknown required bits 0x%04x; vitro knows bits 0, 1, 2 and 16)",
			off, h.flags, unknown);
	need = MB1_HEADER_BASE_LEN;
	if (h.flags & MB1_HDR_ADDRESS)
		need = MB1_HEADER_ADDR_LEN;
	if (h.flags & MB1_HDR_VIDEO_MODE)
		need = MB1_HEADER_VIDEO_LEN;
	if (need > lim - off)
		return loader_fail(
			msg, msglen, -EINVAL,
			"Multiboot header at offset 0x%zx is cut off: its flags 0x%08x need %zu bytes of header, but %s ends at offset 0x%zx",
			off, h.flags, need,
			len > MB1_SEARCH_LEN ? "the 8192-byte search area" :
					       "the file",
			lim);
	memcpy(&h, data + off, need);

	img->mb_flags = h.flags;
	if (h.flags & MB1_HDR_VIDEO_MODE)
		img->note = "video mode request ignored (no framebuffer)";
	if (h.flags & MB1_HDR_ADDRESS)
		return mb_parse_aout(&h, off, len, img, msg, msglen);
	if (!loader_is_elf(data, len))
		return loader_fail(
			msg, msglen, -ENOEXEC,
			"Multiboot header at offset 0x%zx has no address fields (flags bit 16 clear), so the image must be ELF, but it has no ELF magic",
			off);
	return loader_elf_parse(data, len, true, img, msg, msglen);
}

static size_t mb_str_len(const char *s)
{
	return s ? strlen(s) : 0;
}

size_t loader_mb_strings_len(const struct loader_params *p)
{
	size_t total = mb_str_len(p->cmdline) + 1;
	unsigned int i;

	total += sizeof(LOADER_BOOT_LOADER_NAME);
	for (i = 0; i < p->nmodules; i++) {
		size_t n = mb_str_len(p->modules[i].name);

		if (__builtin_add_overflow(total, n + 1, &total))
			return SIZE_MAX;
	}
	return total;
}

/* Copy a string to *next in the boot area; return its guest address. */
static uint32_t mb_put_string(uint8_t *boot, uint64_t *next, const char *s)
{
	size_t n = mb_str_len(s);
	uint64_t gpa = *next;

	if (n)
		memcpy(boot + (gpa - BOOT_GDT_ADDR), s, n);
	boot[gpa - BOOT_GDT_ADDR + n] = '\0';
	*next = gpa + n + 1;
	return (uint32_t)gpa;
}

static unsigned int mb_mmap_add(struct mb1_mmap_entry *mm, unsigned int n,
				uint64_t base, uint64_t length)
{
	if (length == 0)
		return n;
	mm[n].size = sizeof(mm[n]) - sizeof(mm[n].size);
	mm[n].base_addr = base;
	mm[n].length = length;
	mm[n].type = MB1_MEM_AVAILABLE;
	return n + 1;
}

void loader_mb_write_info(uint8_t *boot, const struct loader_params *p,
			  const uint64_t *mod_addr)
{
	struct mb1_mmap_entry mm[3];
	uint64_t next = BOOT_CMDLINE_ADDR;
	struct mb1_info info;
	unsigned int i, n = 0;

	memset(&info, 0, sizeof(info));
	memset(mm, 0, sizeof(mm));
	info.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS |
		     MB1_INFO_MMAP | MB1_INFO_BOOT_LOADER_NAME;
	info.mem_lower = LOWMEM_FREE_END / 1024;
	info.mem_upper = (uint32_t)((p->lowmem_size - KERNEL_MIN_ADDR) / 1024);

	/* [LOWMEM_FREE_END, 1 MiB) is left out: absent means reserved. */
	n = mb_mmap_add(mm, n, 0, LOWMEM_FREE_END);
	n = mb_mmap_add(mm, n, KERNEL_MIN_ADDR,
			p->lowmem_size - KERNEL_MIN_ADDR);
	n = mb_mmap_add(mm, n, VM_HIGHMEM_BASE, p->highmem_size);
	memcpy(boot + (BOOT_MMAP_ADDR - BOOT_GDT_ADDR), mm, n * sizeof(mm[0]));
	info.mmap_addr = BOOT_MMAP_ADDR;
	info.mmap_length = n * sizeof(mm[0]);

	info.cmdline = mb_put_string(boot, &next, p->cmdline);
	info.boot_loader_name =
		mb_put_string(boot, &next, LOADER_BOOT_LOADER_NAME);

	info.mods_count = p->nmodules;
	info.mods_addr = BOOT_MODS_ADDR;
	for (i = 0; i < p->nmodules; i++) {
		struct mb1_module m;

		memset(&m, 0, sizeof(m));
		m.mod_start = (uint32_t)mod_addr[i];
		m.mod_end = (uint32_t)(mod_addr[i] + p->modules[i].len);
		m.string = mb_put_string(boot, &next, p->modules[i].name);
		memcpy(boot + (BOOT_MODS_ADDR - BOOT_GDT_ADDR) + i * sizeof(m),
		       &m, sizeof(m));
	}

	memcpy(boot + (BOOT_INFO_ADDR - BOOT_GDT_ADDR), &info, sizeof(info));
}
