/*
 * test-loader.c: unit tests of the kernel loaders (monitor/boot/loader.h).
 *
 * Images are synthesised in memory (ELF64, ELF32 and raw a.out-kludge
 * files); guest memory is a low buffer, plus optionally a window above
 * 4 GiB, reached through a map callback that returns NULL elsewhere.  Low
 * memory is filled with a marker byte before each load so that the test
 * sees what the loader wrote, zeroed and left alone.  The page tables are
 * walked by hand and by the vmm page walker.  Single-threaded.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/boot/loader.h"
#include "monitor/boot/multiboot.h"
#include "monitor/platform.h"
#include "tests/tap.h"
#include "vmm/vmm_paging.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define MARK 0xa5 /* what guest memory holds before a load */
#define LOW_SIZE (16 * MiB)
#define HIGH_WINDOW (4 * MiB) /* backed high memory, at 4 GiB */
#define IMG_MAX (64 * KiB)

struct guest {
	uint8_t *low;
	uint64_t low_size; /* bytes backed at 0 */
	uint8_t *high;
	uint64_t high_size; /* bytes backed at VM_HIGHMEM_BASE */
	int maps; /* map calls */
};

static void *guest_map(void *arg, uint64_t gpa, size_t len)
{
	struct guest *g = arg;

	g->maps++;
	if (gpa <= g->low_size && len <= g->low_size - gpa)
		return g->low + gpa;
	if (g->high && gpa >= VM_HIGHMEM_BASE &&
	    gpa - VM_HIGHMEM_BASE <= g->high_size &&
	    len <= g->high_size - (gpa - VM_HIGHMEM_BASE))
		return g->high + (gpa - VM_HIGHMEM_BASE);
	return NULL;
}

static void guest_reset(struct guest *g)
{
	memset(g->low, MARK, g->low_size);
	memset(g->high, MARK, g->high_size);
	g->maps = 0;
}

static uint8_t *gptr(struct guest *g, uint64_t gpa, size_t len)
{
	uint8_t *p = guest_map(g, gpa, len);

	if (!p)
		tap_bail("test reads outside guest memory at 0x%llx",
			 (unsigned long long)gpa);
	return p;
}

static uint64_t rd64(struct guest *g, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, gptr(g, gpa, 8), 8);
	return v;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void params_init(struct loader_params *p, struct guest *g,
			const void *img, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->image = img;
	p->image_len = len;
	p->lowmem_size = g->low_size;
	p->map = guest_map;
	p->map_arg = g;
}

/* A register's value: exactly one entry must name it. */
static bool reg_get(const struct loader_result *r, int reg, uint64_t *val)
{
	int found = 0;

	for (unsigned int i = 0; i < r->nregs; i++) {
		if (r->regnums[i] == reg) {
			*val = r->regvals[i];
			found++;
		}
	}
	return found == 1;
}

struct reg_expect {
	int reg;
	uint64_t val;
	const char *name;
};

static void check_regs(const struct loader_result *r,
		       const struct reg_expect *e, size_t n, const char *what)
{
	bool valid = true;

	for (unsigned int i = 0; i < r->nregs; i++) {
		uint64_t v;

		if (r->regnums[i] < 0 || r->regnums[i] >= VM_REG_LAST ||
		    !reg_get(r, r->regnums[i], &v))
			valid = false;
	}
	ok(valid && r->nregs <= LOADER_MAX_REGS,
	   "%s: %u registers, each valid and set once", what, r->nregs);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = ~0ULL;

		if (!reg_get(r, e[i].reg, &v))
			ok(0, "%s: %s is set", what, e[i].name);
		else
			is_hex(v, e[i].val, "%s: %s", what, e[i].name);
	}
}

/* Every general register not named in `e` is zero. */
static void check_gprs_zero(const struct loader_result *r,
			    const struct reg_expect *e, size_t n,
			    const char *what)
{
	bool zero = true;

	for (int reg = VM_REG_GUEST_RAX; reg <= VM_REG_GUEST_R15; reg++) {
		uint64_t v = 1;
		bool named = false;

		for (size_t i = 0; i < n; i++)
			named |= e[i].reg == reg;
		if (!named && (!reg_get(r, reg, &v) || v != 0))
			zero = false;
	}
	ok(zero, "%s: the other general registers are set to 0", what);
}

/* A segment register loaded from a flat boot GDT entry. */
static void check_seg(const struct loader_result *r, int seg, uint64_t sel,
		      uint64_t access, const char *what)
{
	static const char *const names[] = { "ES", "CS", "SS",	 "DS",
					     "FS", "GS", "LDTR", "TR" };
	int i = seg - VM_REG_GUEST_ES;
	uint64_t v[4] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL };
	bool set = reg_get(r, seg, &v[0]) &&
		   reg_get(r, VM_REG_GUEST_ES_BASE + i, &v[1]) &&
		   reg_get(r, VM_REG_GUEST_ES_LIMIT + i, &v[2]) &&
		   reg_get(r, VM_REG_GUEST_ES_ACCESS + i, &v[3]);

	ok(set && v[0] == sel && v[1] == 0 && v[2] == 0xffffffff &&
		   v[3] == access,
	   "%s: %s = 0x%llx, base 0, limit 0xffffffff, access 0x%llx", what,
	   names[i], (unsigned long long)sel, (unsigned long long)access);
	if (!set || v[0] != sel || v[3] != access)
		tap_diag(
			"got selector 0x%llx base 0x%llx limit 0x%llx access 0x%llx",
			(unsigned long long)v[0], (unsigned long long)v[1],
			(unsigned long long)v[2], (unsigned long long)v[3]);
}

/* CS and the data segments, LDTR, TR, GDTR and IDTR. */
static void check_segs(const struct loader_result *r, uint64_t cs_sel,
		       uint64_t cs_access, const char *what)
{
	static const int data[] = { VM_REG_GUEST_DS, VM_REG_GUEST_ES,
				    VM_REG_GUEST_FS, VM_REG_GUEST_GS,
				    VM_REG_GUEST_SS };
	const struct reg_expect sys[] = {
		{ VM_REG_GUEST_LDTR_ACCESS, 0x10000, "LDTR unusable" },
		{ VM_REG_GUEST_TR, 0, "TR selector" },
		{ VM_REG_GUEST_TR_ACCESS, 0x8b, "TR busy TSS, present" },
		{ VM_REG_GUEST_GDTR_BASE, BOOT_GDT_ADDR, "GDTR base" },
		{ VM_REG_GUEST_GDTR_LIMIT, 31, "GDTR limit" },
		{ VM_REG_GUEST_IDTR_BASE, 0, "IDTR base" },
		{ VM_REG_GUEST_IDTR_LIMIT, 0, "IDTR limit" },
	};

	check_seg(r, VM_REG_GUEST_CS, cs_sel, cs_access, what);
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		check_seg(r, data[i], BOOT_SEL_DATA, 0xc093, what);
	check_regs(r, sys, sizeof(sys) / sizeof(sys[0]), what);
}

/* ---- image builders ---- */

struct seg_spec {
	uint32_t type; /* 0 means PT_LOAD */
	uint64_t paddr;
	uint64_t vaddr; /* 0 means paddr */
	uint64_t filesz;
	uint64_t memsz;
	const void *head; /* bytes at the segment's start, or NULL */
	size_t headlen;
};

struct elf_spec {
	int bits; /* 32 or 64 */
	uint16_t machine; /* 0: the natural one for bits */
	uint64_t entry;
	unsigned int nsegs;
	struct seg_spec segs[40];
};

/* The byte at offset k of segment i's file data. */
static uint8_t pat(unsigned int i, uint64_t k)
{
	return (uint8_t)(k * 31 + i * 17 + 5);
}

/*
 * Build an ELF image: header, program headers, then each segment's data
 * from file offset 0x1000 on (so a Multiboot header at the start of the
 * first segment lands inside the first 8 KiB).  Returns the length.
 */
static size_t elf_build(uint8_t *buf, const struct elf_spec *s,
			uint64_t *seg_off)
{
	uint64_t off = 0x1000;
	size_t ehsize = s->bits == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = s->bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	memset(buf, 0, IMG_MAX);
	for (unsigned int i = 0; i < s->nsegs; i++) {
		const struct seg_spec *g = &s->segs[i];
		uint64_t fo = g->filesz ? off : 0;

		if (off + g->filesz > IMG_MAX)
			tap_bail("test image too large");
		for (uint64_t k = 0; k < g->filesz; k++)
			buf[fo + k] = pat(i, k);
		if (g->head)
			memcpy(buf + fo, g->head, g->headlen);
		if (seg_off)
			seg_off[i] = fo;
		off = (off + g->filesz + 15) & ~15ULL;

		if (s->bits == 64) {
			Elf64_Phdr ph = {
				.p_type = g->type ? g->type : PT_LOAD,
				.p_offset = fo,
				.p_vaddr = g->vaddr ? g->vaddr : g->paddr,
				.p_paddr = g->paddr,
				.p_filesz = g->filesz,
				.p_memsz = g->memsz,
				.p_flags = PF_R | PF_W | PF_X,
				.p_align = 16,
			};
			memcpy(buf + ehsize + i * phsize, &ph, phsize);
		} else {
			Elf32_Phdr ph = {
				.p_type = g->type ? g->type : PT_LOAD,
				.p_offset = (uint32_t)fo,
				.p_vaddr = (uint32_t)(g->vaddr ? g->vaddr :
								 g->paddr),
				.p_paddr = (uint32_t)g->paddr,
				.p_filesz = (uint32_t)g->filesz,
				.p_memsz = (uint32_t)g->memsz,
				.p_flags = PF_R | PF_W | PF_X,
				.p_align = 16,
			};
			memcpy(buf + ehsize + i * phsize, &ph, phsize);
		}
	}
	if (s->bits == 64) {
		Elf64_Ehdr eh = {
			.e_type = ET_EXEC,
			.e_machine = s->machine ? s->machine : EM_X86_64,
			.e_version = EV_CURRENT,
			.e_entry = s->entry,
			.e_phoff = ehsize,
			.e_ehsize = (uint16_t)ehsize,
			.e_phentsize = (uint16_t)phsize,
			.e_phnum = (uint16_t)s->nsegs,
		};
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(buf, &eh, sizeof(eh));
	} else {
		Elf32_Ehdr eh = {
			.e_type = ET_EXEC,
			.e_machine = s->machine ? s->machine : EM_386,
			.e_version = EV_CURRENT,
			.e_entry = (uint32_t)s->entry,
			.e_phoff = (uint32_t)ehsize,
			.e_ehsize = (uint16_t)ehsize,
			.e_phentsize = (uint16_t)phsize,
			.e_phnum = (uint16_t)s->nsegs,
		};
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(buf, &eh, sizeof(eh));
	}
	return off;
}

/* A Multiboot header with a good checksum (unless `bad`). */
static struct mb1_header mb_header(uint32_t flags, bool bad)
{
	struct mb1_header h;

	memset(&h, 0, sizeof(h));
	h.magic = MULTIBOOT_HEADER_MAGIC;
	h.flags = flags;
	h.checksum = -(h.magic + h.flags) + (bad ? 1 : 0);
	return h;
}

static void ehdr64_get(const uint8_t *buf, Elf64_Ehdr *eh)
{
	memcpy(eh, buf, sizeof(*eh));
}

static void ehdr64_put(uint8_t *buf, const Elf64_Ehdr *eh)
{
	memcpy(buf, eh, sizeof(*eh));
}

static void phdr64_get(const uint8_t *buf, unsigned int i, Elf64_Phdr *ph)
{
	memcpy(ph, buf + sizeof(Elf64_Ehdr) + i * sizeof(*ph), sizeof(*ph));
}

static void phdr64_put(uint8_t *buf, unsigned int i, const Elf64_Phdr *ph)
{
	memcpy(buf + sizeof(Elf64_Ehdr) + i * sizeof(*ph), ph, sizeof(*ph));
}

/* The ELF64 kernel most tests start from. */
static size_t elf64_basic(uint8_t *buf, uint64_t *seg_off)
{
	struct elf_spec s = {
		.bits = 64,
		.entry = 0x100010,
		.nsegs = 3,
		.segs = {
			{ .paddr = 0x100000, .filesz = 0x1800, .memsz = 0x3000 },
			{ .type = PT_NOTE, .paddr = 0, .filesz = 0x20 },
			{ .paddr = 0x200000, .filesz = 0x100, .memsz = 0x100 },
		},
	};

	return elf_build(buf, &s, seg_off);
}

/* ---- checks shared by several cases ---- */

static const struct mb1_info *info_at(struct guest *g)
{
	return (const struct mb1_info *)gptr(g, BOOT_INFO_ADDR,
					     sizeof(struct mb1_info));
}

static const char *str_at(struct guest *g, uint64_t gpa)
{
	/* Strings live in the boot area, which the buffer always backs. */
	if (gpa < BOOT_CMDLINE_ADDR ||
	    gpa >= BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX)
		return NULL;
	return (const char *)gptr(g, gpa, 1);
}

static void check_gdt(struct guest *g, const char *what)
{
	is_hex(rd64(g, BOOT_GDT_ADDR), 0, "%s: GDT null entry", what);
	is_hex(rd64(g, BOOT_GDT_ADDR + BOOT_SEL_CODE64), 0x00af9b000000ffffULL,
	       "%s: GDT 0x08 is 64-bit code (L=1, D=0, G=1)", what);
	is_hex(rd64(g, BOOT_GDT_ADDR + BOOT_SEL_DATA), 0x00cf93000000ffffULL,
	       "%s: GDT 0x10 is flat read/write data", what);
	is_hex(rd64(g, BOOT_GDT_ADDR + BOOT_SEL_CODE32), 0x00cf9b000000ffffULL,
	       "%s: GDT 0x18 is flat 32-bit code", what);
}

struct mmap_expect {
	uint64_t base, len;
};

static void check_info(struct guest *g, uint64_t lowmem,
		       const struct mmap_expect *mm, unsigned int nmm,
		       const char *cmdline, const char *what)
{
	const struct mb1_info *info = info_at(g);
	const char *s;
	bool mm_ok = true;

	is_hex(info->flags, 0x24d,
	       "%s: info flags: memory, cmdline, mods, mmap, loader name",
	       what);
	is_int(info->mem_lower, 639, "%s: mem_lower is 639 KiB", what);
	is_int(info->mem_upper, (lowmem - MiB) / KiB,
	       "%s: mem_upper is low memory above 1 MiB, in KiB", what);
	is_hex(info->mmap_addr, BOOT_MMAP_ADDR, "%s: mmap_addr", what);
	is_int(info->mmap_length, nmm * 24, "%s: mmap_length, %u entries", what,
	       nmm);
	for (unsigned int i = 0; i < nmm; i++) {
		struct mb1_mmap_entry e;

		memcpy(&e, gptr(g, BOOT_MMAP_ADDR + i * 24, 24), 24);
		if (e.size != 20 || e.base_addr != mm[i].base ||
		    e.length != mm[i].len || e.type != MB1_MEM_AVAILABLE) {
			mm_ok = false;
			tap_diag("mmap %u: size %u [0x%llx, +0x%llx) type %u",
				 i, e.size, (unsigned long long)e.base_addr,
				 (unsigned long long)e.length, e.type);
		}
	}
	ok(mm_ok, "%s: memory map entries are the RAM ranges", what);
	s = str_at(g, info->cmdline);
	is_str(s, cmdline, "%s: command line", what);
	s = str_at(g, info->boot_loader_name);
	is_str(s, "vitro", "%s: boot loader name", what);
	ok(all_bytes((const uint8_t *)info + 88, sizeof(*info) - 88, 0) &&
		   info->boot_device == 0 && info->drives_length == 0,
	   "%s: fields not provided are zero", what);
}

/* Hand walk of 4-level tables: the physical address, or -1. */
static int64_t walk4(struct guest *g, uint64_t cr3, uint64_t va, bool *rw,
		     bool *nx)
{
	uint64_t e[3], table = cr3 & ~0xfffULL;
	int shifts[3] = { 39, 30, 21 };

	*rw = true;
	*nx = false;
	for (int l = 0; l < 3; l++) {
		e[l] = rd64(g, table + ((va >> shifts[l]) & 511) * 8);
		if (!(e[l] & 1))
			return -1;
		*rw &= (e[l] >> 1) & 1;
		*nx |= e[l] >> 63;
		if (l < 2 && (e[l] & 0x80))
			return -2; /* no 1 GiB pages expected */
		table = e[l] & 0x000ffffffffff000ULL;
	}
	if (!(e[2] & 0x80))
		return -3; /* 2 MiB pages expected */
	return (int64_t)((e[2] & 0x000fffffffe00000ULL) | (va & 0x1fffff));
}

static void check_map(struct guest *g, const struct loader_result *r,
		      const uint64_t *mapped, size_t nm,
		      const uint64_t *unmapped, size_t nu, const char *what)
{
	uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0, rfl = 0, cs = 0, ss = 0;
	struct vm_guest_paging pg;
	bool hand = true, walker = true;

	reg_get(r, VM_REG_GUEST_CR0, &cr0);
	reg_get(r, VM_REG_GUEST_CR3, &cr3);
	reg_get(r, VM_REG_GUEST_CR4, &cr4);
	reg_get(r, VM_REG_GUEST_EFER, &efer);
	reg_get(r, VM_REG_GUEST_RFLAGS, &rfl);
	reg_get(r, VM_REG_GUEST_CS_ACCESS, &cs);
	reg_get(r, VM_REG_GUEST_SS_ACCESS, &ss);
	vmm_paging_from_regs(cr0, cr3, cr4, efer, rfl, cs, ss, &pg);
	ok(pg.paging_mode == PAGING_MODE_64 && pg.cpu_mode == CPU_MODE_64BIT &&
		   pg.cpl == 0 && pg.wp,
	   "%s: the registers describe 64-bit mode, 4-level paging, CPL 0, WP",
	   what);

	for (size_t i = 0; i < nm; i++) {
		struct vm_gla2gpa w;
		bool rw, nx;
		int64_t pa = walk4(g, cr3, mapped[i], &rw, &nx);

		if (pa != (int64_t)mapped[i] || !rw || nx) {
			hand = false;
			tap_diag("0x%llx -> %lld rw %d nx %d",
				 (unsigned long long)mapped[i], (long long)pa,
				 rw, nx);
		}
		memset(&w, 0, sizeof(w));
		if (vmm_paging_walk(&pg, mapped[i],
				    VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC,
				    true, guest_map, g, &w) != 0 ||
		    w.fault || w.gpa != mapped[i] || w.page_size != 2 * MiB) {
			walker = false;
			tap_diag("walker: 0x%llx -> fault %d gpa 0x%llx",
				 (unsigned long long)mapped[i], w.fault,
				 (unsigned long long)w.gpa);
		}
	}
	ok(hand,
	   "%s: hand walk: %zu addresses identity-mapped, 2 MiB pages, writable, executable",
	   what, nm);
	ok(walker, "%s: vmm walker agrees on read/write/execute", what);

	hand = true;
	for (size_t i = 0; i < nu; i++) {
		bool rw, nx;

		if (walk4(g, cr3, unmapped[i], &rw, &nx) != -1) {
			hand = false;
			tap_diag("0x%llx is mapped",
				 (unsigned long long)unmapped[i]);
		}
	}
	ok(hand, "%s: %zu addresses beyond the map are not present", what, nu);
}

/* ---- the cases ---- */

static void test_elf64(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct loader_result r;
	struct loader_params p;
	uint64_t off[3];
	char msg[LOADER_MSG_MAX] = "";
	size_t len = elf64_basic(img, off);
	int rc;

	guest_reset(g);
	params_init(&p, g, img, len);
	p.cmdline = "console=ttyS0";
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "ELF64: loads"))
		tap_diag("%s", msg);
	is_int(r.format, LOADER_FMT_ELF64, "ELF64: format");
	is_int(r.entry_mode, LOADER_ENTRY_LONG64, "ELF64: 64-bit entry");
	is_hex(r.entry, 0x100010, "ELF64: entry");
	is_hex(r.kernel_start, 0x100000, "ELF64: kernel start");
	is_hex(r.kernel_end, 0x200100, "ELF64: kernel end");
	is_int(r.nmodules, 0, "ELF64: no modules");
	is_str(r.desc,
	       "ELF64 x86-64: entry 0x100010 (64-bit), kernel [0x100000, 0x200100) in 2 segments",
	       "ELF64: description");

	ok(memcmp(gptr(g, 0x100000, 0x1800), img + off[0], 0x1800) == 0,
	   "ELF64: segment 0 file bytes at p_paddr");
	ok(all_bytes(gptr(g, 0x101800, 0x1800), 0x1800, 0),
	   "ELF64: segment 0 bss [0x101800, 0x103000) zeroed");
	ok(all_bytes(gptr(g, 0x103000, 0x1000), 0x1000, MARK),
	   "ELF64: memory after segment 0 untouched");
	ok(memcmp(gptr(g, 0x200000, 0x100), img + off[2], 0x100) == 0,
	   "ELF64: segment 2 at p_paddr (PT_NOTE skipped)");
	ok(all_bytes(gptr(g, 0x200100, 0x100), 0x100, MARK),
	   "ELF64: memory after segment 2 untouched");
	ok(all_bytes(gptr(g, 0, BOOT_GDT_ADDR), BOOT_GDT_ADDR, MARK) &&
		   all_bytes(gptr(g, BOOT_INFO_END, 0x8000), 0x8000, MARK),
	   "ELF64: [0, 0x1000) and [0x8000, 0x10000) untouched");
	ok(all_bytes(gptr(g, 0x10000 + 6 * 4096, 4096), 4096, MARK),
	   "ELF64: page tables end after PML4, PDPT and 4 directories");
	ok(all_bytes(gptr(g, 0x16000, BOOT_STACK_TOP - 0x16000),
		     BOOT_STACK_TOP - 0x16000, MARK),
	   "ELF64: the stack area is left alone");

	{
		const struct reg_expect e[] = {
			{ VM_REG_GUEST_CR0, 0x80010033,
			  "CR0 PE|MP|ET|NE|WP|PG" },
			{ VM_REG_GUEST_CR3, BOOT_PGTABLE_ADDR, "CR3" },
			{ VM_REG_GUEST_CR4, 0x620,
			  "CR4 PAE|OSFXSR|OSXMMEXCPT" },
			{ VM_REG_GUEST_EFER, 0x500, "EFER LME|LMA" },
			{ VM_REG_GUEST_RIP, 0x100010, "RIP" },
			{ VM_REG_GUEST_RSP, BOOT_STACK_TOP, "RSP" },
			{ VM_REG_GUEST_RDI, BOOT_INFO_ADDR, "RDI" },
			{ VM_REG_GUEST_RAX, MULTIBOOT_BOOT_MAGIC, "RAX" },
			{ VM_REG_GUEST_RFLAGS, 2, "RFLAGS" },
		};
		size_t n = sizeof(e) / sizeof(e[0]);

		check_regs(&r, e, n, "ELF64");
		check_gprs_zero(&r, e, n, "ELF64");
		check_segs(&r, BOOT_SEL_CODE64, 0xa09b, "ELF64");
	}
	check_gdt(g, "ELF64");
	{
		const struct mmap_expect mm[] = { { 0, 0x9fc00 },
						  { MiB, LOW_SIZE - MiB } };

		check_info(g, LOW_SIZE, mm, 2, "console=ttyS0", "ELF64");
		is_int(info_at(g)->mods_count, 0, "ELF64: mods_count 0");
		is_hex(info_at(g)->mods_addr, BOOT_MODS_ADDR,
		       "ELF64: mods_addr");
	}
	{
		const uint64_t mapped[] = { 0,		0x1234,
					    0x100010,	0x1fffff,
					    0x200000,	LOW_SIZE - 1,
					    0xbfffffff, IOAPIC_BASE,
					    LAPIC_BASE, 4 * GiB - 1 };
		const uint64_t unmapped[] = { 4 * GiB, 5 * GiB + 0x1000,
					      512 * GiB };

		check_map(g, &r, mapped, sizeof(mapped) / 8, unmapped,
			  sizeof(unmapped) / 8, "ELF64");
	}

	/* NXE is the caller's decision. */
	p.nxe = true;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	{
		uint64_t efer = 0;

		ok(rc == 0 && reg_get(&r, VM_REG_GUEST_EFER, &efer) &&
			   efer == 0xd00,
		   "ELF64: with nxe, EFER is LME|LMA|NXE");
	}
	free(img);
}

static void test_elf64_highmem(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct loader_result r;
	struct loader_params p;
	uint64_t off[2];
	char msg[LOADER_MSG_MAX] = "";
	struct elf_spec s = {
		.bits = 64,
		.entry = 0x100000,
		.nsegs = 2,
		.segs = {
			{ .paddr = 0x100000, .filesz = 0x100, .memsz = 0x100 },
			{ .paddr = VM_HIGHMEM_BASE + 0x200000,
			  .filesz = 0x300,
			  .memsz = 0x1000 },
		},
	};
	size_t len = elf_build(img, &s, off);
	int rc;

	guest_reset(g);
	params_init(&p, g, img, len);
	p.highmem_size = 6 * GiB + 1;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "ELF64 high: loads with a segment above 4 GiB"))
		tap_diag("%s", msg);
	ok(memcmp(gptr(g, VM_HIGHMEM_BASE + 0x200000, 0x300), img + off[1],
		  0x300) == 0 &&
		   all_bytes(gptr(g, VM_HIGHMEM_BASE + 0x200300, 0xd00), 0xd00,
			     0),
	   "ELF64 high: segment copied and zeroed in high memory");
	is_hex(r.kernel_end, VM_HIGHMEM_BASE + 0x201000,
	       "ELF64 high: kernel end");
	{
		const struct mmap_expect mm[] = {
			{ 0, 0x9fc00 },
			{ MiB, LOW_SIZE - MiB },
			{ VM_HIGHMEM_BASE, 6 * GiB + 1 },
		};

		check_info(g, LOW_SIZE, mm, 3, "", "ELF64 high");
	}
	{
		/* 10 GiB + 1 byte of address space: 11 page directories. */
		const uint64_t mapped[] = { 0x100000, 3 * GiB + 5,
					    4 * GiB + 0x200000,
					    10 * GiB + 0x123456, 11 * GiB - 1 };
		const uint64_t unmapped[] = { 11 * GiB, 64 * GiB };

		check_map(g, &r, mapped, sizeof(mapped) / 8, unmapped,
			  sizeof(unmapped) / 8, "ELF64 high");
	}
	ok(all_bytes(gptr(g, 0x10000 + 13 * 4096, 4096), 4096, MARK),
	   "ELF64 high: page tables are PML4, PDPT and 11 directories");

	/* A lot of high memory: the map stops at 64 GiB. */
	guest_reset(g);
	p.highmem_size = 100 * GiB;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	is_int(rc, 0, "ELF64 100 GiB high: loads");
	{
		const uint64_t mapped[] = { 0x100000, 17 * GiB + 0x1000,
					    63 * GiB + 0x1ff000, 64 * GiB - 1 };
		const uint64_t unmapped[] = { 64 * GiB, 104 * GiB - 1 };

		check_map(g, &r, mapped, sizeof(mapped) / 8, unmapped,
			  sizeof(unmapped) / 8, "ELF64 100 GiB high");
	}
	ok(all_bytes(gptr(g, 0x10000 + 66 * 4096, 4096), 4096, MARK),
	   "ELF64 100 GiB high: page tables are PML4, PDPT and 64 directories");
	free(img);
}

/* e_entry in a segment's virtual range moves to its physical address. */
static void test_elf64_virtual_entry(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct loader_result r;
	struct loader_params p;
	char msg[LOADER_MSG_MAX] = "";
	struct elf_spec s = {
		.bits = 64,
		.entry = 0xffffffff80100020ULL,
		.nsegs = 1,
		.segs = { { .paddr = 0x100000,
			    .vaddr = 0xffffffff80100000ULL,
			    .filesz = 0x100,
			    .memsz = 0x200 } },
	};
	size_t len = elf_build(img, &s, NULL);
	uint64_t rip = 0;
	int rc;

	guest_reset(g);
	params_init(&p, g, img, len);
	rc = loader_load(&p, &r, msg, sizeof(msg));
	ok(rc == 0 && reg_get(&r, VM_REG_GUEST_RIP, &rip) && rip == 0x100020,
	   "ELF64: a virtual e_entry becomes the physical entry 0x100020 (got %d, 0x%llx)",
	   rc, (unsigned long long)rip);
	free(img);
}

static const struct reg_expect mb32_regs_common[] = {
	{ VM_REG_GUEST_RAX, MULTIBOOT_BOOT_MAGIC, "EAX" },
	{ VM_REG_GUEST_RBX, BOOT_INFO_ADDR, "EBX" },
	{ VM_REG_GUEST_RFLAGS, 2, "EFLAGS" },
	{ VM_REG_GUEST_CR0, 0x11, "CR0 PE|ET" },
	{ VM_REG_GUEST_CR3, 0, "CR3" },
	{ VM_REG_GUEST_CR4, 0, "CR4" },
	{ VM_REG_GUEST_EFER, 0, "EFER" },
};

static void check_mb32(struct guest *g, const struct loader_result *r,
		       uint64_t entry, const char *what)
{
	uint64_t rip = 0;

	check_regs(r, mb32_regs_common,
		   sizeof(mb32_regs_common) / sizeof(mb32_regs_common[0]),
		   what);
	check_gprs_zero(r, mb32_regs_common, 2, what);
	check_segs(r, BOOT_SEL_CODE32, 0xc09b, what);
	ok(reg_get(r, VM_REG_GUEST_RIP, &rip) && rip == entry,
	   "%s: EIP is the entry 0x%llx", what, (unsigned long long)entry);
	is_int(r->entry_mode, LOADER_ENTRY_MB32, "%s: 32-bit entry", what);
	check_gdt(g, what);
	ok(all_bytes(gptr(g, BOOT_PGTABLE_ADDR, 0x1000), 0x1000, MARK),
	   "%s: no page tables written", what);
}

static void test_mb_elf32(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct mb1_header h =
		mb_header(MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO, false);
	uint8_t *m0 = malloc(5000), *m1 = malloc(0x2000);
	const struct loader_module mods[] = {
		{ "initrd.img root=/dev/ram0", m0, 5000 },
		{ "second", m1, 0x2000 },
		{ NULL, NULL, 0 },
	};
	struct elf_spec s = {
		.bits = 32,
		.entry = 0x10000c,
		.nsegs = 2,
		.segs = {
			{ .paddr = 0x100000,
			  .filesz = 0x800,
			  .memsz = 0x800,
			  .head = &h,
			  .headlen = 12 },
			{ .paddr = 0x101000, .filesz = 0x10, .memsz = 0x2800 },
		},
	};
	struct loader_result r;
	struct loader_params p;
	uint64_t off[2];
	char msg[LOADER_MSG_MAX] = "";
	size_t len = elf_build(img, &s, off);
	const struct mb1_info *info;
	struct mb1_module mm[3];
	int rc;

	for (int i = 0; i < 5000; i++)
		m0[i] = (uint8_t)(i * 7);
	for (int i = 0; i < 0x2000; i++)
		m1[i] = (uint8_t)(i * 13 + 1);
	guest_reset(g);
	params_init(&p, g, img, len);
	p.cmdline = "kernel console=ttyS0 debug";
	p.modules = mods;
	p.nmodules = 3;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "MB ELF32: loads"))
		tap_diag("%s", msg);
	is_int(r.format, LOADER_FMT_MB_ELF32, "MB ELF32: format");
	check_mb32(g, &r, 0x10000c, "MB ELF32");
	ok(memcmp(gptr(g, 0x100000, 0x800), img + off[0], 0x800) == 0 &&
		   memcmp(gptr(g, 0x101000, 0x10), img + off[1], 0x10) == 0,
	   "MB ELF32: segments at p_paddr");
	ok(all_bytes(gptr(g, 0x101010, 0x27f0), 0x27f0, 0),
	   "MB ELF32: bss zeroed");
	ok(all_bytes(gptr(g, 0x100800, 0x800), 0x800, MARK),
	   "MB ELF32: the gap between segments untouched");
	{
		const struct mmap_expect mme[] = { { 0, 0x9fc00 },
						   { MiB, LOW_SIZE - MiB } };

		check_info(g, LOW_SIZE, mme, 2, "kernel console=ttyS0 debug",
			   "MB ELF32");
	}

	/* Kernel ends at 0x103800: modules from 0x104000, page-aligned. */
	info = info_at(g);
	is_int(info->mods_count, 3, "MB ELF32: mods_count");
	is_hex(info->mods_addr, BOOT_MODS_ADDR, "MB ELF32: mods_addr");
	memcpy(mm, gptr(g, BOOT_MODS_ADDR, sizeof(mm)), sizeof(mm));
	is_hex(mm[0].mod_start, 0x104000, "MB ELF32: module 0 start");
	is_hex(mm[0].mod_end, 0x104000 + 5000, "MB ELF32: module 0 end");
	is_hex(mm[1].mod_start, 0x106000, "MB ELF32: module 1 start");
	is_hex(mm[1].mod_end, 0x108000, "MB ELF32: module 1 end");
	is_hex(mm[2].mod_start, 0x108000, "MB ELF32: empty module 2 start");
	is_hex(mm[2].mod_end, 0x108000, "MB ELF32: empty module 2 end");
	ok(mm[0].reserved == 0 && mm[1].reserved == 0 && mm[2].reserved == 0,
	   "MB ELF32: module reserved fields 0");
	is_str(str_at(g, mm[0].string), "initrd.img root=/dev/ram0",
	       "MB ELF32: module 0 string");
	is_str(str_at(g, mm[1].string), "second", "MB ELF32: module 1 string");
	is_str(str_at(g, mm[2].string), "",
	       "MB ELF32: module 2 string (NULL name)");
	ok(memcmp(gptr(g, 0x104000, 5000), m0, 5000) == 0 &&
		   memcmp(gptr(g, 0x106000, 0x2000), m1, 0x2000) == 0,
	   "MB ELF32: module bytes in place");
	is_hex(r.modules_start, 0x104000, "MB ELF32: result modules start");
	is_hex(r.modules_end, 0x108000, "MB ELF32: result modules end");
	is_str(r.desc,
	       "Multiboot ELF32 i386: entry 0x10000c (32-bit), kernel [0x100000, 0x103800) in 2 segments, 3 modules [0x104000, 0x108000)",
	       "MB ELF32: description");
	free(img);
	free(m0);
	free(m1);
}

static void test_mb_elf64(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct mb1_header h = mb_header(0, false);
	struct elf_spec s = {
		.bits = 64,
		.entry = 0x200040,
		.nsegs = 1,
		.segs = { { .paddr = 0x200000,
			    .filesz = 0x100,
			    .memsz = 0x100,
			    .head = &h,
			    .headlen = 12 } },
	};
	struct loader_result r;
	struct loader_params p;
	char msg[LOADER_MSG_MAX] = "";
	size_t len = elf_build(img, &s, NULL);
	int rc;

	guest_reset(g);
	params_init(&p, g, img, len);
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "MB ELF64: loads"))
		tap_diag("%s", msg);
	is_int(r.format, LOADER_FMT_MB_ELF64, "MB ELF64: format");
	check_mb32(g, &r, 0x200040, "MB ELF64");

	/* A Multiboot kernel must stay below 4 GiB. */
	s.segs[0].paddr = VM_HIGHMEM_BASE;
	s.entry = VM_HIGHMEM_BASE + 0x40;
	len = elf_build(img, &s, NULL);
	params_init(&p, g, img, len);
	p.highmem_size = GiB;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	is_int(rc, -EINVAL, "MB ELF64 entry above 4 GiB: refused");
	is_str(msg,
	       "ELF64 Multiboot image's entry point 0x100000040 is above 4 GiB; Multiboot enters 32-bit code",
	       "MB ELF64 entry above 4 GiB: message");
	s.entry = 0x100000;
	s.nsegs = 2;
	s.segs[1] = (struct seg_spec){ .paddr = 0x100000,
				       .filesz = 0x10,
				       .memsz = 0x10 };
	len = elf_build(img, &s, NULL);
	params_init(&p, g, img, len);
	p.highmem_size = GiB;
	rc = loader_load(&p, &r, msg, sizeof(msg));
	is_int(rc, -ENOMEM, "MB ELF64 segment above 4 GiB: refused");
	is_str(msg,
	       "ELF segment 0 [0x100000000, 0x100000100) is not in the RAM a 32-bit Multiboot kernel can use, [0x100000, 0x1000000)",
	       "MB ELF64 segment above 4 GiB: message");
	free(img);
}

/* A raw image: header at 0x40, loaded at 0x100000. */
static size_t aout_build(uint8_t *buf, uint32_t flags, uint32_t load_end,
			 uint32_t bss_end)
{
	struct mb1_header h = mb_header(flags | MB1_HDR_ADDRESS, false);
	size_t len = 0x3000;

	for (size_t k = 0; k < len; k++)
		buf[k] = pat(9, k);
	h.header_addr = 0x100040;
	h.load_addr = 0x100000;
	h.load_end_addr = load_end;
	h.bss_end_addr = bss_end;
	h.entry_addr = 0x100080;
	h.mode_type = 1;
	h.width = 80;
	h.height = 25;
	memcpy(buf + 0x40, &h, sizeof(h));
	return len;
}

static void test_mb_aout(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct loader_result r;
	struct loader_params p;
	char msg[LOADER_MSG_MAX] = "";
	size_t len = aout_build(img, 0, 0x102000, 0x105000);
	int rc;

	guest_reset(g);
	params_init(&p, g, img, len);
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "MB a.out: loads"))
		tap_diag("%s", msg);
	is_int(r.format, LOADER_FMT_MB_AOUT, "MB a.out: format");
	check_mb32(g, &r, 0x100080, "MB a.out");
	ok(memcmp(gptr(g, 0x100000, 0x2000), img, 0x2000) == 0,
	   "MB a.out: [load_addr, load_end_addr) from the file");
	ok(all_bytes(gptr(g, 0x102000, 0x3000), 0x3000, 0),
	   "MB a.out: [load_end_addr, bss_end_addr) zeroed");
	ok(all_bytes(gptr(g, 0x105000, 0x1000), 0x1000, MARK),
	   "MB a.out: nothing past bss_end_addr");
	is_str(r.desc,
	       "Multiboot a.out kludge: entry 0x100080 (32-bit), kernel [0x100000, 0x105000) in 1 segment",
	       "MB a.out: description");

	/* load_end_addr 0: the whole file; the video flag is noted. */
	len = aout_build(img, MB1_HDR_VIDEO_MODE, 0, 0);
	guest_reset(g);
	params_init(&p, g, img, len);
	rc = loader_load(&p, &r, msg, sizeof(msg));
	if (!is_int(rc, 0, "MB a.out, whole file, video flag: loads"))
		tap_diag("%s", msg);
	ok(memcmp(gptr(g, 0x100000, 0x3000), img, 0x3000) == 0 &&
		   all_bytes(gptr(g, 0x103000, 0x10), 0x10, MARK),
	   "MB a.out whole file: exactly the file is loaded");
	is_str(r.desc,
	       "Multiboot a.out kludge: entry 0x100080 (32-bit), kernel [0x100000, 0x103000) in 1 segment; video mode request ignored (no framebuffer)",
	       "MB a.out video flag: noted in the description");

	/* The address fields also carry an ELF64 file as a 32-bit kernel. */
	{
		size_t elen = elf64_basic(img, NULL);
		struct mb1_header h = mb_header(MB1_HDR_ADDRESS, false);

		h.header_addr = 0x101000;
		h.load_addr = 0x100000;
		h.entry_addr = 0x101000 + 48;
		memcpy(img + 0x1000, &h, sizeof(h));
		guest_reset(g);
		params_init(&p, g, img, elen);
		rc = loader_load(&p, &r, msg, sizeof(msg));
		if (!is_int(rc, 0, "MB a.out on an ELF64 file: loads"))
			tap_diag("%s", msg);
		is_int(r.format, LOADER_FMT_MB_AOUT,
		       "MB a.out on an ELF64 file: format");
		ok(memcmp(gptr(g, 0x100000, elen), img, elen) == 0,
		   "MB a.out on an ELF64 file: the file loaded from offset 0");
		check_mb32(g, &r, 0x101030, "MB a.out ELF64");
	}
	free(img);
}

/* ---- refusals ---- */

struct refusal {
	struct guest *g;
	uint8_t *img;
	size_t len;
	struct loader_params p;
};

/* Load; expect `err` and exactly `expect`; results and memory untouched. */
static void refuse(struct refusal *t, int err, const char *expect,
		   const char *what)
{
	struct loader_result r, before;
	char msg[LOADER_MSG_MAX];
	int rc;

	memset(&r, 0x5a, sizeof(r));
	memcpy(&before, &r, sizeof(r));
	memset(msg, 0, sizeof(msg));
	guest_reset(t->g);
	if (!t->p.map) {
		params_init(&t->p, t->g, t->img, t->len);
	}
	rc = loader_load(&t->p, &r, msg, sizeof(msg));
	is_int(rc, err, "%s: refused", what);
	is_str(msg, expect, "%s: message", what);
	ok(memcmp(&r, &before, sizeof(r)) == 0 &&
		   all_bytes(t->g->low, t->g->low_size, MARK),
	   "%s: result and guest memory untouched", what);
	memset(&t->p, 0, sizeof(t->p));
}

static void test_bad_files(struct guest *g)
{
	struct refusal t = { .g = g, .img = malloc(IMG_MAX) };
	Elf64_Ehdr eh;

	t.len = 0;
	refuse(&t, -ENOEXEC,
	       "kernel image is empty (0 bytes); expected an ELF, Multiboot or Linux bzImage image",
	       "empty file");

	memset(t.img, 0x90, 20000);
	t.len = 20000;
	refuse(&t, -ENOEXEC,
	       "not a kernel vitro boots: no ELF magic, no Multiboot header in the first 8192 bytes, no Linux bzImage setup header",
	       "no magic");
	/* A valid header past 8 KiB does not count. */
	{
		struct mb1_header h = mb_header(0, false);

		memcpy(t.img + 8192, &h, 12);
		refuse(&t, -ENOEXEC,
		       "not a kernel vitro boots: no ELF magic, no Multiboot header in the first 8192 bytes, no Linux bzImage setup header",
		       "Multiboot header past 8 KiB");
	}
	t.len = 3;
	memcpy(t.img, "\177EL", 3);
	refuse(&t, -ENOEXEC,
	       "not a kernel vitro boots: no ELF magic, no Multiboot header in the first 8192 bytes, no Linux bzImage setup header",
	       "3-byte file");

	t.len = elf64_basic(t.img, NULL);
	t.len = 10;
	refuse(&t, -EINVAL,
	       "truncated ELF header: the file is 10 bytes, the ELF identification alone needs 16",
	       "truncated identification");
	t.len = 40;
	refuse(&t, -EINVAL,
	       "truncated ELF header: the file is 40 bytes, an ELF64 header needs 64",
	       "truncated ELF64 header");

	t.len = elf64_basic(t.img, NULL);
	t.img[EI_CLASS] = 3;
	refuse(&t, -ENOEXEC, "ELF class 3 is neither ELF32 (1) nor ELF64 (2)",
	       "bad class");
	t.img[EI_CLASS] = ELFCLASS64;
	t.img[EI_DATA] = ELFDATA2MSB;
	refuse(&t, -ENOEXEC,
	       "ELF data encoding 2 is not little-endian (1), as an x86 kernel must be",
	       "big-endian");
	t.img[EI_DATA] = ELFDATA2LSB;
	t.img[EI_VERSION] = 0;
	refuse(&t, -EINVAL,
	       "ELF identification version 0, expected 1 (EV_CURRENT)",
	       "bad ident version");
	t.img[EI_VERSION] = EV_CURRENT;

	ehdr64_get(t.img, &eh);
	eh.e_machine = EM_AARCH64;
	ehdr64_put(t.img, &eh);
	refuse(&t, -ENOEXEC,
	       "ELF64 image without a Multiboot header must be x86-64 (e_machine 62), not e_machine 183",
	       "ELF64 aarch64");
	eh.e_machine = EM_X86_64;
	eh.e_type = ET_DYN;
	ehdr64_put(t.img, &eh);
	refuse(&t, -ENOEXEC, "ELF type 3 is not an executable (ET_EXEC, 2)",
	       "ET_DYN");

	{
		struct elf_spec s = {
			.bits = 32,
			.entry = 0x100000,
			.nsegs = 1,
			.segs = { { .paddr = 0x100000,
				    .filesz = 0x10,
				    .memsz = 0x10 } },
		};

		t.len = elf_build(t.img, &s, NULL);
		refuse(&t, -ENOEXEC,
		       "ELF32 image without a Multiboot header: vitro boots 32-bit kernels only through Multiboot (add a Multiboot header) and ELF64 x86-64 kernels in 64-bit mode",
		       "ELF32 without Multiboot");
	}
	{
		struct mb1_header h = mb_header(0, false);
		struct elf_spec s = {
			.bits = 32,
			.machine = EM_X86_64,
			.entry = 0x100000,
			.nsegs = 1,
			.segs = { { .paddr = 0x100000,
				    .filesz = 0x10,
				    .memsz = 0x10,
				    .head = &h,
				    .headlen = 12 } },
		};

		t.len = elf_build(t.img, &s, NULL);
		refuse(&t, -ENOEXEC,
		       "ELF32 Multiboot image must be i386 (e_machine 3), not e_machine 62",
		       "ELF32 Multiboot, wrong machine");
		s.bits = 64;
		s.machine = EM_386;
		t.len = elf_build(t.img, &s, NULL);
		refuse(&t, -ENOEXEC,
		       "ELF64 image with a Multiboot header must be x86-64 (e_machine 62), not e_machine 3",
		       "ELF64 Multiboot, wrong machine");
	}
	free(t.img);
}

static void test_bad_phdrs(struct guest *g)
{
	struct refusal t = { .g = g, .img = malloc(IMG_MAX) };
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	size_t base = elf64_basic(t.img, NULL);

	t.len = base;
	ehdr64_get(t.img, &eh);
	eh.e_phoff = base - 10;
	ehdr64_put(t.img, &eh);
	refuse(&t, -EINVAL,
	       "ELF program header table [offset 0x2916, +0xa8) extends beyond the end of the 10528-byte file",
	       "program header table out of bounds");
	eh.e_phoff = UINT64_MAX - 8;
	ehdr64_put(t.img, &eh);
	refuse(&t, -EINVAL,
	       "ELF program header table [offset 0xfffffffffffffff7, +0xa8) extends beyond the end of the 10528-byte file",
	       "program header table offset wraps");
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_phnum = 0;
	ehdr64_put(t.img, &eh);
	refuse(&t, -EINVAL,
	       "ELF image has no program headers (e_phnum 0); a kernel needs PT_LOAD segments",
	       "no program headers");
	eh.e_phnum = 3;
	eh.e_phentsize = 40;
	ehdr64_put(t.img, &eh);
	refuse(&t, -EINVAL,
	       "ELF program header size e_phentsize 40 is smaller than an ELF64 program header (56 bytes)",
	       "short e_phentsize");
	eh.e_phentsize = sizeof(Elf64_Phdr);
	ehdr64_put(t.img, &eh);

	phdr64_get(t.img, 2, &ph);
	ph.p_filesz = 0x200;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 2 has p_filesz 0x200 larger than p_memsz 0x100; the file part must fit in the memory part",
	       "p_filesz > p_memsz");
	ph.p_filesz = 0x100;
	ph.p_offset = base - 0x80;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 2 file range [offset 0x28a0, +0x100) extends beyond the end of the 10528-byte file",
	       "segment beyond end of file");
	ph.p_offset = UINT64_MAX - 10;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 2 file range [offset 0xfffffffffffffff5, +0x100) extends beyond the end of the 10528-byte file",
	       "p_offset + p_filesz wraps");
	t.len = elf64_basic(t.img, NULL);
	phdr64_get(t.img, 2, &ph);
	ph.p_paddr = 0xfffffffffffff000ULL;
	ph.p_memsz = 0x2000;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 2 [0xfffffffffffff000, +0x2000) wraps around the end of the address space",
	       "p_paddr + p_memsz wraps");
	ph.p_paddr = 0x8000;
	ph.p_memsz = 0x100;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 2 [0x8000, 0x8100) overlaps the boot area below 1 MiB; kernels must load at or above 0x100000",
	       "segment in the boot area");
	ph.p_paddr = 0x102000;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -EINVAL,
	       "ELF segment 0 [0x100000, 0x103000) and ELF segment 2 [0x102000, 0x102100) overlap in physical memory",
	       "overlapping segments");
	ph.p_paddr = 0x200000;
	ph.p_memsz = 0x7fe00000;
	phdr64_put(t.img, 2, &ph);
	t.p.lowmem_size = 256 * MiB;
	t.p.map = guest_map;
	t.p.map_arg = g;
	t.p.image = t.img;
	t.p.image_len = t.len;
	refuse(&t, -ENOMEM,
	       "ELF segment 2 [0x200000, 0x80000000) does not fit in 256 MiB of guest memory (kernels load into [0x100000, 0x10000000))",
	       "segment beyond memory");
	t.p.lowmem_size = 3 * GiB;
	t.p.highmem_size = GiB;
	t.p.map = guest_map;
	t.p.map_arg = g;
	t.p.image = t.img;
	t.p.image_len = t.len;
	ph.p_memsz = 0xc0000000;
	phdr64_put(t.img, 2, &ph);
	refuse(&t, -ENOMEM,
	       "ELF segment 2 [0x200000, 0xc0200000) does not fit in 4 GiB of guest memory (RAM is [0x100000, 0xc0000000) and [0x100000000, 0x140000000))",
	       "segment into the PCI hole");

	t.len = elf64_basic(t.img, NULL);
	ehdr64_get(t.img, &eh);
	eh.e_entry = 0x150000;
	ehdr64_put(t.img, &eh);
	refuse(&t, -EINVAL,
	       "ELF entry point 0x150000 is not inside any loadable segment",
	       "entry outside segments");

	for (unsigned int i = 0; i < 3; i++) {
		phdr64_get(t.img, i, &ph);
		ph.p_type = PT_NOTE;
		phdr64_put(t.img, i, &ph);
	}
	refuse(&t, -EINVAL,
	       "ELF image has no loadable segments (no PT_LOAD with p_memsz > 0)",
	       "no PT_LOAD");

	{
		struct elf_spec s = { .bits = 64,
				      .entry = 0x100000,
				      .nsegs = 33 };

		for (unsigned int i = 0; i < 33; i++)
			s.segs[i] = (struct seg_spec){
				.paddr = 0x100000 + i * 0x1000,
				.filesz = 0x10,
				.memsz = 0x10,
			};
		t.len = elf_build(t.img, &s, NULL);
		refuse(&t, -E2BIG,
		       "ELF image has more than 32 loadable segments",
		       "33 segments");
	}
	{
		/* High memory beyond the 64 GiB map cannot hold the entry. */
		struct elf_spec s = {
			.bits = 64,
			.entry = 64 * GiB,
			.nsegs = 1,
			.segs = { { .paddr = 64 * GiB,
				    .filesz = 0x10,
				    .memsz = 0x10 } },
		};

		t.len = elf_build(t.img, &s, NULL);
		t.p.lowmem_size = LOW_SIZE;
		t.p.highmem_size = 100 * GiB;
		t.p.map = guest_map;
		t.p.map_arg = g;
		t.p.image = t.img;
		t.p.image_len = t.len;
		refuse(&t, -ENOMEM,
		       "entry point 0x1000000000 lies above the 64 GiB the boot page tables map",
		       "entry above the 64 GiB map");
	}
	free(t.img);
}

static void test_bad_multiboot(struct guest *g)
{
	struct refusal t = { .g = g, .img = malloc(IMG_MAX) };
	struct mb1_header h = mb_header(0, true);

	memset(t.img, 0, IMG_MAX);
	memcpy(t.img + 0x100, &h, 12);
	t.len = 0x2000;
	refuse(&t, -EINVAL,
	       "Multiboot header at offset 0x100 has a bad checksum: magic + flags + checksum is 0x00000001, expected 0",
	       "Multiboot bad checksum");
	/* Unaligned headers are not headers. */
	h = mb_header(0, false);
	memset(t.img, 0, IMG_MAX);
	memcpy(t.img + 0x102, &h, 12);
	refuse(&t, -ENOEXEC,
	       "not a kernel vitro boots: no ELF magic, no Multiboot header in the first 8192 bytes, no Linux bzImage setup header",
	       "unaligned Multiboot header");

	h = mb_header(MB1_HDR_PAGE_ALIGN | (1u << 3) | (1u << 15), false);
	memset(t.img, 0, IMG_MAX);
	memcpy(t.img + 0x20, &h, 12);
	refuse(&t, -ENOEXEC,
	       "Multiboot header at offset 0x20 requires features vitro does not provide (flags 0x00008009, unknown required bits 0x8008; vitro knows bits 0, 1, 2 and 16)",
	       "unsupported required flags");

	h = mb_header(MB1_HDR_ADDRESS, false);
	memset(t.img, 0, IMG_MAX);
	memcpy(t.img + 8176, &h, 12);
	t.len = 0x3000;
	refuse(&t, -EINVAL,
	       "Multiboot header at offset 0x1ff0 is cut off: its flags 0x00010000 need 32 bytes of header, but the 8192-byte search area ends at offset 0x2000",
	       "header cut off by 8 KiB");
	t.len = 8190;
	refuse(&t, -EINVAL,
	       "Multiboot header at offset 0x1ff0 is cut off: its flags 0x00010000 need 32 bytes of header, but the file ends at offset 0x1ffe",
	       "header cut off by the end of file");

	h = mb_header(0, false);
	memset(t.img, 0, IMG_MAX);
	memcpy(t.img + 0x40, &h, 12);
	t.len = 0x1000;
	refuse(&t, -ENOEXEC,
	       "Multiboot header at offset 0x40 has no address fields (flags bit 16 clear), so the image must be ELF, but it has no ELF magic",
	       "Multiboot without address fields, not ELF");

	{
		struct mb1_header a;

		t.len = aout_build(t.img, 0, 0x102000, 0x105000);
		memcpy(&a, t.img + 0x40, sizeof(a));
		a.load_addr = 0x100044;
		a.checksum = -(a.magic + a.flags);
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot load_addr 0x100044 is above header_addr 0x100040; load_addr must be at or below it",
		       "a.out load_addr above header_addr");
		a.load_addr = 0xf0000;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot header_addr 0x100040 and load_addr 0xf0000 put the load start 0x10040 bytes before the header, but the header is at file offset 0x40",
		       "a.out load start before the file");
		a.load_addr = 0x100000;
		a.load_end_addr = 0x104000;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot load range [0x100000, 0x104000) needs 0x4000 bytes from file offset 0x0, beyond the end of the 12288-byte file",
		       "a.out load_end beyond the file");
		a.load_end_addr = 0xff000;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot load_end_addr 0xff000 is below load_addr 0x100000",
		       "a.out load_end below load_addr");
		a.load_end_addr = 0x102000;
		a.bss_end_addr = 0x101000;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot bss_end_addr 0x101000 is below the end of the loaded data, 0x102000",
		       "a.out bss_end below load_end");
		a.bss_end_addr = 0;
		a.entry_addr = 0x102000;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot entry_addr 0x102000 lies outside the loaded image [0x100000, 0x102000)",
		       "a.out entry outside");
		a.header_addr = 0x8040;
		a.load_addr = 0x8000;
		a.load_end_addr = 0x9000;
		a.entry_addr = 0x8040;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -EINVAL,
		       "Multiboot load range [0x8000, 0x9000) overlaps the boot area below 1 MiB; kernels must load at or above 0x100000",
		       "a.out in the boot area");
		a.header_addr = 0xffff0040;
		a.load_addr = 0xffff0000;
		a.load_end_addr = 0xffff1000;
		a.entry_addr = 0xffff0040;
		memcpy(t.img + 0x40, &a, sizeof(a));
		refuse(&t, -ENOMEM,
		       "Multiboot load range [0xffff0000, 0xffff1000) does not fit in 16 MiB of guest memory (kernels load into [0x100000, 0x1000000))",
		       "a.out beyond memory");
	}
	free(t.img);
}

/* Default parameters with the module array, for refuse(). */
static void setup(struct refusal *t, const struct loader_module *mods)
{
	params_init(&t->p, t->g, t->img, t->len);
	t->p.modules = mods;
}

static void test_bad_boot_params(struct guest *g)
{
	struct refusal t = { .g = g, .img = malloc(IMG_MAX) };
	struct loader_module mods[LOADER_MAX_MODULES + 1];
	static const uint8_t byte = 0x42;
	char *cmd = malloc(BOOT_CMDLINE_MAX + 1);
	struct loader_result r;
	char msg[LOADER_MSG_MAX];
	int rc;

	for (unsigned int i = 0; i <= LOADER_MAX_MODULES; i++)
		mods[i] = (struct loader_module){ "m", &byte, 1 };
	t.len = elf64_basic(t.img, NULL);

	setup(&t, mods);
	t.p.nmodules = LOADER_MAX_MODULES + 1;
	refuse(&t, -E2BIG,
	       "too many modules (65); at most 64 fit in the Multiboot module list",
	       "65 modules");
	setup(&t, mods);
	t.p.nmodules = LOADER_MAX_MODULES;
	guest_reset(g);
	rc = loader_load(&t.p, &r, msg, sizeof(msg));
	is_int(rc, 0, "64 modules load");
	is_int(info_at(g)->mods_count, 64, "64 modules: mods_count");
	memset(&t.p, 0, sizeof(t.p));

	/* "vitro" and the NULs take 7 of the 16384 bytes. */
	memset(cmd, 'x', BOOT_CMDLINE_MAX);
	cmd[BOOT_CMDLINE_MAX - 7] = '\0';
	setup(&t, mods);
	t.p.cmdline = cmd;
	guest_reset(g);
	rc = loader_load(&t.p, &r, msg, sizeof(msg));
	ok(rc == 0 && strlen(str_at(g, info_at(g)->cmdline)) ==
			      BOOT_CMDLINE_MAX - 7,
	   "a 16377-byte command line fits");
	memset(&t.p, 0, sizeof(t.p));
	cmd[BOOT_CMDLINE_MAX - 7] = 'x';
	cmd[BOOT_CMDLINE_MAX - 6] = '\0';
	setup(&t, mods);
	t.p.cmdline = cmd;
	refuse(&t, -E2BIG,
	       "command line too long (16378 bytes); at most 16377 fit",
	       "command line too long");
	cmd[4000] = '\0';
	for (unsigned int i = 0; i < 4; i++)
		mods[i].name = cmd;
	setup(&t, mods);
	t.p.cmdline = cmd;
	t.p.nmodules = 4;
	refuse(&t, -E2BIG,
	       "command line and module names too long (20011 bytes with their NULs); at most 16384 fit",
	       "module names too long");
	for (unsigned int i = 0; i < 4; i++)
		mods[i].name = "m";

	{
		uint8_t *big = malloc(15 * MiB);

		memset(big, 1, 15 * MiB);
		mods[0] = (struct loader_module){ "big.img", big, 15 * MiB };
		setup(&t, mods);
		t.p.nmodules = 1;
		refuse(&t, -ENOMEM,
		       "module 0 (\"big.img\", 15728640 bytes) does not fit in low memory: it would start at 0x201000, but RAM below 4 GiB ends at 0x1000000",
		       "module beyond low memory");
		mods[0] = (struct loader_module){ "m", &byte, 1 };
		free(big);
	}
	mods[1] = (struct loader_module){ "nodata", NULL, 10 };
	setup(&t, mods);
	t.p.nmodules = 2;
	refuse(&t, -EINVAL, "module 1 has 10 bytes but no data",
	       "module without data");
	mods[1] = mods[0];

	setup(&t, mods);
	t.p.lowmem_size = 512 * KiB;
	refuse(&t, -EINVAL,
	       "guest has 512 KiB of memory below 4 GiB; vitro needs at least 1 MiB for the boot area",
	       "low memory too small");
	setup(&t, mods);
	t.p.lowmem_size = 4 * GiB;
	refuse(&t, -EINVAL,
	       "low memory size 0x100000000 is above the PCI hole at 0xc0000000",
	       "low memory into the hole");
	setup(&t, mods);
	t.p.map = NULL;
	t.p.map_arg = NULL;
	{
		/* refuse() fills in params when map is NULL: call directly. */
		memset(msg, 0, sizeof(msg));
		rc = loader_load(&t.p, &r, msg, sizeof(msg));
		is_int(rc, -EINVAL, "no map callback: refused");
		is_str(msg, "loader called without a guest memory map callback",
		       "no map callback: message");
		memset(&t.p, 0, sizeof(t.p));
	}

	/* Memory the caller claims but cannot map: nothing is written. */
	setup(&t, mods);
	t.p.lowmem_size = 32 * MiB;
	t.p.nmodules = 1;
	{
		uint8_t *big = malloc(17 * MiB);

		memset(big, 1, 17 * MiB);
		mods[0].data = big;
		mods[0].len = 17 * MiB;
		refuse(&t, -EFAULT,
		       "guest-physical [0x201000, 0x1301000) for a module is not mapped RAM (the map callback returned NULL)",
		       "unmappable module");
		free(big);
	}

	/* Without a message buffer, errors are still returned. */
	params_init(&t.p, g, t.img, 0);
	is_int(loader_load(&t.p, &r, NULL, 0), -ENOEXEC,
	       "no message buffer: still an error code");
	{
		char tiny[8];

		is_int(loader_load(&t.p, &r, tiny, sizeof(tiny)), -ENOEXEC,
		       "tiny message buffer: error code");
		is_str(tiny, "kernel ",
		       "tiny message buffer: truncated, NUL-terminated");
	}
	free(cmd);
	free(t.img);
}

/* parse and place are separate: a plan can be inspected, then placed. */
static void test_parse_place(struct guest *g)
{
	uint8_t *img = malloc(IMG_MAX);
	struct loader_image plan;
	struct loader_result r;
	struct loader_params p;
	char msg[LOADER_MSG_MAX] = "";
	size_t len = elf64_basic(img, NULL);
	int rc;

	guest_reset(g);
	rc = loader_parse(img, len, &plan, msg, sizeof(msg));
	is_int(rc, 0, "parse: ELF64 plan");
	is_int(g->maps, 0, "parse: guest memory not touched");
	ok(plan.nsegs == 2 && plan.segs[0].paddr == 0x100000 &&
		   plan.segs[0].filesz == 0x1800 &&
		   plan.segs[0].memsz == 0x3000 &&
		   plan.segs[1].paddr == 0x200000 &&
		   strcmp(plan.segs[1].what, "ELF segment 2") == 0,
	   "parse: segments in the plan");
	params_init(&p, g, NULL, 0);
	rc = loader_place(&plan, &p, &r, msg, sizeof(msg));
	is_int(rc, 0, "place: the plan loads");
	ok(g->maps > 0 && all_bytes(gptr(g, 0x101800, 0x1800), 0x1800, 0),
	   "place: writes guest memory");

	/* place re-checks a plan it did not make. */
	plan.segs[0].offset = len;
	rc = loader_place(&plan, &p, &r, msg, sizeof(msg));
	is_int(rc, -EINVAL, "place: a plan reading past the image is refused");
	is_str(msg,
	       "load plan: ELF segment 0 takes bytes [0x2920, +0x1800) from a 10528-byte image into 12288 bytes of memory",
	       "place: message");
	is_str(loader_format_name(LOADER_FMT_MB_AOUT), "Multiboot a.out kludge",
	       "format name");
	free(img);
}

/*
 * Random damage to valid images: every load must return 0 or a known
 * -errno with a message, and never touch memory outside the buffers (the
 * sanitizer build checks that).
 */
static void test_fuzz(struct guest *g)
{
	uint8_t *base[3], *img = malloc(IMG_MAX);
	size_t blen[3];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct mb1_header h = mb_header(MB1_HDR_MEMORY_INFO, false);
	struct elf_spec s32 = {
		.bits = 32,
		.entry = 0x100020,
		.nsegs = 2,
		.segs = { { .paddr = 0x100000,
			    .filesz = 0x200,
			    .memsz = 0x400,
			    .head = &h,
			    .headlen = 12 },
			  { .paddr = 0x110000,
			    .filesz = 0x40,
			    .memsz = 0x40 } },
	};
	static const uint8_t mod[64];
	const struct loader_module mods[] = { { "a", mod, sizeof(mod) } };
	int loaded = 0, refused = 0, bad = 0;
	const int iterations = 4000;

	for (int i = 0; i < 3; i++)
		base[i] = malloc(IMG_MAX);
	blen[0] = elf64_basic(base[0], NULL);
	blen[1] = elf_build(base[1], &s32, NULL);
	blen[2] = aout_build(base[2], 0, 0x102000, 0x105000);

	for (int it = 0; it < iterations; it++) {
		int which = it % 3, flips;
		size_t len = blen[which];
		struct loader_params p;
		struct loader_result r;
		char msg[LOADER_MSG_MAX];
		int rc;

		memcpy(img, base[which], len);
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		flips = 1 + (int)((seed >> 33) % 6);
		for (int f = 0; f < flips; f++) {
			size_t at;

			seed = seed * 6364136223846793005ULL +
			       1442695040888963407ULL;
			/* Mostly the headers, sometimes anywhere. */
			at = (seed >> 40) % ((seed >> 20) & 1 ? 0x200 : len);
			if (which == 2 && (seed >> 21) & 1)
				at = 0x40 + (seed >> 40) % 32;
			img[at] = (uint8_t)(seed >> 8);
		}
		if ((seed >> 30) % 8 == 0)
			len = (seed >> 12) % (len + 1);
		msg[0] = '\0';
		params_init(&p, g, img, len);
		p.modules = mods;
		p.nmodules = 1;
		p.highmem_size = (seed >> 50) & 1 ? 2 * GiB : 0;
		rc = loader_load(&p, &r, msg, sizeof(msg));
		if (rc == 0) {
			loaded++;
		} else if ((rc == -EINVAL || rc == -ENOEXEC || rc == -ENOMEM ||
			    rc == -E2BIG || rc == -EFAULT) &&
			   msg[0] != '\0') {
			refused++;
		} else {
			bad++;
			tap_diag("iteration %d: rc %d msg \"%s\"", it, rc, msg);
		}
	}
	ok(bad == 0 && loaded > 0 && refused > 0,
	   "fuzz: %d damaged images, %d loaded, %d refused with a message",
	   iterations, loaded, refused);
	for (int i = 0; i < 3; i++)
		free(base[i]);
	free(img);
}

int main(void)
{
	struct guest g = { 0 };

	g.low_size = LOW_SIZE;
	g.low = malloc(LOW_SIZE);
	g.high_size = HIGH_WINDOW;
	g.high = malloc(HIGH_WINDOW);
	if (!g.low || !g.high)
		tap_bail("cannot allocate guest memory");

	test_elf64(&g);
	test_elf64_highmem(&g);
	test_elf64_virtual_entry(&g);
	test_mb_elf32(&g);
	test_mb_elf64(&g);
	test_mb_aout(&g);
	test_bad_files(&g);
	test_bad_phdrs(&g);
	test_bad_multiboot(&g);
	test_bad_boot_params(&g);
	test_parse_place(&g);
	test_fuzz(&g);

	free(g.low);
	free(g.high);
	return tap_done();
}
