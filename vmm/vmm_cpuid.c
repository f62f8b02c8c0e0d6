/*
 * vmm_cpuid.c: the CPUID a vCPU shows, and APIC IDs from the topology.
 *
 * Each vCPU starts from what KVM supports and gets its own APIC ID and the
 * VM's topology in leaves 1, 4 and 0xB.  APIC IDs pack thread, core and
 * socket into bit fields of the widths leaf 0xB reports, as hardware does,
 * so a guest decoding its APIC ID finds the topology vitro was given.
 * Called with vm->lock held (vCPU creation); no state of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm_priv.h"

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
