/*
 * introspect/ptwalk.c: the whole-tree page-table walk of ptwalk.h (Intel
 * SDM vol. 3, chapter 4, for the bits).  Each table is read once with the
 * caller's callback into a buffer on the stack (at most five, one per
 * level); leaves come out in increasing linear-address order, so runs
 * are merged on the fly.
 *
 * Reentrant: all state lives in the caller's structs and on the stack.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "introspect/ptwalk.h"

#define PG_P (1ULL << 0)
#define PG_RW (1ULL << 1)
#define PG_US (1ULL << 2)
#define PG_PWT (1ULL << 3)
#define PG_PCD (1ULL << 4)
#define PG_A (1ULL << 5)
#define PG_D (1ULL << 6)
#define PG_PS (1ULL << 7)
#define PG_G (1ULL << 8)
#define PG_XD (1ULL << 63)

#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))
/* Table and frame addresses of 64-bit entries (MAXPHYADDR 52). */
#define PG_FRAME BITS(51, 12)

struct walker {
	const struct ptwalk_paging *pg;
	uint64_t first, last; /* inclusive, canonical */
	int vabits; /* 32, 48 or 57 */
	bool sext; /* linear addresses are sign-extended from vabits */
	ptwalk_read_fn *read;
	void *read_arg;
	ptwalk_range_fn *fn;
	void *fn_arg;
	struct ptwalk_stats *st;
	struct ptwalk_range pend; /* the run being merged */
	bool have; /* pend holds one */
	int stop; /* fn's nonzero answer */
};

int ptwalk_levels(uint32_t mode)
{
	switch (mode) {
	case PAGING_MODE_FLAT:
		return 0;
	case PAGING_MODE_32:
		return 2;
	case PAGING_MODE_PAE:
		return 3;
	case PAGING_MODE_64:
		return 4;
	case PAGING_MODE_64_LA57:
		return 5;
	}
	return -1;
}

const char *ptwalk_mode_name(uint32_t mode)
{
	static const char *const names[] = {
		[PAGING_MODE_FLAT] = "flat",	   [PAGING_MODE_32] = "32-bit",
		[PAGING_MODE_PAE] = "pae",	   [PAGING_MODE_64] = "4-level",
		[PAGING_MODE_64_LA57] = "5-level",
	};

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : NULL;
}

/* The lowest linear-address bit that level indexes. */
static int level_shift(uint32_t mode, int level)
{
	if (mode == PAGING_MODE_32)
		return 12 + 10 * (level - 1);
	return 12 + 9 * (level - 1);
}

/* The first table: where CR3 points. */
static uint64_t top_table(const struct ptwalk_paging *pg)
{
	switch (pg->mode) {
	case PAGING_MODE_32:
		return pg->cr3 & BITS(31, 12);
	case PAGING_MODE_PAE:
		return pg->cr3 & BITS(31, 5);
	default:
		return pg->cr3 & PG_FRAME;
	}
}

static uint64_t table_frame(uint32_t mode, uint64_t e)
{
	return mode == PAGING_MODE_32 ? e & BITS(31, 12) : e & PG_FRAME;
}

void ptwalk_entry_addrs(const struct ptwalk_paging *pg, uint64_t gla,
			const uint64_t *pte, int n, uint64_t *addr)
{
	int top = ptwalk_levels(pg->mode);
	int esize = pg->mode == PAGING_MODE_32 ? 4 : 8;
	uint64_t mask = pg->mode == PAGING_MODE_32 ? 0x3ff : 0x1ff;
	uint64_t table = top_table(pg);

	if (pg->mode == PAGING_MODE_32 || pg->mode == PAGING_MODE_PAE)
		gla = (uint32_t)gla;
	for (int i = 0; i < n && i < top; i++) {
		int level = top - i;
		uint64_t idx = (gla >> level_shift(pg->mode, level)) & mask;

		addr[i] = table + idx * esize;
		table = table_frame(pg->mode, pte[i]);
	}
}

char *ptwalk_entry_flags(const struct ptwalk_paging *pg, int level, uint64_t e,
			 char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} bits[] = {
		{ PG_P, "P" },	   { PG_RW, "RW" },   { PG_US, "US" },
		{ PG_PWT, "PWT" }, { PG_PCD, "PCD" }, { PG_A, "A" },
		{ PG_D, "D" },	   { PG_PS, "PS" },   { PG_G, "G" },
		{ PG_XD, "NX" },
	};
	bool pdpte = pg->mode == PAGING_MODE_PAE && level == 3;
	size_t off = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		const char *name = bits[i].name;

		if (!(e & bits[i].bit))
			continue;
		/* A PAE PDPTE has only P, PWT and PCD. */
		if (pdpte && !(bits[i].bit & (PG_P | PG_PWT | PG_PCD)))
			continue;
		if (bits[i].bit == PG_XD && pg->mode == PAGING_MODE_32)
			continue;
		if (bits[i].bit == PG_PS && level == 1)
			name = "PAT";
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
				off ? " " : "", name);
	}
	return buf;
}

static uint64_t canon(const struct walker *w, uint64_t va)
{
	if (w->sext && (va >> (w->vabits - 1)) & 1)
		return va | ~(~0ULL >> (64 - w->vabits));
	return va;
}

static void flush(struct walker *w)
{
	if (w->have && !w->stop)
		w->stop = w->fn(w->fn_arg, &w->pend);
	w->have = false;
}

/* A page of `size` bytes at canonical va, clipped and merged. */
static void leaf(struct walker *w, uint64_t va, uint64_t pa, uint64_t size,
		 unsigned int perms)
{
	uint64_t end = va + (size - 1);

	if (w->st)
		w->st->leaves++;
	if (va < w->first) {
		pa += w->first - va;
		va = w->first;
	}
	if (end > w->last)
		end = w->last;
	size = end - va + 1;
	if (w->have && w->pend.perms == perms &&
	    w->pend.va + w->pend.size == va &&
	    w->pend.pa + w->pend.size == pa) {
		w->pend.size += size;
		return;
	}
	flush(w);
	w->pend = (struct ptwalk_range){ va, pa, size, perms };
	w->have = true;
}

/* The table at gpa of `level`, covering raw linear addresses from base. */
static void walk_table(struct walker *w, int level, uint64_t gpa, uint64_t base,
		       bool rw, bool us, bool xd)
{
	const struct ptwalk_paging *pg = w->pg;
	uint64_t tab[512];
	int esize = pg->mode == PAGING_MODE_32 ? 4 : 8;
	int n = pg->mode == PAGING_MODE_32 ? 1024 : 512;
	int shift = level_shift(pg->mode, level);
	uint64_t span = 1ULL << shift;

	if (pg->mode == PAGING_MODE_PAE && level == 3)
		n = 4;
	if (w->read(w->read_arg, gpa, tab, (size_t)n * esize) < 0) {
		if (w->st)
			w->st->bad_tables++;
		return;
	}
	if (w->st)
		w->st->tables++;
	for (int i = 0; i < n && !w->stop; i++) {
		uint64_t raw = base + (uint64_t)i * span;
		uint64_t va = canon(w, raw);
		uint64_t e = esize == 4 ? ((uint32_t *)tab)[i] : tab[i];
		bool r2 = rw, u2 = us, x2 = xd;
		uint64_t size = 0, pa = 0;

		if (va + (span - 1) < w->first || va > w->last)
			continue;
		if (!(e & PG_P))
			continue;
		if (pg->mode == PAGING_MODE_PAE && level == 3) {
			/* PDPTEs carry no rights. */
			walk_table(w, level - 1, e & PG_FRAME, raw, rw, us, xd);
			continue;
		}
		r2 = rw && (e & PG_RW);
		u2 = us && (e & PG_US);
		x2 = xd ||
		     (pg->nxe && pg->mode != PAGING_MODE_32 && (e & PG_XD));
		if (level == 1) {
			size = span;
			pa = table_frame(pg->mode, e);
		} else if (e & PG_PS) {
			if (pg->mode == PAGING_MODE_32) {
				if (pg->pse) {
					size = span;
					/* PSE-36: bits 20:13 are 39:32. */
					pa = (e & BITS(31, 22)) |
					     ((e & BITS(20, 13)) << 19);
				}
			} else if (level <= 3) {
				size = span;
				pa = e & PG_FRAME & ~(span - 1);
			} else {
				/* PS in a PML4E/PML5E is reserved: a fault. */
				continue;
			}
		}
		if (size) {
			leaf(w, va, pa, size,
			     (r2 ? PTWALK_W : 0) | (x2 ? 0 : PTWALK_X) |
				     (u2 ? PTWALK_U : 0));
			continue;
		}
		walk_table(w, level - 1, table_frame(pg->mode, e), raw, r2, u2,
			   x2);
	}
}

int ptwalk_map(const struct ptwalk_paging *pg, uint64_t first, uint64_t last,
	       ptwalk_read_fn *read, void *read_arg, ptwalk_range_fn *fn,
	       void *fn_arg, struct ptwalk_stats *stats)
{
	struct walker w = {
		.pg = pg,
		.first = first,
		.last = last,
		.read = read,
		.read_arg = read_arg,
		.fn = fn,
		.fn_arg = fn_arg,
		.st = stats,
	};
	int top = ptwalk_levels(pg->mode);

	if (top < 0 || first > last)
		return -EINVAL;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (top < 4) {
		/* 32-bit linear addresses. */
		w.vabits = 32;
		if (first > 0xffffffffULL)
			return 0;
		if (w.last > 0xffffffffULL)
			w.last = 0xffffffffULL;
	} else {
		w.vabits = top == 4 ? 48 : 57;
		w.sext = true;
	}
	if (top == 0) {
		leaf(&w, 0, 0, 1ULL << 32, PTWALK_W | PTWALK_X | PTWALK_U);
		flush(&w);
		return w.stop;
	}
	walk_table(&w, top, top_table(pg), 0, true, true, false);
	flush(&w);
	return w.stop;
}
