/*
 * monitor/dump.c: a core dump of the running guest (dump.h): the state
 * is taken in-process with libvmmapi (registers, the memory mappings and
 * their host addresses, vCPU 0's page tables for the virtual PT_LOADs)
 * while the debug core holds every vCPU, and written by coredump.c.
 * Progress goes to the monitor's log for guests of 256 MiB and more.
 *
 * Threads: the control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect/ptwalk.h"
#include "monitor/coredump.h"
#include "monitor/ctl/ctl_proto.h"
#include "monitor/debug/debug.h"
#include "monitor/dump.h"
#include "monitor/vitro.h"

#define DUMP_MAX_MEM 64 /* memory mappings */
#define DUMP_PROGRESS (256ull << 20)

struct dump {
	struct vitro *vm;
	struct dbg_core *core;
	struct coredump_mem mem[DUMP_MAX_MEM];
	int nmem;
	struct coredump_vrange *virt;
	size_t nvirt;
	uint64_t next_report;
};

static int dump_read(void *arg, uint64_t gpa, void *buf, size_t len)
{
	struct dump *dp = arg;
	void *h = vm_map_gpa(dp->vm->ctx, gpa, len);

	if (!h)
		return -EFAULT;
	memcpy(buf, h, len);
	/* The guest's bytes, not the debugger's int3s. */
	if (dp->core && dbg_mem_shadowed(dp->core))
		dbg_mem_shadow(dp->core, gpa, buf, len, false);
	return 0;
}

static void dump_progress(void *arg, uint64_t done, uint64_t total)
{
	struct dump *dp = arg;

	if (total < DUMP_PROGRESS || done < dp->next_report)
		return;
	vitro_log("dump: %llu of %llu MiB", (unsigned long long)(done >> 20),
		  (unsigned long long)(total >> 20));
	dp->next_report = done + DUMP_PROGRESS;
}

static int walk_read(void *arg, uint64_t gpa, void *buf, size_t len)
{
	struct dump *dp = arg;
	void *h = vm_map_gpa(dp->vm->ctx, gpa, len);

	if (!h)
		return -EFAULT;
	memcpy(buf, h, len);
	return 0;
}

static int walk_range(void *arg, const struct ptwalk_range *r)
{
	struct dump *dp = arg;

	if (dp->nvirt >= COREDUMP_MAX_VIRT)
		return 1;
	dp->virt[dp->nvirt++] = (struct coredump_vrange){
		.va = r->va,
		.pa = r->pa,
		.size = r->size,
	};
	return 0;
}

/* vCPU 0's mappings, for gdb; none when it cannot be read. */
static void dump_virt(struct dump *dp, struct vcpu *v)
{
	struct vm_guest_paging pg;
	struct ptwalk_paging pw;

	if (vm_get_guest_paging(v, &pg) < 0)
		return;
	pw = (struct ptwalk_paging){
		.mode = pg.paging_mode,
		.cr3 = pg.cr3,
		.nxe = pg.nxe,
		.pse = pg.pse,
	};
	ptwalk_map(&pw, 0, ~0ull, walk_read, dp, walk_range, dp, NULL);
}

static int dump_mem(struct dump *dp)
{
	uint64_t gpa = 0, segoff;
	size_t len;
	int segid, prot, flags;

	while (vm_mmap_getnext(dp->vm->ctx, &gpa, &segid, &segoff, &len, &prot,
			       &flags) == 0) {
		if (dp->nmem == DUMP_MAX_MEM)
			return -E2BIG;
		dp->mem[dp->nmem++] = (struct coredump_mem){ gpa, len };
		gpa += len;
	}
	return 0;
}

int vitro_dump_core(struct vitro *vm, struct dbg_core *core,
		    struct vm_ctl_dump *d)
{
	struct dump dp = { .vm = vm, .core = core };
	struct coredump_cpu *cpus = NULL;
	bool held[VM_MAXCPU] = { 0 };
	unsigned int n = vm->ncpus, stopped = 0;
	struct coredump cd;
	int fd = -1, r;
	off_t size;

	d->path[sizeof(d->path) - 1] = 0;
	memset(d->error, 0, sizeof(d->error));
	if (d->flags) {
		snprintf(d->error, sizeof(d->error), "unknown flags 0x%x",
			 d->flags);
		return -EINVAL;
	}
	if (d->path[0] != '/') {
		snprintf(d->error, sizeof(d->error),
			 "the file name must be absolute");
		return -EINVAL;
	}
	if (!core) {
		snprintf(d->error, sizeof(d->error),
			 "no debug core to stop the vCPUs with");
		return -EOPNOTSUPP;
	}
	cpus = calloc(n ? n : 1, sizeof(*cpus));
	dp.virt = calloc(COREDUMP_MAX_VIRT, sizeof(*dp.virt));
	if (!cpus || !dp.virt) {
		r = -ENOMEM;
		snprintf(d->error, sizeof(d->error), "out of memory");
		goto out;
	}
	for (; stopped < n; stopped++) {
		r = dbg_borrow(core, (int)stopped, CTL_CMD_STOP_MS,
			       &held[stopped]);
		if (r < 0) {
			snprintf(d->error, sizeof(d->error),
				 "vCPU %u did not stop in %d ms: %s", stopped,
				 CTL_CMD_STOP_MS, strerror(-r));
			r = r == -ETIMEDOUT ? -EBUSY : r;
			goto out;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		r = vm_get_register_set(vm->vcpu[i].vcpu, COREDUMP_NREGS,
					coredump_regnums, cpus[i].r);
		if (r < 0) {
			snprintf(d->error, sizeof(d->error),
				 "reading vCPU %u's registers: %s", i,
				 strerror(-r));
			goto out;
		}
	}
	if ((r = dump_mem(&dp)) < 0) {
		snprintf(d->error, sizeof(d->error),
			 "more than %d memory mappings", DUMP_MAX_MEM);
		goto out;
	}
	if (n)
		dump_virt(&dp, vm->vcpu[0].vcpu);
	fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		snprintf(d->error, sizeof(d->error),
			 "cannot create the file: %s", strerror(errno));
		goto out;
	}
	cd = (struct coredump){
		.ncpus = (int)n,
		.cpus = cpus,
		.nmem = dp.nmem,
		.mem = dp.mem,
		.nvirt = dp.nvirt,
		.virt = dp.virt,
		.read = dump_read,
		.arg = &dp,
		.progress = dump_progress,
	};
	r = coredump_write(fd, &cd, d->error, sizeof(d->error));
	if (r < 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	d->ncpus = n;
	d->bytes = size < 0 ? 0 : (uint64_t)size;
	d->mem = 0;
	for (int m = 0; m < dp.nmem; m++)
		d->mem += dp.mem[m].len;
	d->nvirt = (uint32_t)dp.nvirt;
	vitro_log("dump: wrote %s (%llu MiB, %u vCPUs)", d->path,
		  (unsigned long long)(d->bytes >> 20), n);
out:
	if (fd >= 0 && close(fd) < 0 && r == 0) {
		r = -errno;
		snprintf(d->error, sizeof(d->error), "writing the file: %s",
			 strerror(errno));
	}
	for (unsigned int i = 0; i < stopped; i++)
		if (held[i])
			dbg_unborrow(core, (int)i);
	free(cpus);
	free(dp.virt);
	return r;
}
