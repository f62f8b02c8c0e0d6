/*
 * memory.c: the guest's system memory as -m asks for it, with the host's
 * limits checked first so that a refusal names the limit and the way to
 * raise it, and the backing vmm chose said on -v.
 *
 * Threads: the main thread, before any vCPU runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/memory.h"
#include "monitor/vitro.h"

#define CAP_IPC_LOCK 14

/* A number from a one-line sysfs or proc file; -1 when unreadable. */
static long long read_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long long v = -1;

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Whether this process may lock memory beyond RLIMIT_MEMLOCK. */
static bool can_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps >> CAP_IPC_LOCK & 1;
}

static int check_mlock(uint64_t len, char *err, size_t errlen)
{
	struct rlimit rl;

	if (can_ipc_lock() || getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= len)
		return 0;
	snprintf(err, errlen,
		 "-m ...,mlock: %" PRIu64 " MiB of guest memory is over "
		 "RLIMIT_MEMLOCK (%llu KiB) and vitro lacks CAP_IPC_LOCK: "
		 "raise the limit (ulimit -l %" PRIu64 ") or leave out mlock",
		 len >> 20, (unsigned long long)rl.rlim_cur >> 10, len >> 10);
	return -1;
}

static int check_hugetlb(uint64_t len, uint64_t page, char *err, size_t errlen)
{
	char dir[96], path[128];
	long long free_pages, resv, total;
	uint64_t need = len / page;
	const char *size = page == (1ULL << 30) ? "1 GiB" : "2 MiB";

	snprintf(dir, sizeof(dir),
		 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB",
		 page >> 10);
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	free_pages = read_number(path);
	if (free_pages < 0) {
		snprintf(err, errlen,
			 "-m ...,hugetlb: this host has no %s huge pages "
			 "(no %s)",
			 size, dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/resv_hugepages", dir);
	resv = read_number(path);
	if (resv > 0)
		free_pages = free_pages > resv ? free_pages - resv : 0;
	if ((uint64_t)free_pages >= need)
		return 0;
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	total = read_number(path);
	snprintf(err, errlen,
		 "-m ...,hugetlb: %" PRIu64 " MiB needs %" PRIu64 " free %s "
		 "huge pages and the host has %lld: reserve more as root "
		 "(echo %" PRIu64 " > %s)",
		 len >> 20, need, size, free_pages,
		 (uint64_t)(total > 0 ? total : 0) + need -
			 (uint64_t)free_pages,
		 path);
	return -1;
}

int memory_setup(struct vmctx *ctx, uint64_t len, unsigned flags, bool verbose,
		 char *err, size_t errlen)
{
	uint64_t page = flags & VM_MEMSEG_F_HUGE_1G ? 1ULL << 30 : 2ULL << 20;
	struct vm_memseg ms;
	char desc[96];
	int r;

	if ((flags & VM_MEMSEG_F_MLOCK) && check_mlock(len, err, errlen) < 0)
		return -1;
	if ((flags & VM_MEMSEG_F_HUGETLB) &&
	    check_hugetlb(len, page, err, errlen) < 0)
		return -1;
	r = vm_setup_memory_flags(ctx, len, flags);
	if (r < 0) {
		snprintf(err, errlen,
			 "cannot set up %" PRIu64 " MiB of guest memory%s: %s",
			 len >> 20,
			 r == -ENOMEM && (flags & VM_MEMSEG_F_HUGETLB) ?
				 " on huge pages (too few free?)" :
			 r == -ENOMEM && (flags & VM_MEMSEG_F_MLOCK) ?
				 " locked in RAM" :
			 r == -ENOMEM && (flags & VM_MEMSEG_F_PREALLOC) ?
				 " populated" :
				 "",
			 strerror(-r));
		return -1;
	}
	if (verbose && vm_get_memseg_info(ctx, VM_SYSMEM, &ms) == 0) {
		const char *why = vm_memseg_why_desc(ms.why);

		vitro_log("guest memory: %" PRIu64 " MiB, %s%s%s%s%s",
			  len >> 20,
			  vm_memseg_backing_desc(&ms, desc, sizeof(desc)),
			  why[0] ? ": " : "", why,
			  flags & VM_MEMSEG_F_PREALLOC ? ", preallocated" : "",
			  flags & VM_MEMSEG_F_MLOCK ? ", locked" : "");
	}
	return 0;
}
