/*
 * vmm_probe.c: how the host's KVM delivers an injected #BP, measured once
 * per VM on a scratch VM, so that VM_INJECT_EXCEPTION can make a trap's
 * inst_length mean "the guest sees rip + inst_length" on every KVM.
 *
 * The kinds of KVM (see enum vmm_trap_mode):
 * - VMX injects #BP/#OF as a software exception whose length is
 *   VM_ENTRY_INSTRUCTION_LEN, set from event_exit_inst_len, which only a
 *   #BP intercept (or an event interrupted while being delivered) sets:
 *   after the int3's own exit the guest sees int3 + 1, after any other
 *   exit a stale length (0 on a vCPU that never had a #BP intercept,
 *   which VM entry may refuse).
 * - SVM skips the instruction at rip to find the return address: it uses
 *   NextRIP, or svm->next_rip that the last exit's handler set, or else
 *   decodes the instruction at rip.  After the int3's own exit that is
 *   int3 + 1; after an I/O exit, the I/O instruction's successor.
 * - A KVM that emulates guest kernel code (kvm_pvm) reports a guest int3
 *   as an emulation failure and has pushed rip as it was: vitro advanced
 *   rip past the int3 before injecting, and that is proven there.
 * So the scratch vCPU does what the monitor does: it runs an int3 with
 * VM_CAP_BPT_EXIT, gets the int3's exit (BPT, or an emulation failure),
 * injects #BP with rip left at the int3, and its #BP handler reports the
 * rip it was given with an `out`.  int3 + 1: KVM adds the length
 * (VMM_TRAP_ADDS_LENGTH); int3: it pushes rip (VMM_TRAP_PUSHES_RIP).
 * Where the int3 is not intercepted at all (KVM on QEMU's emulated SVM:
 * the guest takes it through its own IDT), there is no int3 exit to
 * re-inject; #BP is injected after the handler's `out` exit instead, and
 * any rip other than the int3's means KVM adds a length of its own.  An
 * answer that fits neither keeps vitro's earlier behaviour (PUSHES_RIP).
 *
 * The probe runs on the caller's thread, holding vm->probe_lock, which
 * guards vm->trap_mode.  Its guest has no loop and no hlt, so every path
 * ends in an exit: VM_RUN cannot block.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

/* The scratch guest: flat 32-bit protected mode, CPL 0, no paging. */
#define P_IDT 0x2000
#define P_HANDLER 0x3000
#define P_INT3 0x4000
#define P_PORT 0xe0 /* the handler reports the pushed eip */
#define P_PORT_FELL 0xe1 /* the int3 did nothing */

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, 8);
}

static void probe_guest(uint8_t *mem)
{
	/* mov (%esp), %eax; out %eax, $P_PORT; out %al, $P_PORT_FELL */
	static const uint8_t handler[] = { 0x8b,   0x04, 0x24,	     0xe7,
					   P_PORT, 0xe6, P_PORT_FELL };
	/* int3; out %al, $P_PORT_FELL */
	static const uint8_t code[] = { 0xcc, 0xe6, P_PORT_FELL };

	/* Vector 3: a 32-bit interrupt gate, DPL 0. */
	put64(mem, P_IDT + 3 * 8,
	      (P_HANDLER & 0xffff) | 0x08ULL << 16 | 0x8eULL << 40 |
		      (uint64_t)(P_HANDLER >> 16) << 48);
	memcpy(mem + P_HANDLER, handler, sizeof(handler));
	memcpy(mem + P_INT3, code, sizeof(code));
}

int vmm_probe_regs(struct vmm_vcpu *v, uint64_t rip, uint64_t idt,
		   uint16_t idt_limit)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	VM_REG_GUEST_RIP,
		VM_REG_GUEST_RSP,	VM_REG_GUEST_RFLAGS,
		VM_REG_GUEST_CS,	VM_REG_GUEST_CS_BASE,
		VM_REG_GUEST_CS_LIMIT,	VM_REG_GUEST_CS_ACCESS,
		VM_REG_GUEST_SS,	VM_REG_GUEST_SS_BASE,
		VM_REG_GUEST_SS_LIMIT,	VM_REG_GUEST_SS_ACCESS,
		VM_REG_GUEST_DS,	VM_REG_GUEST_DS_ACCESS,
		VM_REG_GUEST_ES,	VM_REG_GUEST_ES_ACCESS,
		VM_REG_GUEST_GDTR_BASE, VM_REG_GUEST_GDTR_LIMIT,
		VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT,
	};
	const uint64_t vals[] = {
		0x11,	    rip,	   VMM_PROBE_STACK,
		0x2,	    0x08,	   0,
		0xffffffff, 0xc09b,	   0x10,
		0,	    0xffffffff,	   0xc093,
		0x10,	    0xc093,	   0x10,
		0xc093,	    VMM_PROBE_GDT, 3 * 8 - 1,
		idt,	    idt_limit,
	};

	return vmm_set_regset(v, sizeof(regs) / sizeof(regs[0]), regs, vals);
}

int vmm_probe_setup(struct vmm *vm, struct vmm_vcpu **v, uint8_t **mem)
{
	struct vm_memseg ms = {
		.segid = VM_SYSMEM,
		.flags = VM_MEMSEG_F_SMALL,
		.len = VMM_PROBE_MEM,
	};
	struct vm_memmap mm = {
		.segid = VM_SYSMEM,
		.len = VMM_PROBE_MEM,
		.prot = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC,
	};
	struct vm_activate_cpu act = { 0 };
	int r;

	if ((r = vmm_ioctl(vm, VM_ALLOC_MEMSEG, &ms)) < 0 ||
	    (r = vmm_ioctl(vm, VM_MMAP_MEMSEG, &mm)) < 0 ||
	    (r = vmm_ioctl(vm, VM_ACTIVATE_CPU, &act)) < 0)
		return r;
	if (!(*mem = vmm_gpa2hva(vm, 0, VMM_PROBE_MEM)) ||
	    !(*v = vmm_vcpu_get(vm, 0)))
		return -EFAULT;
	put64(*mem, VMM_PROBE_GDT + 0x08, 0x00cf9b000000ffffULL); /* code32 */
	put64(*mem, VMM_PROBE_GDT + 0x10, 0x00cf93000000ffffULL); /* data */
	return 0;
}

/* #BP as VM_INJECT_EXCEPTION injects it, rip left where it is. */
static int probe_inject_bp(struct vmm_vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = IDT_BP;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	ev.flags = 0;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	return 0;
}

/*
 * Run to the next exit that means something: a signal that interrupts
 * KVM_RUN (an empty BOGUS exit) is not an answer of the probe's.
 */
static int probe_vmm_run(struct vmm_vcpu *v, struct vm_exit *vme)
{
	int r;

	for (int i = 0; i < 100; i++) {
		if ((r = vmm_run(v, vme)) < 0 ||
		    vme->exitcode != VM_EXITCODE_BOGUS)
			return r;
	}
	return -EINTR;
}

/* The eip the #BP handler reported, or -EPROTO for any other exit. */
static int64_t probe_reported(struct vmm_vcpu *v)
{
	struct vm_exit vme;
	uint32_t eip = 0;
	int r = probe_vmm_run(v, &vme);

	if (r < 0)
		return r;
	if (vme.exitcode != VM_EXITCODE_INOUT || vme.u.inout.in ||
	    vme.u.inout.port != P_PORT || vme.u.inout.bytes != 4)
		return -EPROTO;
	memcpy(&eip, vme.u.inout.data, 4);
	return eip;
}

static bool is_int3_exit(const struct vm_exit *vme)
{
	if (vme->rip != P_INT3)
		return false;
	if (vme->exitcode == VM_EXITCODE_BPT)
		return true;
	/* A KVM that cannot emulate int3 reports it so. */
	return vme->exitcode == VM_EXITCODE_INST_EMUL &&
	       vme->u.inst_emul.inst_len > 0 &&
	       vme->u.inst_emul.inst[0] == 0xcc;
}

static int probe_run(struct vmm *vm, int *mode)
{
	struct vm_capability cap = { 0, VM_CAP_BPT_EXIT, 1 };
	struct vmm_vcpu *v;
	struct vm_exit vme;
	int64_t eip;
	uint8_t *mem;
	bool int3_exit;
	int r;

	*mode = VMM_TRAP_PUSHES_RIP; /* unless shown otherwise */
	if ((r = vmm_probe_setup(vm, &v, &mem)) < 0)
		return r;
	probe_guest(mem);
	if ((r = vmm_probe_regs(v, P_INT3, P_IDT, 4 * 8 - 1)) < 0)
		return r;
	/* Where int3 cannot exit, the guest takes it through its IDT. */
	(void)vmm_set_capability(v, &cap);
	if ((r = probe_vmm_run(v, &vme)) == 0 &&
	    vme.exitcode == VM_EXITCODE_DEBUG_REFUSED)
		r = probe_vmm_run(v, &vme);
	if (r < 0)
		return r;
	int3_exit = is_int3_exit(&vme);
	if (!int3_exit) {
		uint32_t eip32 = 0;

		/* Only the guest's own #BP, reporting int3 + 1, is known. */
		if (vme.exitcode != VM_EXITCODE_INOUT || vme.u.inout.in ||
		    vme.u.inout.port != P_PORT || vme.u.inout.bytes != 4)
			return 0;
		memcpy(&eip32, vme.u.inout.data, 4);
		if (eip32 != P_INT3 + 1)
			return 0;
		if ((r = vmm_probe_regs(v, P_INT3, P_IDT, 4 * 8 - 1)) < 0)
			return r;
	}
	/* Inject as the monitor will: rip left at the int3. */
	if ((r = probe_inject_bp(v)) < 0)
		return r;
	eip = probe_reported(v);
	if (eip == P_INT3 + 1 || (!int3_exit && eip >= 0 && eip != P_INT3))
		*mode = VMM_TRAP_ADDS_LENGTH;
	return 0;
}

int vmm_trap_mode(struct vmm *vm)
{
	char name[VM_NAME_MAX];
	struct vmm *scratch;
	int r, mode = VMM_TRAP_UNPROBED;

	pthread_mutex_lock(&vm->probe_lock);
	if (vm->trap_mode != VMM_TRAP_UNPROBED) {
		mode = vm->trap_mode;
		pthread_mutex_unlock(&vm->probe_lock);
		return mode;
	}
	/* Unique on the host: VM names are, and this thread is busy. */
	snprintf(name, sizeof(name), "vitro-probe-trap-%d-%d", (int)getpid(),
		 (int)gettid());
	scratch = vmm_create(name);
	if (!scratch) {
		r = -errno;
	} else {
		r = probe_run(scratch, &mode);
		vmm_destroy(scratch);
	}
	/* A probe that could not run is tried again at the next need. */
	if (r == 0)
		vm->trap_mode = mode;
	pthread_mutex_unlock(&vm->probe_lock);
	return r < 0 ? r : mode;
}
