/*
 * memory.h: the guest's system memory, set up as -m asks (memory.c).
 */
#ifndef MONITOR_MEMORY_H
#define MONITOR_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmctx;

/*
 * Allocate and map `len` bytes of system memory with VM_MEMSEG_F_* flags,
 * after checking the host's limits that flags meet (RLIMIT_MEMLOCK for
 * mlock, free huge pages for hugetlb).  On -v, log the backing and why.
 * 0, or -1 with a message in err that names the problem and the remedy.
 */
int memory_setup(struct vmctx *ctx, uint64_t len, unsigned flags, bool verbose,
		 char *err, size_t errlen);

#endif
