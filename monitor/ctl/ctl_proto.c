/*
 * ctl_proto.c: the control socket's requests (see ctl_proto.h): the
 * command table with each command's policy, the decoder, and execution
 * over struct ctl_ops.
 *
 * Threads: no state; the caller serialises requests on one VM.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "monitor/ctl/ctl_proto.h"

#define CMD(c, pol, at, all)        \
	{                           \
		c, #c, pol, at, all \
	}
#define NONE -1

/*
 * Every command a client may send, and what becomes of it.  Per-vCPU
 * structs keep the vCPU id at offset 0, but for vm_dbg_bp (after its
 * owner); the refused ones are not range-checked.
 */
static const struct ctl_cmd cmds[] = {
	/* lifecycle */
	CMD(VM_REINIT, CTL_MONITOR, NONE, 0),
	CMD(VM_SUSPEND, CTL_SUSPEND, NONE, 0),
	CMD(VM_CHECK_HALT, CTL_ANY, NONE, 0),
	CMD(VM_ACTIVATE_CPU, CTL_MONITOR, NONE, 0),
	CMD(VM_GET_CPUS, CTL_ANY, NONE, 0),
	CMD(VM_SET_TOPOLOGY, CTL_MONITOR, NONE, 0),
	CMD(VM_GET_TOPOLOGY, CTL_ANY, NONE, 0),
	CMD(VM_SET_CPU_MODEL, CTL_MONITOR, NONE, 0),
	CMD(VM_GET_CPU_MODEL, CTL_ANY, NONE, 0),
	/* memory */
	CMD(VM_ALLOC_MEMSEG, CTL_MONITOR, NONE, 0),
	CMD(VM_GET_MEMSEG, CTL_ANY, NONE, 0),
	CMD(VM_MMAP_MEMSEG, CTL_MONITOR, NONE, 0),
	CMD(VM_MUNMAP_MEMSEG, CTL_MONITOR, NONE, 0),
	CMD(VM_MMAP_GETNEXT, CTL_ANY, NONE, 0),
	CMD(VM_GPA2HVA, CTL_LOCAL, NONE, 0),
	CMD(VM_PROTECT_GPA, CTL_MONITOR, NONE, 0),
	CMD(VM_READ_GPA, CTL_ANY, NONE, 0),
	CMD(VM_WRITE_GPA, CTL_ANY, NONE, 0),
	/* run */
	CMD(VM_RUN, CTL_LOCAL, NONE, 0),
	/* registers */
	CMD(VM_GET_REGISTER, CTL_CPU, 0, 0),
	CMD(VM_SET_REGISTER, CTL_CPU, 0, 0),
	CMD(VM_GET_REGISTER_SET, CTL_CPU, 0, 0),
	CMD(VM_SET_REGISTER_SET, CTL_CPU, 0, 0),
	/* debug */
	CMD(VM_SUSPEND_CPU, CTL_STOP, 0, 1),
	CMD(VM_RESUME_CPU, CTL_RESUME, 0, 1),
	CMD(VM_GET_CAPABILITY, CTL_ANY, 0, 0),
	CMD(VM_SET_CAPABILITY, CTL_MONITOR, NONE, 0),
	CMD(VM_SET_HW_DEBUG, CTL_MONITOR, NONE, 0),
	CMD(VM_GET_HW_DEBUG, CTL_ANY, 0, 0), /* vmm's record */
	CMD(VM_GET_RUN_STATE, CTL_CPU, 0, 0),
	/* translation */
	CMD(VM_GLA2GPA, CTL_CPU, 0, 0),
	CMD(VM_GLA2GPA_NOFAULT, CTL_CPU, 0, 0),
	/* events */
	CMD(VM_INJECT_EXCEPTION, CTL_CPU, 0, 0),
	CMD(VM_INJECT_NMI, CTL_ANY, 0, 0), /* queued: needs no stop */
	CMD(VM_ISA_ASSERT_IRQ, CTL_ANY, NONE, 0),
	CMD(VM_ISA_DEASSERT_IRQ, CTL_ANY, NONE, 0),
	CMD(VM_ISA_PULSE_IRQ, CTL_ANY, NONE, 0),
	CMD(VM_LAPIC_MSI, CTL_ANY, NONE, 0),
	/* timers */
	CMD(VM_RTC_WRITE, CTL_ANY, NONE, 0),
	CMD(VM_RTC_READ, CTL_ANY, NONE, 0),
	CMD(VM_RTC_SETTIME, CTL_ANY, NONE, 0),
	CMD(VM_RTC_GETTIME, CTL_ANY, NONE, 0),
	CMD(VM_HPET_MMIO_READ, CTL_ANY, NONE, 0),
	CMD(VM_HPET_MMIO_WRITE, CTL_ANY, NONE, 0),
	CMD(VM_HPET_GET_STATE, CTL_ANY, NONE, 0),
	CMD(VM_HPET_SET_STATE, CTL_ANY, NONE, 0),
	/* observation */
	CMD(VM_STATS, CTL_ANY, 0, 0),
	CMD(VM_STAT_DESC, CTL_ANY, NONE, 0),
	CMD(VM_TRACE_START, CTL_MONITOR, NONE, 0),
	CMD(VM_TRACE_STOP, CTL_MONITOR, NONE, 0),
	CMD(VM_TRACE_READ, CTL_LOCAL, NONE, 0),
	CMD(VM_CPUID_PROBE, CTL_ANY, NONE, 0), /* answered once, kept */
	/* the socket and the debug core */
	CMD(VM_CTL_HELLO, CTL_HELLO, NONE, 0),
	CMD(VM_DBG_SUBSCRIBE, CTL_SUBSCRIBE, NONE, 0),
	CMD(VM_DBG_STOP, CTL_STOP, 0, 1),
	CMD(VM_DBG_RESUME, CTL_RESUME, 0, 1),
	CMD(VM_DBG_STEP, CTL_CORE, 0, 0),
	CMD(VM_DBG_BREAKPOINT, CTL_CORE, offsetof(struct vm_dbg_bp, cpuid), 0),
	CMD(VM_CTL_REGION, CTL_REGION, NONE, 0),
	CMD(VM_CTL_TRACE, CTL_TRACE, NONE, 0),
	CMD(VM_CTL_TRACE_READ, CTL_TRACE, NONE, 0),
	CMD(VM_CTL_DUMP_CORE, CTL_DUMP, NONE, 0),
};

const struct ctl_cmd *ctl_cmd_find(uint32_t cmd)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].cmd == cmd)
			return &cmds[i];
	}
	return NULL;
}

int ctl_request_decode(const void *msg, size_t len, unsigned int ncpus,
		       struct ctl_request *req)
{
	const struct vm_ctl_hdr *h = msg;
	const struct ctl_cmd *c;
	size_t hl = sizeof(*h);

	memset(req, 0, sizeof(*req));
	req->cpuid = -2;
	if (len < hl) {
		memcpy(&req->hdr, msg, len);
		return -EBADMSG;
	}
	memcpy(&req->hdr, h, hl);
	if (req->hdr.magic != VM_CTL_MAGIC)
		return -EPROTO;
	if (len > VM_CTL_MSG_MAX)
		return -EMSGSIZE;
	if (len != hl + VMM_CMD_SIZE(req->hdr.cmd))
		return -EBADMSG;
	if (req->hdr.error != 0)
		return -EPROTO;
	if (VMM_CMD_VERSION(req->hdr.cmd) != VMM_ABI_VERSION)
		return -EPROTONOSUPPORT;
	if (req->hdr.cmd & VMM_CMD_LOCAL)
		return -EOPNOTSUPP;
	if (!(c = ctl_cmd_find(req->hdr.cmd)))
		return -ENOTTY;
	req->arg = (const uint8_t *)msg + hl;
	if (c->cpuid_at >= 0) {
		int32_t id;

		memcpy(&id, req->arg + c->cpuid_at, sizeof(id));
		if (!(id == -1 && c->all_ok) &&
		    (id < 0 || (unsigned int)id >= ncpus))
			return -EINVAL;
		req->cpuid = id;
	}
	req->cmd = c;
	return 0;
}

size_t ctl_error_reply(const struct ctl_request *req, int err, void *buf)
{
	struct vm_ctl_hdr h = {
		.magic = VM_CTL_MAGIC,
		.cmd = req->hdr.cmd,
		.seq = req->hdr.seq,
		.error = err,
	};

	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

int ctl_needs_owner(const struct ctl_request *req)
{
	switch (req->cmd ? req->cmd->policy : CTL_ANY) {
	case CTL_STOP:
	case CTL_RESUME:
	case CTL_CORE:
	case CTL_TRACE: /* a watch is the connection's */
		return 1;
	default:
		return 0;
	}
}

/*
 * A command on a vCPU's state: a running vCPU is borrowed for it (stopped
 * quietly, then let go); one stopped already stays so.
 */
static int cpu_command(const struct ctl_ops *ops, void *vm,
		       const struct ctl_request *req, void *arg)
{
	uint32_t cmd = req->cmd->cmd;
	bool held;
	int r;

	/* A walk over a paging state given in full reads memory only. */
	if (cmd == VM_GLA2GPA_NOFAULT &&
	    !((struct vm_gla2gpa *)arg)->use_current)
		return ops->command(vm, cmd, arg);
	r = ops->borrow(vm, req->cpuid, CTL_CMD_STOP_MS, &held);
	if (r < 0)
		return r == -ETIMEDOUT ? -EBUSY : r;
	r = ops->command(vm, cmd, arg);
	if (held)
		ops->unborrow(vm, req->cpuid);
	return r;
}

int ctl_execute(const struct ctl_ops *ops, void *vm, int owner,
		const struct ctl_request *req, void *arg)
{
	const struct ctl_cmd *c = req->cmd;
	int r;

	if (!c)
		return -ENOTTY;
	if (ctl_needs_owner(req) && owner < 0)
		return -EUSERS;
	switch (c->policy) {
	case CTL_ANY:
		return ops->command(vm, c->cmd, arg);
	case CTL_CPU:
		return cpu_command(ops, vm, req, arg);
	case CTL_MONITOR:
		return -EPERM;
	case CTL_LOCAL:
		return -EOPNOTSUPP;
	case CTL_STOP:
		if (c->cmd == VM_DBG_STOP) {
			struct vm_dbg_stop *s = arg;
			unsigned int ms = s->timeout_ms < VM_CTL_STOP_MAX_MS ?
						  s->timeout_ms :
						  VM_CTL_STOP_MAX_MS;

			return ops->stop(vm, owner, s->cpuid, ms, s);
		}
		/* VM_SUSPEND_CPU asks and does not wait, as in-process. */
		r = ops->stop(vm, owner, req->cpuid, 0, NULL);
		return r == -ETIMEDOUT ? 0 : r;
	case CTL_RESUME:
		return ops->resume(vm, owner, req->cpuid);
	case CTL_SUSPEND: {
		uint32_t how = ((struct vm_suspend *)arg)->how;

		/* A client resets or powers off; halts and faults are the guest's. */
		if (how != VM_SUSPEND_RESET && how != VM_SUSPEND_POWEROFF)
			return -EINVAL;
		return ops->suspend(vm, owner, how);
	}
	case CTL_CORE:
		if (c->cmd == VM_DBG_BREAKPOINT)
			((struct vm_dbg_bp *)arg)->owner = owner;
		else if (c->cmd == VM_DBG_STEP)
			((struct vm_dbg_cpu *)arg)->owner = owner;
		return ops->command(vm, c->cmd, arg);
	case CTL_REGION:
		return ops->region ? ops->region(vm, arg) : -EOPNOTSUPP;
	case CTL_TRACE:
		return ops->trace ? ops->trace(vm, owner, c->cmd, arg) :
				    -EOPNOTSUPP;
	case CTL_DUMP:
		return ops->dump ? ops->dump(vm, arg) : -EOPNOTSUPP;
	default:
		return -ENOTTY;
	}
}
