/*
 * ctl_fake.h: a fake VM behind the control socket's request execution
 * (struct ctl_ops, monitor/ctl/ctl_proto.h), for the unit test and the
 * fuzzer.  It keeps each vCPU's run state as the debug core would, and
 * counts every breach of the server's contract: a command on the state
 * of a vCPU that runs, a refused command carried out, a debug-core call
 * without an owner.  Header-only; one thread.
 */
#ifndef TESTS_UNIT_CTL_FAKE_H
#define TESTS_UNIT_CTL_FAKE_H

#include <errno.h>
#include <string.h>

#include "monitor/ctl/ctl_proto.h"

struct ctl_fake {
	unsigned int ncpus;
	uint8_t state[VM_MAXCPU]; /* enum vm_dbg_cpu_state */
	int stop_result; /* what a stop returns: 0, -ETIMEDOUT... */
	unsigned int stops, resumes, commands, suspends;
	uint32_t last_cmd; /* the last command carried out */
	int last_owner; /* the owner of the last stop or resume */
	unsigned int last_timeout; /* of the last stop */
	unsigned int breaches; /* contract broken */
};

static inline bool ctl_fake_runs(const struct ctl_fake *f, int cpu)
{
	return f->state[cpu] == VM_DBG_CPU_GUEST ||
	       f->state[cpu] == VM_DBG_CPU_EXIT ||
	       f->state[cpu] == VM_DBG_CPU_OUTPUT;
}

static inline int ctl_fake_command(void *vm, uint32_t cmd, void *arg)
{
	struct ctl_fake *f = vm;
	const struct ctl_cmd *c = ctl_cmd_find(cmd);

	f->commands++;
	f->last_cmd = cmd;
	if (!c || c->policy == CTL_MONITOR || c->policy == CTL_LOCAL ||
	    c->policy == CTL_HELLO || c->policy == CTL_SUBSCRIBE)
		f->breaches++;
	if (c && c->policy == CTL_CPU) {
		int32_t cpu;

		memcpy(&cpu, arg, sizeof(cpu));
		if (cpu < 0 || (unsigned int)cpu >= f->ncpus)
			f->breaches++;
		else if (ctl_fake_runs(f, cpu) &&
			 !(cmd == VM_GLA2GPA_NOFAULT &&
			   !((struct vm_gla2gpa *)arg)->use_current))
			f->breaches++;
	}
	if (cmd == VM_DBG_BREAKPOINT && ((struct vm_dbg_bp *)arg)->owner < 0)
		f->breaches++;
	if (cmd == VM_GET_REGISTER)
		((struct vm_register *)arg)->regval = 0x1234;
	return 0;
}

/* A borrow counts as a stop, its end as a resume. */
static inline int ctl_fake_borrow(void *vm, int cpuid, unsigned int timeout_ms,
				  bool *held)
{
	struct ctl_fake *f = vm;

	*held = false;
	if (cpuid < 0 || (unsigned int)cpuid >= f->ncpus) {
		f->breaches++;
		return -EINVAL;
	}
	if (!ctl_fake_runs(f, cpuid))
		return 0;
	f->stops++;
	f->last_timeout = timeout_ms;
	if (f->stop_result < 0)
		return f->stop_result;
	f->state[cpuid] = VM_DBG_CPU_PARKED;
	*held = true;
	return 0;
}

static inline void ctl_fake_unborrow(void *vm, int cpuid)
{
	struct ctl_fake *f = vm;

	f->resumes++;
	if (f->state[cpuid] == VM_DBG_CPU_PARKED)
		f->state[cpuid] = VM_DBG_CPU_GUEST;
}

static inline int ctl_fake_stop(void *vm, int owner, int cpuid,
				unsigned int timeout_ms,
				struct vm_dbg_stop *out)
{
	struct ctl_fake *f = vm;

	f->stops++;
	f->last_owner = owner;
	f->last_timeout = timeout_ms;
	if (owner < 0 || cpuid < -1 || cpuid >= (int)f->ncpus ||
	    timeout_ms > VM_CTL_STOP_MAX_MS)
		f->breaches++;
	if (f->stop_result < 0 || cpuid < -1 || cpuid >= (int)f->ncpus)
		return f->stop_result < 0 ? f->stop_result : -EINVAL;
	for (unsigned int i = 0; i < f->ncpus; i++) {
		if ((cpuid == -1 || (int)i == cpuid) && ctl_fake_runs(f, i))
			f->state[i] = VM_DBG_CPU_PARKED;
	}
	if (out)
		memset(&out->late, 0, sizeof(out->late));
	return 0;
}

static inline int ctl_fake_resume(void *vm, int owner, int cpuid)
{
	struct ctl_fake *f = vm;

	f->resumes++;
	f->last_owner = owner;
	if (owner < 0 || cpuid < -1 || cpuid >= (int)f->ncpus)
		f->breaches++;
	for (unsigned int i = 0; i < f->ncpus; i++) {
		if ((cpuid == -1 || (int)i == cpuid) &&
		    f->state[i] == VM_DBG_CPU_PARKED)
			f->state[i] = VM_DBG_CPU_GUEST;
	}
	return 0;
}

static inline int ctl_fake_suspend(void *vm, int owner, uint32_t how)
{
	struct ctl_fake *f = vm;

	f->suspends++;
	if (how != VM_SUSPEND_RESET && how != VM_SUSPEND_POWEROFF)
		f->breaches++;
	return 0;
}

/* One region, the COM1 UART's ports. */
static inline int ctl_fake_region(void *vm, struct vm_ctl_region *r)
{
	(void)vm;
	if (r->index != 0)
		return -ENOENT;
	r->kind = VM_CTL_REGION_PIO;
	r->base = 0x3f8;
	r->size = 8;
	r->hits = 0;
	memset(r->name, 0, sizeof(r->name));
	strcpy(r->name, "com1");
	return 0;
}

static const struct ctl_ops ctl_fake_ops = {
	.region = ctl_fake_region,
	.command = ctl_fake_command,
	.borrow = ctl_fake_borrow,
	.unborrow = ctl_fake_unborrow,
	.suspend = ctl_fake_suspend,
	.stop = ctl_fake_stop,
	.resume = ctl_fake_resume,
};

#endif
