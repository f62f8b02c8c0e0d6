/*
 * vmm_paging_stub.c: a flat-only stand-in for the page walker, so that
 * the core links until vmm_paging.c lands.  It translates nothing.
 */
#include "vmm/vmm_paging.h"

int vmm_paging_walk(const struct vm_guest_paging *paging, uint64_t gla,
		    int prot, bool nofault, vmm_gpa_map_fn map, void *arg,
		    struct vm_gla2gpa *w)
{
	w->gpa = gla;
	w->fault = false;
	w->levels = 0;
	w->page_size = 4096;
	return 0;
}

void vmm_paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4,
			  uint64_t efer, uint64_t rflags, uint64_t cs_access,
			  uint64_t ss_access, struct vm_guest_paging *paging)
{
	paging->cr3 = cr3;
	paging->paging_mode = PAGING_MODE_FLAT;
}
