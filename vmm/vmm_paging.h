/*
 * vmm_paging.h: the guest page-table walker.
 *
 * Pure code: it sees guest memory only through a mapping callback, so unit
 * tests run it over synthetic page tables in a buffer.  It is reentrant and
 * holds no state; concurrent walks of live tables are safe because entries
 * are read once and accessed/dirty bits are set with compare-and-swap, as
 * the CPU does.
 */
#ifndef VMM_PAGING_H
#define VMM_PAGING_H

#include "vmm/vmm_dev.h"

/*
 * Guest memory for the walker: a host pointer to `len` bytes of guest
 * memory at `gpa`, or NULL when that range is not ordinary memory.
 */
typedef void *(*vmm_gpa_map_fn)(void *arg, uint64_t gpa, size_t len);

/*
 * Translate `gla` for an access of kind `prot` (VM_PROT_*) as the CPU would
 * with `paging`.  Fills `w` from `gpa` on (the caller's in fields are left
 * as they are).  A translation the CPU would fault is reported in `w`, not
 * as an error.  With `nofault` guest memory is only read; otherwise the
 * walk sets accessed bits on every entry used and the dirty bit on the
 * final entry of a write, but only when the walk succeeds.
 * Returns 0; -EFAULT when a page-table entry is not in guest memory;
 * -EINVAL for an unknown paging mode; -EAGAIN when, without `nofault`, the
 * guest keeps rewriting the entries being walked (the walk restarts a
 * bounded number of times).
 */
int vmm_paging_walk(const struct vm_guest_paging *paging, uint64_t gla,
		    int prot, bool nofault, vmm_gpa_map_fn map, void *arg,
		    struct vm_gla2gpa *w);

/*
 * Derive the walker's view of the CPU from architectural registers.  The
 * access rights are in the VMX layout of vmm_dev.h; CS gives the execution
 * mode (its L bit), SS the privilege level (its DPL, as on VMX).
 */
void vmm_paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4,
			  uint64_t efer, uint64_t rflags, uint64_t cs_access,
			  uint64_t ss_access, struct vm_guest_paging *paging);

#endif
