/*
 * probe.c: what the host's KVM can do for a debugger, found out in
 * scratch VMs of one vCPU the first time the core needs to know (debug
 * core, debug_int.h): how an int3 comes back (an intercepted int3 on
 * hardware KVM, an emulation failure on a KVM that emulates guest kernel
 * code, or neither: then breakpoints use the debug registers), and
 * whether single-stepping user code works or shuts the guest down.
 *
 * Threads: the control thread, holding no lock; the scratch VMs are its
 * own and nothing else sees them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor/debug/debug_int.h"

const char *dbg_bp_mode_name(enum dbg_bp_mode mode)
{
	switch (mode) {
	case DBG_BP_INT3_EXIT:
		return "int3 exits";
	case DBG_BP_INT3_EMUL:
		return "int3 emulation failures";
	case DBG_BP_DEBUGREG:
		return "debug registers";
	}
	return "?";
}

/* A scratch VM with one vCPU and 2 MiB of memory, for a probe. */
static int probe_vm(const char *what, struct vmctx **ctxp, struct vcpu **vcp)
{
	char name[64];
	struct vmctx *ctx;
	struct vcpu *vc;
	int r;

	snprintf(name, sizeof(name), "vitro-probe-%s-%d", what, (int)getpid());
	if (!(ctx = vm_create(name)))
		return -errno;
	r = vm_setup_memory(ctx, 2 << 20);
	if (r == 0 && !(vc = vm_vcpu_open(ctx, 0)))
		r = -errno;
	if (r == 0 && (r = vm_activate_cpu(vc)) < 0)
		vm_vcpu_close(vc);
	if (r < 0) {
		vm_destroy(ctx);
		return r;
	}
	*ctxp = ctx;
	*vcp = vc;
	return 0;
}

static void probe_vm_destroy(struct vmctx *ctx, struct vcpu *vc)
{
	vm_vcpu_close(vc);
	vm_destroy(ctx);
}

/*
 * An int3 at CPL 0 in flat 32-bit protected mode (as kernel code runs; a
 * software KVM emulates it, and emulates real mode's int3 through the IVT
 * instead of failing), with an empty IDT so that an int3 nobody intercepts
 * triple-faults at once: how does it come back?
 */
static int probe_int3(enum dbg_bp_mode *mode)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	VM_REG_GUEST_RIP,
		VM_REG_GUEST_RFLAGS,	VM_REG_GUEST_CS,
		VM_REG_GUEST_CS_BASE,	VM_REG_GUEST_CS_LIMIT,
		VM_REG_GUEST_CS_ACCESS, VM_REG_GUEST_SS,
		VM_REG_GUEST_SS_BASE,	VM_REG_GUEST_SS_LIMIT,
		VM_REG_GUEST_SS_ACCESS, VM_REG_GUEST_DS_ACCESS,
		VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT,
	};
	const uint64_t vals[] = {
		0x11, 0x1000, 0x2,	  0x8,	  0,	  0xffffffff, 0xc09b,
		0x10, 0,      0xffffffff, 0xc093, 0xc093, 0,	      0,
	};
	struct vmctx *ctx;
	struct vcpu *vc;
	struct vm_exit vme;
	uint8_t *mem;
	int r;

	if ((r = probe_vm("int3", &ctx, &vc)) < 0)
		return r;
	r = vm_set_register_set(vc, sizeof(regs) / sizeof(regs[0]), regs, vals);
	if (r == 0 && !(mem = vm_map_gpa(ctx, 0x1000, 16)))
		r = -EFAULT;
	if (r == 0) {
		/*
		 * ud2 should int3 fall through: with no IDT that is a triple
		 * fault, an exit, where hlt with interrupts off would keep
		 * the probe (and the control thread) waiting for good.
		 */
		mem[0] = DBG_INT3;
		mem[1] = 0x0f;
		mem[2] = 0x0b;
		*mode = DBG_BP_DEBUGREG;
		if (vm_set_capability(vc, VM_CAP_BPT_EXIT, 1) == 0 &&
		    vm_run(vc, &vme) == 0) {
			if (vme.exitcode == VM_EXITCODE_BPT)
				*mode = DBG_BP_INT3_EXIT;
			else if (vme.exitcode == VM_EXITCODE_INST_EMUL &&
				 vme.u.inst_emul.inst_len > 0 &&
				 vme.u.inst_emul.inst[0] == DBG_INT3)
				*mode = DBG_BP_INT3_EMUL;
		}
	}
	probe_vm_destroy(ctx, vc);
	return r;
}

/*
 * One single-step at CPL 3 in long mode, on an identity-mapped user page:
 * a step exit, or (on a KVM that runs user code natively and cannot step
 * it) the VM shut down.
 */
static int probe_user_step(bool *ok)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	 VM_REG_GUEST_CR3,
		VM_REG_GUEST_CR4,	 VM_REG_GUEST_EFER,
		VM_REG_GUEST_RIP,	 VM_REG_GUEST_RSP,
		VM_REG_GUEST_RFLAGS,	 VM_REG_GUEST_CS,
		VM_REG_GUEST_CS_BASE,	 VM_REG_GUEST_CS_LIMIT,
		VM_REG_GUEST_CS_ACCESS,	 VM_REG_GUEST_SS,
		VM_REG_GUEST_SS_BASE,	 VM_REG_GUEST_SS_LIMIT,
		VM_REG_GUEST_SS_ACCESS,	 VM_REG_GUEST_DS_ACCESS,
		VM_REG_GUEST_IDTR_LIMIT,
	};
	const uint64_t vals[] = {
		0x80010031, 0x2000,	0x20,	0x500,	    0x1000, 0x1ff000,
		0x2,	    0x1b,	0,	0xffffffff, 0xa0fb, 0x23,
		0,	    0xffffffff, 0xc0f3, 0xc0f3,	    0,
	};
	/*
	 * inc %rax; inc %rax; ud2: a KVM that takes the capability but does
	 * not step ends in a triple fault (no IDT), never in a loop.
	 */
	static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0x48,
					0xff, 0xc0, 0x0f, 0x0b };
	struct vmctx *ctx;
	struct vcpu *vc;
	struct vm_exit vme;
	uint64_t *pt;
	uint8_t *mem;
	int r;

	if ((r = probe_vm("step", &ctx, &vc)) < 0)
		return r;
	if (!(mem = vm_map_gpa(ctx, 0, 0x5000))) {
		probe_vm_destroy(ctx, vc);
		return -EFAULT;
	}
	memcpy(mem + 0x1000, code, sizeof(code));
	pt = (uint64_t *)(mem + 0x2000);
	pt[0] = 0x3000 | 7; /* PML4: present, writable, user */
	pt[512] = 0x4000 | 7; /* PDPT */
	pt[1024] = 0x80 | 7; /* PD: a 2 MiB user page at 0 */
	r = vm_set_register_set(vc, sizeof(regs) / sizeof(regs[0]), regs, vals);
	if (r == 0)
		r = vm_set_capability(vc, VM_CAP_MTRAP_EXIT, 1);
	*ok = r == 0 && vm_run(vc, &vme) == 0 &&
	      vme.exitcode == VM_EXITCODE_MTRAP;
	probe_vm_destroy(ctx, vc);
	return 0;
}

int dbg_probe_host(struct dbg_host *host)
{
	int r;

	host->user_step = false;
	if ((r = probe_int3(&host->bp_mode)) < 0)
		return r;
	return probe_user_step(&host->user_step);
}
