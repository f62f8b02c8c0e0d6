/*
 * test-loader-linux.c: unit tests of the Linux loader (monitor/boot/
 * linux.c, linux_decompress.c through loader.h).
 *
 * Synthetic vmlinux ELFs (a "Linux" note, with or without the Xen PVH
 * entry note) and bzImages around them, their payload compressed here with
 * zlib, liblzma, libzstd and liblz4; guest memory is a buffer reached
 * through a map callback.  Checks the boot vCPU's registers, the zero
 * page, the PVH start info, the e820 map, the initrd's place and every
 * refusal's message.  Single-threaded.
 */
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "monitor/boot/linux_boot.h"
#include "monitor/boot/loader.h"
#include "monitor/platform.h"
#include "tests/tap.h"

#define MiB (1024ULL * 1024)
#define LOW_SIZE (64 * MiB)
#define MARK 0xa5
#define KBASE 0x1000000ULL /* where the synthetic kernel loads */
#define KFILE 0x3000 /* its bytes in the file */
#define KMEM 0x5000 /* with its bss */
#define PVH_ENTRY (KBASE + 0x40)
#define IMG_MAX (256 * 1024)
#define BZ_SETUP_SECTS 4
#define BZ_PM ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD_OFF 0x100

struct guest {
	uint8_t *low;
	uint64_t size;
};

static void *guest_map(void *arg, uint64_t gpa, size_t len)
{
	struct guest *g = arg;

	if (gpa <= g->size && len <= g->size - gpa)
		return g->low + gpa;
	return NULL;
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* A note: owner, type, 4 or 8 bytes of desc. */
static size_t note(uint8_t *p, const char *owner, uint32_t type, uint64_t desc,
		   uint32_t descsz)
{
	uint32_t namesz = strlen(owner) + 1;
	size_t n = 12 + ((namesz + 3) & ~3u);

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memset(p + 12, 0, n - 12);
	memcpy(p + 12, owner, namesz);
	memset(p + n, 0, (descsz + 3) & ~3u);
	memcpy(p + n, &desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

enum note_kind { NOTE_NONE, NOTE_LINUX, NOTE_PVH, NOTE_PVH8 };

/* ELF64: header, 2 phdrs (PT_LOAD, PT_NOTE), notes, kernel bytes. */
static size_t vmlinux_build(uint8_t *buf, enum note_kind notes,
			    uint64_t pvh_entry)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { { 0 } };
	size_t noff = sizeof(eh) + sizeof(ph), nlen = 0, koff = 0x1000;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = KBASE;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memset(buf, 0, koff + KFILE);
	nlen += note(buf + noff, "GNU", 3, 0x1234, 4);
	if (notes != NOTE_NONE)
		nlen += note(buf + noff + nlen, "Linux", 0x100, 0, 4);
	if (notes == NOTE_PVH || notes == NOTE_PVH8)
		nlen += note(buf + noff + nlen, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
			     pvh_entry, notes == NOTE_PVH ? 4 : 8);
	ph[0].p_type = PT_LOAD;
	ph[0].p_offset = koff;
	ph[0].p_vaddr = 0xffffffff81000000ULL;
	ph[0].p_paddr = KBASE;
	ph[0].p_filesz = KFILE;
	ph[0].p_memsz = KMEM;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = noff;
	ph[1].p_filesz = nlen;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), ph, sizeof(ph));
	for (size_t i = 0; i < KFILE; i++)
		buf[koff + i] = pat(i);
	return koff + KFILE;
}

/* Compressors, as the kernel's build uses them; the size appended. */
static size_t comp_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream s = { 0 };
	size_t n;

	if (deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	s.next_in = (Bytef *)in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	if (deflate(&s, Z_FINISH) != Z_STREAM_END)
		n = 0;
	else
		n = s.total_out;
	deflateEnd(&s);
	return n;
}

static size_t comp_xz(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t pos = 0;

	if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out,
				    &pos, cap) != LZMA_OK)
		return 0;
	return pos;
}

static size_t comp_lzma(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	size_t n = 0;

	lzma_lzma_preset(&opt, 6);
	if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return 0;
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	if (lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END)
		n = s.total_out;
	lzma_end(&s);
	return n;
}

/* With a checksum, as the zstd program writes by default. */
static size_t comp_zstd(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t n;

	if (!c)
		return 0;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 19);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	n = ZSTD_compress2(c, out, cap, in, len);
	ZSTD_freeCCtx(c);
	return ZSTD_isError(n) ? 0 : n;
}

/* The legacy frame: magic, then one block (the input is small). */
static size_t comp_lz4(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	int n = LZ4_compress_default((const char *)in, (char *)out + 8,
				     (int)len, (int)cap - 8);

	if (n <= 0)
		return 0;
	put32(out, 0x184c2102);
	put32(out + 4, (uint32_t)n);
	return 8 + (size_t)n;
}

struct compressor {
	const char *name;
	size_t (*fn)(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
};

static const struct compressor compressors[] = {
	{ "gzip", comp_gzip }, { "xz", comp_xz },   { "lzma", comp_lzma },
	{ "zstd", comp_zstd }, { "lz4", comp_lz4 },
};

struct bz_spec {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
};

static const struct bz_spec bz_default = {
	.version = 0x020f,
	.loadflags = LINUX_LOADED_HIGH,
	.xloadflags = LINUX_XLF_KERNEL_64 | LINUX_XLF_CAN_BE_LOADED_ABOVE_4G,
	.cmdline_size = 2047,
	.initrd_addr_max = 0x7fffffff,
};

/* A bzImage around `payload` (the size trailer appended here). */
static size_t bz_build(uint8_t *buf, const struct bz_spec *s,
		       const uint8_t *payload, size_t plen, uint32_t usize)
{
	size_t off = BZ_PM + BZ_PAYLOAD_OFF;

	memset(buf, 0, off);
	buf[0] = 'M';
	buf[1] = 'Z';
	buf[0x1f1] = BZ_SETUP_SECTS;
	put16(buf + 0x1fe, LINUX_BOOT_FLAG);
	buf[0x200] = 0xeb;
	buf[0x201] = 0x6a; /* the header ends at 0x26c */
	put32(buf + 0x202, LINUX_HDRS_MAGIC);
	put16(buf + 0x206, s->version);
	buf[0x211] = s->loadflags;
	put32(buf + 0x22c, s->initrd_addr_max);
	put32(buf + 0x230, 0x200000); /* kernel_alignment */
	buf[0x234] = 1;
	put16(buf + 0x236, s->xloadflags);
	put32(buf + 0x238, s->cmdline_size);
	put32(buf + 0x248, BZ_PAYLOAD_OFF);
	put32(buf + 0x24c, (uint32_t)plen + 4);
	put32(buf + 0x260, 0x800000); /* init_size */
	memcpy(buf + off, payload, plen);
	put32(buf + off + plen, usize);
	return off + plen + 4;
}

static void params_init(struct loader_params *p, struct guest *g,
			const void *img, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->image = img;
	p->image_len = len;
	p->lowmem_size = g->size;
	p->map = guest_map;
	p->map_arg = g;
}

static bool reg_get(const struct loader_result *r, int reg, uint64_t *val)
{
	int found = 0;

	for (unsigned int i = 0; i < r->nregs; i++)
		if (r->regnums[i] == reg) {
			*val = r->regvals[i];
			found++;
		}
	return found == 1;
}

static uint64_t reg(const struct loader_result *r, int rn)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	reg_get(r, rn, &v);
	return v;
}

static uint64_t gdt_entry(struct guest *g, unsigned int sel)
{
	uint64_t d;

	memcpy(&d, g->low + BOOT_GDT_ADDR + sel, 8);
	return d;
}

static const uint8_t *initrd_data(size_t len)
{
	static uint8_t *d;
	static size_t have;

	if (len > have) {
		free(d);
		d = malloc(len);
		if (!d)
			tap_bail("out of memory");
		for (size_t i = 0; i < len; i++)
			d[i] = (uint8_t)(i * 13 + 1);
		have = len;
	}
	return d;
}

static void check_kernel_bytes(struct guest *g, const char *what)
{
	bool same = true;

	for (size_t i = 0; i < KFILE; i++)
		if (g->low[KBASE + i] != pat(i))
			same = false;
	for (size_t i = KFILE; i < KMEM; i++)
		if (g->low[KBASE + i] != 0)
			same = false;
	ok(same, "%s: kernel bytes at 0x%llx, bss zeroed", what, KBASE);
}

static void check_e820(const struct linux_e820_entry *e, unsigned int n,
		       uint64_t low, uint64_t high, const char *what)
{
	unsigned int want = high ? 4 : 3;

	is_int(n, want, "%s: %u e820 entries", what, want);
	if (n < 3)
		return;
	ok(e[0].addr == 0 && e[0].size == LOWMEM_FREE_END &&
		   e[0].type == E820_TYPE_RAM,
	   "%s: e820 RAM [0, 0x9fc00)", what);
	ok(e[1].addr == LOWMEM_FREE_END &&
		   e[1].addr + e[1].size == KERNEL_MIN_ADDR &&
		   e[1].type == E820_TYPE_RESERVED,
	   "%s: e820 reserved [0x9fc00, 1 MiB) (ACPI, MP)", what);
	ok(e[2].addr == KERNEL_MIN_ADDR && e[2].addr + e[2].size == low &&
		   e[2].type == E820_TYPE_RAM,
	   "%s: e820 RAM [1 MiB, 0x%llx)", what, (unsigned long long)low);
	if (high && n >= 4)
		ok(e[3].addr == VM_HIGHMEM_BASE && e[3].size == high &&
			   e[3].type == E820_TYPE_RAM,
		   "%s: e820 RAM from 4 GiB", what);
}

/* The 64-bit boot protocol: registers, GDT, zero page, initrd. */
static void check_linux64(struct guest *g, const struct loader_result *r,
			  const char *cmdline, size_t initrd_len,
			  uint32_t cmdline_size, uint32_t align,
			  const char *what)
{
	struct linux_boot_params bp;

	is_int(r->entry_mode, LOADER_ENTRY_LINUX64, "%s: 64-bit protocol",
	       what);
	is_hex(reg(r, VM_REG_GUEST_RIP), KBASE, "%s: rip = e_entry", what);
	is_hex(reg(r, VM_REG_GUEST_RSI), LINUX_BOOT_PARAMS_ADDR,
	       "%s: rsi = zero page", what);
	is_hex(reg(r, VM_REG_GUEST_CR0) & 0x80000001, 0x80000001,
	       "%s: cr0 PE and PG", what);
	is_hex(reg(r, VM_REG_GUEST_EFER) & 0x500, 0x500, "%s: EFER LME, LMA",
	       what);
	is_hex(reg(r, VM_REG_GUEST_CR3), BOOT_PGTABLE_ADDR,
	       "%s: cr3 = identity map", what);
	is_hex(reg(r, VM_REG_GUEST_CS), 0x10, "%s: cs = __BOOT_CS", what);
	is_hex(reg(r, VM_REG_GUEST_DS), 0x18, "%s: ds = __BOOT_DS", what);
	is_hex(reg(r, VM_REG_GUEST_SS), 0x18, "%s: ss = __BOOT_DS", what);
	is_hex(reg(r, VM_REG_GUEST_ES), 0x18, "%s: es = __BOOT_DS", what);
	is_hex(reg(r, VM_REG_GUEST_CS_ACCESS) & 0x2000, 0x2000,
	       "%s: cs is 64-bit (L)", what);
	is_hex(gdt_entry(g, 0x10), 0x00af9b000000ffffULL,
	       "%s: GDT 0x10 flat 64-bit code", what);
	is_hex(gdt_entry(g, 0x18), 0x00cf93000000ffffULL,
	       "%s: GDT 0x18 flat data", what);
	is_hex(reg(r, VM_REG_GUEST_RFLAGS), 2, "%s: interrupts off", what);

	memcpy(&bp, g->low + LINUX_BOOT_PARAMS_ADDR, sizeof(bp));
	is_hex(bp.hdr.boot_flag, 0xaa55, "%s: hdr.boot_flag", what);
	is_hex(bp.hdr.header, LINUX_HDRS_MAGIC, "%s: hdr.header HdrS", what);
	is_hex(bp.hdr.type_of_loader, 0xff, "%s: hdr.type_of_loader", what);
	is_hex(bp.hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR, "%s: hdr.cmd_line_ptr",
	       what);
	is_int(bp.hdr.cmdline_size, cmdline_size, "%s: hdr.cmdline_size", what);
	is_hex(bp.hdr.kernel_alignment, align, "%s: hdr.kernel_alignment",
	       what);
	is_str((const char *)g->low + BOOT_CMDLINE_ADDR, cmdline,
	       "%s: command line", what);
	is_hex(bp.acpi_rsdp_addr, ACPI_TABLES_ADDR, "%s: acpi_rsdp_addr", what);
	is_int(bp.sentinel, 0, "%s: sentinel 0", what);
	check_e820(bp.e820_table, bp.e820_entries, g->size, 0, what);
	is_hex(bp.hdr.ramdisk_image, r->initrd_start, "%s: ramdisk_image",
	       what);
	is_int(bp.hdr.ramdisk_size, initrd_len, "%s: ramdisk_size", what);
	if (initrd_len) {
		ok(r->initrd_start % 4096 == 0 &&
			   r->initrd_end == r->initrd_start + initrd_len &&
			   r->initrd_end <= g->size &&
			   g->size - r->initrd_end < 4096 &&
			   r->initrd_start >= r->kernel_end,
		   "%s: initrd [0x%llx, 0x%llx) page-aligned at the top of low memory, above the kernel",
		   what, (unsigned long long)r->initrd_start,
		   (unsigned long long)r->initrd_end);
		ok(memcmp(g->low + r->initrd_start, initrd_data(initrd_len),
			  initrd_len) == 0,
		   "%s: initrd bytes", what);
	}
	check_kernel_bytes(g, what);
}

static void test_vmlinux64(struct guest *g, uint8_t *img)
{
	size_t len = vmlinux_build(img, NOTE_LINUX, 0);
	struct loader_params p;
	struct loader_result r;
	char msg[LOADER_MSG_MAX] = "";
	struct loader_image li;
	int rc;

	rc = loader_parse(img, len, &li, msg, sizeof(msg));
	is_int(rc, 0, "vmlinux: parsed (%s)", msg);
	is_int(li.format, LOADER_FMT_LINUX_ELF, "vmlinux: format");
	ok(loader_is_linux(&li), "vmlinux: loader_is_linux");
	is_int(li.entry_mode, LOADER_ENTRY_LINUX64,
	       "vmlinux without PVH note: 64-bit protocol by default");

	memset(g->low, MARK, g->size);
	params_init(&p, g, img, len);
	p.cmdline = "console=ttyS0 panic=-1";
	p.initrd = initrd_data(10000);
	p.initrd_len = 10000;
	p.initrd_name = "initrd.cpio";
	rc = loader_load(&p, &r, msg, sizeof(msg));
	is_int(rc, 0, "vmlinux: loaded (%s)", msg);
	check_linux64(g, &r, "console=ttyS0 panic=-1", 10000, 2048,
		      LINUX_DEFAULT_ALIGN, "vmlinux");
	like(r.desc,
	     "^Linux vmlinux, [0-9]+ bytes: entry 0x1000000 \\(64-bit boot protocol\\), kernel \\[0x1000000, 0x1005000\\) in 1 segment, initrd \\[0x3ffd000, 0x3fff710\\) 10000 bytes, command line 22 bytes$",
	     "vmlinux: log line");

	/* With high memory: a 4th e820 entry. */
	memset(g->low, MARK, g->size);
	params_init(&p, g, img, len);
	p.highmem_size = 2 * 1024 * MiB;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	is_int(rc, 0, "vmlinux with high memory: loaded (%s)", msg);
	{
		struct linux_boot_params bp;

		memcpy(&bp, g->low + LINUX_BOOT_PARAMS_ADDR, sizeof(bp));
		check_e820(bp.e820_table, bp.e820_entries, g->size,
			   p.highmem_size, "vmlinux with high memory");
		is_int(bp.hdr.ramdisk_image, 0, "no initrd: ramdisk_image 0");
	}

	/* entry=pvh without the note */
	rc = loader_set_entry(&li, LOADER_ENTRY_PVH, msg, sizeof(msg));
	is_int(rc, -EINVAL, "entry=pvh without the note: refused");
	is_str(msg,
	       "entry=pvh: the kernel has no PVH entry note (ELF note Xen, type 18; build it with CONFIG_PVH)",
	       "entry=pvh without the note: message");
	loader_image_free(&li);

	/* A plain ELF64 (no Linux note) stays a plain ELF64. */
	len = vmlinux_build(img, NOTE_NONE, 0);
	rc = loader_parse(img, len, &li, msg, sizeof(msg));
	ok(rc == 0 && li.format == LOADER_FMT_ELF64 && !loader_is_linux(&li),
	   "ELF64 without Linux notes: not Linux");
	rc = loader_set_entry(&li, LOADER_ENTRY_LINUX64, msg, sizeof(msg));
	is_int(rc, -EINVAL, "entry= on a non-Linux image: refused");
	is_str(msg,
	       "entry=linux64 is for Linux kernels; this is a ELF64 x86-64 image",
	       "entry= on a non-Linux image: message");
}

static void check_pvh(struct guest *g, const struct loader_result *r,
		      size_t initrd_len, const char *what)
{
	struct hvm_start_info si;
	struct hvm_memmap_table_entry mm[4];
	struct linux_e820_entry e[4];
	struct hvm_modlist_entry mod;

	is_int(r->entry_mode, LOADER_ENTRY_PVH, "%s: PVH entry", what);
	is_hex(reg(r, VM_REG_GUEST_RIP), PVH_ENTRY, "%s: rip = PVH entry",
	       what);
	is_hex(reg(r, VM_REG_GUEST_RBX), LINUX_PVH_INFO_ADDR,
	       "%s: ebx = start info", what);
	is_hex(reg(r, VM_REG_GUEST_CR0), 0x11, "%s: cr0 PE, paging off", what);
	is_hex(reg(r, VM_REG_GUEST_CR4), 0, "%s: cr4 0", what);
	is_hex(reg(r, VM_REG_GUEST_EFER), 0, "%s: EFER 0", what);
	is_hex(reg(r, VM_REG_GUEST_CS), 0x08, "%s: cs 0x08", what);
	is_hex(reg(r, VM_REG_GUEST_CS_BASE), 0, "%s: cs base 0", what);
	is_hex(reg(r, VM_REG_GUEST_CS_LIMIT), 0xffffffff, "%s: cs limit 4G",
	       what);
	is_hex(reg(r, VM_REG_GUEST_CS_ACCESS), 0xc09b,
	       "%s: cs 32-bit code (D, G)", what);
	is_hex(reg(r, VM_REG_GUEST_DS), 0x18, "%s: ds 0x18", what);
	is_hex(reg(r, VM_REG_GUEST_SS_ACCESS), 0xc093, "%s: ss flat data",
	       what);
	is_hex(gdt_entry(g, 0x08), 0x00cf9b000000ffffULL,
	       "%s: GDT 0x08 flat 32-bit code", what);

	memcpy(&si, g->low + LINUX_PVH_INFO_ADDR, sizeof(si));
	is_hex(si.magic, HVM_START_MAGIC, "%s: start info magic", what);
	is_int(si.version, 1, "%s: start info version 1", what);
	is_hex(si.cmdline_paddr, BOOT_CMDLINE_ADDR, "%s: cmdline_paddr", what);
	is_hex(si.rsdp_paddr, ACPI_TABLES_ADDR, "%s: rsdp_paddr", what);
	ok(si.memmap_paddr >= LINUX_PVH_INFO_ADDR + sizeof(si) &&
		   si.memmap_paddr + 3 * sizeof(mm[0]) <= BOOT_CMDLINE_ADDR,
	   "%s: memmap after the start info", what);
	is_int(si.memmap_entries, 3, "%s: 3 memmap entries", what);
	memcpy(mm, g->low + si.memmap_paddr, 3 * sizeof(mm[0]));
	for (int i = 0; i < 3; i++)
		e[i] = (struct linux_e820_entry){ mm[i].addr, mm[i].size,
						  mm[i].type };
	check_e820(e, 3, g->size, 0, what);
	is_int(si.nr_modules, initrd_len ? 1 : 0, "%s: nr_modules", what);
	if (initrd_len) {
		memcpy(&mod, g->low + si.modlist_paddr, sizeof(mod));
		ok(mod.paddr == r->initrd_start && mod.size == initrd_len &&
			   mod.paddr % 4096 == 0 &&
			   g->size - (mod.paddr + mod.size) < 4096,
		   "%s: modlist[0] is the initrd at the top of memory", what);
		ok(memcmp(g->low + mod.paddr, initrd_data(initrd_len),
			  initrd_len) == 0,
		   "%s: initrd bytes", what);
	}
	check_kernel_bytes(g, what);
}

static void test_pvh(struct guest *g, uint8_t *img)
{
	enum note_kind kinds[] = { NOTE_PVH, NOTE_PVH8 };
	struct loader_params p;
	struct loader_result r;
	struct loader_image li;
	char msg[LOADER_MSG_MAX] = "";
	int rc;

	for (int k = 0; k < 2; k++) {
		const char *what = k ? "PVH (8-byte note)" : "PVH";
		size_t len = vmlinux_build(img, kinds[k], PVH_ENTRY);

		memset(g->low, MARK, g->size);
		params_init(&p, g, img, len);
		p.cmdline = "console=ttyS0";
		p.initrd = initrd_data(5000);
		p.initrd_len = 5000;
		rc = loader_load(&p, &r, msg, sizeof(msg));
		is_int(rc, 0, "%s: loaded (%s)", what, msg);
		check_pvh(g, &r, 5000, what);
		is_str((const char *)g->low + BOOT_CMDLINE_ADDR,
		       "console=ttyS0", "%s: command line", what);
	}
	like(r.desc, "\\(PVH, 32-bit\\)", "PVH: log line says PVH");

	/* Forced to the 64-bit protocol. */
	rc = loader_parse(img, vmlinux_build(img, NOTE_PVH, PVH_ENTRY), &li,
			  msg, sizeof(msg));
	is_int(rc, 0, "PVH vmlinux parsed");
	is_int(li.entry_mode, LOADER_ENTRY_PVH, "PVH note: PVH by default");
	rc = loader_set_entry(&li, LOADER_ENTRY_LINUX64, msg, sizeof(msg));
	is_int(rc, 0, "entry=linux64 on a PVH kernel");
	memset(g->low, MARK, g->size);
	params_init(&p, g, NULL, 0);
	p.cmdline = "x";
	rc = loader_place(&li, &p, &r, msg, sizeof(msg));
	is_int(rc, 0, "entry=linux64: placed (%s)", msg);
	check_linux64(g, &r, "x", 0, 2048, LINUX_DEFAULT_ALIGN,
		      "PVH kernel forced to linux64");
	rc = loader_set_entry(&li, LOADER_ENTRY_PVH, msg, sizeof(msg));
	ok(rc == 0 && li.entry == PVH_ENTRY, "entry=pvh back again");
	rc = loader_set_entry(&li, LOADER_ENTRY_MB32, msg, sizeof(msg));
	is_int(rc, -EINVAL, "entry=32-bit on Linux: refused");

	{
		enum loader_entry m;

		ok(loader_entry_parse("pvh", &m) == 0 && m == LOADER_ENTRY_PVH,
		   "entry name pvh");
		ok(loader_entry_parse("linux64", &m) == 0 &&
			   m == LOADER_ENTRY_LINUX64,
		   "entry name linux64");
		is_int(loader_entry_parse("bios", &m), -EINVAL,
		       "entry name bios: refused");
	}
}

static size_t make_bz(uint8_t *img, const struct bz_spec *s,
		      const struct compressor *c, enum note_kind notes)
{
	static uint8_t vml[IMG_MAX], comp[IMG_MAX];
	size_t vlen = vmlinux_build(vml, notes, PVH_ENTRY);
	size_t clen = c->fn(vml, vlen, comp, sizeof(comp));

	if (!clen)
		tap_bail("%s compression failed", c->name);
	return bz_build(img, s, comp, clen, (uint32_t)vlen);
}

static void test_bzimage(struct guest *g, uint8_t *img)
{
	struct loader_params p;
	struct loader_result r;
	struct loader_image li;
	char msg[LOADER_MSG_MAX] = "", what[64];
	int rc;

	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]);
	     i++) {
		const struct compressor *c = &compressors[i];
		size_t len = make_bz(img, &bz_default, c, NOTE_LINUX);
		struct linux_boot_params bp;

		snprintf(what, sizeof(what), "bzImage %s", c->name);
		rc = loader_parse(img, len, &li, msg, sizeof(msg));
		is_int(rc, 0, "%s: parsed (%s)", what, msg);
		if (rc)
			continue;
		is_int(li.format, LOADER_FMT_LINUX_BZIMAGE, "%s: format", what);
		is_str(li.lx.compression, c->name, "%s: compression", what);
		ok(li.owned && li.data == li.owned, "%s: owns its kernel",
		   what);
		memset(g->low, MARK, g->size);
		params_init(&p, g, NULL, 0);
		p.cmdline = "console=ttyS0 root=/dev/ram0";
		p.initrd = initrd_data(70000);
		p.initrd_len = 70000;
		rc = loader_place(&li, &p, &r, msg, sizeof(msg));
		is_int(rc, 0, "%s: placed (%s)", what, msg);
		check_linux64(g, &r, "console=ttyS0 root=/dev/ram0", 70000,
			      2047, 0x200000, what);
		memcpy(&bp, g->low + LINUX_BOOT_PARAMS_ADDR, sizeof(bp));
		ok(bp.hdr.version == 0x020f && bp.hdr.setup_sects == 4 &&
			   bp.hdr.xloadflags == 3 &&
			   bp.hdr.init_size == 0x800000 &&
			   bp.hdr.initrd_addr_max == 0x7fffffff,
		   "%s: the bzImage's setup header is in the zero page", what);
		like(r.desc,
		     "^Linux bzImage \\(protocol 2\\.15\\), [a-z0-9]+ [0-9]+ -> [0-9]+ bytes: entry 0x1000000 \\(64-bit boot protocol\\)",
		     "%s: log line", what);
		loader_image_free(&li);
		ok(!li.owned && !li.data, "%s: loader_image_free", what);
		loader_image_free(&li);
	}

	/* A bzImage whose vmlinux has the PVH note: linux64 by default. */
	rc = loader_parse(img,
			  make_bz(img, &bz_default, &compressors[0], NOTE_PVH),
			  &li, msg, sizeof(msg));
	ok(rc == 0 && li.entry_mode == LOADER_ENTRY_LINUX64 && li.lx.has_pvh,
	   "bzImage with a PVH vmlinux: 64-bit protocol by default");
	loader_image_free(&li);

	/* initrd_addr_max lower than memory: the initrd goes below it. */
	{
		struct bz_spec s = bz_default;

		s.initrd_addr_max = 0x2000000 - 1;
		rc = loader_parse(img,
				  make_bz(img, &s, &compressors[3], NOTE_LINUX),
				  &li, msg, sizeof(msg));
		memset(g->low, MARK, g->size);
		params_init(&p, g, NULL, 0);
		p.initrd = initrd_data(8192);
		p.initrd_len = 8192;
		rc = rc ? rc : loader_place(&li, &p, &r, msg, sizeof(msg));
		ok(rc == 0 && r.initrd_end == 0x2000000 &&
			   r.initrd_start == 0x2000000 - 8192,
		   "initrd below initrd_addr_max 0x1ffffff");
		loader_image_free(&li);
	}
}

/* Expect loader_load to refuse with err and exactly msg; memory untouched. */
static void refuse(struct guest *g, struct loader_params *p, int err,
		   const char *expect, const char *what)
{
	char msg[LOADER_MSG_MAX] = "";
	struct loader_result r;
	bool same = true;
	int rc;

	memset(g->low, MARK, g->size);
	rc = loader_load(p, &r, msg, sizeof(msg));
	is_int(rc, err, "%s: refused", what);
	if (expect[0] == '^')
		like(msg, expect, "%s: message", what);
	else
		is_str(msg, expect, "%s: message", what);
	for (uint64_t i = 0; i < g->size && same; i += 4096)
		if (g->low[i] != MARK)
			same = false;
	ok(same, "%s: guest memory untouched", what);
}

static void test_bad(struct guest *g, uint8_t *img)
{
	static char longcmd[4000];
	struct loader_params p;
	struct bz_spec s;
	size_t len, off = BZ_PM + BZ_PAYLOAD_OFF;

	/* Command lines. */
	memset(longcmd, 'a', 2049);
	longcmd[2049] = 0;
	len = vmlinux_build(img, NOTE_LINUX, 0);
	params_init(&p, g, img, len);
	p.cmdline = longcmd;
	refuse(g, &p, -E2BIG,
	       "command line too long (2049 bytes); this kernel takes at most 2048 (a vmlinux without a setup header)",
	       "vmlinux command line of 2049 bytes");
	longcmd[2048] = 0;
	params_init(&p, g, img, len);
	p.cmdline = longcmd;
	ok(loader_load(&p, &(struct loader_result){ 0 }, NULL, 0) == 0,
	   "vmlinux command line of 2048 bytes: loads");

	s = bz_default;
	s.cmdline_size = 100;
	len = make_bz(img, &s, &compressors[0], NOTE_LINUX);
	memset(longcmd, 'b', 101);
	longcmd[101] = 0;
	params_init(&p, g, img, len);
	p.cmdline = longcmd;
	refuse(g, &p, -E2BIG,
	       "command line too long (101 bytes); this kernel takes at most 100 (its setup header's cmdline_size)",
	       "bzImage command line over cmdline_size");

	/* initrd */
	len = vmlinux_build(img, NOTE_LINUX, 0);
	params_init(&p, g, img, len);
	p.initrd = initrd_data(LOW_SIZE - KBASE);
	p.initrd_len = LOW_SIZE - KBASE;
	p.initrd_name = "big.cpio";
	refuse(g, &p, -ENOMEM,
	       "initrd 'big.cpio' (50331648 bytes) does not fit in memory: it must lie between the kernel's end 0x1005000 and 0x4000000 (the end of memory below 4 GiB)",
	       "initrd too big");
	params_init(&p, g, img, len);
	p.initrd = initrd_data(LOW_SIZE + 1);
	p.initrd_len = LOW_SIZE + 1;
	refuse(g, &p, -ENOMEM,
	       "^initrd \\(67108865 bytes\\) does not fit in memory",
	       "initrd larger than memory");
	{
		static const struct loader_module m = { "m", "x", 1 };

		params_init(&p, g, img, len);
		p.modules = &m;
		p.nmodules = 1;
		refuse(g, &p, -EINVAL,
		       "a Linux kernel takes one initrd, not 1 Multiboot module",
		       "Multiboot modules for Linux");
	}
	len = vmlinux_build(img, NOTE_NONE, 0);
	params_init(&p, g, img, len);
	p.initrd = "x";
	p.initrd_len = 1;
	refuse(g, &p, -EINVAL,
	       "an initrd is for a Linux kernel; a ELF64 x86-64 kernel takes Multiboot modules",
	       "initrd for a non-Linux kernel");

	/* PVH note outside the kernel. */
	len = vmlinux_build(img, NOTE_PVH, 0x200000);
	params_init(&p, g, img, len);
	refuse(g, &p, -EINVAL,
	       "vmlinux: the PVH entry note (Xen, type 18) points at 0x200000, which is not in a loaded segment below 4 GiB",
	       "PVH entry outside the kernel");

	/* Setup header problems. */
	s = bz_default;
	s.version = 0x0207;
	len = make_bz(img, &s, &compressors[0], NOTE_LINUX);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "bzImage boot protocol version 2.07 is too old; vitro needs 2.08 or later (payload_offset and payload_length)",
	       "protocol 2.07");
	s = bz_default;
	s.xloadflags = 0;
	len = make_bz(img, &s, &compressors[0], NOTE_LINUX);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "bzImage is not a 64-bit kernel (xloadflags 0x0 lacks XLF_KERNEL_64); vitro boots x86-64 Linux",
	       "32-bit bzImage");
	s = bz_default;
	s.loadflags = 0;
	len = make_bz(img, &s, &compressors[0], NOTE_LINUX);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "a zImage (loadflags without LOADED_HIGH), which loads below 1 MiB; vitro boots bzImages",
	       "zImage");
	len = make_bz(img, &bz_default, &compressors[0], NOTE_LINUX);
	params_init(&p, g, img, 0x220);
	refuse(g, &p, -EINVAL,
	       "bzImage setup header is truncated: the file is 544 bytes, a version 2.15 header ends at 0x250",
	       "truncated setup header");
	params_init(&p, g, img, len - 10);
	refuse(g, &p, -EINVAL,
	       "^bzImage payload \\[0xb00, \\+0x[0-9a-f]+\\) is not inside the [0-9]+-byte file \\(truncated\\?\\)$",
	       "payload past the end of the file");

	/* Payloads. */
	len = bz_build(img, &bz_default, (const uint8_t *)"BZh91AY&SY", 10, 0);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "bzImage payload is bzip2-compressed, which vitro does not decompress; build the kernel with gzip, xz, lzma, zstd or lz4",
	       "bzip2 payload");
	len = bz_build(img, &bz_default, (const uint8_t *)"\x89LZO\0\r\n", 7,
		       0);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "bzImage payload is lzo-compressed, which vitro does not decompress; build the kernel with gzip, xz, lzma, zstd or lz4",
	       "lzo payload");
	len = bz_build(img, &bz_default, (const uint8_t *)"\x12\x34\x56\x78", 4,
		       0);
	params_init(&p, g, img, len);
	refuse(g, &p, -ENOEXEC,
	       "bzImage payload has an unknown compression (first bytes 12 34 56 78); expected gzip, xz, lzma, zstd or lz4",
	       "unknown compression");
	{
		static uint8_t raw[4096], comp[8192];
		size_t n;

		memset(raw, 'z', sizeof(raw));
		n = comp_gzip(raw, sizeof(raw), comp, sizeof(comp));
		len = bz_build(img, &bz_default, comp, n, sizeof(raw));
		params_init(&p, g, img, len);
		refuse(g, &p, -EINVAL,
		       "bzImage payload (gzip) decompresses to 4096 bytes that are not an ELF vmlinux",
		       "payload that is not an ELF");
	}
	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]);
	     i++) {
		const struct compressor *c = &compressors[i];
		char what[64], re[128];
		uint32_t plen;

		/* Truncated: cut the stream to its first 60%. */
		len = make_bz(img, &bz_default, c, NOTE_LINUX);
		plen = (uint32_t)(len - off);
		put32(img + 0x24c, plen * 6 / 10);
		snprintf(what, sizeof(what), "truncated %s payload", c->name);
		snprintf(re, sizeof(re),
			 "^%s payload is corrupt or truncated \\(.+\\)$",
			 c->name);
		params_init(&p, g, img, off + plen * 6 / 10);
		refuse(g, &p, -EINVAL, re, what);

		/*
		 * Corrupt: bytes in the middle flipped (lz4 has no checksum:
		 * its block size then).
		 */
		len = make_bz(img, &bz_default, c, NOTE_LINUX);
		for (size_t k = off + plen / 3; k < off + plen / 3 + 16; k++)
			img[k] ^= 0x5a;
		if (strcmp(c->name, "lz4") == 0)
			put32(img + off + 4, plen);
		snprintf(what, sizeof(what), "corrupt %s payload", c->name);
		params_init(&p, g, img, len);
		refuse(g, &p, -EINVAL, re, what);
	}

	/* A payload whose size trailer disagrees with what it holds. */
	len = make_bz(img, &bz_default, &compressors[1], NOTE_LINUX);
	put32(img + len - 4, 12345);
	params_init(&p, g, img, len);
	refuse(g, &p, -EINVAL,
	       "xz payload is corrupt or truncated (it decompresses to 16384 bytes, its size trailer says 12345)",
	       "size trailer mismatch");
}

int main(void)
{
	struct guest g = { .size = LOW_SIZE };
	uint8_t *img = malloc(IMG_MAX);

	g.low = malloc(LOW_SIZE);
	if (!g.low || !img)
		tap_bail("out of memory");
	test_vmlinux64(&g, img);
	test_pvh(&g, img);
	test_bzimage(&g, img);
	test_bad(&g, img);
	free(g.low);
	free(img);
	return tap_done();
}
