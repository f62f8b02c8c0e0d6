/*
 * test-ctl-proto.c: the control socket's request decoder and execution
 * (monitor/ctl/ctl_proto.c) without a socket: every kind of bad message
 * gets its error and the seq to echo, the policy refuses what a client
 * may not do, and a command on a running vCPU stops it for the command
 * only (over the fake VM of ctl_fake.h).  Single-threaded.
 */
#include <errno.h>
#include <string.h>

#include "tests/tap.h"
#include "tests/unit/ctl_fake.h"

#define NCPUS 2

static union {
	uint8_t b[VM_CTL_MSG_MAX + 1];
	uint64_t align;
} msg;

/* A request for cmd with the struct arg, in msg: its length. */
static size_t build(uint32_t cmd, uint32_t seq, const void *arg)
{
	struct vm_ctl_hdr h = { VM_CTL_MAGIC, cmd, seq, 0 };

	memcpy(msg.b, &h, sizeof(h));
	if (arg)
		memcpy(msg.b + sizeof(h), arg, VMM_CMD_SIZE(cmd));
	return sizeof(h) + VMM_CMD_SIZE(cmd);
}

static int decode(size_t len, struct ctl_request *req)
{
	return ctl_request_decode(msg.b, len, NCPUS, req);
}

static void test_decode(void)
{
	struct vm_register reg = { .cpuid = 1, .regnum = VM_REG_GUEST_RIP };
	struct vm_activate_cpu all = { -1 };
	struct vm_dbg_bp bp = { .owner = 7, .cpuid = NCPUS };
	struct ctl_request req;
	uint8_t out[64];
	struct vm_ctl_hdr *rh = (struct vm_ctl_hdr *)out;
	size_t len;

	len = build(VM_GET_REGISTER, 5, &reg);
	is_int(decode(len, &req), 0, "a register read decodes");
	ok(req.cmd && req.cmd->cmd == VM_GET_REGISTER && req.cpuid == 1 &&
		   req.arg == msg.b + sizeof(struct vm_ctl_hdr),
	   "with its command, vCPU and struct");
	is_int(decode(7, &req), -EBADMSG, "a short header: -EBADMSG");
	is_int(decode(0, &req), -EBADMSG, "an empty message: -EBADMSG");
	((struct vm_ctl_hdr *)msg.b)->magic = 0x12345678;
	is_int(decode(len, &req), -EPROTO, "a bad magic: -EPROTO");
	is_int(req.hdr.seq, 5, "its seq is kept for the reply");
	len = build(VM_GET_REGISTER, 6, &reg);
	is_int(decode(len - 1, &req), -EBADMSG,
	       "a length below the command's size: -EBADMSG");
	is_int(decode(len + 8, &req), -EBADMSG,
	       "a length above the command's size: -EBADMSG");
	is_int(decode(VM_CTL_MSG_MAX + 100, &req), -EMSGSIZE,
	       "longer than VM_CTL_MSG_MAX: -EMSGSIZE");
	is_int(req.hdr.seq, 6, "with its seq");
	((struct vm_ctl_hdr *)msg.b)->error = -1;
	is_int(decode(len, &req), -EPROTO, "a request with error set: -EPROTO");
	len = build((VM_GET_REGISTER & ~0xff00u) | (VMM_ABI_VERSION + 1) << 8,
		    7, &reg);
	is_int(decode(len, &req), -EPROTONOSUPPORT,
	       "another ABI version: -EPROTONOSUPPORT");
	len = build(VMM_CMD_(200, 16), 8, &reg);
	is_int(decode(len, &req), -ENOTTY, "an unknown command: -ENOTTY");
	len = build(VM_CTL_EVENT, 8, NULL);
	is_int(decode(len, &req), -ENOTTY, "an event as a request: -ENOTTY");
	len = build(VM_RUN, 9, NULL);
	is_int(decode(len, &req), -EOPNOTSUPP, "VM_RUN: -EOPNOTSUPP");
	len = build(VM_GPA2HVA, 9, NULL);
	is_int(decode(len, &req), -EOPNOTSUPP, "VM_GPA2HVA: -EOPNOTSUPP");
	reg.cpuid = NCPUS;
	len = build(VM_GET_REGISTER, 10, &reg);
	is_int(decode(len, &req), -EINVAL, "vCPU %d of %d: -EINVAL", NCPUS,
	       NCPUS);
	reg.cpuid = -1;
	len = build(VM_GET_REGISTER, 10, &reg);
	is_int(decode(len, &req), -EINVAL, "vCPU -1 for a register: -EINVAL");
	len = build(VM_SUSPEND_CPU, 11, &all);
	is_int(decode(len, &req), 0, "vCPU -1 (all) to suspend: accepted");
	is_int(req.cpuid, -1, "as all");
	len = build(VM_DBG_BREAKPOINT, 12, &bp);
	is_int(decode(len, &req), -EINVAL,
	       "a breakpoint's vCPU is checked after its owner");
	len = build(VM_REINIT, 13, NULL);
	is_int(decode(len, &req), 0, "VM_REINIT decodes (refused later)");
	len = ctl_error_reply(&req, -EPERM, out);
	ok(len == sizeof(*rh) && rh->magic == VM_CTL_MAGIC &&
		   rh->cmd == VM_REINIT && rh->seq == 13 && rh->error == -EPERM,
	   "an error reply is a header echoing cmd and seq");
}

static void test_table(void)
{
	static const uint32_t all[] = {
		VM_REINIT,	     VM_SUSPEND,
		VM_CHECK_HALT,	     VM_ACTIVATE_CPU,
		VM_GET_CPUS,	     VM_SET_TOPOLOGY,
		VM_GET_TOPOLOGY,     VM_ALLOC_MEMSEG,
		VM_GET_MEMSEG,	     VM_MMAP_MEMSEG,
		VM_MUNMAP_MEMSEG,    VM_MMAP_GETNEXT,
		VM_PROTECT_GPA,	     VM_READ_GPA,
		VM_WRITE_GPA,	     VM_GET_REGISTER,
		VM_SET_REGISTER,     VM_GET_REGISTER_SET,
		VM_SET_REGISTER_SET, VM_SUSPEND_CPU,
		VM_RESUME_CPU,	     VM_GET_CAPABILITY,
		VM_SET_CAPABILITY,   VM_SET_HW_DEBUG,
		VM_GET_RUN_STATE,    VM_GLA2GPA,
		VM_GLA2GPA_NOFAULT,  VM_INJECT_EXCEPTION,
		VM_INJECT_NMI,	     VM_ISA_ASSERT_IRQ,
		VM_ISA_DEASSERT_IRQ, VM_ISA_PULSE_IRQ,
		VM_LAPIC_MSI,	     VM_STATS,
		VM_STAT_DESC,	     VM_CTL_HELLO,
		VM_DBG_SUBSCRIBE,    VM_DBG_STOP,
		VM_DBG_RESUME,	     VM_DBG_STEP,
		VM_DBG_BREAKPOINT,   VM_CTL_REGION,
		VM_SET_CPU_MODEL,    VM_GET_CPU_MODEL,
		VM_CPUID_PROBE,	     VM_RTC_WRITE,
		VM_RTC_READ,	     VM_RTC_SETTIME,
		VM_RTC_GETTIME,	     VM_HPET_MMIO_READ,
		VM_HPET_MMIO_WRITE,  VM_HPET_GET_STATE,
		VM_HPET_SET_STATE,
	};
	static const uint32_t refused[] = {
		VM_REINIT,	  VM_ACTIVATE_CPU,   VM_SET_TOPOLOGY,
		VM_ALLOC_MEMSEG,  VM_MMAP_MEMSEG,    VM_MUNMAP_MEMSEG,
		VM_PROTECT_GPA,	  VM_SET_CAPABILITY, VM_SET_HW_DEBUG,
		VM_SET_CPU_MODEL,
	};
	size_t n = 0, m = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		n += ctl_cmd_find(all[i]) != NULL;
	is_int(n, sizeof(all) / sizeof(all[0]),
	       "every command of vmm_dev.h and vmm_ctl.h has a policy");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		m += ctl_cmd_find(refused[i])->policy == CTL_MONITOR;
	is_int(m, sizeof(refused) / sizeof(refused[0]),
	       "the monitor's commands are refused");
}

static int exec(struct ctl_fake *f, int owner, uint32_t cmd, void *arg)
{
	struct ctl_request req;
	size_t len = build(cmd, 1, arg);
	int r = decode(len, &req);

	if (r < 0)
		return r;
	if (arg)
		memcpy(arg, req.arg, VMM_CMD_SIZE(cmd));
	return ctl_execute(&ctl_fake_ops, f, owner, &req, arg);
}

static void test_execute(void)
{
	struct ctl_fake f = { .ncpus = NCPUS };
	struct vm_register reg = { .cpuid = 0, .regnum = VM_REG_GUEST_RIP };
	struct vm_memseg ms = { 0 };
	struct vm_gla2gpa w = { .cpuid = 1 };
	struct vm_dbg_stop st = { .cpuid = -1, .timeout_ms = 1u << 30 };
	struct vm_dbg_bp bp = { .owner = 63, .cpuid = 1 };
	struct vm_activate_cpu one = { 1 };
	unsigned int n;

	f.state[0] = f.state[1] = VM_DBG_CPU_GUEST;
	is_int(exec(&f, 3, VM_GET_REGISTER, &reg), 0,
	       "a register of a running vCPU");
	ok(f.stops == 1 && f.resumes == 1 && f.breaches == 0,
	   "is read with the vCPU stopped for it, then resumed");
	is_hex(reg.regval, 0x1234, "and the value comes back");
	is_int(f.state[0], VM_DBG_CPU_GUEST, "the vCPU runs again");
	f.state[0] = VM_DBG_CPU_PARKED;
	is_int(exec(&f, 3, VM_GET_REGISTER, &reg), 0,
	       "a register of a stopped vCPU");
	ok(f.stops == 1 && f.resumes == 1, "is read without stop or resume");
	is_int(f.state[0], VM_DBG_CPU_PARKED, "and the vCPU stays stopped");
	f.state[0] = VM_DBG_CPU_OUTPUT;
	f.stop_result = -ETIMEDOUT;
	is_int(exec(&f, 3, VM_GET_REGISTER, &reg), -EBUSY,
	       "a vCPU that does not stop in time: -EBUSY");
	ok(f.resumes == 1 && f.last_timeout == CTL_CMD_STOP_MS,
	   "its stop was bounded, and it runs on");
	f.stop_result = 0;
	is_int(exec(&f, -1, VM_GET_REGISTER, &reg), 0,
	       "a running vCPU's register needs no owner id");
	w.use_current = 0;
	n = f.stops;
	is_int(exec(&f, 3, VM_GLA2GPA_NOFAULT, &w), 0,
	       "a walk with its own paging state");
	is_int(f.stops, n, "needs no stop");
	is_int(exec(&f, 3, VM_ALLOC_MEMSEG, &ms), -EPERM,
	       "VM_ALLOC_MEMSEG: -EPERM");
	is_int(exec(&f, 3, VM_REINIT, NULL), -EPERM, "VM_REINIT: -EPERM");
	is_int(f.breaches, 0, "and neither was carried out");
	{
		struct vm_suspend sp = { VM_SUSPEND_HALT };
		unsigned int cmds = f.commands;

		is_int(exec(&f, 3, VM_SUSPEND, &sp), -EINVAL,
		       "VM_SUSPEND halt: -EINVAL (the guest's to say)");
		sp.how = VM_SUSPEND_POWEROFF;
		is_int(exec(&f, 3, VM_SUSPEND, &sp), 0, "VM_SUSPEND poweroff");
		ok(f.suspends == 1 && f.commands == cmds,
		   "goes through the monitor's way out, not to vmm");
	}
	is_int(exec(&f, 5, VM_DBG_STOP, &st), 0, "VM_DBG_STOP");
	ok(f.last_timeout == VM_CTL_STOP_MAX_MS && f.last_owner == 5,
	   "waits at most VM_CTL_STOP_MAX_MS, for the connection's owner");
	f.stop_result = -ETIMEDOUT;
	is_int(exec(&f, 5, VM_SUSPEND_CPU, &one), 0,
	       "VM_SUSPEND_CPU asks and does not wait");
	is_int(f.last_timeout, 0, "(a stop with no wait)");
	f.stop_result = 0;
	is_int(exec(&f, 5, VM_RESUME_CPU, &one), 0, "VM_RESUME_CPU");
	is_int(f.last_owner, 5, "is the core's resume for the owner");
	is_int(exec(&f, 9, VM_DBG_BREAKPOINT, &bp), 0, "a breakpoint");
	is_int(bp.owner, 9, "carries the connection's owner, not the client's");
	is_int(exec(&f, -1, VM_DBG_BREAKPOINT, &bp), -EUSERS,
	       "without an owner id: -EUSERS");
	{
		struct vm_ctl_region rg = { .index = 0 };
		unsigned int cmds = f.commands;

		is_int(exec(&f, -1, VM_CTL_REGION, &rg), 0,
		       "VM_CTL_REGION 0, without an owner id");
		ok(!strcmp(rg.name, "com1") && rg.kind == VM_CTL_REGION_PIO &&
			   rg.base == 0x3f8 && rg.size == 8 &&
			   f.commands == cmds,
		   "is the monitor's region, not a vmm command");
		rg.index = 1;
		is_int(exec(&f, 3, VM_CTL_REGION, &rg), -ENOENT,
		       "past the last region: -ENOENT");
	}
	is_int(f.breaches, 0, "the fake saw no breach of the contract");
}

int main(void)
{
	test_decode();
	test_table();
	test_execute();
	return tap_done();
}
