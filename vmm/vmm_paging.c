/*
 * vmm_paging.c: the guest page-table walker (Intel SDM vol. 3, chapter 4).
 *
 * Pure and reentrant: no state outside the caller's structs, and guest
 * memory is reached only through the map callback.  Each entry is read once
 * with an atomic load; accessed and dirty bits are set with compare-and-swap
 * as the CPU's locked updates are, so a guest running on other vCPUs loses
 * none of its own writes, and a walk whose entries changed under it starts
 * again.
 *
 * What the model assumes, and where it differs from a real CPU:
 * - MAXPHYADDR is 52.  No physical-address bit of an entry is reserved, so
 *   a guest whose CPUID reports fewer bits gets no RSVD fault for bits from
 *   its MAXPHYADDR to 51 (PAE entries still reserve 62:52, as they must).
 * - PSE-36 (40-bit 4-MiB frames) and 1-GiB pages are supported.
 * - Protection keys, CET shadow stacks, HLAT and LAM are not modelled, and
 *   every supervisor access counts as explicit (SMAP honours RFLAGS.AC).
 * - PAE PDPTEs are read from memory at CR3 each walk.  The CPU uses the
 *   copies it loaded at MOV CR3, and raises #GP there for a reserved bit;
 *   here the bit is reported as a #PF with RSVD at level 3.
 * - A walk that faults sets no bit.  When the guest changes an entry between
 *   our read and our compare-and-swap, bits already set by that attempt
 *   stay set (they were true of the entries then, as for the CPU), and a
 *   guest that keeps changing them makes the walk give up with -EAGAIN.
 * - In IA-32e compatibility mode the linear address is taken as given; the
 *   caller zero-extends 32-bit addresses if it wants them.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <stdint.h>

#include "vmm/vmm_paging.h"

#define PG_P (1ULL << 0)
#define PG_RW (1ULL << 1)
#define PG_US (1ULL << 2)
#define PG_A (1ULL << 5)
#define PG_D (1ULL << 6)
#define PG_PS (1ULL << 7)
#define PG_XD (1ULL << 63)

#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))

/* Table and frame addresses of 64-bit entries: bits 51:12 (MAXPHYADDR 52). */
#define PG_FRAME_MASK BITS(51, 12)

/* PAE PDPTE: bits 63:52, 8:5 and 2:1 are reserved. */
#define PAE_PDPTE_RSVD (BITS(63, 52) | BITS(8, 5) | BITS(2, 1))

/* How many times a walk starts again before the guest is blamed. */
#define WALK_MAX_RESTARTS 64

/* One attempt at a walk: the entries read, where, and the outcome. */
struct walk {
	const struct vm_guest_paging *pg;
	uint64_t gla;
	bool data; /* a read or write (any access but a bare fetch) */
	bool write; /* VM_PROT_WRITE */
	bool exec; /* VM_PROT_EXEC */
	bool user; /* cpl 3 */
	int top; /* level of the first entry */
	int esize; /* entry size in bytes: 4 or 8 */
	int n; /* entries read */
	void *ptr[VM_WALK_MAX_LEVELS]; /* host address of each entry */
	uint64_t pte[VM_WALK_MAX_LEVELS]; /* their values, top first */
	bool fault;
	int vector;
	uint32_t error_code;
	int fault_level;
	uint64_t gpa;
	uint64_t page_size;
};

/* Bit position of the lowest linear-address bit a level indexes. */
static int level_shift(const struct walk *wk, int level)
{
	if (wk->pg->paging_mode == PAGING_MODE_32)
		return 12 + 10 * (level - 1);
	return 12 + 9 * (level - 1);
}

static bool nx_enabled(const struct vm_guest_paging *pg)
{
	/* 32-bit paging has no XD bit, whatever EFER.NXE says. */
	return pg->nxe && pg->paging_mode != PAGING_MODE_32;
}

/* Reserved bits of entry `e` at `level` (SDM tables 4-4 to 4-20). */
static uint64_t rsvd_mask(const struct walk *wk, int level, uint64_t e)
{
	const struct vm_guest_paging *pg = wk->pg;
	uint64_t r = 0;

	switch (pg->paging_mode) {
	case PAGING_MODE_32:
		/* Only a 4-MiB PDE has one: bit 21, above PSE-36's 20:13. */
		if (level == 2 && pg->pse && (e & PG_PS))
			return 1ULL << 21;
		return 0;
	case PAGING_MODE_PAE:
		/* No XD in a PDPTE: bit 63 is reserved whatever NXE says. */
		if (level == 3)
			return PAE_PDPTE_RSVD;
		r = BITS(62, 52);
		break;
	default:
		/* 4- and 5-level: bits 62:52 are ignored, PS only below. */
		if (level >= 4)
			r = PG_PS;
		break;
	}
	if (!pg->nxe)
		r |= PG_XD;
	if (e & PG_PS) {
		/* Between the PAT bit (12) and the frame of a large page. */
		if (level == 2)
			r |= BITS(20, 13);
		else if (level == 3)
			r |= BITS(29, 13);
	}
	return r;
}

/* Physical address of the table or page that entry `e` points to. */
static uint64_t entry_frame(const struct walk *wk, uint64_t e,
			    uint64_t page_size)
{
	if (wk->pg->paging_mode == PAGING_MODE_32) {
		if (page_size == 4096)
			return e & BITS(31, 12);
		/* PSE-36: bits 20:13 give physical-address bits 39:32. */
		return (e & BITS(31, 22)) | ((e & BITS(20, 13)) << 19);
	}
	return e & PG_FRAME_MASK & ~(page_size - 1);
}

static uint32_t pf_error_code(const struct walk *wk, uint32_t bits)
{
	const struct vm_guest_paging *pg = wk->pg;

	if (wk->write)
		bits |= PGEX_W;
	if (wk->user)
		bits |= PGEX_U;
	/* I/D is reported only when fetches can fault on their own. */
	if (wk->exec && (pg->smep || nx_enabled(pg)))
		bits |= PGEX_I;
	return bits;
}

static void walk_pf(struct walk *wk, int level, uint32_t bits)
{
	wk->fault = true;
	wk->vector = IDT_PF;
	wk->error_code = pf_error_code(wk, bits);
	wk->fault_level = level;
}

/*
 * The access rights of a complete translation (SDM 4.6): R/W and U/S are
 * the AND of every level, XD the OR.  Returns true when the access is
 * allowed.
 */
static bool walk_access_ok(const struct walk *wk, bool rw, bool us, bool xd)
{
	const struct vm_guest_paging *pg = wk->pg;

	if (wk->exec && xd)
		return false;
	if (wk->user)
		return us && (!wk->write || rw);
	if (us && wk->exec && pg->smep)
		return false;
	if (us && wk->data && pg->smap && !pg->ac)
		return false;
	return !(wk->write && !rw && pg->wp);
}

static bool canonical(uint64_t gla, int bits)
{
	uint64_t sign = gla >> (bits - 1);

	return sign == 0 || sign == (~0ULL >> (bits - 1));
}

/*
 * One walk from CR3, reading each entry once.  Fills `wk` with the entries
 * and the outcome; returns -EFAULT when an entry is not in guest memory.
 */
static int walk_once(struct walk *wk, vmm_gpa_map_fn map, void *arg)
{
	const struct vm_guest_paging *pg = wk->pg;
	bool rw = true, us = true, xd = false;
	uint64_t table, e = 0;
	int level, shift = 12;

	wk->n = 0;
	wk->fault = false;
	switch (pg->paging_mode) {
	case PAGING_MODE_32:
		table = pg->cr3 & BITS(31, 12);
		break;
	case PAGING_MODE_PAE:
		table = pg->cr3 & BITS(31, 5);
		break;
	default:
		table = pg->cr3 & PG_FRAME_MASK;
		break;
	}

	for (level = wk->top; level >= 1; level--) {
		uint64_t idx, egpa;
		void *p;

		shift = level_shift(wk, level);
		idx = (wk->gla >> shift) &
		      (pg->paging_mode == PAGING_MODE_32 ? 0x3ff : 0x1ff);
		egpa = table + idx * wk->esize;
		p = map(arg, egpa, wk->esize);
		if (!p)
			return -EFAULT;
		/* The callback hands out guest RAM, which keeps alignment. */
		assert(((uintptr_t)p & (wk->esize - 1)) == 0);
		if (wk->esize == 4)
			e = __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);
		else
			e = __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE);
		wk->ptr[wk->n] = p;
		wk->pte[wk->n] = e;
		wk->n++;

		if (!(e & PG_P)) {
			walk_pf(wk, level, 0);
			return 0;
		}
		if (e & rsvd_mask(wk, level, e)) {
			walk_pf(wk, level, PGEX_P | PGEX_RSVD);
			return 0;
		}
		if (pg->paging_mode == PAGING_MODE_PAE && level == 3) {
			/* PDPTEs have no access rights. */
			table = entry_frame(wk, e, 4096);
			continue;
		}
		rw = rw && (e & PG_RW);
		us = us && (e & PG_US);
		xd = xd || (nx_enabled(pg) && (e & PG_XD));
		/* PS in a PML4E/PML5E or PAE PDPTE was caught as reserved. */
		if (level > 1 && (e & PG_PS) &&
		    (pg->paging_mode != PAGING_MODE_32 || pg->pse))
			break;
		table = entry_frame(wk, e, 4096);
	}
	if (level < 1)
		level = 1;

	if (!walk_access_ok(wk, rw, us, xd)) {
		walk_pf(wk, level, PGEX_P);
		return 0;
	}
	wk->page_size = 1ULL << shift;
	wk->gpa = entry_frame(wk, e, wk->page_size) |
		  (wk->gla & (wk->page_size - 1));
	return 0;
}

/*
 * Set the accessed bit of every entry used and the dirty bit of the final
 * one for a write.  Returns false when an entry no longer holds what the
 * walk read, so the walk must start again.
 */
static bool walk_set_ad(struct walk *wk)
{
	for (int i = 0; i < wk->n; i++) {
		uint64_t old = wk->pte[i], want = old | PG_A;
		bool done;

		if (wk->pg->paging_mode == PAGING_MODE_PAE && wk->top - i == 3)
			continue;
		if (i == wk->n - 1 && wk->write)
			want |= PG_D;
		if (want == old)
			continue;
		if (wk->esize == 4) {
			uint32_t o = old;

			done = __atomic_compare_exchange_n(
				(uint32_t *)wk->ptr[i], &o, (uint32_t)want,
				false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		} else {
			done = __atomic_compare_exchange_n(
				(uint64_t *)wk->ptr[i], &old, want, false,
				__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		}
		if (!done)
			return false;
	}
	return true;
}

int vmm_paging_walk(const struct vm_guest_paging *paging, uint64_t gla,
		    int prot, bool nofault, vmm_gpa_map_fn map, void *arg,
		    struct vm_gla2gpa *w)
{
	struct walk wk = {
		.pg = paging,
		.gla = gla,
		.data = (prot & (VM_PROT_READ | VM_PROT_WRITE)) ||
			!(prot & VM_PROT_EXEC),
		.write = prot & VM_PROT_WRITE,
		.exec = prot & VM_PROT_EXEC,
		.user = paging->cpl == 3,
		.esize = 8,
	};
	int restarts = 0, r;

	switch (paging->paging_mode) {
	case PAGING_MODE_FLAT:
		if (paging->cpu_mode != CPU_MODE_64BIT)
			wk.gla = (uint32_t)gla;
		wk.gpa = wk.gla;
		wk.page_size = 4096;
		goto out;
	case PAGING_MODE_32:
		wk.gla = (uint32_t)gla;
		wk.top = 2;
		wk.esize = 4;
		break;
	case PAGING_MODE_PAE:
		wk.gla = (uint32_t)gla;
		wk.top = 3;
		break;
	case PAGING_MODE_64:
	case PAGING_MODE_64_LA57:
		wk.top = paging->paging_mode == PAGING_MODE_64 ? 4 : 5;
		if (!canonical(gla, wk.top == 4 ? 48 : 57)) {
			wk.fault = true;
			wk.vector = IDT_GP;
			goto out;
		}
		break;
	default:
		return -EINVAL;
	}

	for (;;) {
		r = walk_once(&wk, map, arg);
		if (r < 0)
			return r;
		if (wk.fault || nofault || walk_set_ad(&wk))
			break;
		if (++restarts > WALK_MAX_RESTARTS)
			return -EAGAIN;
	}

out:
	w->gpa = wk.fault ? 0 : wk.gpa;
	w->fault = wk.fault;
	w->vector = wk.fault ? wk.vector : 0;
	w->error_code = wk.fault ? wk.error_code : 0;
	w->fault_level = wk.fault ? wk.fault_level : 0;
	w->levels = wk.n;
	for (int i = 0; i < VM_WALK_MAX_LEVELS; i++)
		w->pte[i] = i < wk.n ? wk.pte[i] : 0;
	w->page_size = wk.fault ? 0 : wk.page_size;
	return 0;
}

#define CR0_PE (1ULL << 0)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define RFLAGS_AC (1ULL << 18)

void vmm_paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4,
			  uint64_t efer, uint64_t rflags, uint64_t cs_access,
			  uint64_t ss_access, struct vm_guest_paging *paging)
{
	bool lma = efer & EFER_LMA;

	/* A wire-format struct: its padding goes out too, as zeros. */
	memset(paging, 0, sizeof(*paging));
	paging->cr3 = cr3;
	if (!(cr0 & CR0_PG))
		paging->paging_mode = PAGING_MODE_FLAT;
	else if (!(cr4 & CR4_PAE))
		paging->paging_mode = PAGING_MODE_32;
	else if (lma)
		paging->paging_mode =
			(cr4 & CR4_LA57) ? PAGING_MODE_64_LA57 : PAGING_MODE_64;
	else
		paging->paging_mode = PAGING_MODE_PAE;

	if (!(cr0 & CR0_PE))
		paging->cpu_mode = CPU_MODE_REAL;
	else if (lma && (cs_access & VM_SEG_ACCESS_L))
		paging->cpu_mode = CPU_MODE_64BIT;
	else if (lma)
		paging->cpu_mode = CPU_MODE_COMPATIBILITY;
	else
		paging->cpu_mode = CPU_MODE_PROTECTED;

	/* VMX keeps CPL in SS.DPL; real mode is CPL 0 whatever SS holds. */
	paging->cpl = paging->cpu_mode == CPU_MODE_REAL ?
			      0 :
			      (int)VM_SEG_ACCESS_DPL(ss_access);
	paging->wp = !!(cr0 & CR0_WP);
	paging->nxe = !!(efer & EFER_NXE);
	paging->smep = !!(cr4 & CR4_SMEP);
	paging->smap = !!(cr4 & CR4_SMAP);
	paging->ac = !!(rflags & RFLAGS_AC);
	paging->pse = !!(cr4 & CR4_PSE);
}
