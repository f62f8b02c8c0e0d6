/*
 * vmm_regs.c: VM_GET/SET_REGISTER(_SET) over KVM's register groups, the
 * vCPU's paging state, and VM_GLA2GPA(_NOFAULT).
 *
 * A register set touches each KVM group it needs once: one KVM_GET_* per
 * group to read, and for a write one KVM_GET_* and one KVM_SET_* per group
 * modified.  The caller guarantees the vCPU is not in KVM_RUN (vmm_dev.h),
 * so no locking is needed here.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm_paging.h"
#include "vmm/vmm_priv.h"

#define MSR_IA32_TSC 0x10
#define MSR_KERNEL_GS_BASE 0xc0000102

enum reg_group {
	G_REGS = 1 << 0,
	G_SREGS = 1 << 1,
	G_FPU = 1 << 2,
	G_DEBUG = 1 << 3,
	G_MSRS = 1 << 4,
	G_EVENTS = 1 << 5,
	G_PDPTRS = 1 << 6, /* with G_SREGS: from KVM, not the sync area */
};

/* A vCPU's registers as KVM holds them; only the fetched groups valid. */
struct kvm_state {
	unsigned have;
	struct kvm_regs regs;
	struct kvm_sregs2 sregs; /* also filled from KVM_GET_SREGS */
	__u64 interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64];
	/*
	 * x87/SSE in the FXSAVE layout: KVM_GET_FPU never reports MXCSR, so
	 * the state comes from XSAVE where KVM has it.
	 */
	union {
		uint8_t fx[512];
		uint8_t xsave[VMM_XSAVE_MAX];
	} __attribute__((aligned(64)));
	struct kvm_debugregs dbg;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} msrs;
	struct kvm_vcpu_events events;
	unsigned msr_dirty; /* bit n: msrs.e[n] was written */
};

/* The FXSAVE layout (Intel SDM vol. 1, 10.5.1). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FDP 16
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32
#define FX_XMM 160
#define XSAVE_XSTATE_BV 512

static int reg_group(int reg)
{
	if (reg < 0 || reg >= VM_REG_LAST)
		return -EINVAL;
	if (reg <= VM_REG_GUEST_RFLAGS)
		return G_REGS;
	if (reg <= VM_REG_GUEST_APIC_BASE && reg != VM_REG_GUEST_KGS_BASE)
		return G_SREGS;
	if (reg == VM_REG_GUEST_KGS_BASE || reg == VM_REG_GUEST_TSC)
		return G_MSRS;
	if (reg >= VM_REG_GUEST_PDPTE0 && reg <= VM_REG_GUEST_PDPTE3)
		return G_SREGS | G_PDPTRS; /* the sync area has no PDPTEs */
	if (reg >= VM_REG_GUEST_DR0 && reg <= VM_REG_GUEST_DR7)
		return G_DEBUG;
	if (reg >= VM_REG_GUEST_FCW && reg <= VM_REG_GUEST_XMM15_HI)
		return G_FPU;
	if (reg == VM_REG_GUEST_INTR_SHADOW)
		return G_EVENTS;
	return -EINVAL;
}

static int fpu_fetch(struct vmm_vcpu *v, struct kvm_state *s)
{
	struct kvm_fpu f;

	if (v->vm->xsave_size > 0) {
		unsigned long cmd =
			v->vm->xsave_size > sizeof(struct kvm_xsave) ?
				KVM_GET_XSAVE2 :
				KVM_GET_XSAVE;

		if (ioctl(v->fd, cmd, s->xsave) < 0)
			return -errno;
		return 0;
	}
	if (ioctl(v->fd, KVM_GET_FPU, &f) < 0)
		return -errno;
	memset(s->fx, 0, sizeof(s->fx));
	memcpy(s->fx + FX_FCW, &f.fcw, 2);
	memcpy(s->fx + FX_FSW, &f.fsw, 2);
	s->fx[FX_FTW] = f.ftwx;
	memcpy(s->fx + FX_FOP, &f.last_opcode, 2);
	memcpy(s->fx + FX_FIP, &f.last_ip, 8);
	memcpy(s->fx + FX_FDP, &f.last_dp, 8);
	memcpy(s->fx + FX_ST, f.fpr, sizeof(f.fpr));
	memcpy(s->fx + FX_XMM, f.xmm, sizeof(f.xmm));
	return 0;
}

static int fpu_store(struct vmm_vcpu *v, struct kvm_state *s)
{
	struct kvm_fpu f = { 0 };

	if (v->vm->xsave_size > 0) {
		uint64_t bv;

		/* KVM loads x87 and SSE state only if XSTATE_BV says so. */
		memcpy(&bv, s->xsave + XSAVE_XSTATE_BV, 8);
		bv |= 3;
		memcpy(s->xsave + XSAVE_XSTATE_BV, &bv, 8);
		if (ioctl(v->fd, KVM_SET_XSAVE, s->xsave) < 0)
			return -errno;
		return 0;
	}
	memcpy(&f.fcw, s->fx + FX_FCW, 2);
	memcpy(&f.fsw, s->fx + FX_FSW, 2);
	f.ftwx = s->fx[FX_FTW];
	memcpy(&f.last_opcode, s->fx + FX_FOP, 2);
	memcpy(&f.last_ip, s->fx + FX_FIP, 8);
	memcpy(&f.last_dp, s->fx + FX_FDP, 8);
	memcpy(f.fpr, s->fx + FX_ST, sizeof(f.fpr));
	memcpy(f.xmm, s->fx + FX_XMM, sizeof(f.xmm));
	if (ioctl(v->fd, KVM_SET_FPU, &f) < 0)
		return -errno;
	return 0;
}

static int state_fetch(struct vmm_vcpu *v, struct kvm_state *s, unsigned want)
{
	int fd = v->fd, r;

	want &= ~s->have;
	if ((want & (G_REGS | G_SREGS)) && !(want & G_PDPTRS)) {
		const struct kvm_sync_regs *sr = &v->run->s.regs;
		unsigned sync = atomic_load(&v->synced);

		if ((want & G_REGS) && (sync & KVM_SYNC_X86_REGS)) {
			s->regs = sr->regs;
			s->have |= G_REGS;
			want &= ~G_REGS;
		}
		if ((want & G_SREGS) && (sync & KVM_SYNC_X86_SREGS)) {
			memcpy(&s->sregs, &sr->sregs,
			       offsetof(struct kvm_sregs, interrupt_bitmap));
			memcpy(s->interrupt_bitmap, sr->sregs.interrupt_bitmap,
			       sizeof(s->interrupt_bitmap));
			s->sregs.flags = 0;
			s->have |= G_SREGS;
			want &= ~G_SREGS;
		}
	}
	if ((want & G_REGS) && ioctl(fd, KVM_GET_REGS, &s->regs) < 0)
		return -errno;
	if (want & G_SREGS) {
		if (v->vm->has_sregs2) {
			if (ioctl(fd, KVM_GET_SREGS2, &s->sregs) < 0)
				return -errno;
		} else {
			struct kvm_sregs old;

			if (ioctl(fd, KVM_GET_SREGS, &old) < 0)
				return -errno;
			/* The common prefix of the two layouts. */
			memcpy(&s->sregs, &old,
			       offsetof(struct kvm_sregs, interrupt_bitmap));
			memcpy(s->interrupt_bitmap, old.interrupt_bitmap,
			       sizeof(s->interrupt_bitmap));
			s->sregs.flags = 0;
		}
	}
	if ((want & G_FPU) && (r = fpu_fetch(v, s)) < 0)
		return r;
	if ((want & G_DEBUG) && ioctl(fd, KVM_GET_DEBUGREGS, &s->dbg) < 0)
		return -errno;
	if (want & G_MSRS) {
		s->msrs.hdr.nmsrs = 2;
		s->msrs.hdr.pad = 0;
		s->msrs.e[0] =
			(struct kvm_msr_entry){ .index = MSR_KERNEL_GS_BASE };
		s->msrs.e[1] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC };
		if (ioctl(fd, KVM_GET_MSRS, &s->msrs) != 2)
			return -EIO;
	}
	if ((want & G_EVENTS) && ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return -errno;
	s->have |= want;
	return 0;
}

/*
 * KVM_SET_VCPU_EVENTS replaces the exception state too: keep a pending
 * exception pending, and put back a #BP/#OF that vmm injected, which
 * KVM_GET_VCPU_EVENTS never reports.
 */
static int events_store(struct vmm_vcpu *v, struct kvm_vcpu_events *ev)
{
	ev->flags = KVM_VCPUEVENT_VALID_SHADOW;
	if (v->vm->has_exception_payload)
		ev->flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
	if (v->trap_vector >= 0) {
		ev->exception.injected = 1;
		ev->exception.pending = 0;
		ev->exception.nr = v->trap_vector;
		ev->exception.has_error_code = 0;
	}
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, ev) < 0)
		return -errno;
	return 0;
}

static int state_store(struct vmm_vcpu *v, struct kvm_state *s, unsigned dirty)
{
	int fd = v->fd, r;

	if (dirty & (G_REGS | G_SREGS))
		atomic_store(&v->synced, 0);
	if ((dirty & G_REGS) && ioctl(fd, KVM_SET_REGS, &s->regs) < 0)
		return -errno;
	if (dirty & G_SREGS) {
		if (v->vm->has_sregs2) {
			/* KVM reloads the PAE PDPTEs from CR3, as a CPU would */
			s->sregs.flags &= ~KVM_SREGS2_FLAGS_PDPTRS_VALID;
			if (ioctl(fd, KVM_SET_SREGS2, &s->sregs) < 0)
				return -errno;
		} else {
			struct kvm_sregs old;

			memcpy(&old, &s->sregs,
			       offsetof(struct kvm_sregs, interrupt_bitmap));
			memcpy(old.interrupt_bitmap, s->interrupt_bitmap,
			       sizeof(old.interrupt_bitmap));
			if (ioctl(fd, KVM_SET_SREGS, &old) < 0)
				return -errno;
		}
	}
	if ((dirty & G_FPU) && (r = fpu_store(v, s)) < 0)
		return r;
	if ((dirty & G_DEBUG) && ioctl(fd, KVM_SET_DEBUGREGS, &s->dbg) < 0)
		return -errno;
	if ((dirty & G_MSRS) && s->msr_dirty) {
		/* Only what was written: a stale TSC would move time back. */
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e[2];
		} w;

		memset(&w, 0, sizeof(w));

		for (int i = 0; i < 2; i++) {
			if (s->msr_dirty & (1u << i))
				w.e[w.hdr.nmsrs++] = s->msrs.e[i];
		}
		if (ioctl(fd, KVM_SET_MSRS, &w) != (int)w.hdr.nmsrs)
			return -EIO;
	}
	if (dirty & G_EVENTS)
		return events_store(v, &s->events);
	/* KVM_SET_REGS cancels a pending exception; a register write must not. */
	if ((dirty & G_REGS) && (s->have & G_EVENTS) &&
	    s->events.exception.pending)
		return events_store(v, &s->events);
	return 0;
}

static struct kvm_segment *seg_of(struct kvm_sregs2 *sr, int idx)
{
	struct kvm_segment *segs[] = { &sr->es, &sr->cs, &sr->ss,  &sr->ds,
				       &sr->fs, &sr->gs, &sr->ldt, &sr->tr };

	return segs[idx];
}

static uint64_t seg_access(const struct kvm_segment *s)
{
	return s->type | s->s << 4 | s->dpl << 5 | s->present << 7 |
	       s->avl << 12 | s->l << 13 | s->db << 14 | s->g << 15 |
	       (uint64_t)s->unusable << 16;
}

static void seg_set_access(struct kvm_segment *s, uint64_t a)
{
	s->type = a & 0xf;
	s->s = (a >> 4) & 1;
	s->dpl = (a >> 5) & 3;
	s->present = (a >> 7) & 1;
	s->avl = (a >> 12) & 1;
	s->l = (a >> 13) & 1;
	s->db = (a >> 14) & 1;
	s->g = (a >> 15) & 1;
	s->unusable = (a >> 16) & 1;
}

/*
 * The storage of a register that lives in a plain integer field, with its
 * width in bytes; NULL for those that need conversion.
 */
static void *reg_field(struct kvm_state *s, int reg, int *width)
{
	struct kvm_regs *r = &s->regs;
	struct kvm_sregs2 *sr = &s->sregs;
	__u64 *gpr[] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
		&r->rbp, &r->rsp, &r->r8,  &r->r9,  &r->r10, &r->r11,
		&r->r12, &r->r13, &r->r14, &r->r15, &r->rip, &r->rflags
	};

	*width = 8;
	if (reg <= VM_REG_GUEST_RFLAGS)
		return gpr[reg];
	if (reg >= VM_REG_GUEST_ES && reg <= VM_REG_GUEST_TR) {
		*width = 2;
		return &seg_of(sr, reg - VM_REG_GUEST_ES)->selector;
	}
	if (reg >= VM_REG_GUEST_ES_BASE && reg <= VM_REG_GUEST_TR_BASE)
		return &seg_of(sr, reg - VM_REG_GUEST_ES_BASE)->base;
	if (reg >= VM_REG_GUEST_ES_LIMIT && reg <= VM_REG_GUEST_TR_LIMIT) {
		*width = 4;
		return &seg_of(sr, reg - VM_REG_GUEST_ES_LIMIT)->limit;
	}
	switch (reg) {
	case VM_REG_GUEST_GDTR_BASE:
		return &sr->gdt.base;
	case VM_REG_GUEST_IDTR_BASE:
		return &sr->idt.base;
	case VM_REG_GUEST_GDTR_LIMIT:
		*width = 2;
		return &sr->gdt.limit;
	case VM_REG_GUEST_IDTR_LIMIT:
		*width = 2;
		return &sr->idt.limit;
	case VM_REG_GUEST_CR0:
		return &sr->cr0;
	case VM_REG_GUEST_CR2:
		return &sr->cr2;
	case VM_REG_GUEST_CR3:
		return &sr->cr3;
	case VM_REG_GUEST_CR4:
		return &sr->cr4;
	case VM_REG_GUEST_CR8:
		return &sr->cr8;
	case VM_REG_GUEST_EFER:
		return &sr->efer;
	case VM_REG_GUEST_APIC_BASE:
		return &sr->apic_base;
	case VM_REG_GUEST_KGS_BASE:
		return &s->msrs.e[0].data;
	case VM_REG_GUEST_TSC:
		return &s->msrs.e[1].data;
	case VM_REG_GUEST_DR0:
	case VM_REG_GUEST_DR1:
	case VM_REG_GUEST_DR2:
	case VM_REG_GUEST_DR3:
		return &s->dbg.db[reg - VM_REG_GUEST_DR0];
	case VM_REG_GUEST_DR6:
		return &s->dbg.dr6;
	case VM_REG_GUEST_DR7:
		return &s->dbg.dr7;
	case VM_REG_GUEST_FCW:
		*width = 2;
		return s->fx + FX_FCW;
	case VM_REG_GUEST_FSW:
		*width = 2;
		return s->fx + FX_FSW;
	case VM_REG_GUEST_FTW:
		*width = 1;
		return s->fx + FX_FTW;
	case VM_REG_GUEST_FOP:
		*width = 2;
		return s->fx + FX_FOP;
	case VM_REG_GUEST_FIP:
		return s->fx + FX_FIP;
	case VM_REG_GUEST_FDP:
		return s->fx + FX_FDP;
	case VM_REG_GUEST_MXCSR:
		*width = 4;
		return s->fx + FX_MXCSR;
	}
	if (reg >= VM_REG_GUEST_ST0_LO && reg <= VM_REG_GUEST_ST7_HI) {
		int n = (reg - VM_REG_GUEST_ST0_LO) / 2;

		if ((reg - VM_REG_GUEST_ST0_LO) % 2) {
			*width = 2; /* sign and exponent */
			return s->fx + FX_ST + 16 * n + 8;
		}
		return s->fx + FX_ST + 16 * n;
	}
	if (reg >= VM_REG_GUEST_XMM0_LO && reg <= VM_REG_GUEST_XMM15_HI) {
		int n = (reg - VM_REG_GUEST_XMM0_LO) / 2;

		return s->fx + FX_XMM + 16 * n +
		       (reg - VM_REG_GUEST_XMM0_LO) % 2 * 8;
	}
	return NULL;
}

static int reg_read(struct kvm_state *s, int reg, uint64_t *val)
{
	int w;
	void *p;

	if (reg >= VM_REG_GUEST_ES_ACCESS && reg <= VM_REG_GUEST_TR_ACCESS) {
		*val = seg_access(
			seg_of(&s->sregs, reg - VM_REG_GUEST_ES_ACCESS));
		return 0;
	}
	if (reg >= VM_REG_GUEST_PDPTE0 && reg <= VM_REG_GUEST_PDPTE3) {
		if (!(s->sregs.flags & KVM_SREGS2_FLAGS_PDPTRS_VALID)) {
			*val = 0;
			return 0;
		}
		*val = s->sregs.pdptrs[reg - VM_REG_GUEST_PDPTE0];
		return 0;
	}
	if (reg == VM_REG_GUEST_INTR_SHADOW) {
		*val = s->events.interrupt.shadow != 0;
		return 0;
	}
	if (!(p = reg_field(s, reg, &w)))
		return -EINVAL;
	*val = 0;
	memcpy(val, p, w); /* little-endian host */
	return 0;
}

static int reg_write(struct kvm_state *s, int reg, uint64_t val)
{
	int w;
	void *p;

	if (reg >= VM_REG_GUEST_ES_ACCESS && reg <= VM_REG_GUEST_TR_ACCESS) {
		seg_set_access(seg_of(&s->sregs, reg - VM_REG_GUEST_ES_ACCESS),
			       val);
		return 0;
	}
	if (reg >= VM_REG_GUEST_PDPTE0 && reg <= VM_REG_GUEST_PDPTE3)
		return -EPERM; /* loaded from CR3 by the CPU */
	if (reg == VM_REG_GUEST_INTR_SHADOW) {
		s->events.interrupt.shadow =
			val ? KVM_X86_SHADOW_INT_MOV_SS : 0;
		return 0;
	}
	if (reg == VM_REG_GUEST_MXCSR) {
		uint32_t mask;

		memcpy(&mask, s->fx + FX_MXCSR_MASK, 4);
		if (val & ~(uint64_t)(mask ? mask : 0xffbf))
			return -EINVAL; /* reserved bits: a #GP on hardware */
	}
	if (reg == VM_REG_GUEST_KGS_BASE)
		s->msr_dirty |= 1;
	if (reg == VM_REG_GUEST_TSC)
		s->msr_dirty |= 2;
	if (!(p = reg_field(s, reg, &w)))
		return -EINVAL;
	memcpy(p, &val, w);
	return 0;
}

static int groups_of(unsigned count, const int *regnums, unsigned *groups)
{
	*groups = 0;
	for (unsigned i = 0; i < count; i++) {
		int g = reg_group(regnums[i]);

		if (g < 0)
			return g;
		*groups |= g;
	}
	return 0;
}

int vmm_get_regset(struct vmm_vcpu *v, unsigned count, const int *regnums,
		   uint64_t *regvals)
{
	struct kvm_state s;
	uint64_t vals[VM_REGSET_MAX];
	unsigned groups;
	int r;

	if (count > VM_REGSET_MAX)
		return -E2BIG;
	if ((r = groups_of(count, regnums, &groups)) < 0)
		return r;
	s.have = 0;
	if ((r = state_fetch(v, &s, groups)) < 0)
		return r;
	for (unsigned i = 0; i < count; i++) {
		if ((r = reg_read(&s, regnums[i], &vals[i])) < 0)
			return r;
	}
	memcpy(regvals, vals, count * sizeof(*vals));
	return 0;
}

int vmm_set_regset(struct vmm_vcpu *v, unsigned count, const int *regnums,
		   const uint64_t *regvals)
{
	struct kvm_state s;
	unsigned groups, fetch;
	int r;

	if (count > VM_REGSET_MAX)
		return -E2BIG;
	if ((r = groups_of(count, regnums, &groups)) < 0)
		return r;
	s.have = 0;
	s.msr_dirty = 0;
	/*
	 * KVM_SET_REGS cancels a pending exception (one KVM raised, or a
	 * #DB vmm injected with its payload): look first, to put it back.
	 */
	fetch = groups;
	if ((groups & G_REGS) && v->vm->has_exception_payload)
		fetch |= G_EVENTS;
	if ((r = state_fetch(v, &s, fetch)) < 0)
		return r;
	for (unsigned i = 0; i < count; i++) {
		if ((r = reg_write(&s, regnums[i], regvals[i])) < 0)
			return r;
	}
	return state_store(v, &s, groups);
}

/* The walker's view of the CPU from registers KVM_RUN synced. */
void vmm_paging_from_sregs(const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs,
			   struct vm_guest_paging *paging)
{
	vmm_paging_from_regs(sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer,
			     regs->rflags, seg_access(&sregs->cs),
			     seg_access(&sregs->ss), paging);
}

int vmm_get_paging(struct vmm_vcpu *v, struct vm_guest_paging *paging)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	VM_REG_GUEST_CR3,
		VM_REG_GUEST_CR4,	VM_REG_GUEST_EFER,
		VM_REG_GUEST_RFLAGS,	VM_REG_GUEST_CS_ACCESS,
		VM_REG_GUEST_SS_ACCESS,
	};
	uint64_t val[7];
	int r;

	if ((r = vmm_get_regset(v, 7, regs, val)) < 0)
		return r;
	vmm_paging_from_regs(val[0], val[1], val[2], val[3], val[4], val[5],
			     val[6], paging);
	return 0;
}

int vmm_gla2gpa(struct vmm_vcpu *v, struct vm_gla2gpa *w, bool nofault)
{
	struct vm_guest_paging cur;
	const struct vm_guest_paging *pg = &w->paging;
	struct vm_gla2gpa out = *w;
	int r;

	if (w->prot & ~(VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC))
		return -EINVAL;
	if (w->use_current) {
		if ((r = vmm_get_paging(v, &cur)) < 0)
			return r;
		pg = &cur;
	}
	r = vmm_paging_walk(pg, w->gla, w->prot, nofault, vmm_gpa2hva_cb, v->vm,
			    &out);
	if (r < 0)
		return r;
	if (!nofault && out.fault) {
		struct vm_exception e = {
			.cpuid = v->id,
			.vector = out.vector,
			.error_code_valid = true,
			.error_code = out.error_code,
			.payload = w->gla,
		};

		if ((r = vmm_inject_exception(v, &e)) < 0)
			return r;
	}
	*w = out;
	return 0;
}
