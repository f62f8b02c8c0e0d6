/*
 * introspect/ptwalk.h: walk a guest's whole page-table tree and list
 * what it maps, for `translate -map`.  Pure code over a read callback
 * (no Tcl, no libvmmapi), so unit tests run it over page tables built in
 * a buffer.  Single translations are the vmm's (VM_GLA2GPA_NOFAULT); this
 * is the range walk, plus the addresses of the entries a single walk
 * read, which struct vm_gla2gpa does not report.
 *
 * Reentrant, no state of its own; the caller makes sure the tables do
 * not change under a walk (a stopped vCPU) or accepts a torn view.
 */
#ifndef INTROSPECT_PTWALK_H
#define INTROSPECT_PTWALK_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

/*
 * Copy len bytes of guest-physical memory at gpa into buf: 0, or -errno
 * (-EFAULT when it is not memory).
 */
typedef int ptwalk_read_fn(void *arg, uint64_t gpa, void *buf, size_t len);

/* What the walk needs of the CPU (a subset of struct vm_guest_paging). */
struct ptwalk_paging {
	uint32_t mode; /* enum vm_paging_mode */
	uint64_t cr3;
	int nxe; /* EFER.NXE: entries' bit 63 forbids fetches */
	int pse; /* CR4.PSE: 4 MiB pages in 32-bit paging */
};

/* Access a mapping allows (the AND of R/W and U/S, the OR of XD). */
#define PTWALK_W 0x1 /* writable */
#define PTWALK_X 0x2 /* executable */
#define PTWALK_U 0x4 /* user-accessible */

/* One mapped range: contiguous in both spaces, with one set of rights. */
struct ptwalk_range {
	uint64_t va; /* canonical (sign-extended) linear address */
	uint64_t pa; /* guest-physical address */
	uint64_t size; /* bytes */
	unsigned int perms; /* PTWALK_* */
};

/* Called for each range in increasing va order; nonzero stops the walk. */
typedef int ptwalk_range_fn(void *arg, const struct ptwalk_range *r);

struct ptwalk_stats {
	uint64_t tables; /* tables read */
	uint64_t bad_tables; /* entries pointing at non-memory: skipped */
	uint64_t leaves; /* pages (of any size) found before merging */
};

/*
 * Every mapping of linear addresses first..last (inclusive, canonical
 * form; clipped to what the mode can address) in the tables at pg->cr3,
 * merged into maximal runs whose va and pa are both contiguous and whose
 * rights are equal.  Entries with reserved bits set are taken at face
 * value (the CPU would fault on them); a PS bit where the mode has no
 * large page makes the entry unmapped.  Paging off (PAGING_MODE_FLAT)
 * maps the 4 GiB identically with every right.  stats may be NULL.
 * Returns 0, the nonzero value of fn that stopped it, or -EINVAL for an
 * unknown mode or first > last.
 */
int ptwalk_map(const struct ptwalk_paging *pg, uint64_t first, uint64_t last,
	       ptwalk_read_fn *read, void *read_arg, ptwalk_range_fn *fn,
	       void *fn_arg, struct ptwalk_stats *stats);

/*
 * The number of levels of a mode (2 for 32-bit, 3 PAE, 4, 5; 0 flat)
 * and its name ("flat", "32-bit", "pae", "4-level", "5-level"; NULL for
 * an unknown mode).
 */
int ptwalk_levels(uint32_t mode);
const char *ptwalk_mode_name(uint32_t mode);

/*
 * The guest-physical addresses of the entries a walk of gla read: n
 * entries, top level first, as struct vm_gla2gpa reports them in pte[]
 * (each entry gives the next table).  Fills addr[0..n-1].
 */
void ptwalk_entry_addrs(const struct ptwalk_paging *pg, uint64_t gla,
			const uint64_t *pte, int n, uint64_t *addr);

/*
 * The flags of entry e at level (1 = page table) as a string of the
 * names of the bits set, in this order: "P RW US PWT PCD A D PS G NX"
 * (PAT in place of PS at level 1; a PAE PDPTE has only P, PWT, PCD;
 * no NX in 32-bit paging).  Returns buf.
 */
char *ptwalk_entry_flags(const struct ptwalk_paging *pg, int level, uint64_t e,
			 char *buf, size_t len);

#endif
