/*
 * test-paging.c: unit tests of the guest page-table walker.
 *
 * Guest memory is two buffers, one below and one above 4 GiB, reached
 * through a map callback that returns NULL outside them.  Each case builds
 * one chain of page tables for a fixed linear address, alters one entry,
 * walks it with VM_GLA2GPA_NOFAULT semantics (the buffers must stay
 * byte-identical) and then with VM_GLA2GPA semantics (exactly the accessed
 * and dirty bits the SDM sets, or nothing when the walk faults).
 * Single-threaded; concurrent guests are simulated from the callback.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/vmm_paging.h"

#define PG_P (1ULL << 0)
#define PG_RW (1ULL << 1)
#define PG_US (1ULL << 2)
#define PG_A (1ULL << 5)
#define PG_D (1ULL << 6)
#define PG_PS (1ULL << 7)
#define PG_XD (1ULL << 63)
#define BIT(n) (1ULL << (n))
#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))

/* Guest memory: a low window (for 32-bit tables) and one above 4 GiB. */
#define MEM_LOW 0
#define MEM_HIGH 1
#define MEM_SIZE (64 * 1024)
static const uint64_t mem_base[2] = { 0x100000, 0x123400000ULL };

/* An address outside both windows, for -EFAULT. */
#define GPA_NOWHERE 0x70000000ULL

struct gmem {
	uint8_t *buf[2];
	uint64_t next[2]; /* bump allocator: next free page offset */
	int calls; /* map calls so far */
	/* A concurrent guest: on mapping hook_on, xor hook_xor into hook_gpa. */
	uint64_t hook_on;
	uint64_t hook_gpa;
	uint64_t hook_xor;
	int hook_size; /* 4 or 8 */
	int hook_left; /* how many more times */
};

static void *mem_ptr(struct gmem *m, uint64_t gpa, size_t len)
{
	for (int i = 0; i < 2; i++) {
		if (gpa >= mem_base[i] && gpa - mem_base[i] <= MEM_SIZE &&
		    len <= MEM_SIZE - (gpa - mem_base[i]))
			return m->buf[i] + (gpa - mem_base[i]);
	}
	return NULL;
}

static uint64_t mem_get(struct gmem *m, uint64_t gpa, int size)
{
	void *p = mem_ptr(m, gpa, size);

	if (!p)
		tap_bail("read outside guest memory at %#" PRIx64, gpa);
	return size == 4 ? *(uint32_t *)p : *(uint64_t *)p;
}

static void mem_put(struct gmem *m, uint64_t gpa, int size, uint64_t v)
{
	void *p = mem_ptr(m, gpa, size);

	if (!p)
		tap_bail("write outside guest memory at %#" PRIx64, gpa);
	if (size == 4)
		*(uint32_t *)p = (uint32_t)v;
	else
		*(uint64_t *)p = v;
}

static void *gmem_map(void *arg, uint64_t gpa, size_t len)
{
	struct gmem *m = arg;

	m->calls++;
	if (m->hook_left > 0 && gpa == m->hook_on) {
		m->hook_left--;
		mem_put(m, m->hook_gpa, m->hook_size,
			mem_get(m, m->hook_gpa, m->hook_size) ^ m->hook_xor);
	}
	return mem_ptr(m, gpa, len);
}

static void gmem_init(struct gmem *m)
{
	for (int i = 0; i < 2; i++) {
		m->buf[i] = aligned_alloc(4096, MEM_SIZE);
		if (!m->buf[i])
			tap_bail("out of memory");
	}
}

static void gmem_reset(struct gmem *m)
{
	uint8_t *buf[2] = { m->buf[0], m->buf[1] };

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 2; i++) {
		m->buf[i] = buf[i];
		memset(buf[i], 0, MEM_SIZE);
	}
}

static void gmem_free(struct gmem *m)
{
	free(m->buf[0]);
	free(m->buf[1]);
}

/* Guest memory contents, for byte comparison. */
struct snap {
	uint8_t b[2][MEM_SIZE];
};

static void snap_take(struct gmem *m, struct snap *s)
{
	memcpy(s->b[0], m->buf[0], MEM_SIZE);
	memcpy(s->b[1], m->buf[1], MEM_SIZE);
}

static bool snap_same(struct gmem *m, const struct snap *s)
{
	return memcmp(s->b[0], m->buf[0], MEM_SIZE) == 0 &&
	       memcmp(s->b[1], m->buf[1], MEM_SIZE) == 0;
}

/*
 * A new page table.  Its other entries are not present but not zero, so a
 * walk that picks the wrong index faults, and a stray write shows.
 */
static uint64_t table_alloc(struct gmem *m, int where, int esize)
{
	uint64_t gpa = mem_base[where] + m->next[where];

	if (m->next[where] + 4096 > MEM_SIZE)
		tap_bail("test guest memory full");
	m->next[where] += 4096;
	for (int i = 0; i < 4096 / esize; i++)
		mem_put(m, gpa + i * esize, esize,
			((i + 1) * 0x9e3779b97f4a7c15ULL) & ~PG_P);
	return gpa;
}

/* One chain of entries translating `gla`. */
struct chain {
	enum vm_paging_mode mode;
	uint64_t cr3;
	uint64_t gla; /* as passed to the walker */
	uint64_t gla_eff; /* as translated (32 bits outside long mode) */
	int top; /* level of the first entry */
	int leaf; /* level of the final entry */
	int esize; /* entry size */
	uint64_t ent[6]; /* gpa of the entry at each level */
	uint64_t frame; /* of the page */
	uint64_t page_size;
};

static int mode_top(enum vm_paging_mode mode)
{
	switch (mode) {
	case PAGING_MODE_32:
		return 2;
	case PAGING_MODE_PAE:
		return 3;
	case PAGING_MODE_64:
		return 4;
	default:
		return 5;
	}
}

static uint64_t mode_gla(enum vm_paging_mode mode)
{
	switch (mode) {
	case PAGING_MODE_32:
	case PAGING_MODE_PAE:
		/* The high half must be dropped: 0xc0345678 is translated
		 * (bits 38:32 would otherwise change the PAE PDPT index). */
		return 0xdeadbeefc0345678ULL;
	case PAGING_MODE_64:
		return 0xffff8123456789abULL;
	default:
		/* Canonical with 57 bits, not with 48. */
		return 0xff123456789abcdeULL;
	}
}

/* Frames that use every address bit the mode has, aligned to the page. */
static uint64_t default_frame(enum vm_paging_mode mode, int leaf)
{
	static const uint64_t f32[] = { 0, 0x89abc000, 0x3b89c00000ULL };
	static const uint64_t f64[] = { 0, 0xfedcba9876000ULL,
					0xfedcba9600000ULL,
					0xfedcb80000000ULL };

	return mode == PAGING_MODE_32 ? f32[leaf] : f64[leaf];
}

static void chain_build(struct gmem *m, struct chain *c,
			enum vm_paging_mode mode, int leaf, uint64_t frame)
{
	bool m32 = mode == PAGING_MODE_32;
	uint64_t table;

	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->top = mode_top(mode);
	c->leaf = leaf;
	c->esize = m32 ? 4 : 8;
	c->gla = mode_gla(mode);
	c->gla_eff = c->top <= 3 ? (uint32_t)c->gla : c->gla;
	c->frame = frame ? frame : default_frame(mode, leaf);
	c->page_size = 1ULL
		       << (m32 ? 12 + 10 * (leaf - 1) : 12 + 9 * (leaf - 1));

	/* CR3's low bits (PWT, PCD, or a PCID) must be ignored. */
	switch (mode) {
	case PAGING_MODE_32:
		table = table_alloc(m, MEM_LOW, 4);
		c->cr3 = table | 0x18;
		break;
	case PAGING_MODE_PAE:
		/* The PDPT is 32-byte aligned, not page aligned. */
		table = table_alloc(m, MEM_LOW, 8) + 0x40;
		c->cr3 = table | 0x18;
		break;
	default:
		table = table_alloc(m, MEM_HIGH, 8);
		c->cr3 = table | 0x5a5;
		break;
	}

	for (int level = c->top; level >= leaf; level--) {
		int shift = m32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
		uint64_t idx = (c->gla_eff >> shift) & (m32 ? 0x3ff : 0x1ff);
		uint64_t v;

		c->ent[level] = table + idx * c->esize;
		if (level == leaf) {
			v = c->frame | PG_P | PG_RW | PG_US;
			if (leaf > 1)
				v |= PG_PS;
			if (m32 && leaf == 2)
				v = (c->frame & BITS(31, 22)) |
				    ((c->frame >> 32) & 0xff) << 13 | PG_P |
				    PG_RW | PG_US | PG_PS;
		} else {
			/* Tables alternate between the windows when they may. */
			int where = m32 || level % 2 ? MEM_LOW : MEM_HIGH;

			table = table_alloc(m, where, c->esize);
			v = table | PG_P;
			if (!(mode == PAGING_MODE_PAE && level == 3))
				v |= PG_RW | PG_US;
		}
		mem_put(m, c->ent[level], c->esize, v);
	}
}

/* Flags of a case: the CPU state of the walk. */
#define F_CPL3 0x01
#define F_CPL1 0x02
#define F_WP 0x04
#define F_NXE 0x08
#define F_SMEP 0x10
#define F_SMAP 0x20
#define F_AC 0x40
#define F_NOPSE 0x80

#define ALL 9 /* alter every entry of the chain */

#define R VM_PROT_READ
#define W VM_PROT_WRITE
#define X VM_PROT_EXEC

struct walk_case {
	const char *name;
	enum vm_paging_mode mode;
	int leaf; /* final level: 1 (4K), 2 (2M/4M), 3 (1G) */
	uint64_t frame; /* 0: the default for mode and leaf */
	int level; /* entry to alter (ALL: each), 0 for none */
	uint64_t set, clr; /* bits to set and clear in it */
	int prot;
	unsigned flags; /* F_* */
	int fault_level; /* 0: translates; else #PF from this level */
	uint32_t ec; /* its error code */
};

static const struct walk_case cases[] = {
	/* 32-bit paging */
	{ "32 4K read", PAGING_MODE_32, 1, 0, 0, 0, 0, R, 0, 0, 0 },
	{ "32 4K write", PAGING_MODE_32, 1, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "32 4K user exec", PAGING_MODE_32, 1, 0, 0, 0, 0, X, F_CPL3, 0, 0 },
	{ "32 4M PSE-36", PAGING_MODE_32, 2, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "32 4M below 4G", PAGING_MODE_32, 2, 0x89c00000, 0, 0, 0, R, 0, 0,
	  0 },
	{ "32 PS ignored without PSE", PAGING_MODE_32, 1, 0, 2, PG_PS, 0, W,
	  F_NOPSE, 0, 0 },
	{ "32 PDE not present", PAGING_MODE_32, 1, 0, 2, 0, PG_P, R, 0, 2, 0 },
	{ "32 PTE not present, user write", PAGING_MODE_32, 1, 0, 1, 0, PG_P, W,
	  F_CPL3, 1, PGEX_W | PGEX_U },
	{ "32 4M PDE not present", PAGING_MODE_32, 2, 0, 2, 0, PG_P, R, 0, 2,
	  0 },
	{ "32 4M reserved bit 21", PAGING_MODE_32, 2, 0, 2, BIT(21), 0, R, 0, 2,
	  PGEX_P | PGEX_RSVD },
	{ "32 reserved bit ignored when not present", PAGING_MODE_32, 2, 0, 2,
	  BIT(21), PG_P, R, 0, 2, 0 },
	{ "32 fetch, NXE: no I flag", PAGING_MODE_32, 1, 0, 1, 0, PG_P, X,
	  F_NXE, 1, 0 },
	{ "32 fetch, SMEP: I flag", PAGING_MODE_32, 1, 0, 1, 0, PG_P, X,
	  F_SMEP | F_CPL3, 1, PGEX_I | PGEX_U },
	{ "32 write read-only, no WP", PAGING_MODE_32, 1, 0, 1, 0, PG_RW, W, 0,
	  0, 0 },
	{ "32 write read-only, WP", PAGING_MODE_32, 1, 0, 1, 0, PG_RW, W, F_WP,
	  1, PGEX_P | PGEX_W },
	{ "32 write read-only PDE, user", PAGING_MODE_32, 1, 0, 2, 0, PG_RW, W,
	  F_CPL3, 1, PGEX_P | PGEX_W | PGEX_U },
	{ "32 user read of supervisor PDE", PAGING_MODE_32, 1, 0, 2, 0, PG_US,
	  R, F_CPL3, 1, PGEX_P | PGEX_U },
	{ "32 4M user read of supervisor page", PAGING_MODE_32, 2, 0, 2, 0,
	  PG_US, R, F_CPL3, 2, PGEX_P | PGEX_U },
	{ "32 SMEP", PAGING_MODE_32, 1, 0, 0, 0, 0, X, F_SMEP, 1,
	  PGEX_P | PGEX_I },
	{ "32 SMAP", PAGING_MODE_32, 1, 0, 0, 0, 0, R, F_SMAP, 1, PGEX_P },

	/* PAE paging */
	{ "PAE 4K read", PAGING_MODE_PAE, 1, 0, 0, 0, 0, R, 0, 0, 0 },
	{ "PAE 4K user write, WP (PDPTE has no R/W, U/S)", PAGING_MODE_PAE, 1,
	  0, 0, 0, 0, W, F_CPL3 | F_WP, 0, 0 },
	{ "PAE 2M write", PAGING_MODE_PAE, 2, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "PAE 2M PAT bit not in address", PAGING_MODE_PAE, 2, 0, 2, BIT(12), 0,
	  R, 0, 0, 0 },
	{ "PAE PDPTE not present", PAGING_MODE_PAE, 1, 0, 3, 0, PG_P, W, F_CPL3,
	  3, PGEX_W | PGEX_U },
	{ "PAE PDE not present", PAGING_MODE_PAE, 1, 0, 2, 0, PG_P, R, 0, 2,
	  0 },
	{ "PAE PTE not present", PAGING_MODE_PAE, 1, 0, 1, 0, PG_P, R, 0, 1,
	  0 },
	{ "PAE 2M PDE not present", PAGING_MODE_PAE, 2, 0, 2, 0, PG_P, R, 0, 2,
	  0 },
	{ "PAE fetch, NXE: I flag", PAGING_MODE_PAE, 1, 0, 1, 0, PG_P, X, F_NXE,
	  1, PGEX_I },
	{ "PAE PDPTE reserved bit 1", PAGING_MODE_PAE, 1, 0, 3, BIT(1), 0, R, 0,
	  3, PGEX_P | PGEX_RSVD },
	{ "PAE PDPTE reserved bit 7", PAGING_MODE_PAE, 1, 0, 3, PG_PS, 0, R, 0,
	  3, PGEX_P | PGEX_RSVD },
	{ "PAE PDPTE bit 63 reserved with NXE", PAGING_MODE_PAE, 1, 0, 3, PG_XD,
	  0, R, F_NXE, 3, PGEX_P | PGEX_RSVD },
	{ "PAE PDE reserved bit 52", PAGING_MODE_PAE, 1, 0, 2, BIT(52), 0, W, 0,
	  2, PGEX_P | PGEX_RSVD | PGEX_W },
	{ "PAE 2M reserved bit 13", PAGING_MODE_PAE, 2, 0, 2, BIT(13), 0, R, 0,
	  2, PGEX_P | PGEX_RSVD },
	{ "PAE PTE reserved bit 62", PAGING_MODE_PAE, 1, 0, 1, BIT(62), 0, R, 0,
	  1, PGEX_P | PGEX_RSVD },
	{ "PAE PTE XD reserved without NXE", PAGING_MODE_PAE, 1, 0, 1, PG_XD, 0,
	  R, 0, 1, PGEX_P | PGEX_RSVD },
	{ "PAE PTE XD, NXE, read", PAGING_MODE_PAE, 1, 0, 1, PG_XD, 0, R, F_NXE,
	  0, 0 },
	{ "PAE PDE XD, NXE, fetch", PAGING_MODE_PAE, 1, 0, 2, PG_XD, 0, X,
	  F_NXE, 1, PGEX_P | PGEX_I },
	{ "PAE user read of supervisor PDE", PAGING_MODE_PAE, 2, 0, 2, 0, PG_US,
	  R, F_CPL3, 2, PGEX_P | PGEX_U },

	/* 4-level paging */
	{ "64 4K read", PAGING_MODE_64, 1, 0, 0, 0, 0, R, 0, 0, 0 },
	{ "64 4K write", PAGING_MODE_64, 1, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "64 2M write", PAGING_MODE_64, 2, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "64 1G read", PAGING_MODE_64, 3, 0, 0, 0, 0, R, 0, 0, 0 },
	{ "64 1G write", PAGING_MODE_64, 3, 0, 0, 0, 0, W, F_CPL3, 0, 0 },
	{ "64 1G PAT bit not in address", PAGING_MODE_64, 3, 0, 3, BIT(12), 0,
	  R, 0, 0, 0 },
	{ "64 A and D already set: nothing written", PAGING_MODE_64, 1, 0, ALL,
	  PG_A | PG_D, 0, W, 0, 0, 0 },
	{ "64 ignored bits 62:52, 11:9 everywhere", PAGING_MODE_64, 1, 0, ALL,
	  BITS(62, 52) | BITS(11, 9), 0, W, 0, 0, 0 },
	{ "64 ignored bits in a 1G entry", PAGING_MODE_64, 3, 0, 3,
	  BITS(62, 52) | BITS(11, 9), 0, R, 0, 0, 0 },
	{ "64 PML4E not present", PAGING_MODE_64, 1, 0, 4, 0, PG_P, R, 0, 4,
	  0 },
	{ "64 PDPTE not present", PAGING_MODE_64, 1, 0, 3, 0, PG_P, W, F_CPL3,
	  3, PGEX_W | PGEX_U },
	{ "64 PDE not present", PAGING_MODE_64, 1, 0, 2, 0, PG_P, R, 0, 2, 0 },
	{ "64 PTE not present", PAGING_MODE_64, 1, 0, 1, 0, PG_P, R, 0, 1, 0 },
	{ "64 1G PDPTE not present", PAGING_MODE_64, 3, 0, 3, 0, PG_P, R, 0, 3,
	  0 },
	{ "64 2M PDE not present", PAGING_MODE_64, 2, 0, 2, 0, PG_P, R, 0, 2,
	  0 },
	{ "64 not present PTE with reserved bits", PAGING_MODE_64, 1, 0, 1,
	  PG_XD, PG_P, R, 0, 1, 0 },
	{ "64 PML4E PS reserved", PAGING_MODE_64, 1, 0, 4, PG_PS, 0, W, F_CPL3,
	  4, PGEX_P | PGEX_RSVD | PGEX_W | PGEX_U },
	{ "64 1G reserved bit 13", PAGING_MODE_64, 3, 0, 3, BIT(13), 0, R, 0, 3,
	  PGEX_P | PGEX_RSVD },
	{ "64 1G reserved bit 29", PAGING_MODE_64, 3, 0, 3, BIT(29), 0, R, 0, 3,
	  PGEX_P | PGEX_RSVD },
	{ "64 2M reserved bit 20", PAGING_MODE_64, 2, 0, 2, BIT(20), 0, R, 0, 2,
	  PGEX_P | PGEX_RSVD },
	{ "64 PML4E XD reserved without NXE", PAGING_MODE_64, 1, 0, 4, PG_XD, 0,
	  R, 0, 4, PGEX_P | PGEX_RSVD },
	{ "64 PTE XD reserved without NXE, fetch", PAGING_MODE_64, 1, 0, 1,
	  PG_XD, 0, X, 0, 1, PGEX_P | PGEX_RSVD },
	{ "64 reserved, fetch with NXE: I flag", PAGING_MODE_64, 2, 0, 2,
	  BIT(20), 0, X, F_NXE, 2, PGEX_P | PGEX_RSVD | PGEX_I },
	{ "64 PDPTE XD, NXE, read", PAGING_MODE_64, 1, 0, 3, PG_XD, 0, R, F_NXE,
	  0, 0 },
	{ "64 PDPTE XD, NXE, fetch", PAGING_MODE_64, 1, 0, 3, PG_XD, 0, X,
	  F_NXE, 1, PGEX_P | PGEX_I },
	{ "64 PML4E XD, NXE, user fetch", PAGING_MODE_64, 1, 0, 4, PG_XD, 0, X,
	  F_NXE | F_CPL3, 1, PGEX_P | PGEX_U | PGEX_I },
	{ "64 1G XD, NXE, fetch", PAGING_MODE_64, 3, 0, 3, PG_XD, 0, X, F_NXE,
	  3, PGEX_P | PGEX_I },
	{ "64 fetch without NXE", PAGING_MODE_64, 1, 0, 0, 0, 0, X, F_CPL3, 0,
	  0 },
	{ "64 write read-only PDPTE, no WP", PAGING_MODE_64, 1, 0, 3, 0, PG_RW,
	  W, 0, 0, 0 },
	{ "64 write read-only PDPTE, WP", PAGING_MODE_64, 1, 0, 3, 0, PG_RW, W,
	  F_WP, 1, PGEX_P | PGEX_W },
	{ "64 write read-only PML4E, user", PAGING_MODE_64, 1, 0, 4, 0, PG_RW,
	  W, F_CPL3, 1, PGEX_P | PGEX_W | PGEX_U },
	{ "64 write read-only 2M, WP", PAGING_MODE_64, 2, 0, 2, 0, PG_RW, W,
	  F_WP, 2, PGEX_P | PGEX_W },
	{ "64 read read-only, user, WP", PAGING_MODE_64, 1, 0, 1, 0, PG_RW, R,
	  F_CPL3 | F_WP, 0, 0 },
	{ "64 user read of supervisor PML4E", PAGING_MODE_64, 1, 0, 4, 0, PG_US,
	  R, F_CPL3, 1, PGEX_P | PGEX_U },
	{ "64 user read of supervisor 1G", PAGING_MODE_64, 3, 0, 3, 0, PG_US, R,
	  F_CPL3, 3, PGEX_P | PGEX_U },
	{ "64 cpl 1 read of supervisor page", PAGING_MODE_64, 1, 0, 1, 0, PG_US,
	  R, F_CPL1, 0, 0 },
	{ "64 user fetch of supervisor page", PAGING_MODE_64, 1, 0, 2, 0, PG_US,
	  X, F_CPL3 | F_NXE, 1, PGEX_P | PGEX_U | PGEX_I },
	{ "64 supervisor fetch of user page", PAGING_MODE_64, 1, 0, 0, 0, 0, X,
	  0, 0, 0 },
	{ "64 SMEP", PAGING_MODE_64, 1, 0, 0, 0, 0, X, F_SMEP, 1,
	  PGEX_P | PGEX_I },
	{ "64 SMEP, cpl 1", PAGING_MODE_64, 2, 0, 0, 0, 0, X, F_SMEP | F_CPL1,
	  2, PGEX_P | PGEX_I },
	{ "64 SMEP, supervisor page", PAGING_MODE_64, 1, 0, 3, 0, PG_US, X,
	  F_SMEP, 0, 0 },
	{ "64 SMEP, user fetch", PAGING_MODE_64, 1, 0, 0, 0, 0, X,
	  F_SMEP | F_CPL3, 0, 0 },
	{ "64 SMEP does not stop reads", PAGING_MODE_64, 1, 0, 0, 0, 0, R,
	  F_SMEP, 0, 0 },
	{ "64 SMAP read", PAGING_MODE_64, 1, 0, 0, 0, 0, R, F_SMAP, 1, PGEX_P },
	{ "64 SMAP write", PAGING_MODE_64, 3, 0, 0, 0, 0, W, F_SMAP, 3,
	  PGEX_P | PGEX_W },
	{ "64 SMAP read, AC", PAGING_MODE_64, 1, 0, 0, 0, 0, R, F_SMAP | F_AC,
	  0, 0 },
	{ "64 SMAP write, AC", PAGING_MODE_64, 1, 0, 0, 0, 0, W, F_SMAP | F_AC,
	  0, 0 },
	{ "64 SMAP write read-only, AC, WP", PAGING_MODE_64, 1, 0, 1, 0, PG_RW,
	  W, F_SMAP | F_AC | F_WP, 1, PGEX_P | PGEX_W },
	{ "64 SMAP, supervisor page", PAGING_MODE_64, 1, 0, 1, 0, PG_US, W,
	  F_SMAP, 0, 0 },
	{ "64 SMAP, user access", PAGING_MODE_64, 1, 0, 0, 0, 0, R,
	  F_SMAP | F_CPL3, 0, 0 },
	{ "64 SMAP does not stop fetches", PAGING_MODE_64, 1, 0, 0, 0, 0, X,
	  F_SMAP, 0, 0 },
	{ "64 SMAP stops a read and fetch", PAGING_MODE_64, 1, 0, 0, 0, 0,
	  R | X, F_SMAP, 1, PGEX_P },

	/* 5-level paging */
	{ "LA57 4K read", PAGING_MODE_64_LA57, 1, 0, 0, 0, 0, R, 0, 0, 0 },
	{ "LA57 2M write", PAGING_MODE_64_LA57, 2, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "LA57 1G write", PAGING_MODE_64_LA57, 3, 0, 0, 0, 0, W, 0, 0, 0 },
	{ "LA57 PML5E not present", PAGING_MODE_64_LA57, 1, 0, 5, 0, PG_P, R, 0,
	  5, 0 },
	{ "LA57 PML4E not present", PAGING_MODE_64_LA57, 1, 0, 4, 0, PG_P, R, 0,
	  4, 0 },
	{ "LA57 PDPTE not present", PAGING_MODE_64_LA57, 1, 0, 3, 0, PG_P, R, 0,
	  3, 0 },
	{ "LA57 PDE not present", PAGING_MODE_64_LA57, 1, 0, 2, 0, PG_P, R, 0,
	  2, 0 },
	{ "LA57 PTE not present", PAGING_MODE_64_LA57, 1, 0, 1, 0, PG_P, W,
	  F_CPL3, 1, PGEX_W | PGEX_U },
	{ "LA57 PML5E PS reserved", PAGING_MODE_64_LA57, 1, 0, 5, PG_PS, 0, R,
	  0, 5, PGEX_P | PGEX_RSVD },
	{ "LA57 PML4E PS reserved", PAGING_MODE_64_LA57, 1, 0, 4, PG_PS, 0, R,
	  0, 4, PGEX_P | PGEX_RSVD },
	{ "LA57 PML5E XD reserved without NXE", PAGING_MODE_64_LA57, 1, 0, 5,
	  PG_XD, 0, R, 0, 5, PGEX_P | PGEX_RSVD },
	{ "LA57 write read-only PML5E, user", PAGING_MODE_64_LA57, 1, 0, 5, 0,
	  PG_RW, W, F_CPL3, 1, PGEX_P | PGEX_W | PGEX_U },
	{ "LA57 user read of supervisor PML5E", PAGING_MODE_64_LA57, 2, 0, 5, 0,
	  PG_US, R, F_CPL3, 2, PGEX_P | PGEX_U },
	{ "LA57 PML5E XD, NXE, fetch", PAGING_MODE_64_LA57, 1, 0, 5, PG_XD, 0,
	  X, F_NXE, 1, PGEX_P | PGEX_I },
};

static void paging_init(struct vm_guest_paging *pg, const struct chain *c,
			unsigned flags)
{
	memset(pg, 0, sizeof(*pg));
	pg->cr3 = c->cr3;
	pg->cpl = flags & F_CPL3 ? 3 : flags & F_CPL1 ? 1 : 0;
	pg->cpu_mode = c->top >= 4 ? CPU_MODE_64BIT : CPU_MODE_PROTECTED;
	pg->paging_mode = c->mode;
	pg->wp = !!(flags & F_WP);
	pg->nxe = !!(flags & F_NXE);
	pg->smep = !!(flags & F_SMEP);
	pg->smap = !!(flags & F_SMAP);
	pg->ac = !!(flags & F_AC);
	pg->pse = !(flags & F_NOPSE);
}

static void entry_alter(struct gmem *m, const struct chain *c, int level,
			uint64_t set, uint64_t clr)
{
	for (int l = c->top; l >= c->leaf; l--) {
		if (level == l || level == ALL)
			mem_put(m, c->ent[l], c->esize,
				(mem_get(m, c->ent[l], c->esize) | set) & ~clr);
	}
}

/* Guest memory as a successful VM_GLA2GPA must leave it. */
static void expect_ad(struct gmem *m, const struct chain *c, bool write)
{
	for (int l = c->top; l >= c->leaf; l--) {
		uint64_t v = mem_get(m, c->ent[l], c->esize);

		if (c->mode == PAGING_MODE_PAE && l == 3)
			continue; /* PDPTEs have no accessed bit */
		v |= PG_A;
		if (l == c->leaf && write)
			v |= PG_D;
		mem_put(m, c->ent[l], c->esize, v);
	}
}

static void check_walk(const char *name, const char *kind,
		       const struct vm_gla2gpa *w, const struct chain *c,
		       struct gmem *m, const struct walk_case *t)
{
	int fl = t->fault_level;
	int levels = c->top - (fl ? fl : c->leaf) + 1;
	bool pte_ok = true;

	is_int(w->fault, fl != 0, "%s: %s: fault", name, kind);
	is_int(w->vector, fl ? IDT_PF : 0, "%s: %s: vector", name, kind);
	is_hex(w->error_code, t->ec, "%s: %s: error code", name, kind);
	is_int(w->fault_level, fl, "%s: %s: fault level", name, kind);
	is_int(w->levels, levels, "%s: %s: levels", name, kind);
	is_hex(w->gpa, fl ? 0 : c->frame | (c->gla_eff & (c->page_size - 1)),
	       "%s: %s: gpa", name, kind);
	is_hex(w->page_size, fl ? 0 : c->page_size, "%s: %s: page size", name,
	       kind);
	for (int i = 0; i < VM_WALK_MAX_LEVELS; i++) {
		uint64_t want = 0;

		if (i < levels)
			want = mem_get(m, c->ent[c->top - i], c->esize);
		if (w->pte[i] != want) {
			tap_diag("pte[%d] = %#" PRIx64 ", expected %#" PRIx64,
				 i, w->pte[i], want);
			pte_ok = false;
		}
	}
	ok(pte_ok, "%s: %s: pte[] holds the entries read", name, kind);
}

static void run_case(struct gmem *m, const struct walk_case *t)
{
	struct vm_guest_paging pg;
	struct vm_gla2gpa w1, w2;
	struct chain c;
	struct snap *before = malloc(sizeof(*before));
	struct snap *after = malloc(sizeof(*after));
	int r;

	if (!before || !after)
		tap_bail("out of memory");
	gmem_reset(m);
	chain_build(m, &c, t->mode, t->leaf, t->frame);
	if (t->level)
		entry_alter(m, &c, t->level, t->set, t->clr);
	paging_init(&pg, &c, t->flags);
	snap_take(m, before);

	memset(&w1, 0x5a, sizeof(w1));
	r = vmm_paging_walk(&pg, c.gla, t->prot, true, gmem_map, m, &w1);
	is_int(r, 0, "%s: nofault walk returns 0", t->name);
	check_walk(t->name, "nofault", &w1, &c, m, t);
	ok(snap_same(m, before), "%s: nofault leaves memory as it was",
	   t->name);

	memset(&w2, 0x5a, sizeof(w2));
	r = vmm_paging_walk(&pg, c.gla, t->prot, false, gmem_map, m, &w2);
	is_int(r, 0, "%s: walk returns 0", t->name);
	ok(memcmp(&w1, &w2, sizeof(w1)) == 0,
	   "%s: walk reports as the nofault walk did", t->name);
	snap_take(m, after);
	memcpy(m->buf[0], before->b[0], MEM_SIZE);
	memcpy(m->buf[1], before->b[1], MEM_SIZE);
	if (!t->fault_level)
		expect_ad(m, &c, t->prot & W);
	ok(snap_same(m, after),
	   t->fault_level ? "%s: a walk that faults writes nothing" :
			    "%s: walk sets exactly the A/D bits due",
	   t->name);
	free(before);
	free(after);
}

static void test_flat(struct gmem *m)
{
	static const struct {
		enum vm_cpu_mode cpu_mode;
		uint64_t gla, gpa;
	} t[] = {
		{ CPU_MODE_REAL, 0x12345678aULL, 0x2345678a },
		{ CPU_MODE_PROTECTED, 0xffffffff00001234ULL, 0x1234 },
		{ CPU_MODE_64BIT, 0x12345678aULL, 0x12345678aULL },
	};
	struct vm_guest_paging pg = { .paging_mode = PAGING_MODE_FLAT };
	struct vm_gla2gpa w;

	gmem_reset(m);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pg.cpu_mode = t[i].cpu_mode;
		memset(&w, 0x5a, sizeof(w));
		is_int(vmm_paging_walk(&pg, t[i].gla, W, false, gmem_map, m,
				       &w),
		       0, "flat %zu: returns 0", i);
		is_int(w.fault, 0, "flat %zu: no fault", i);
		is_hex(w.gpa, t[i].gpa, "flat %zu: gpa", i);
		is_int(w.levels, 0, "flat %zu: no entries", i);
		is_hex(w.page_size, 4096, "flat %zu: page size", i);
	}
	is_int(m->calls, 0, "flat: guest memory never mapped");
}

static void test_noncanonical(struct gmem *m)
{
	static const struct {
		enum vm_paging_mode mode;
		uint64_t gla;
		bool gp;
	} t[] = {
		{ PAGING_MODE_64, 0x0000800000000000ULL, true },
		{ PAGING_MODE_64, 0xffff7fffffffffffULL, true },
		{ PAGING_MODE_64, 0x8000000000000000ULL, true },
		{ PAGING_MODE_64, 0xff123456789abcdeULL, true },
		{ PAGING_MODE_64, 0x00007ffffffff000ULL, false },
		{ PAGING_MODE_64, 0xffff800000000000ULL, false },
		{ PAGING_MODE_64_LA57, 0x0100000000000000ULL, true },
		{ PAGING_MODE_64_LA57, 0xfeffffffffffffffULL, true },
		{ PAGING_MODE_64_LA57, 0x8000000000000000ULL, true },
		{ PAGING_MODE_64_LA57, 0x00ffffffffffe000ULL, false },
		{ PAGING_MODE_64_LA57, 0xff00000000000000ULL, false },
	};
	struct snap *before = malloc(sizeof(*before));
	struct vm_guest_paging pg;
	struct vm_gla2gpa w;
	struct chain c;

	if (!before)
		tap_bail("out of memory");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int nofault = 0; nofault < 2; nofault++) {
			const char *k = nofault ? "nofault" : "fault";

			gmem_reset(m);
			chain_build(m, &c, t[i].mode, 1, 0);
			paging_init(&pg, &c, 0);
			snap_take(m, before);
			memset(&w, 0x5a, sizeof(w));
			is_int(vmm_paging_walk(&pg, t[i].gla, R, nofault,
					       gmem_map, m, &w),
			       0, "gla %#" PRIx64 " %s: returns 0", t[i].gla,
			       k);
			if (!t[i].gp) {
				/* The chain does not map it: a #PF, not #GP. */
				ok(w.fault && w.vector == IDT_PF &&
					   w.levels > 0,
				   "gla %#" PRIx64 " %s: canonical, walked",
				   t[i].gla, k);
				continue;
			}
			ok(w.fault && w.vector == IDT_GP && w.error_code == 0 &&
				   w.fault_level == 0 && w.levels == 0,
			   "gla %#" PRIx64 " %s: #GP(0), level 0, no entries",
			   t[i].gla, k);
			is_int(m->calls, 0,
			       "gla %#" PRIx64 " %s: no table read", t[i].gla,
			       k);
			ok(snap_same(m, before),
			   "gla %#" PRIx64 " %s: memory untouched", t[i].gla,
			   k);
		}
	}
	free(before);
}

/* Tables outside guest memory: -EFAULT, and `w` and memory untouched. */
static void test_efault(struct gmem *m)
{
	static const struct {
		const char *name;
		enum vm_paging_mode mode;
		int level; /* entry pointed elsewhere; 0: CR3 */
	} t[] = {
		{ "32 CR3", PAGING_MODE_32, 0 },
		{ "32 PDE", PAGING_MODE_32, 2 },
		{ "PAE CR3", PAGING_MODE_PAE, 0 },
		{ "PAE PDPTE", PAGING_MODE_PAE, 3 },
		{ "64 PDPTE", PAGING_MODE_64, 3 },
		{ "64 PDE", PAGING_MODE_64, 2 },
		{ "LA57 CR3", PAGING_MODE_64_LA57, 0 },
		{ "LA57 PML5E", PAGING_MODE_64_LA57, 5 },
	};
	struct snap *before = malloc(sizeof(*before));
	struct vm_guest_paging pg;
	struct vm_gla2gpa w, w0;
	struct chain c;

	if (!before)
		tap_bail("out of memory");
	memset(&w0, 0x5a, sizeof(w0));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int nofault = 0; nofault < 2; nofault++) {
			gmem_reset(m);
			chain_build(m, &c, t[i].mode, 1, 0);
			paging_init(&pg, &c, 0);
			if (t[i].level) {
				uint64_t e =
					mem_get(m, c.ent[t[i].level], c.esize);
				e = (e & 0xfff) | GPA_NOWHERE;
				mem_put(m, c.ent[t[i].level], c.esize, e);
			} else {
				pg.cr3 = GPA_NOWHERE;
			}
			snap_take(m, before);
			memcpy(&w, &w0, sizeof(w));
			is_int(vmm_paging_walk(&pg, c.gla, W, nofault, gmem_map,
					       m, &w),
			       -EFAULT, "%s outside memory%s: -EFAULT",
			       t[i].name, nofault ? ", nofault" : "");
			ok(memcmp(&w, &w0, sizeof(w)) == 0 &&
				   snap_same(m, before),
			   "%s outside memory%s: result and memory untouched",
			   t[i].name, nofault ? ", nofault" : "");
		}
	}
	free(before);
}

/* The walker fills the out fields and leaves the caller's in fields. */
static void test_in_fields(struct gmem *m)
{
	struct vm_guest_paging pg;
	struct vm_gla2gpa w;
	struct chain c;

	gmem_reset(m);
	chain_build(m, &c, PAGING_MODE_64, 1, 0);
	paging_init(&pg, &c, 0);
	memset(&w, 0x5a, sizeof(w));
	w.cpuid = 7;
	w.use_current = true;
	w.paging.cr3 = 0x1234;
	w.paging.cpl = 2;
	w.gla = 0x42;
	w.prot = X;
	is_int(vmm_paging_walk(&pg, c.gla, R, true, gmem_map, m, &w), 0,
	       "in fields: walk");
	ok(w.cpuid == 7 && w.use_current && w.paging.cr3 == 0x1234 &&
		   w.paging.cpl == 2 && w.gla == 0x42 && w.prot == X,
	   "in fields: left as they were");
	is_hex(w.gpa, c.frame | (c.gla & 0xfff), "in fields: gpa filled");
}

/*
 * A guest on another vCPU changes an entry between the walker's read and
 * its compare-and-swap: the walk starts again and the guest's change
 * survives.  The callback makes the change when the walker maps the last
 * entry, after the altered one was read.
 */
static void test_race(struct gmem *m)
{
	static const struct {
		const char *name;
		enum vm_paging_mode mode;
		int level; /* entry the guest changes */
		uint64_t xor ;
		int fault_level; /* the restarted walk's outcome */
	} t[] = {
		{ "64 PML4E gains an AVL bit", PAGING_MODE_64, 4, BIT(9), 0 },
		{ "64 PDE gains an AVL bit", PAGING_MODE_64, 2, BIT(10), 0 },
		{ "64 PDPTE gains A", PAGING_MODE_64, 3, PG_A, 0 },
		{ "64 PML4E loses P", PAGING_MODE_64, 4, PG_P, 4 },
		{ "32 PDE gains an AVL bit", PAGING_MODE_32, 2, BIT(11), 0 },
		{ "PAE PDE gains an AVL bit", PAGING_MODE_PAE, 2, BIT(9), 0 },
	};
	struct snap *want = malloc(sizeof(*want));
	struct vm_guest_paging pg;
	struct vm_gla2gpa w;
	struct chain c;

	if (!want)
		tap_bail("out of memory");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		gmem_reset(m);
		chain_build(m, &c, t[i].mode, 1, 0);
		paging_init(&pg, &c, 0);
		m->hook_on = c.ent[1];
		m->hook_gpa = c.ent[t[i].level];
		m->hook_xor = t[i].xor ;
		m->hook_size = c.esize;
		m->hook_left = 1;

		is_int(vmm_paging_walk(&pg, c.gla, W, false, gmem_map, m, &w),
		       0, "race, %s: walk", t[i].name);
		is_int(m->calls, c.top + (t[i].fault_level ? 1 : c.top),
		       "race, %s: walked again", t[i].name);
		is_int(w.fault_level, t[i].fault_level,
		       "race, %s: outcome of the new walk", t[i].name);
		/* What the guest did, plus A/D when the new walk succeeded. */
		snap_take(m, want);
		gmem_reset(m);
		chain_build(m, &c, t[i].mode, 1, 0);
		if (t[i].fault_level) {
			entry_alter(m, &c, t[i].level, 0, t[i].xor);
		} else {
			entry_alter(m, &c, t[i].level, t[i].xor, 0);
			expect_ad(m, &c, true);
		}
		ok(snap_same(m, want), "race, %s: the guest's change kept",
		   t[i].name);
	}

	/* A guest that never stops changing the tables. */
	gmem_reset(m);
	chain_build(m, &c, PAGING_MODE_64, 1, 0);
	paging_init(&pg, &c, 0);
	m->hook_on = c.ent[1];
	m->hook_gpa = c.ent[4];
	m->hook_xor = BIT(9);
	m->hook_size = 8;
	m->hook_left = 1000000;
	memset(&w, 0x5a, sizeof(w));
	is_int(vmm_paging_walk(&pg, c.gla, R, false, gmem_map, m, &w), -EAGAIN,
	       "race without end: -EAGAIN");
	ok(w.levels == 0x5a5a5a5a, "race without end: result untouched");
	ok(!(mem_get(m, c.ent[4], 8) & PG_A), "race without end: no A bit");
	m->calls = 0;
	is_int(vmm_paging_walk(&pg, c.gla, R, true, gmem_map, m, &w), 0,
	       "race without end: nofault walk translates");
	is_int(m->calls, 4, "race without end: nofault walks once");
	free(want);
}

static void test_bad_mode(struct gmem *m)
{
	struct vm_guest_paging pg = { .paging_mode = 42 };
	struct vm_gla2gpa w;

	is_int(vmm_paging_walk(&pg, 0, R, true, gmem_map, m, &w), -EINVAL,
	       "unknown paging mode: -EINVAL");
}

#define CR0_PE BIT(0)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_LA57 BIT(12)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define RFLAGS_AC BIT(18)
/* VMX access rights: code and data segments, DPL 0 or 3. */
#define CS32 0xc09bULL
#define CS64 0xa09bULL
#define SS0 0xc093ULL
#define SS3 0xc0f3ULL

static void test_from_regs(void)
{
	static const struct {
		const char *name;
		uint64_t cr0, cr4, efer, rflags, cs, ss;
		struct vm_guest_paging want; /* cr3 aside */
	} t[] = {
		{ "real mode",
		  0,
		  CR4_PSE,
		  0,
		  RFLAGS_AC,
		  0x93,
		  SS3,
		  { .cpl = 0,
		    .cpu_mode = CPU_MODE_REAL,
		    .paging_mode = PAGING_MODE_FLAT,
		    .ac = true,
		    .pse = true } },
		{ "protected, no paging",
		  CR0_PE | CR0_WP,
		  0,
		  0,
		  0,
		  CS32,
		  SS0,
		  { .cpu_mode = CPU_MODE_PROTECTED,
		    .paging_mode = PAGING_MODE_FLAT,
		    .wp = true } },
		{ "32-bit paging, user",
		  CR0_PE | CR0_PG | CR0_WP,
		  CR4_PSE,
		  EFER_NXE,
		  0,
		  CS32,
		  SS3,
		  { .cpl = 3,
		    .cpu_mode = CPU_MODE_PROTECTED,
		    .paging_mode = PAGING_MODE_32,
		    .wp = true,
		    .nxe = true,
		    .pse = true } },
		{ "PAE paging",
		  CR0_PE | CR0_PG,
		  CR4_PAE | CR4_SMEP,
		  EFER_NXE,
		  0,
		  CS32,
		  SS0,
		  { .cpu_mode = CPU_MODE_PROTECTED,
		    .paging_mode = PAGING_MODE_PAE,
		    .nxe = true,
		    .smep = true } },
		{ "PAE paging, LA57 without long mode",
		  CR0_PE | CR0_PG,
		  CR4_PAE | CR4_LA57,
		  0,
		  0,
		  CS32,
		  SS0,
		  { .cpu_mode = CPU_MODE_PROTECTED,
		    .paging_mode = PAGING_MODE_PAE } },
		{ "4-level, 64-bit",
		  CR0_PE | CR0_PG | CR0_WP,
		  CR4_PAE | CR4_SMEP | CR4_SMAP,
		  EFER_LME | EFER_LMA | EFER_NXE,
		  RFLAGS_AC | 2,
		  CS64,
		  SS0,
		  { .cpu_mode = CPU_MODE_64BIT,
		    .paging_mode = PAGING_MODE_64,
		    .wp = true,
		    .nxe = true,
		    .smep = true,
		    .smap = true,
		    .ac = true } },
		{ "4-level, compatibility, user",
		  CR0_PE | CR0_PG,
		  CR4_PAE,
		  EFER_LME | EFER_LMA,
		  2,
		  CS32 | (3 << 5),
		  SS3,
		  { .cpl = 3,
		    .cpu_mode = CPU_MODE_COMPATIBILITY,
		    .paging_mode = PAGING_MODE_64 } },
		{ "5-level, 64-bit",
		  CR0_PE | CR0_PG,
		  CR4_PAE | CR4_LA57,
		  EFER_LME | EFER_LMA,
		  2,
		  CS64,
		  SS0,
		  { .cpu_mode = CPU_MODE_64BIT,
		    .paging_mode = PAGING_MODE_64_LA57 } },
		{ "5-level, compatibility",
		  CR0_PE | CR0_PG,
		  CR4_PAE | CR4_LA57 | CR4_PSE,
		  EFER_LME | EFER_LMA,
		  2,
		  CS32,
		  SS0,
		  { .cpu_mode = CPU_MODE_COMPATIBILITY,
		    .paging_mode = PAGING_MODE_64_LA57,
		    .pse = true } },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vm_guest_paging pg, want = t[i].want;

		memset(&pg, 0x5a, sizeof(pg));
		vmm_paging_from_regs(t[i].cr0, 0xabcde018, t[i].cr4, t[i].efer,
				     t[i].rflags, t[i].cs, t[i].ss, &pg);
		want.cr3 = 0xabcde018;
		is_int(pg.paging_mode, want.paging_mode,
		       "regs, %s: paging mode", t[i].name);
		is_int(pg.cpu_mode, want.cpu_mode, "regs, %s: cpu mode",
		       t[i].name);
		is_int(pg.cpl, want.cpl, "regs, %s: cpl", t[i].name);
		is_hex(pg.cr3, want.cr3, "regs, %s: cr3", t[i].name);
		ok(pg.wp == want.wp && pg.nxe == want.nxe &&
			   pg.smep == want.smep && pg.smap == want.smap &&
			   pg.ac == want.ac && pg.pse == want.pse,
		   "regs, %s: wp %d nxe %d smep %d smap %d ac %d pse %d",
		   t[i].name, pg.wp, pg.nxe, pg.smep, pg.smap, pg.ac, pg.pse);
	}
}

int main(void)
{
	struct gmem m;

	gmem_init(&m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&m, &cases[i]);
	test_flat(&m);
	test_noncanonical(&m);
	test_efault(&m);
	test_in_fields(&m);
	test_race(&m);
	test_bad_mode(&m);
	test_from_regs();
	gmem_free(&m);
	return tap_done();
}
