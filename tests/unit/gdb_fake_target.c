/*
 * gdb_fake_target.c: a fake machine for the GDB stub's tests and fuzzer
 * (see gdb_fake_target.h).
 *
 * Threads: one.  Every operation runs in the caller's thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/gdb_fake_target.h"

static bool fake_valid_cpu(struct gdb_fake *f, int vcpu)
{
	return vcpu >= 0 && vcpu < GDB_FAKE_NCPU &&
	       vm_cpuset_isset(&f->cpus, vcpu);
}

/* The target contract: guest state is touched only with all parked. */
static void fake_check_parked(struct gdb_fake *f)
{
	int v;

	for (v = 0; v < GDB_FAKE_NCPU; v++)
		if (f->running[v])
			f->violations++;
}

static int fake_cpus(void *opaque, struct vm_cpuset *cpus)
{
	struct gdb_fake *f = opaque;

	*cpus = f->cpus;
	return 0;
}

static int fake_cpu_describe(void *opaque, int vcpu, char *buf, size_t len)
{
	struct gdb_fake *f = opaque;

	if (!fake_valid_cpu(f, vcpu))
		return -ESRCH;
	snprintf(buf, len, "vCPU %d, %s, long mode, CPL 0", vcpu,
		 f->running[vcpu] ? "running" : "halted");
	return 0;
}

static int fake_stop_all(void *opaque)
{
	struct gdb_fake *f = opaque;
	int v;

	f->stop_all_calls++;
	for (v = 0; v < GDB_FAKE_NCPU; v++)
		f->running[v] = false;
	return 0;
}

static int fake_resume(void *opaque, const struct gdb_resume_action *act,
		       unsigned int step_flags)
{
	struct gdb_fake *f = opaque;
	int v, first = -1, step = -1;

	fake_check_parked(f);
	f->resume_calls++;
	f->last_step_flags = step_flags;
	for (v = 0; v < GDB_FAKE_NCPU; v++) {
		f->last_act[v] = act[v];
		if (act[v].kind != GDB_RESUME_STOP && !fake_valid_cpu(f, v))
			f->violations++;
		f->running[v] =
			act[v].kind != GDB_RESUME_STOP && fake_valid_cpu(f, v);
		if (f->running[v] && first < 0)
			first = v;
		if (f->running[v] && act[v].kind == GDB_RESUME_STEP && step < 0)
			step = v;
	}
	if (!f->auto_stop || first < 0)
		return 0;
	/* A step completes; a continue runs into a breakpoint or a trap. */
	if (step >= 0) {
		f->regs[step][VM_REG_GUEST_RIP]++;
		gdb_fake_stop(f, step, GDB_STOP_STEP, 0);
		return 0;
	}
	for (v = 0; v < f->nbps; v++) {
		if (f->bps[v].type <= GDB_BP_HW) {
			enum gdb_stop_reason why = f->bps[v].type == GDB_BP_SW ?
							   GDB_STOP_SWBREAK :
							   GDB_STOP_HWBREAK;

			f->regs[first][VM_REG_GUEST_RIP] = f->bps[v].addr;
			gdb_fake_stop(f, first, why, f->bps[v].addr);
			return 0;
		}
	}
	gdb_fake_stop(f, first, GDB_STOP_SIGNAL, 0);
	return 0;
}

static unsigned int fake_step_flags(void *opaque)
{
	struct gdb_fake *f = opaque;

	return f->step_caps;
}

static int fake_regs_get(void *opaque, int vcpu, unsigned int count,
			 const int *regnums, uint64_t *vals)
{
	struct gdb_fake *f = opaque;
	unsigned int i;

	fake_check_parked(f);
	if (f->fail_regs)
		return f->fail_regs;
	if (!fake_valid_cpu(f, vcpu) || count > VM_REGSET_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		if (regnums[i] < 0 || regnums[i] >= VM_REG_LAST)
			return -EINVAL;
		vals[i] = f->regs[vcpu][regnums[i]];
	}
	return 0;
}

static int fake_regs_set(void *opaque, int vcpu, unsigned int count,
			 const int *regnums, const uint64_t *vals)
{
	struct gdb_fake *f = opaque;
	unsigned int i;

	fake_check_parked(f);
	if (f->fail_regs)
		return f->fail_regs;
	if (!fake_valid_cpu(f, vcpu) || count > VM_REGSET_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (regnums[i] < 0 || regnums[i] >= VM_REG_LAST)
			return -EINVAL;
	for (i = 0; i < count; i++)
		f->regs[vcpu][regnums[i]] = vals[i];
	f->regs_set_calls++;
	f->regs_set_count = (int)count;
	return 0;
}

/* Physical address of one byte, or false when it is not mapped. */
static bool fake_translate(uint64_t addr, unsigned int flags, uint64_t *pa)
{
	if (flags & GDB_MEM_PHYS) {
		*pa = addr;
		return addr < GDB_FAKE_MEM;
	}
	if (addr - GDB_FAKE_LINEAR >= GDB_FAKE_MEM)
		return false;
	if (addr - GDB_FAKE_HOLE < 0x1000)
		return false;
	*pa = addr - GDB_FAKE_LINEAR;
	return true;
}

static ssize_t fake_mem(struct gdb_fake *f, int vcpu, uint64_t addr,
			uint8_t *rbuf, const uint8_t *wbuf, size_t len,
			unsigned int flags)
{
	uint64_t pa;
	size_t i;

	fake_check_parked(f);
	if (!fake_valid_cpu(f, vcpu))
		return -EINVAL;
	f->last_mem_vcpu = vcpu;
	f->last_mem_flags = flags;
	for (i = 0; i < len; i++) {
		if (!fake_translate(addr + i, flags, &pa))
			break;
		if (rbuf)
			rbuf[i] = f->mem[pa];
		else
			f->mem[pa] = wbuf[i];
	}
	return i ? (ssize_t)i : -EFAULT;
}

static ssize_t fake_mem_read(void *opaque, int vcpu, uint64_t addr, void *buf,
			     size_t len, unsigned int flags)
{
	return fake_mem(opaque, vcpu, addr, buf, NULL, len, flags);
}

static ssize_t fake_mem_write(void *opaque, int vcpu, uint64_t addr,
			      const void *buf, size_t len, unsigned int flags)
{
	return fake_mem(opaque, vcpu, addr, NULL, buf, len, flags);
}

static int fake_bp_insert(void *opaque, int vcpu, enum gdb_bp_type type,
			  uint64_t addr, uint64_t len)
{
	struct gdb_fake *f = opaque;
	int i, hw = 0;

	fake_check_parked(f);
	for (i = 0; i < f->nbps; i++) {
		if (f->bps[i].type == type && f->bps[i].addr == addr &&
		    f->bps[i].len == len)
			f->violations++; /* the stub inserted it twice */
		if (f->bps[i].type != GDB_BP_SW)
			hw++;
	}
	if (type == GDB_WP_READ && f->no_read_watch)
		return -EOPNOTSUPP;
	if (type >= GDB_WP_WRITE && len != 1 && len != 2 && len != 4 &&
	    len != 8)
		return -EINVAL;
	if (type != GDB_BP_SW && hw >= f->hw_slots)
		return -ENOSPC;
	if (f->nbps == GDB_FAKE_MAX_BPS)
		return -ENOSPC;
	if (vcpu < 0 || vcpu >= GDB_FAKE_NCPU ||
	    !vm_cpuset_isset(&f->cpus, vcpu))
		f->violations++; /* not a vCPU whose paging could translate */
	f->bps[f->nbps++] = (struct gdb_fake_bp){ type, addr, len, vcpu };
	return 0;
}

static int fake_bp_remove(void *opaque, int vcpu, enum gdb_bp_type type,
			  uint64_t addr, uint64_t len)
{
	struct gdb_fake *f = opaque;
	int i;

	fake_check_parked(f);
	for (i = 0; i < f->nbps; i++) {
		if (f->bps[i].type == type && f->bps[i].addr == addr &&
		    f->bps[i].len == len) {
			if (f->bps[i].vcpu != vcpu)
				f->violations++; /* not the inserting vCPU */
			f->bps[i] = f->bps[--f->nbps];
			return 0;
		}
	}
	f->violations++; /* removing what was never inserted */
	return -ENOENT;
}

static bool fake_cpu_ready(void *opaque, int vcpu)
{
	struct gdb_fake *f = opaque;

	return vcpu >= 0 && vcpu < GDB_FAKE_NCPU && !f->not_ready[vcpu];
}

static int fake_monitor(void *opaque, const char *line, char **out)
{
	struct gdb_fake *f = opaque;

	snprintf(f->last_monitor, sizeof(f->last_monitor), "%s", line);
	if (strcmp(line, "help") == 0) {
		*out = strdup("echo TEXT      print TEXT\n");
		return 0;
	}
	if (strncmp(line, "echo ", 5) == 0) {
		if (asprintf(out, "%s\n", line + 5) < 0)
			return -ENOMEM;
		return 0;
	}
	if (strcmp(line, "big") == 0) {
		*out = malloc(5001);
		if (!*out)
			return -ENOMEM;
		memset(*out, 'x', 5000);
		(*out)[5000] = '\0';
		return 0;
	}
	if (strcmp(line, "fail") == 0)
		return -EIO;
	return -ENOENT;
}

static int fake_kill(void *opaque)
{
	struct gdb_fake *f = opaque;

	f->kill_calls++;
	return 0;
}

static int fake_offsets(void *opaque, uint64_t *slide)
{
	struct gdb_fake *f = opaque;

	if (f->offsets_err)
		return f->offsets_err;
	*slide = f->slide;
	return 0;
}

static const struct gdb_target_ops fake_ops = {
	.cpus = fake_cpus,
	.cpu_describe = fake_cpu_describe,
	.stop_all = fake_stop_all,
	.resume = fake_resume,
	.step_flags = fake_step_flags,
	.regs_get = fake_regs_get,
	.regs_set = fake_regs_set,
	.mem_read = fake_mem_read,
	.mem_write = fake_mem_write,
	.cpu_ready = fake_cpu_ready,
	.bp_insert = fake_bp_insert,
	.bp_remove = fake_bp_remove,
	.monitor = fake_monitor,
	.kill = fake_kill,
	.offsets = fake_offsets,
};

struct gdb_fake *gdb_fake_create(struct gdb_events *events, int ncpus)
{
	struct gdb_fake *f = calloc(1, sizeof(*f));
	int v;

	if (!f)
		return NULL;
	f->events = events;
	f->hw_slots = 4;
	f->step_caps = GDB_SSTEP_NOIRQ;
	for (v = 0; v < ncpus && v < GDB_FAKE_NCPU; v++) {
		vm_cpuset_set(&f->cpus, v);
		f->running[v] = true;
		/* 64-bit mode, recognisable values */
		f->regs[v][VM_REG_GUEST_CR0] = 0x80050033;
		f->regs[v][VM_REG_GUEST_EFER] = 0xd01;
		f->regs[v][VM_REG_GUEST_RIP] = GDB_FAKE_LINEAR + 0x1000 + v;
		f->regs[v][VM_REG_GUEST_RSP] = GDB_FAKE_LINEAR + 0x8000;
		f->regs[v][VM_REG_GUEST_RFLAGS] = 0x2;
		f->regs[v][VM_REG_GUEST_CS] = 0x10;
		f->regs[v][VM_REG_GUEST_FCW] = 0x37f;
		f->regs[v][VM_REG_GUEST_MXCSR] = 0x1f80;
	}
	return f;
}

void gdb_fake_destroy(struct gdb_fake *f)
{
	free(f);
}

struct gdb_target gdb_fake_target(struct gdb_fake *f)
{
	struct gdb_target t = { &fake_ops, f };

	return t;
}

int gdb_fake_stop(struct gdb_fake *f, int vcpu, enum gdb_stop_reason reason,
		  uint64_t addr)
{
	if (vcpu >= 0 && vcpu < GDB_FAKE_NCPU)
		f->running[vcpu] = false;
	return gdb_events_stop(f->events, vcpu, reason, addr);
}
