/*
 * loader_x86.c: the x86 side of booting: the boot GDT, the identity-mapped
 * page tables of a 64-bit entry, and the boot vCPU's registers.
 *
 * The segment registers' hidden parts are derived from the GDT entries
 * themselves, so what the vCPU holds and what a reload from the GDT would
 * give cannot disagree.  Pure and stateless.
 */
#include <assert.h>
#include <string.h>

#include "monitor/boot/loader_int.h"
#include "monitor/boot/multiboot.h"
#include "monitor/platform.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define RFLAGS_FIXED (1ULL << 1)

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PT_ENTRIES 512

/* Access rights (VMX layout) of the non-GDT segments. */
#define ACCESS_TSS_BUSY 0x8bu /* P, type 11: busy 32/64-bit TSS */
#define TR_LIMIT 0xffffu /* as at reset; the guest loads its own */

/*
 * Flat descriptors, limit 0xfffff in 4 KiB units, accessed bit already set
 * so the CPU never writes back to the table.
 */
static const uint64_t boot_gdt[] = {
	[0] = 0,
	[BOOT_SEL_CODE64 >> 3] =
		0x00af9b000000ffffULL, /* L=1, D=0, exec/read */
	[BOOT_SEL_DATA >> 3] = 0x00cf93000000ffffULL, /* D/B=1, read/write */
	[BOOT_SEL_CODE32 >> 3] = 0x00cf9b000000ffffULL, /* D/B=1, exec/read */
};

/*
 * Linux's: the 64-bit boot protocol wants __BOOT_CS 0x10 and __BOOT_DS
 * 0x18; PVH runs on the 32-bit code at 0x08 with the same data segment.
 */
#define LINUX_SEL_CODE32 0x08
#define LINUX_SEL_CODE64 0x10 /* __BOOT_CS */
#define LINUX_SEL_DATA 0x18 /* __BOOT_DS */

static const uint64_t linux_gdt[] = {
	[0] = 0,
	[LINUX_SEL_CODE32 >> 3] = 0x00cf9b000000ffffULL,
	[LINUX_SEL_CODE64 >> 3] = 0x00af9b000000ffffULL,
	[LINUX_SEL_DATA >> 3] = 0x00cf93000000ffffULL,
};

_Static_assert(sizeof(boot_gdt) == 4 * 8, "boot GDT has 4 entries");
_Static_assert(sizeof(linux_gdt) == sizeof(boot_gdt),
	       "Linux's boot GDT has 4 entries too");
_Static_assert(BOOT_GDT_ADDR + sizeof(boot_gdt) <= BOOT_INFO_ADDR,
	       "boot GDT fits before the Multiboot information");
_Static_assert(BOOT_PGTABLE_ADDR + (2 + LOADER_PGTABLE_MAX_GIB) * 4096 <=
		       BOOT_STACK_TOP - 0x10000,
	       "page tables leave at least 64 KiB of boot stack");

static bool linux_mode(enum loader_entry mode)
{
	return mode == LOADER_ENTRY_PVH || mode == LOADER_ENTRY_LINUX64;
}

void loader_x86_write_gdt(uint8_t *boot, enum loader_entry mode)
{
	memcpy(boot + (BOOT_GDT_ADDR - BOOT_GDT_ADDR),
	       linux_mode(mode) ? linux_gdt : boot_gdt, sizeof(boot_gdt));
}

unsigned int loader_x86_pgtable_gib(uint64_t highmem_size)
{
	uint64_t end = VM_HIGHMEM_BASE, gib;

	if (highmem_size)
		end = VM_HIGHMEM_BASE + highmem_size;
	gib = (end + LOADER_GIB - 1) / LOADER_GIB;
	return gib > LOADER_PGTABLE_MAX_GIB ? LOADER_PGTABLE_MAX_GIB :
					      (unsigned int)gib;
}

size_t loader_x86_pgtable_len(unsigned int gib)
{
	return (2 + (size_t)gib) * LOADER_PAGE_SIZE;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* PML4 at +0, PDPT at +4 KiB, page directory for GiB i at +(2 + i) * 4 KiB. */
void loader_x86_write_pgtables(uint8_t *host, unsigned int gib)
{
	uint8_t *pml4 = host, *pdpt = host + LOADER_PAGE_SIZE;
	unsigned int i, j;

	assert(gib <= LOADER_PGTABLE_MAX_GIB);
	memset(host, 0, 2 * LOADER_PAGE_SIZE);
	put64(pml4, (BOOT_PGTABLE_ADDR + LOADER_PAGE_SIZE) | PTE_P | PTE_W);
	for (i = 0; i < gib; i++) {
		uint64_t pd_gpa =
			BOOT_PGTABLE_ADDR + (2 + i) * LOADER_PAGE_SIZE;
		uint8_t *pd = host + (2 + i) * LOADER_PAGE_SIZE;

		put64(pdpt + i * 8, pd_gpa | PTE_P | PTE_W);
		for (j = 0; j < PT_ENTRIES; j++)
			put64(pd + j * 8, ((uint64_t)i << 30) |
						  ((uint64_t)j << 21) | PTE_P |
						  PTE_W | PTE_PS);
	}
}

static void reg_add(struct loader_result *res, int reg, uint64_t val)
{
	assert(res->nregs < LOADER_MAX_REGS);
	res->regnums[res->nregs] = reg;
	res->regvals[res->nregs] = val;
	res->nregs++;
}

/* Selector, base, limit and access of segment register `sel_reg`. */
static void seg_add(struct loader_result *res, int sel_reg, uint16_t sel,
		    uint64_t base, uint32_t limit, uint32_t access)
{
	int i = sel_reg - VM_REG_GUEST_ES;

	reg_add(res, sel_reg, sel);
	reg_add(res, VM_REG_GUEST_ES_BASE + i, base);
	reg_add(res, VM_REG_GUEST_ES_LIMIT + i, limit);
	reg_add(res, VM_REG_GUEST_ES_ACCESS + i, access);
}

/* A segment register loaded from selector `sel` of `gdt`. */
static void seg_add_gdt(struct loader_result *res, const uint64_t *gdt,
			int sel_reg, uint16_t sel)
{
	uint64_t d = gdt[sel >> 3];
	uint64_t base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	uint32_t access = (uint32_t)((d >> 40) & 0xf0ff);

	if (access & VM_SEG_ACCESS_G)
		limit = (limit << 12) | 0xfff;
	seg_add(res, sel_reg, sel, base, limit, access);
}

void loader_x86_regs(const struct loader_image *img, bool nxe,
		     struct loader_result *res)
{
	bool lm = img->entry_mode == LOADER_ENTRY_LONG64 ||
		  img->entry_mode == LOADER_ENTRY_LINUX64;
	bool lx = linux_mode(img->entry_mode);
	const uint64_t *gdt = lx ? linux_gdt : boot_gdt;
	uint16_t cs = lm ? BOOT_SEL_CODE64 : BOOT_SEL_CODE32;
	uint16_t ds = lx ? LINUX_SEL_DATA : BOOT_SEL_DATA;
	static const int data_segs[] = { VM_REG_GUEST_DS, VM_REG_GUEST_ES,
					 VM_REG_GUEST_FS, VM_REG_GUEST_GS,
					 VM_REG_GUEST_SS };
	unsigned int i;
	int r;

	/* Control state first, for a consumer that applies in order. */
	if (lm) {
		reg_add(res, VM_REG_GUEST_CR4,
			CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
		reg_add(res, VM_REG_GUEST_CR3, BOOT_PGTABLE_ADDR);
		reg_add(res, VM_REG_GUEST_EFER,
			EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0));
		reg_add(res, VM_REG_GUEST_CR0,
			CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
	} else {
		reg_add(res, VM_REG_GUEST_CR4, 0);
		reg_add(res, VM_REG_GUEST_CR3, 0);
		reg_add(res, VM_REG_GUEST_EFER, 0);
		reg_add(res, VM_REG_GUEST_CR0, CR0_PE | CR0_ET);
	}
	reg_add(res, VM_REG_GUEST_GDTR_BASE, BOOT_GDT_ADDR);
	reg_add(res, VM_REG_GUEST_GDTR_LIMIT, sizeof(boot_gdt) - 1);
	reg_add(res, VM_REG_GUEST_IDTR_BASE, 0);
	reg_add(res, VM_REG_GUEST_IDTR_LIMIT, 0);

	if (lx)
		cs = lm ? LINUX_SEL_CODE64 : LINUX_SEL_CODE32;
	seg_add_gdt(res, gdt, VM_REG_GUEST_CS, cs);
	for (i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++)
		seg_add_gdt(res, gdt, data_segs[i], ds);
	seg_add(res, VM_REG_GUEST_LDTR, 0, 0, 0, VM_SEG_ACCESS_UNUSABLE);
	/* VM entry wants a usable TR: a present busy TSS, even a null one. */
	seg_add(res, VM_REG_GUEST_TR, 0, 0, TR_LIMIT, ACCESS_TSS_BUSY);

	for (r = VM_REG_GUEST_RAX; r <= VM_REG_GUEST_R15; r++) {
		uint64_t v = 0;

		if (img->entry_mode == LOADER_ENTRY_PVH) {
			if (r == VM_REG_GUEST_RBX)
				v = LINUX_PVH_INFO_ADDR;
		} else if (img->entry_mode == LOADER_ENTRY_LINUX64) {
			if (r == VM_REG_GUEST_RSI)
				v = LINUX_BOOT_PARAMS_ADDR;
			else if (r == VM_REG_GUEST_RSP)
				v = BOOT_STACK_TOP;
		} else if (r == VM_REG_GUEST_RAX) {
			v = MULTIBOOT_BOOT_MAGIC;
		} else if (r == VM_REG_GUEST_RBX && !lm) {
			v = BOOT_INFO_ADDR;
		} else if (r == VM_REG_GUEST_RDI && lm) {
			v = BOOT_INFO_ADDR;
		} else if (r == VM_REG_GUEST_RSP && lm) {
			v = BOOT_STACK_TOP;
		}
		reg_add(res, r, v);
	}
	reg_add(res, VM_REG_GUEST_RFLAGS, RFLAGS_FIXED);
	reg_add(res, VM_REG_GUEST_RIP, img->entry);
}
