/*
 * vmm_cpuid.c: the CPUID a vCPU shows, and APIC IDs from the topology.
 *
 * Each vCPU starts from what KVM supports and gets its own APIC ID and the
 * VM's topology in leaves 1, 4 and 0xB.  APIC IDs pack thread, core and
 * socket into bit fields of the widths leaf 0xB reports, as hardware does,
 * so a guest decoding its APIC ID finds the topology vitro was given.
 * The VM's CPU model (vmm_dev.h) then filters the feature words: a model
 * is a mask of the bits it lets through, and leaf 0xD goes with XSAVE.
 * vmm_cpuid_set is called with vm->lock held (vCPU creation), as are the
 * model's set and get; no state of its own.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm_priv.h"

#define BIT(n) (1u << (n))
#define F_1_ECX_TSC_DEADLINE BIT(24)
#define F_1_ECX_XSAVE BIT(26)

/*
 * What the conservative model lets through, per word.  A list of what
 * stays rather than of what goes, so that features a newer CPU or KVM
 * adds stay hidden until someone checks what they need.
 */
static const uint32_t conservative_keep[VM_CPUID_NWORDS] = {
	/* SSE3, SSSE3, SSE4.1, SSE4.2, x2APIC, TSC-deadline, hypervisor */
	[VM_CPUID_1_ECX] = BIT(0) | BIT(9) | BIT(19) | BIT(20) | BIT(21) |
			   BIT(24) | BIT(31),
	[VM_CPUID_1_EDX] = 0xffffffff,
	/* TSC_ADJUST, FDP_EXCPTN_ONLY, SMEP, ERMS, ZERO_FCS_FDS */
	[VM_CPUID_7_EBX] = BIT(1) | BIT(6) | BIT(7) | BIT(9) | BIT(13),
	[VM_CPUID_7_ECX] = 0,
	[VM_CPUID_7_EDX] = 0,
	[VM_CPUID_7_1_EAX] = 0,
	[VM_CPUID_D_1_EAX] = 0,
	/* LAHF_LM, CMP_LEGACY, CR8_LEGACY */
	[VM_CPUID_81_ECX] = BIT(0) | BIT(1) | BIT(4),
	/* all but MMXEXT, FXSR_OPT, RDTSCP, 3DNowExt, 3DNow */
	[VM_CPUID_81_EDX] = ~(BIT(22) | BIT(25) | BIT(27) | BIT(30) | BIT(31)),
};

/* The bits of word w that model m with extra mask hide lets through. */
static uint32_t model_keep(uint32_t m, const struct vm_cpuid_mask *hide, int w)
{
	uint32_t keep = m == VM_CPU_MODEL_CONSERVATIVE ? conservative_keep[w] :
							 0xffffffff;

	return keep & ~hide->w[w];
}

/* Which word a leaf's register is, or -1 for one no model filters. */
static int cpuid_word(uint32_t fn, uint32_t idx, int reg)
{
	enum { EAX, EBX, ECX, EDX };

	switch (fn) {
	case 1:
		return reg == ECX ? VM_CPUID_1_ECX :
		       reg == EDX ? VM_CPUID_1_EDX :
				    -1;
	case 7:
		if (idx == 1)
			return reg == EAX ? VM_CPUID_7_1_EAX : -1;
		if (idx != 0)
			return -1;
		return reg == EBX ? VM_CPUID_7_EBX :
		       reg == ECX ? VM_CPUID_7_ECX :
		       reg == EDX ? VM_CPUID_7_EDX :
				    -1;
	case 0xd:
		return idx == 1 && reg == EAX ? VM_CPUID_D_1_EAX : -1;
	case 0x80000001:
		return reg == ECX ? VM_CPUID_81_ECX :
		       reg == EDX ? VM_CPUID_81_EDX :
				    -1;
	}
	return -1;
}

void vmm_cpuid_filter(uint32_t model, const struct vm_cpuid_mask *hide,
		      struct kvm_cpuid_entry2 *e)
{
	uint32_t *regs[4] = { &e->eax, &e->ebx, &e->ecx, &e->edx };
	bool xsave = model_keep(model, hide, VM_CPUID_1_ECX) & F_1_ECX_XSAVE;

	if (e->function == 0xd && !xsave) {
		/* No XSAVE: no state components, sizes or subleaves. */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		return;
	}
	for (int reg = 0; reg < 4; reg++) {
		int w = cpuid_word(e->function, e->index, reg);

		if (w >= 0)
			*regs[reg] &= model_keep(model, hide, w);
	}
}

/* The host CPU's own words, as this process's CPUID shows them. */
static void host_words(struct vm_cpuid_mask *h)
{
	unsigned a, b, c, d, max, xmax;

	memset(h, 0, sizeof(*h));
	max = __get_cpuid_max(0, NULL);
	xmax = __get_cpuid_max(0x80000000, NULL);
	if (max >= 1) {
		__cpuid_count(1, 0, a, b, c, d);
		h->w[VM_CPUID_1_ECX] = c;
		h->w[VM_CPUID_1_EDX] = d;
	}
	if (max >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		h->w[VM_CPUID_7_EBX] = b;
		h->w[VM_CPUID_7_ECX] = c;
		h->w[VM_CPUID_7_EDX] = d;
		if (a >= 1) {
			__cpuid_count(7, 1, a, b, c, d);
			h->w[VM_CPUID_7_1_EAX] = a;
		}
	}
	if (max >= 0xd) {
		__cpuid_count(0xd, 1, a, b, c, d);
		h->w[VM_CPUID_D_1_EAX] = a;
	}
	if (xmax >= 0x80000001) {
		__cpuid_count(0x80000001, 0, a, b, c, d);
		h->w[VM_CPUID_81_ECX] = c;
		h->w[VM_CPUID_81_EDX] = d;
	}
}

/* What the model hides that the host's CPU or KVM has. */
static void model_hidden(const struct vmm *vm, struct vm_cpuid_mask *out)
{
	struct vm_cpuid_mask have;

	host_words(&have);
	for (uint32_t i = 0; i < vm->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
		const uint32_t regs[4] = { e->eax, e->ebx, e->ecx, e->edx };

		for (int reg = 0; reg < 4; reg++) {
			int w = cpuid_word(e->function, e->index, reg);

			if (w >= 0)
				have.w[w] |= regs[reg];
		}
	}
	memset(out, 0, sizeof(*out));
	for (int w = 0; w < VM_CPUID_NWORDS; w++)
		out->w[w] = have.w[w] &
			    ~model_keep(vm->cpu_model, &vm->cpu_hide, w);
	/* vmm sets the hypervisor bit whatever the host has. */
	out->w[VM_CPUID_1_ECX] &= ~BIT(31);
}

int vmm_cpu_model_set(struct vmm *vm, struct vm_cpu_model *m)
{
	if (m->model >= VM_CPU_MODEL_MAX)
		return -EINVAL;
	for (int w = VM_CPUID_NWORDS; w < VM_CPUID_WORDS; w++) {
		if (m->hide.w[w])
			return -EINVAL;
	}
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm->vcpu[i])
			return -EBUSY;
	}
	vm->cpu_model = m->model;
	vm->cpu_hide = m->hide;
	model_hidden(vm, &m->hidden);
	return 0;
}

int vmm_cpu_model_get(struct vmm *vm, struct vm_cpu_model *m)
{
	m->model = vm->cpu_model;
	m->pad = 0;
	m->hide = vm->cpu_hide;
	model_hidden(vm, &m->hidden);
	return 0;
}

/* Bits needed to number n things: ceil(log2(n)). */
static unsigned field_bits(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

uint32_t vmm_apic_id(const struct vm_cpu_topology *t, int cpuid)
{
	unsigned smt = field_bits(t->threads), core = field_bits(t->cores);
	unsigned thread = cpuid % t->threads;
	unsigned c = (cpuid / t->threads) % t->cores;
	unsigned socket = cpuid / (t->threads * t->cores);

	return socket << (smt + core) | c << smt | thread;
}

/*
 * The in-kernel LAPIC has a TSC-deadline timer, but KVM_GET_SUPPORTED_CPUID
 * reports it only from Linux 6.14; before, userspace was to ask
 * KVM_CAP_TSC_DEADLINE_TIMER and set the bit itself, as QEMU does.  vitro
 * always uses the in-kernel irqchip.  Without the bit a Linux guest
 * calibrates the LAPIC timer against another clock at boot and programs
 * it in bus cycles.
 */
static void tsc_deadline_add(struct vmm *vm, struct kvm_cpuid2 *c)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		return;
	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= F_1_ECX_TSC_DEADLINE;
	}
}

int vmm_cpuid_init(struct vmm *vm)
{
	int n = 64;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(
			1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			tsc_deadline_add(vm, c);
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || n >= 4096)
			return -errno;
		n *= 2;
	}
}

static struct kvm_cpuid_entry2 *leaf_add(struct kvm_cpuid2 *c, uint32_t fn,
					 uint32_t idx)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

int vmm_cpuid_set(struct vmm_vcpu *v)
{
	const struct vm_cpu_topology *t = &v->vm->topo;
	const struct kvm_cpuid2 *sup = v->vm->cpuid;
	unsigned smt = field_bits(t->threads), core = field_bits(t->cores);
	uint32_t apic = vmm_apic_id(t, v->id);
	struct kvm_cpuid2 *c;
	int r = 0;

	c = calloc(1, sizeof(*c) + (sup->nent + 4) *
					   sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	for (uint32_t i = 0; i < sup->nent; i++) {
		struct kvm_cpuid_entry2 e = sup->entries[i];

		switch (e.function) {
		case 1:
			e.ebx = (e.ebx & 0xffff) | apic << 24 |
				(1u << (smt + core)) << 16;
			if (smt + core)
				e.edx |= 1u << 28; /* HTT */
			e.ecx |= 1u << 31; /* hypervisor */
			break;
		case 4:
			e.eax = (e.eax & 0x03ffffff) | ((1u << core) - 1) << 26;
			break;
		case 0xb:
		case 0x1f:
			continue; /* replaced below */
		}
		vmm_cpuid_filter(v->vm->cpu_model, &v->vm->cpu_hide, &e);
		c->entries[c->nent++] = e;
	}
	{
		struct kvm_cpuid_entry2 *e;

		e = leaf_add(c, 0xb, 0);
		e->eax = smt;
		e->ebx = t->threads;
		e->ecx = 1 << 8; /* SMT level */
		e->edx = apic;
		e = leaf_add(c, 0xb, 1);
		e->eax = smt + core;
		e->ebx = t->threads * t->cores;
		e->ecx = 2 << 8 | 1; /* core level */
		e->edx = apic;
		e = leaf_add(c, 0xb, 2);
		e->ecx = 2; /* no more levels */
		e->edx = apic;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}
