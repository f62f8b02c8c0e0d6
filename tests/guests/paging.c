/*
 * paging.c: builds page tables for one paging mode with a varied set of
 * mappings, turns that mode on, checks every mapping by touching it, and
 * asks the host (GUEST_REQ_PAGING_CHECK) to translate each one as well.
 *
 * Options: mode=32|pae|64|la57 (default 64); fault: after the checks,
 * read an unmapped address, which must end in the exception report (in
 * long mode through paging-lm.S's handlers).  For 64 and la57 the guest
 * enters long mode and stays in a 32-bit compatibility-mode segment; it
 * reaches addresses above 4 GiB through a far call to 64-bit code
 * (paging-lm.S).
 *
 * Mappings: an identity map of the first 64 MiB (4 KiB pages for the
 * first 4 or 2 MiB, large pages above); test pages of 4 KiB, 4 MiB (32-bit
 * with PSE), 2 MiB and 1 GiB (long mode, if CPUID has pdpe1gb); read-only
 * and no-execute at the leaf and at an upper level; user pages; an alias;
 * the top of the 32-bit space; in long mode the ends of both canonical
 * halves, and in la57 addresses only 5 levels reach.  Each is described in
 * the result area (guest_abi.h, GUEST_PAGING_*) with the physical address
 * the guest computed, which accesses must succeed and which must fault at
 * CPL 0.  The guest checks each succeeding access itself: a value written
 * through the identity map must read back through the mapping, and the
 * other way round for writable ones; an executable one below 4 GiB is
 * called.
 *
 * Exit: GUEST_EXIT_PASS; GUEST_EXIT_FAIL when a check fails or RAM is
 * below 64 MiB; GUEST_EXIT_UNSUPPORTED when CPUID lacks the mode (PAE,
 * long mode, LA57) or the CPU refuses to turn 32-bit or PAE paging on
 * (#GP, as this host's kvm_pvm does).  For a refused mode and for la57
 * without CPUID's LA57 the tables are still built and, with the control
 * register values that would turn the mode on, go to the result area with
 * GUEST_REQ_PAGING_TABLES, so the host can check its walker on them.
 * GUEST_EXIT_EXCEPTION on any other fault.
 *
 * Single CPU, interrupts off; tables come from a pool in .bss, which the
 * identity map covers.
 */
#include "rt.h"

const char guest_name[] = "paging";

#define KIB 1024u
#define MIB (1024u * 1024u)
#define GIB (1024ull * 1024 * 1024)

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_A 0x020ull
#define PTE_PS 0x080ull
#define PTE_XD (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

enum mode { M32 = 1, MPAE = 2, M64 = 4, M57 = 8 };
#define MALL (M32 | MPAE | M64 | M57)
#define MNX (MPAE | M64 | M57) /* modes with an execute-disable bit */
#define MLONG (M64 | M57)

/* Attributes of a test mapping. */
#define S_RO 0x01 /* read-only leaf */
#define S_USER 0x02 /* user at every level */
#define S_NX 0x04 /* execute-disable leaf */
#define S_ALIAS 0x08 /* another mapping shares the frame */
#define S_UP_RO 0x10 /* read-only at the level `up` above the leaf */
#define S_UP_NX 0x20 /* execute-disable at the level `up` above the leaf */
#define S_NEEDS_NX 0x40
#define S_NEEDS_1G 0x80
#define S_NEEDS_PSE 0x100

struct map_spec {
	const char *what;
	uint64_t gla; /* page-aligned */
	uint32_t frame; /* physical, aligned to size */
	uint32_t size;
	uint32_t offset; /* of the probed 8 bytes within the page */
	uint32_t flags; /* S_* */
	uint32_t modes; /* M* where it applies */
	uint32_t up; /* levels above the leaf for S_UP_* */
};

/* Physical frames: all below 64 MiB, clear of the image (at 1 MiB). */
#define F4K(i) (16 * MIB + 4 * KIB * (i))
#define SCRATCH_LOW 0x9e000 /* free conventional memory, 4 KiB mapped */
#define IDENT_SIZE (64 * MIB)
#define PAGING_UNMAPPED 0x50000000 /* for the fault option */

static const struct map_spec specs[] = {
	{ "identity 4K (low memory)", SCRATCH_LOW, SCRATCH_LOW, 4 * KIB, 0x5a8,
	  0, MALL, 0 },
	{ "identity 4M (PSE)", 48 * MIB, 48 * MIB, 4 * MIB, 0x1005a8,
	  S_NEEDS_PSE, M32, 0 },
	{ "identity 2M", 48 * MIB, 48 * MIB, 2 * MIB, 0x1005a8, 0, MNX, 0 },
	{ "4K", 0x40000000, F4K(0), 4 * KIB, 0x5a8, S_ALIAS, MALL, 0 },
	{ "4K read-only", 0x40001000, F4K(1), 4 * KIB, 0x5a8, S_RO, MALL, 0 },
	{ "4K user", 0x40002000, F4K(2), 4 * KIB, 0x5a8, S_USER, MALL, 0 },
	{ "4K alias of 0x40000000", 0x40003000, F4K(0), 4 * KIB, 0x5a8, S_ALIAS,
	  MALL, 0 },
	{ "4K no-execute", 0x40004000, F4K(4), 4 * KIB, 0x5a8,
	  S_NX | S_NEEDS_NX, MNX, 0 },
	{ "4K user read-only no-execute", 0x40005000, F4K(5), 4 * KIB, 0xff8,
	  S_USER | S_RO | S_NX | S_NEEDS_NX, MNX, 0 },
	{ "4K under a read-only PDE", 0x40400000, F4K(6), 4 * KIB, 0x000,
	  S_UP_RO, MALL, 1 },
	{ "4K at the top of 32-bit space", 0xfffff000, F4K(7), 4 * KIB, 0xff8,
	  0, MALL, 0 },
	{ "4M page", 0x80000000, 40 * MIB, 4 * MIB, 0x2345a8, S_NEEDS_PSE, M32,
	  0 },
	{ "4M user read-only", 0x80400000, 44 * MIB, 4 * MIB, 0x3ffff8,
	  S_USER | S_RO | S_NEEDS_PSE, M32, 0 },
	{ "2M page", 0x80000000, 32 * MIB, 2 * MIB, 0x1235a8, 0, MNX, 0 },
	{ "2M read-only no-execute", 0x80200000, 34 * MIB, 2 * MIB, 0x5a8,
	  S_RO | S_NX | S_NEEDS_NX, MNX, 0 },
	{ "2M under a no-execute PDPTE", 0x100000000ull, 36 * MIB, 2 * MIB,
	  0x1ffff8, S_UP_NX | S_NEEDS_NX, MLONG, 1 },
	{ "1G page", 0x0000004000000000ull, 0, 1 * GIB, 52 * MIB + 0x5a8,
	  S_NEEDS_1G, MLONG, 0 },
	{ "top of the 48-bit lower half", 0x00007ffffffff000ull, F4K(8),
	  4 * KIB, 0xff8, 0, MLONG, 0 },
	{ "bottom of the upper half, PML4E no-execute", 0xffff800000000000ull,
	  F4K(9), 4 * KIB, 0x5a8, S_UP_NX | S_NEEDS_NX, MLONG, 3 },
	{ "kernel-style 2M at -2 GiB", 0xffffffff80000000ull, 38 * MIB, 2 * MIB,
	  0x5a8, 0, MLONG, 0 },
	{ "the last page", 0xfffffffffffff000ull, F4K(10), 4 * KIB, 0xff8, 0,
	  MLONG, 0 },
	{ "above 48 bits (PML5 entry 128)", 0x0080000000000000ull, F4K(11),
	  4 * KIB, 0x5a8, 0, M57, 0 },
	{ "top of the 57-bit lower half", 0x00fffffffffff000ull, F4K(12),
	  4 * KIB, 0xff8, 0, M57, 0 },
	{ "bottom of the 57-bit upper half", 0xff00000000000000ull, F4K(13),
	  4 * KIB, 0x5a8, S_USER, M57, 0 },
};

/* The paging mode being built. */
struct pg {
	enum mode mode;
	int levels; /* 2, 3, 4 or 5 */
	bool wide; /* 8-byte entries */
	bool nx; /* EFER.NXE will be on */
	bool pse; /* 4 MiB pages (32-bit) */
	bool gb; /* 1 GiB pages */
	bool has_efer; /* the CPU has EFER (SYSCALL, NX or long mode) */
	uint32_t root; /* physical address of the top table */
	uint64_t cr0, cr4, efer; /* the values that turn the mode on */
};

#define POOL_PAGES 64
uint8_t pg_pool[POOL_PAGES][4096] RT_ALIGNED(4096);
uint32_t pg_pool_used;
struct pg pg;
int pg_failures;
bool pg_refused; /* #GP turning paging on */
uint32_t pg_count; /* result entries written */

extern char _end[];
extern const char lm_trap_stubs[];
extern const char paging_enable_insn[];
uint64_t lm_access(uint32_t op, uint64_t gla, uint64_t val);

static uint32_t pool_alloc(void)
{
	uint8_t *p;

	if (pg_pool_used == POOL_PAGES)
		rt_panic("page-table pool exhausted");
	p = pg_pool[pg_pool_used++];
	memset(p, 0, 4096);
	return (uint32_t)(uintptr_t)p;
}

/* Bit position of the index at level l (0 = the leaf's page table). */
static int level_shift(int l)
{
	if (pg.mode == M32)
		return 12 + 10 * l;
	return 12 + 9 * l;
}

static uint32_t level_index(uint64_t gla, int l)
{
	uint32_t mask = pg.mode == M32 ? 0x3ff : 0x1ff;

	if (pg.mode == MPAE && l == 2)
		mask = 3;
	return (uint32_t)(gla >> level_shift(l)) & mask;
}

static uint64_t entry_get(uint32_t table, uint32_t i)
{
	if (pg.wide)
		return ((volatile uint64_t *)(uintptr_t)table)[i];
	return ((volatile uint32_t *)(uintptr_t)table)[i];
}

static void entry_set(uint32_t table, uint32_t i, uint64_t e)
{
	if (pg.wide)
		((volatile uint64_t *)(uintptr_t)table)[i] = e;
	else
		((volatile uint32_t *)(uintptr_t)table)[i] = (uint32_t)e;
}

/* What a non-leaf entry pointing at `table` holds. */
static uint64_t upper_entry(uint32_t table, int l)
{
	if (pg.mode == MPAE && l == 2)
		return table | PTE_P; /* PDPTEs: no RW, US or XD */
	return table | PTE_P | PTE_RW | PTE_US;
}

static int size_level(uint32_t size)
{
	switch (size) {
	case 4 * KIB:
		return 0;
	case 2 * MIB:
	case 4 * MIB:
		return 1;
	}
	return 2; /* 1 GiB */
}

/*
 * Map [gla, gla + size) to frame with leaf bits `bits`; `up_bits` (set)
 * and `up_clear` go into the entry `up` levels above the leaf.
 */
static void map(uint64_t gla, uint64_t frame, uint32_t size, uint64_t bits,
		int up, uint64_t up_bits, uint64_t up_clear)
{
	int leaf = size_level(size), l;
	uint32_t table = pg.root, i;
	uint64_t e;

	for (l = pg.levels - 1; l > leaf; l--) {
		i = level_index(gla, l);
		e = entry_get(table, i);
		if (!(e & PTE_P)) {
			e = upper_entry(pool_alloc(), l);
			entry_set(table, i, e);
		} else if (e & PTE_PS) {
			rt_panic("%#llx: inside a large page already",
				 (unsigned long long)gla);
		}
		if (l == leaf + up && up) {
			e = (e | up_bits) & ~up_clear;
			entry_set(table, i, e);
		}
		table = (uint32_t)(e & PTE_ADDR_MASK);
	}
	i = level_index(gla, leaf);
	if (entry_get(table, i) & PTE_P)
		rt_panic("%#llx: mapped twice", (unsigned long long)gla);
	entry_set(table, i, frame | bits | PTE_P | (leaf ? PTE_PS : 0));
}

static void build_identity(void)
{
	uint32_t a, small = pg.mode == M32 ? 4 * MIB : 2 * MIB;
	uint32_t large = pg.mode == M32 ? 4 * MIB : 2 * MIB;

	for (a = 0; a < small; a += 4 * KIB)
		map(a, a, 4 * KIB, PTE_RW, 0, 0, 0);
	for (; a < IDENT_SIZE; a += large)
		if (pg.mode != M32 || pg.pse)
			map(a, a, large, PTE_RW, 0, 0, 0);
		else
			map(a, a, 4 * KIB, PTE_RW, 0, 0, 0);
}

static bool spec_applies(const struct map_spec *s)
{
	if (!(s->modes & pg.mode))
		return false;
	if ((s->flags & S_NEEDS_NX) && !pg.nx)
		return false;
	if ((s->flags & S_NEEDS_1G) && !pg.gb)
		return false;
	if ((s->flags & S_NEEDS_PSE) && !pg.pse)
		return false;
	return true;
}

static bool spec_is_identity(const struct map_spec *s)
{
	return s->gla == s->frame;
}

static void build_tests(void)
{
	const struct map_spec *s;
	uint64_t bits, upb, upc;

	for (s = specs; s < specs + ARRAY_SIZE(specs); s++) {
		if (!spec_applies(s) || spec_is_identity(s))
			continue;
		bits = PTE_RW;
		if (s->flags & S_RO)
			bits &= ~PTE_RW;
		if (s->flags & S_USER)
			bits |= PTE_US;
		if (s->flags & S_NX)
			bits |= PTE_XD;
		upb = (s->flags & S_UP_NX) ? PTE_XD : 0;
		upc = (s->flags & S_UP_RO) ? PTE_RW : 0;
		map(s->gla, s->frame, s->size, bits, (int)s->up, upb, upc);
	}
}

static void result_entry(const struct map_spec *s)
{
	uint8_t *e = (uint8_t *)(GUEST_RESULT_ADDR + GUEST_PAGING_ENTRIES +
				 pg_count * GUEST_PAGING_ENTRY_SIZE);
	uint32_t ok = GUEST_PROT_READ | GUEST_PROT_WRITE | GUEST_PROT_EXEC;
	uint32_t fault = 0, flags = 0;

	if (s->flags & (S_RO | S_UP_RO)) {
		ok &= ~GUEST_PROT_WRITE;
		fault |= GUEST_PROT_WRITE;
		flags |= GUEST_PAGING_F_RO;
	}
	if (s->flags & (S_NX | S_UP_NX)) {
		ok &= ~GUEST_PROT_EXEC;
		fault |= GUEST_PROT_EXEC;
		flags |= GUEST_PAGING_F_NX;
	}
	if (s->flags & S_USER)
		flags |= GUEST_PAGING_F_USER;
	if (s->flags & S_ALIAS)
		flags |= GUEST_PAGING_F_ALIAS;
	*(uint64_t *)(e + GUEST_PAGING_E_GLA) = s->gla + s->offset;
	*(uint64_t *)(e + GUEST_PAGING_E_GPA) = (uint64_t)s->frame + s->offset;
	*(uint32_t *)(e + GUEST_PAGING_E_PROT_OK) = ok;
	*(uint32_t *)(e + GUEST_PAGING_E_PROT_FAULT) = fault;
	*(uint32_t *)(e + GUEST_PAGING_E_PAGE_SIZE) = s->size;
	*(uint32_t *)(e + GUEST_PAGING_E_FLAGS) = flags;
	pg_count++;
}

static uint64_t gla_read(uint64_t gla)
{
	if (gla >> 32)
		return lm_access(0, gla, 0);
	return *(volatile uint64_t *)(uintptr_t)gla;
}

static void gla_write(uint64_t gla, uint64_t v)
{
	if (gla >> 32)
		lm_access(1, gla, v);
	else
		*(volatile uint64_t *)(uintptr_t)gla = v;
}

static void check(bool ok, const struct map_spec *s, const char *what,
		  uint64_t got, uint64_t want)
{
	if (ok)
		return;
	rt_printf("@FAIL: %s at %#llx: %s: got %#llx, want %#llx\n", s->what,
		  (unsigned long long)(s->gla + s->offset), what,
		  (unsigned long long)got, (unsigned long long)want);
	pg_failures++;
}

/* Touch a mapping: through it and through the identity map, both ways. */
static void probe(const struct map_spec *s, uint32_t n)
{
	uint64_t gla = s->gla + s->offset;
	volatile uint64_t *phys =
		(volatile uint64_t *)(uintptr_t)(s->frame + s->offset);
	uint64_t saved = *phys, a = 0x5eed000000000000ull |
				    ((uint64_t)n << 32) | (uint32_t)gla;
	uint64_t b = ~a, got;
	bool writable = !(s->flags & (S_RO | S_UP_RO));
	bool exec = !(s->flags & (S_NX | S_UP_NX)) && !(gla >> 32);

	*phys = a;
	got = gla_read(gla);
	check(got == a, s, "read through the mapping", got, a);
	if (writable) {
		gla_write(gla, b);
		check(*phys == b, s, "write through the mapping", *phys, b);
	}
	if (exec) {
		*(volatile uint8_t *)phys = 0xc3; /* ret */
		((void (*)(void))(uintptr_t)gla)();
	}
	*phys = saved;
	rt_printf("@  %-44s %#18llx -> %#10llx %s%s%s%s\n", s->what,
		  (unsigned long long)gla,
		  (unsigned long long)(s->frame + s->offset), "r",
		  writable ? "w" : "-", exec ? "x" : "-",
		  (s->flags & S_USER) ? " user" : "");
}

struct idt_gate64 {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

struct idt_gate64 lm_idt[32] RT_ALIGNED(16);

/* Long mode needs 64-bit gates: point vectors 0-31 at paging-lm.S. */
static void lm_idt_load(void)
{
	struct desc_ptr p = { sizeof(lm_idt) - 1, (uintptr_t)lm_idt };
	uint32_t v;

	for (v = 0; v < 32; v++) {
		uint32_t a = (uint32_t)(uintptr_t)(lm_trap_stubs + 16 * v);

		lm_idt[v].offset_lo = (uint16_t)a;
		lm_idt[v].selector = RT_SEL_CODE64;
		lm_idt[v].type = 0x8e;
		lm_idt[v].offset_mid = (uint16_t)(a >> 16);
	}
	lidt(&p);
}

/*
 * A #GP on the mov to CR0 that turns 32-bit or PAE paging on, with tables
 * that are valid (QEMU runs them), means the virtual CPU does not do that
 * mode: this host's kvm_pvm runs only long-mode paging.  Skip the `mov`.
 */
static void refused(struct trap_frame *f)
{
	if (f->eip != (uintptr_t)paging_enable_insn)
		trap_report(f->vector, f->error, f->eip, read_cr2());
	pg_refused = true;
	f->eip += 3; /* 0f 22 /r */
}

/* The control register values that turn the mode on. */
static void control_values(void)
{
	pg.cr4 = 0;
	pg.efer = pg.has_efer ? rdmsr(MSR_EFER) : 0;
	if (pg.mode == M32 && pg.pse)
		pg.cr4 |= CR4_PSE;
	if (pg.mode != M32)
		pg.cr4 |= CR4_PAE;
	if (pg.mode == M57)
		pg.cr4 |= CR4_LA57;
	if (pg.nx)
		pg.efer |= EFER_NXE;
	if (pg.mode & MLONG)
		pg.efer |= EFER_LME;
	pg.cr0 = read_cr0() | CR0_PG | CR0_WP;
}

static void enable(void)
{
	if (pg.mode & MLONG)
		lm_idt_load();
	write_cr4((unsigned long)pg.cr4);
	write_cr3(pg.root);
	if (pg.has_efer)
		wrmsr(MSR_EFER, pg.efer);
	if (!(pg.mode & MLONG))
		trap_set_handler(13, refused);
	__asm__ volatile(".globl paging_enable_insn\n"
			 "paging_enable_insn:\n\t"
			 "mov %0, %%cr0"
			 :
			 : "r"((unsigned long)pg.cr0)
			 : "memory");
	trap_set_handler(13, NULL);
}

static int setup_mode(const char *name)
{
	uint32_t a, b, c, d, ext_d = 0, f7_c = 0, x;

	cpuid_count(1, 0, &a, &b, &c, &d);
	if (cpuid_max(0x80000000) >= 0x80000001)
		cpuid_count(0x80000001, 0, &a, &b, &c, &ext_d);
	if (cpuid_max(0) >= 7)
		cpuid_count(7, 0, &a, &b, &f7_c, &x);
	pg.pse = d & (1u << 3);
	pg.nx = ext_d & (1u << 20);
	pg.gb = ext_d & (1u << 26);
	pg.has_efer = ext_d & ((1u << 11) | (1u << 20) | (1u << 29));

	if (!strcmp(name, "32")) {
		pg.mode = M32;
		pg.levels = 2;
		pg.nx = false;
		pg.gb = false;
		return 0;
	}
	pg.wide = true;
	pg.pse = false;
	if (!strcmp(name, "pae")) {
		pg.mode = MPAE;
		pg.levels = 3;
		pg.gb = false;
		return (d & (1u << 6)) ? 0 : -1;
	}
	if (!strcmp(name, "64")) {
		pg.mode = M64;
		pg.levels = 4;
		return (ext_d & (1u << 29)) ? 0 : -1;
	}
	if (!strcmp(name, "la57")) {
		pg.mode = M57;
		pg.levels = 5;
		if (!(ext_d & (1u << 29)))
			return -1;
		return (f7_c & (1u << 16)) ? 0 : 1;
	}
	return -2;
}

static void write_header(void)
{
	uint8_t *r = (uint8_t *)GUEST_RESULT_ADDR;
	uint32_t mode = pg.mode == M32	? GUEST_PAGING_MODE_32 :
			pg.mode == MPAE ? GUEST_PAGING_MODE_PAE :
			pg.mode == M64	? GUEST_PAGING_MODE_64 :
					  GUEST_PAGING_MODE_LA57;

	*(uint32_t *)(r + GUEST_PAGING_MODE) = mode;
	*(uint32_t *)(r + GUEST_PAGING_COUNT) = pg_count;
	*(uint64_t *)(r + GUEST_PAGING_CR0) = pg.cr0;
	*(uint64_t *)(r + GUEST_PAGING_CR3) = pg.root;
	*(uint64_t *)(r + GUEST_PAGING_CR4) = pg.cr4;
	*(uint64_t *)(r + GUEST_PAGING_EFER) = pg.efer;
	*(uint32_t *)(r + GUEST_RESULT_STATE) = GUEST_STATE_READY;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(uint32_t *)(r + GUEST_RESULT_MAGIC) = GUEST_PAGING_MAGIC;
}

int guest_main(void)
{
	char name[8] = "64";
	const struct map_spec *s;
	uint32_t n;
	int r;

	if (cmdline_get(rt_cmdline, "mode", name, sizeof(name)) >= 0 &&
	    !*name) {
		rt_printf("@mode= needs a value: 32, pae, 64 or la57\n");
		return GUEST_EXIT_FAIL;
	}
	r = setup_mode(name);
	if (r == -2) {
		rt_printf("@unknown mode '%s': expected 32, pae, 64 or la57\n",
			  name);
		return GUEST_EXIT_FAIL;
	}
	if (r == -1) {
		rt_printf("@mode %s unsupported by this CPU\n", name);
		return GUEST_EXIT_UNSUPPORTED;
	}
	if (!rt_mbi || !(rt_mbi->flags & MB_INFO_MEMORY) ||
	    rt_mbi->mem_upper < (IDENT_SIZE - MIB) / KIB) {
		rt_printf("@needs 64 MiB of RAM (mem_upper %u KiB)\n",
			  rt_mbi ? rt_mbi->mem_upper : 0);
		return GUEST_EXIT_FAIL;
	}
	if ((uintptr_t)_end > 2 * MIB)
		rt_panic("image ends at %p, past the 4K-mapped 2 MiB", _end);

	rt_printf("@mode %s: %d levels%s%s%s\n", name, pg.levels,
		  pg.pse ? ", 4M pages" : "", pg.nx ? ", NX" : "",
		  pg.gb ? ", 1G pages" : "");
	memset((void *)GUEST_RESULT_ADDR, 0, GUEST_RESULT_SIZE);
	pg.root = pool_alloc();
	build_identity();
	build_tests();
	for (s = specs; s < specs + ARRAY_SIZE(specs); s++)
		if (spec_applies(s))
			result_entry(s);
	control_values();
	if (r == 1) {
		/* Tables need no CPU support: the host can still walk them. */
		pg.efer |= EFER_LMA;
		write_header();
		rt_printf(
			"@mode %s unsupported by this CPU (no LA57 in CPUID): "
			"tables built, not turned on\n",
			name);
		outl(GUEST_TEST_PORT, GUEST_REQ_PAGING_TABLES);
		return GUEST_EXIT_UNSUPPORTED;
	}
	enable();
	if (pg.mode & MLONG)
		pg.efer |= EFER_LMA;
	write_header();
	if (pg_refused) {
		rt_printf("@#GP turning mode %s on with valid tables: the "
			  "virtual CPU does not support it\n",
			  name);
		outl(GUEST_TEST_PORT, GUEST_REQ_PAGING_TABLES);
		return GUEST_EXIT_UNSUPPORTED;
	}
	rt_printf("@paging on: cr0 %#lx cr3 %#lx cr4 %#lx efer %#llx, %u "
		  "tables\n",
		  read_cr0(), read_cr3(), read_cr4(),
		  (unsigned long long)(pg.has_efer ? rdmsr(MSR_EFER) : 0),
		  pg_pool_used);

	for (n = 0, s = specs; s < specs + ARRAY_SIZE(specs); s++)
		if (spec_applies(s))
			probe(s, n++);
	rt_printf("@%u mappings checked, %d failed; asking the host\n",
		  pg_count, pg_failures);
	outl(GUEST_TEST_PORT, GUEST_REQ_PAGING_CHECK);
	if (cmdline_has(rt_cmdline, "fault")) {
		rt_printf("@reading unmapped %#x: expect a #PF report\n",
			  PAGING_UNMAPPED);
		(void)*(volatile uint32_t *)PAGING_UNMAPPED;
	}
	return pg_failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
