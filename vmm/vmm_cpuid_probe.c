/*
 * vmm_cpuid_probe.c: whether the CPUID vmm sets reaches the guest, and
 * what kind of KVM this is, measured once per VM on a scratch VM.
 *
 * Hardware KVM (VMX, SVM) intercepts CPUID and answers from the table
 * KVM_SET_CPUID2 gave it.  A KVM that runs guest kernel code through
 * software (kvm_pvm) has been seen to let the guest see the host's own
 * CPUID whatever that table says; a CPU model that hides features then
 * hides nothing, and a Linux guest must be told on its command line.
 * So the scratch vCPU gets a CPUID with leaf 1 ECX cut down to the
 * hypervisor bit and leaf 7 EBX to nothing, runs CPUID 1 and 7 at CPL 0
 * in flat 32-bit protected mode, and reports ECX and EBX with `out`s.
 * Every x86-64 CPU has some bit of leaf 1 ECX (SSE3 at least), so a
 * guest that sees one the table lacks is not filtered.  OSXSAVE follows
 * the guest's CR4 (0 here) and is left out of the comparison.
 *
 * The probe runs on the caller's thread holding vm->probe_lock, which
 * guards vm->cpuid_probe.  Its guest has no loop and no hlt: VM_RUN
 * cannot block.  VITRO_VMM_KVM_KIND=hardware|emulated (read at the
 * probe) names the kind for tests of what the monitor does with it; the
 * filtering is measured all the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

#define P_CODE 0x4000
#define P_PORT_1 0xe0 /* leaf 1 ECX */
#define P_PORT_7 0xe1 /* leaf 7 EBX */
#define P_PORT_DONE 0xe2

#define F_1_ECX_OSXSAVE (1u << 27)
#define F_1_ECX_HYPERVISOR (1u << 31)

static void probe_guest(uint8_t *mem)
{
	static const uint8_t code[] = {
		0xb8, 1,	   0, 0, 0, /* mov $1, %eax */
		0x31, 0xc9, /* xor %ecx, %ecx */
		0x0f, 0xa2, /* cpuid */
		0x89, 0xc8, /* mov %ecx, %eax */
		0xe7, P_PORT_1, /* out %eax, $P_PORT_1 */
		0xb8, 7,	   0, 0, 0, /* mov $7, %eax */
		0x31, 0xc9, /* xor %ecx, %ecx */
		0x0f, 0xa2, /* cpuid */
		0x89, 0xd8, /* mov %ebx, %eax */
		0xe7, P_PORT_7, /* out %eax, $P_PORT_7 */
		0xe6, P_PORT_DONE, /* out %al, $P_PORT_DONE */
	};
	memcpy(mem + P_CODE, code, sizeof(code));
}

/* The next `out` of 4 bytes to port, skipping signals' empty exits. */
static int probe_out(struct vmm_vcpu *v, uint16_t port, uint32_t *val)
{
	struct vm_exit vme;
	int r;

	for (int i = 0; i < 100; i++) {
		if ((r = vmm_run(v, &vme)) < 0)
			return r;
		if (vme.exitcode == VM_EXITCODE_BOGUS)
			continue;
		if (vme.exitcode != VM_EXITCODE_INOUT || vme.u.inout.in ||
		    vme.u.inout.port != port || vme.u.inout.bytes != 4)
			return -EPROTO;
		memcpy(val, vme.u.inout.data, 4);
		return 0;
	}
	return -EINTR;
}

static int probe_run(struct vmm *vm, struct vm_cpuid_probe *p)
{
	struct vm_cpu_model model = { .model = VM_CPU_MODEL_HOST };
	struct vmm_vcpu *v;
	uint8_t *mem;
	int r;

	model.hide.w[VM_CPUID_1_ECX] = ~F_1_ECX_HYPERVISOR;
	model.hide.w[VM_CPUID_7_EBX] = 0xffffffff;
	if ((r = vmm_ioctl(vm, VM_SET_CPU_MODEL, &model)) < 0 ||
	    (r = vmm_probe_setup(vm, &v, &mem)) < 0)
		return r;
	probe_guest(mem);
	if ((r = vmm_probe_regs(v, P_CODE, 0, 0)) < 0)
		return r;
	p->set_1_ecx = F_1_ECX_HYPERVISOR;
	p->set_7_ebx = 0;
	if ((r = probe_out(v, P_PORT_1, &p->seen_1_ecx)) < 0 ||
	    (r = probe_out(v, P_PORT_7, &p->seen_7_ebx)) < 0)
		return r;
	p->filtered = (p->seen_1_ecx & ~p->set_1_ecx & ~F_1_ECX_OSXSAVE) == 0 &&
		      (p->seen_7_ebx & ~p->set_7_ebx) == 0;
	return 0;
}

static bool module_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/* The kind of KVM, from its module and the probe's answer. */
static uint32_t kvm_kind(int filtered)
{
	const char *e = getenv("VITRO_VMM_KVM_KIND");

	if (e && strcmp(e, "hardware") == 0)
		return VM_KVM_HARDWARE;
	if (e && strcmp(e, "emulated") == 0)
		return VM_KVM_EMULATED;
	if (module_loaded("kvm_pvm") || filtered == 0)
		return VM_KVM_EMULATED;
	if (module_loaded("kvm_intel") || module_loaded("kvm_amd") ||
	    filtered == 1)
		return VM_KVM_HARDWARE;
	return VM_KVM_UNKNOWN;
}

int vmm_cpuid_probe(struct vmm *vm, struct vm_cpuid_probe *out)
{
	struct vm_cpuid_probe p = { .filtered = -1 };
	char name[VM_NAME_MAX];
	struct vmm *scratch;
	int r;

	pthread_mutex_lock(&vm->probe_lock);
	if (vm->cpuid_probed) {
		*out = vm->cpuid_probe;
		pthread_mutex_unlock(&vm->probe_lock);
		return 0;
	}
	snprintf(name, sizeof(name), "vitro-probe-cpuid-%d-%d", (int)getpid(),
		 (int)gettid());
	scratch = vmm_create(name);
	if (!scratch) {
		r = -errno;
	} else {
		r = probe_run(scratch, &p);
		vmm_destroy(scratch);
	}
	if (r < 0) {
		/* Unmeasured: the module alone says the kind. */
		p = (struct vm_cpuid_probe){ .filtered = -1 };
	}
	p.kvm = kvm_kind(p.filtered);
	/* A probe that could not run is tried again at the next need. */
	if (r == 0) {
		vm->cpuid_probe = p;
		vm->cpuid_probed = true;
	}
	pthread_mutex_unlock(&vm->probe_lock);
	*out = p;
	return 0;
}
