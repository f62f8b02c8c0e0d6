/*
 * test-ptwalk.c: unit tests of the console's range page-table walker
 * (introspect/ptwalk.c) over page tables built by hand in a buffer that
 * stands for guest memory, in every paging mode: the ranges it lists,
 * merged and clipped, their rights, canonical addresses, large pages,
 * tables outside memory, and the helpers `translate` uses.
 * Single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/ptwalk.h"
#include "tests/tap.h"

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define A (1ULL << 5)
#define D (1ULL << 6)
#define PS (1ULL << 7)
#define XD (1ULL << 63)

/* Guest memory: MEM_PAGES pages from MEM_BASE; the rest is not memory. */
#define MEM_BASE 0x100000ULL
#define MEM_PAGES 32
#define NOWHERE 0x7000000ULL

static uint8_t mem[MEM_PAGES * 4096];
static int next_page;

static int mem_read(void *arg, uint64_t gpa, void *buf, size_t len)
{
	if (gpa < MEM_BASE || gpa - MEM_BASE > sizeof(mem) ||
	    len > sizeof(mem) - (gpa - MEM_BASE))
		return -EFAULT;
	memcpy(buf, mem + (gpa - MEM_BASE), len);
	return 0;
}

static void mem_reset(void)
{
	memset(mem, 0, sizeof(mem));
	next_page = 0;
}

/* A zeroed page-table page: its guest-physical address. */
static uint64_t new_table(void)
{
	if (next_page >= MEM_PAGES)
		tap_bail("out of table pages");
	return MEM_BASE + 4096ULL * next_page++;
}

static void set64(uint64_t table, int idx, uint64_t e)
{
	memcpy(mem + (table - MEM_BASE) + idx * 8, &e, 8);
}

static void set32(uint64_t table, int idx, uint32_t e)
{
	memcpy(mem + (table - MEM_BASE) + idx * 4, &e, 4);
}

struct got {
	struct ptwalk_range r[64];
	int n;
	int stop_after; /* answer 7 after this many; 0 never */
};

static int collect(void *arg, const struct ptwalk_range *r)
{
	struct got *g = arg;

	if (g->n < 64)
		g->r[g->n] = *r;
	g->n++;
	return g->stop_after && g->n >= g->stop_after ? 7 : 0;
}

static void is_range(const struct got *g, int i, uint64_t va, uint64_t pa,
		     uint64_t size, unsigned int perms, const char *what)
{
	const struct ptwalk_range *r = &g->r[i];
	bool good = i < g->n && r->va == va && r->pa == pa && r->size == size &&
		    r->perms == perms;

	ok(good, "%s: range %d", what, i);
	if (!good && i < g->n)
		tap_diag("  got va %#" PRIx64 " pa %#" PRIx64 " size %#" PRIx64
			 " perms %x; want %#" PRIx64 " %#" PRIx64 " %#" PRIx64
			 " %x",
			 r->va, r->pa, r->size, r->perms, va, pa, size, perms);
	else if (!good)
		tap_diag("  only %d ranges", g->n);
}

#define WXU (PTWALK_W | PTWALK_X | PTWALK_U)

/*
 * 4-level tables:
 *   PML4[0] -> PDPT0; PDPT0[0] -> PD0; PD0[0] -> PT0
 *     PT0[0..3]: 4 KiB at 0x200000.. (one run), PT0[4] at 0x300000
 *     (not contiguous), PT0[5] at 0x301000 read-only, PT0[6] NX
 *   PD0[1]: 2 MiB at va 0x200000 -> 0x40000000
 *   PDPT0[1]: 1 GiB at va 0x40000000 -> 0x80000000, and PDPT0[2] 1 GiB
 *     at va 0x80000000 -> 0xc0000000: one run of 2 GiB
 *   PML4[2]: PS (reserved): nothing; PML4[3] -> a table outside memory
 *   PML4[511] (no US) -> PDPT1; PDPT1[510] (NX) 1 GiB -> 0 (the -2 GiB
 *     kernel mapping)
 */
static struct ptwalk_paging build64(void)
{
	uint64_t pml4 = new_table(), pdpt0 = new_table(), pd0 = new_table();
	uint64_t pt0 = new_table(), pdpt1 = new_table();

	set64(pml4, 0, pdpt0 | P | RW | US | A);
	set64(pdpt0, 0, pd0 | P | RW | US);
	set64(pd0, 0, pt0 | P | RW | US);
	for (int i = 0; i < 4; i++)
		set64(pt0, i, (0x200000 + 4096ULL * i) | P | RW | US | A | D);
	set64(pt0, 4, 0x300000 | P | RW | US);
	set64(pt0, 5, 0x301000 | P | US);
	set64(pt0, 6, 0x302000 | P | RW | US | XD);
	set64(pd0, 1, 0x40000000 | P | RW | US | PS);
	set64(pdpt0, 1, 0x80000000 | P | RW | US | PS);
	set64(pdpt0, 2, 0xc0000000 | P | RW | US | PS);
	set64(pml4, 2, 0x40000000 | P | RW | PS);
	set64(pml4, 3, NOWHERE | P | RW);
	set64(pml4, 511, pdpt1 | P | RW);
	set64(pdpt1, 510, 0 | P | RW | PS | XD);
	return (struct ptwalk_paging){ .mode = PAGING_MODE_64,
				       .cr3 = pml4,
				       .nxe = 1 };
}

static void test_64(void)
{
	struct ptwalk_paging pg;
	struct ptwalk_stats st;
	struct got g = { 0 };
	int r;

	mem_reset();
	pg = build64();
	r = ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, &st);
	is_int(r, 0, "4-level: the walk succeeds");
	is_int(g.n, 7, "4-level: 7 ranges");
	is_range(&g, 0, 0, 0x200000, 0x4000, WXU, "4-level 4K run");
	is_range(&g, 1, 0x4000, 0x300000, 0x1000, WXU, "4-level pa jump");
	is_range(&g, 2, 0x5000, 0x301000, 0x1000, PTWALK_X | PTWALK_U,
		 "4-level read-only");
	is_range(&g, 3, 0x6000, 0x302000, 0x1000, PTWALK_W | PTWALK_U,
		 "4-level NX");
	is_range(&g, 4, 0x200000, 0x40000000, 0x200000, WXU, "4-level 2M");
	is_range(&g, 5, 0x40000000, 0x80000000, 0x80000000, WXU,
		 "4-level two 1G pages merged");
	is_range(&g, 6, 0xffffffff80000000ULL, 0, 0x40000000, PTWALK_W,
		 "4-level upper half: canonical, NX and supervisor inherited");
	is_int(st.tables, 5, "4-level: tables read");
	is_int(st.bad_tables, 1, "4-level: the table outside memory counted");
	is_int(st.leaves, 11, "4-level: leaves");

	/* Clipping: inside the 4K run, and inside the 2 MiB page. */
	memset(&g, 0, sizeof(g));
	ptwalk_map(&pg, 0x1000, 0x2fff, mem_read, NULL, collect, &g, NULL);
	is_int(g.n, 1, "clip: one range");
	is_range(&g, 0, 0x1000, 0x201000, 0x2000, WXU, "clip in a 4K run");
	memset(&g, 0, sizeof(g));
	ptwalk_map(&pg, 0x300000, 0x300fff, mem_read, NULL, collect, &g, NULL);
	is_int(g.n, 1, "clip 2M: one range");
	is_range(&g, 0, 0x300000, 0x40100000, 0x1000, WXU, "clip in a 2M page");
	memset(&g, 0, sizeof(g));
	ptwalk_map(&pg, 0xffff800000000000ULL, ~0ULL, mem_read, NULL, collect,
		   &g, &st);
	is_int(g.n, 1, "upper half only: one range");
	is_range(&g, 0, 0xffffffff80000000ULL, 0, 0x40000000, PTWALK_W,
		 "upper half only");
	is_int(st.tables, 2, "upper half only: PML4 and one PDPT read");

	/* The callback stops the walk. */
	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	r = ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, NULL);
	is_int(r, 7, "the callback's answer stops the walk");
	is_int(g.n, 2, "no range after the stop");

	/* Without EFER.NXE bit 63 forbids nothing. */
	memset(&g, 0, sizeof(g));
	pg.nxe = 0;
	ptwalk_map(&pg, 0x6000, 0x6fff, mem_read, NULL, collect, &g, NULL);
	is_range(&g, 0, 0x6000, 0x302000, 0x1000, WXU, "NX ignored w/o NXE");

	is_int(ptwalk_map(&pg, 2, 1, mem_read, NULL, collect, &g, NULL),
	       -EINVAL, "first > last: EINVAL");
	pg.mode = 9;
	is_int(ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, NULL),
	       -EINVAL, "unknown mode: EINVAL");
}

/* 5-level: PML5[1] covers 1 << 48, PML5[511] the top of the space. */
static void test_la57(void)
{
	uint64_t pml5, pml4a, pdpta, pda, pml4b, pdptb;
	struct ptwalk_paging pg;
	struct got g = { 0 };

	mem_reset();
	pml5 = new_table();
	pml4a = new_table();
	pdpta = new_table();
	pda = new_table();
	pml4b = new_table();
	pdptb = new_table();
	set64(pml5, 1, pml4a | P | RW | US);
	set64(pml4a, 0, pdpta | P | RW | US);
	set64(pdpta, 0, pda | P | RW | US);
	set64(pda, 3, 0x1e00000 | P | RW | US | PS);
	set64(pml5, 511, pml4b | P | RW);
	set64(pml4b, 511, pdptb | P | RW);
	set64(pdptb, 511, 0x40000000 | P | PS);
	pg = (struct ptwalk_paging){ .mode = PAGING_MODE_64_LA57, .cr3 = pml5 };
	ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, NULL);
	is_int(g.n, 2, "5-level: 2 ranges");
	is_range(&g, 0, (1ULL << 48) + 0x600000, 0x1e00000, 0x200000, WXU,
		 "5-level above 2^48");
	is_range(&g, 1, 0xffffffffc0000000ULL, 0x40000000, 0x40000000, PTWALK_X,
		 "5-level last GiB, sign-extended from bit 56");
}

/* PAE: the PDPT is 32-byte aligned, not page-aligned. */
static void test_pae(void)
{
	uint64_t pdpt, pd, pt;
	struct ptwalk_paging pg;
	struct got g = { 0 };

	mem_reset();
	pdpt = new_table() + 0x20;
	pd = new_table();
	pt = new_table();
	set64(pdpt, 3, pd | P | RW | US); /* RW, US reserved: ignored */
	set64(pd, 0, 0x1000000 | P | RW | PS | XD);
	set64(pd, 1, pt | P | RW | US);
	set64(pt, 0, 0x5000 | P | US);
	pg = (struct ptwalk_paging){ .mode = PAGING_MODE_PAE,
				     .cr3 = pdpt | 0x18, /* PWT, PCD */
				     .nxe = 1 };
	ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, NULL);
	is_int(g.n, 2, "PAE: 2 ranges");
	is_range(&g, 0, 0xc0000000, 0x1000000, 0x200000, PTWALK_W,
		 "PAE 2M, NX");
	is_range(&g, 1, 0xc0200000, 0x5000, 0x1000, PTWALK_X | PTWALK_U,
		 "PAE 4K user read-only");
}

/* 32-bit: 4 MiB pages with PSE-36, and PS without CR4.PSE. */
static void test_32(void)
{
	uint64_t pd, pt;
	struct ptwalk_paging pg;
	struct ptwalk_stats st;
	struct got g = { 0 };

	mem_reset();
	pd = new_table();
	pt = new_table();
	set32(pd, 1, 0x00800000 | (0x3 << 13) | P | RW | PS);
	set32(pd, 2, pt | P | RW | US);
	set32(pt, 1023, 0x7000 | P | RW | US);
	pg = (struct ptwalk_paging){
		.mode = PAGING_MODE_32, .cr3 = pd, .nxe = 1, .pse = 1
	};
	ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, &st);
	is_int(g.n, 2, "32-bit: 2 ranges");
	is_range(&g, 0, 0x400000, 0x300800000ULL, 0x400000, PTWALK_W | PTWALK_X,
		 "32-bit 4M page, PSE-36 frame");
	is_range(&g, 1, 0xbff000, 0x7000, 0x1000, WXU, "32-bit last PTE");

	memset(&g, 0, sizeof(g));
	pg.pse = 0;
	ptwalk_map(&pg, 0, ~0ULL, mem_read, NULL, collect, &g, &st);
	is_int(g.n, 1, "32-bit without PSE: PS is ignored");
	is_int(st.bad_tables, 1, "32-bit without PSE: the PDE is a table");

	memset(&g, 0, sizeof(g));
	pg.mode = PAGING_MODE_FLAT;
	ptwalk_map(&pg, 0x1000, ~0ULL, mem_read, NULL, collect, &g, NULL);
	is_int(g.n, 1, "flat: one range");
	is_range(&g, 0, 0x1000, 0x1000, 0xfffff000ULL, WXU,
		 "flat: the 4 GiB, clipped");
}

static void test_helpers(void)
{
	struct ptwalk_paging pg;
	uint64_t pte[4], addr[4];
	char buf[64];

	mem_reset();
	pg = build64();
	/* The walk of 0x5000: PML4[0], PDPT0[0], PD0[0], PT0[5]. */
	memcpy(&pte[0], mem + (pg.cr3 - MEM_BASE), 8);
	memcpy(&pte[1], mem + 4096, 8);
	memcpy(&pte[2], mem + 2 * 4096, 8);
	memcpy(&pte[3], mem + 3 * 4096 + 5 * 8, 8);
	ptwalk_entry_addrs(&pg, 0x5000, pte, 4, addr);
	is_hex(addr[0], MEM_BASE, "entry address: PML4E");
	is_hex(addr[1], MEM_BASE + 4096, "entry address: PDPTE");
	is_hex(addr[2], MEM_BASE + 2 * 4096, "entry address: PDE");
	is_hex(addr[3], MEM_BASE + 3 * 4096 + 40, "entry address: PTE");
	ptwalk_entry_addrs(&pg, 0xffffffff80000000ULL, pte, 1, addr);
	is_hex(addr[0], MEM_BASE + 511 * 8, "entry address: PML4E 511");

	is_str(ptwalk_entry_flags(&pg, 2, P | RW | A | D | PS | XD, buf,
				  sizeof(buf)),
	       "P RW A D PS NX", "flags of a 2M PDE");
	is_str(ptwalk_entry_flags(&pg, 1, P | US | PS, buf, sizeof(buf)),
	       "P US PAT", "bit 7 of a PTE is PAT");
	pg.mode = PAGING_MODE_PAE;
	is_str(ptwalk_entry_flags(&pg, 3, P | RW | US | 0x18, buf, sizeof(buf)),
	       "P PWT PCD", "a PAE PDPTE has P, PWT, PCD only");
	is_str(ptwalk_entry_flags(&pg, 1, 0, buf, sizeof(buf)), "",
	       "no flag: empty");
	ptwalk_entry_flags(&pg, 1, P | RW | US, buf, 4);
	is_str(buf, "P R", "flags truncated to the buffer");

	is_str(ptwalk_mode_name(PAGING_MODE_64), "4-level", "mode name");
	ok(ptwalk_mode_name(7) == NULL, "unknown mode: no name");
	is_int(ptwalk_levels(PAGING_MODE_64_LA57), 5, "5-level: 5 levels");
	is_int(ptwalk_levels(PAGING_MODE_PAE), 3, "PAE: 3 levels");
}

int main(void)
{
	test_64();
	test_la57();
	test_pae();
	test_32();
	test_helpers();
	return tap_done();
}
