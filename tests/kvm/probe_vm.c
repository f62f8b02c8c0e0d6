/*
 * probe_vm.c: the bare KVM VM of the probes (see probe_vm.h).  Raw
 * ioctls only; errors become KP_UNKNOWN with the failing step named.
 * Single-threaded, no state outside struct kpv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/kvm/probe_vm.h"
#include "tests/kvm/x86_bits.h"

/*
 * The exception stubs, 16 bytes each from kpv_stubs: a 0 for vectors
 * without an error code, the vector, then the common part, which records
 * vector, error code, rip, cr2 and a count at KPV_EXC, acknowledges an
 * interrupt (vector >= 32) at the LAPIC, reports the vector with `out`
 * and returns to the interrupted code.
 */
/* clang-format off */
KPV_BLOB(kpv_rt,
	 ".code64\n"
	 "kpv_common:\n"
	 "	push %rax\n"
	 "	push %rdx\n"
	 "	mov 16(%rsp), %rax\n"
	 "	mov %rax, 0x9000\n"
	 "	mov 24(%rsp), %rax\n"
	 "	mov %rax, 0x9008\n"
	 "	mov 32(%rsp), %rax\n"
	 "	mov %rax, 0x9010\n"
	 "	mov %cr2, %rax\n"
	 "	mov %rax, 0x9018\n"
	 "	incq 0x9020\n"
	 "	cmpq $32, 0x9000\n"
	 "	jb 1f\n"
	 "	mov $0xfee000b0, %edx\n"
	 "	movl $0, (%rdx)\n"
	 "1:	mov 0x9000, %eax\n"
	 "	out %eax, $0xe4\n"
	 "	pop %rdx\n"
	 "	pop %rax\n"
	 "	add $16, %rsp\n"
	 "	iretq\n"
	 ".balign 16\n"
	 KPV_L("kpv_stubs")
	 ".set kpvec, 0\n"
	 ".rept 256\n"
	 ".balign 16\n"
	 ".if (kpvec == 8) || ((kpvec >= 10) && (kpvec <= 14)) || "
	 "(kpvec == 17) || (kpvec == 21) || (kpvec == 29) || (kpvec == 30)\n"
	 ".else\n"
	 "	pushq $0\n"
	 ".endif\n"
	 "	pushq $kpvec\n"
	 "	jmp kpv_common\n"
	 ".set kpvec, kpvec + 1\n"
	 ".endr\n");
/* clang-format on */
extern const uint8_t kpv_stubs[];

int kp_say(struct kp_result *res, int verdict, const char *fmt, ...)
{
	va_list ap;

	res->verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return verdict;
}

static void write_tables(struct kpv *p)
{
	uint64_t *gdt = (uint64_t *)(p->mem + KPV_GDT);
	uint64_t *idt = (uint64_t *)(p->mem + KPV_IDT);
	uint64_t *pml4 = (uint64_t *)(p->mem + KPV_PML4);
	uint64_t *pdpt = pml4 + 512;
	uint64_t stubs = KPV_ADDR(kpv_rt, KPV_RT, kpv_stubs);

	gdt[KPV_SEL_CODE64 / 8] = 0x00af9b000000ffffULL;
	gdt[KPV_SEL_DATA / 8] = 0x00cf93000000ffffULL;
	gdt[KPV_SEL_CODE32 / 8] = 0x00cf9b000000ffffULL;
	for (int v = 0; v < 256; v++) {
		uint64_t a = stubs + 16 * v;

		/* Interrupt gate, present, DPL 0, selector CODE64. */
		idt[2 * v] = (a & 0xffff) | (uint64_t)KPV_SEL_CODE64 << 16 |
			     0x8e00ULL << 32 | ((a >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = a >> 32;
	}
	pml4[0] = (KPV_PML4 + 0x1000) | 3;
	for (int i = 0; i < 4; i++) {
		uint64_t *pd = pml4 + 512 * (2 + i);

		pdpt[i] = (KPV_PML4 + 0x2000 + 0x1000 * i) | 3;
		for (int j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83;
	}
	kpv_load(p, KPV_RT, kpv_rt, kpv_rt_end);
}

int kpv_open(struct kpv *p, bool irqchip, struct kp_result *res)
{
	struct kvm_userspace_memory_region mr = { 0 };
	int n;

	memset(p, 0, sizeof(*p));
	p->vm = p->vcpu = -1;
	p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm < 0)
		return kp_say(res, KP_UNKNOWN, "/dev/kvm: %s", strerror(errno));
	p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return kp_say(res, KP_UNKNOWN, "KVM_CREATE_VM: %s",
			      strerror(errno));
	p->mem = mmap(NULL, KPV_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return kp_say(res, KP_UNKNOWN, "mmap: %s", strerror(errno));
	}
	mr.memory_size = KPV_MEM;
	mr.userspace_addr = (uintptr_t)p->mem;
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		return kp_say(res, KP_UNKNOWN, "KVM_SET_USER_MEMORY_REGION: %s",
			      strerror(errno));
	if (irqchip && ioctl(p->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return kp_say(res, KP_UNKNOWN, "KVM_CREATE_IRQCHIP: %s",
			      strerror(errno));
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	n = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (p->vcpu < 0 || n <= 0)
		return kp_say(res, KP_UNKNOWN, "KVM_CREATE_VCPU: %s",
			      strerror(errno));
	p->run_size = n;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->vcpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return kp_say(res, KP_UNKNOWN, "mmap kvm_run: %s",
			      strerror(errno));
	}
	/* The supported CPUID, as a VMM gives it (long mode needs it). */
	{
		static struct {
			struct kvm_cpuid2 c;
			struct kvm_cpuid_entry2 e[256];
		} cpuid;

		cpuid.c.nent = 256;
		if (ioctl(p->kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0 ||
		    ioctl(p->vcpu, KVM_SET_CPUID2, &cpuid) < 0)
			return kp_say(res, KP_UNKNOWN, "CPUID: %s",
				      strerror(errno));
	}
	write_tables(p);
	return 0;
}

void kpv_close(struct kpv *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->vcpu >= 0)
		close(p->vcpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->mem)
		munmap(p->mem, KPV_MEM);
	if (p->kvm >= 0)
		close(p->kvm);
	memset(p, 0, sizeof(*p));
	p->kvm = p->vm = p->vcpu = -1;
}

void kpv_load(struct kpv *p, uint64_t gpa, const void *start, const void *end)
{
	memcpy(p->mem + gpa, start,
	       (const uint8_t *)end - (const uint8_t *)start);
}

uint64_t kpv_peek64(struct kpv *p, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, p->mem + gpa, 8);
	return v;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

static int set_mode(struct kpv *p, bool long64, uint64_t rip)
{
	struct kvm_sregs sr;
	struct kvm_regs r = { .rip = rip, .rsp = KPV_STACK, .rflags = 2 };

	if (ioctl(p->vcpu, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	seg(&sr.cs, long64 ? KPV_SEL_CODE64 : KPV_SEL_CODE32, 11, long64);
	seg(&sr.ds, KPV_SEL_DATA, 3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.type = 11; /* busy TSS, as VMX requires */
	sr.tr.present = 1;
	sr.tr.limit = 0x67;
	sr.gdt.base = KPV_GDT;
	sr.gdt.limit = 0x1f;
	sr.idt.base = KPV_IDT;
	sr.idt.limit = long64 ? 0xfff : 0;
	sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	sr.cr4 = 0;
	sr.efer = 0;
	sr.cr3 = 0;
	if (long64) {
		sr.cr0 |= CR0_WP | CR0_PG;
		sr.cr3 = KPV_PML4;
		sr.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
		sr.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sr) < 0 ||
	    ioctl(p->vcpu, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

int kpv_long64(struct kpv *p, uint64_t rip)
{
	return set_mode(p, true, rip);
}

int kpv_prot32(struct kpv *p, uint64_t rip)
{
	return set_mode(p, false, rip);
}

int kpv_run(struct kpv *p)
{
	for (;;) {
		if (ioctl(p->vcpu, KVM_RUN, 0) == 0)
			return (int)p->run->exit_reason;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

bool kpv_is_out(struct kpv *p, uint16_t port, uint32_t *val)
{
	const struct kvm_run *r = p->run;
	uint32_t v = 0;

	if (r->exit_reason != KVM_EXIT_IO ||
	    r->io.direction != KVM_EXIT_IO_OUT || r->io.port != port)
		return false;
	memcpy(&v, (const uint8_t *)r + r->io.data_offset,
	       r->io.size < 4 ? r->io.size : 4);
	if (val)
		*val = v;
	return true;
}

uint64_t kpv_rip(struct kpv *p)
{
	struct kvm_regs r;

	return ioctl(p->vcpu, KVM_GET_REGS, &r) < 0 ? ~0ULL : r.rip;
}

const char *kpv_exit_str(struct kpv *p, char *buf, size_t len)
{
	const struct kvm_run *r = p->run;
	uint64_t rip = kpv_rip(p);
	uint32_t v;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		kpv_is_out(p, r->io.port, &v);
		snprintf(buf, len, "an %s port %#x (value %#x) at rip %#llx",
			 r->io.direction == KVM_EXIT_IO_OUT ? "out to" :
							      "in from",
			 r->io.port, v, (unsigned long long)rip);
		break;
	case KVM_EXIT_DEBUG:
		snprintf(buf, len,
			 "KVM_EXIT_DEBUG (exception %u, pc %#llx, dr6 %#llx) "
			 "at rip %#llx",
			 r->debug.arch.exception,
			 (unsigned long long)r->debug.arch.pc,
			 (unsigned long long)r->debug.arch.dr6,
			 (unsigned long long)rip);
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(buf, len, "KVM_EXIT_SHUTDOWN (rip then %#llx)",
			 (unsigned long long)rip);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(buf, len, "KVM_EXIT_INTERNAL_ERROR, suberror %u",
			 r->internal.suberror);
		break;
	default:
		snprintf(buf, len, "exit reason %u at rip %#llx",
			 r->exit_reason, (unsigned long long)rip);
		break;
	}
	return buf;
}

int kpv_set_debug(struct kpv *p, uint32_t control, const uint64_t dr[4],
		  uint64_t dr7)
{
	struct kvm_guest_debug d = { .control = control };

	if (dr)
		memcpy(d.arch.debugreg, dr, 4 * sizeof(dr[0]));
	d.arch.debugreg[7] = dr7;
	return ioctl(p->vcpu, KVM_SET_GUEST_DEBUG, &d) < 0 ? -errno : 0;
}
