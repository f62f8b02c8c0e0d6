/*
 * test-registers.c: VM_GET/SET_REGISTER(_SET) - every register of enum
 * vm_reg_name round-trips (the PAE PDPTEs are read-only and refuse
 * writes), registers written take effect in the guest, and registers read
 * hold what the guest computed.
 *
 * x87 and SSE code runs at CPL 3: this host's KVM runs user code natively
 * but emulates kernel code, and its emulator has no x87 arithmetic.  The
 * rest runs at CPL 0.  Single-threaded.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

#define D KT_STR(KT_DATA)
#define MSR_FS_BASE "0xc0000100"
#define MSR_GS_BASE "0xc0000101"
#define MSR_KGS_BASE "0xc0000102"

/* clang-format off */
asm(KT_GUEST_BEGIN(gg, KT_CODE)
    ".code64\n"
    /* Store what the test put in registers at KT_DATA. */
    KT_LABEL("gg_store")
    "	mov %rax, " D "\n"
    "	mov %rbx, " D " + 0x08\n"
    "	mov %rcx, " D " + 0x10\n"
    "	mov %rdx, " D " + 0x18\n"
    "	mov %rsi, " D " + 0x20\n"
    "	mov %rdi, " D " + 0x28\n"
    "	mov %rbp, " D " + 0x30\n"
    "	mov %rsp, " D " + 0x38\n"
    "	mov %r8, " D " + 0x40\n"
    "	mov %r9, " D " + 0x48\n"
    "	mov %r10, " D " + 0x50\n"
    "	mov %r11, " D " + 0x58\n"
    "	mov %r12, " D " + 0x60\n"
    "	mov %r13, " D " + 0x68\n"
    "	mov %r14, " D " + 0x70\n"
    "	mov %r15, " D " + 0x78\n"
    "	pushfq\n"
    "	popq " D " + 0x80\n"
    "	mov %cr2, %rax\n"
    "	mov %rax, " D " + 0x88\n"
    "	mov %db1, %rax\n"
    "	mov %rax, " D " + 0x90\n"
    "	mov $" MSR_KGS_BASE ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " D " + 0x98\n"
    "	mov %edx, " D " + 0x9c\n"
    "	mov $" MSR_FS_BASE ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " D " + 0xa0\n"
    "	mov %edx, " D " + 0xa4\n"
    "	mov $" MSR_GS_BASE ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " D " + 0xa8\n"
    "	mov %edx, " D " + 0xac\n"
    "	mov %fs:0, %rax\n"
    "	mov %rax, " D " + 0xb0\n"
    "	rdtsc\n"
    "	mov %eax, " D " + 0xb8\n"
    "	mov %edx, " D " + 0xbc\n"
    "	mov %cr8, %rax\n"
    "	mov %rax, " D " + 0xc0\n"
    "	sgdt " D " + 0xc8\n"
    "	sidt " D " + 0xd8\n"
    "	out %eax, $0xe0\n"

    /* Compute values into registers for the test to read. */
    KT_LABEL("gg_compute")
    "	lgdt gg_gdtr(%rip)\n"
    "	lidt gg_idtr(%rip)\n"
    "	mov $" KT_STR(KT_SEL_DATA) ", %eax\n"
    "	mov %eax, %fs\n"
    "	mov $" MSR_FS_BASE ", %ecx\n"
    "	mov $0x12345000, %eax\n"
    "	mov $0xffff8000, %edx\n"
    "	wrmsr\n"			/* FS base 0xffff800012345000 */
    "	mov $" MSR_KGS_BASE ", %ecx\n"
    "	mov $0xabcde000, %eax\n"
    "	mov $0xffff9999, %edx\n"
    "	wrmsr\n"			/* KGS 0xffff9999abcde000 */
    "	mov $9, %eax\n"
    "	mov %rax, %cr8\n"
    "	movabs $0xffffffff8badf00d, %rax\n"
    "	mov %rax, %cr2\n"
    "	mov $0x1000, %eax\n"
    "	mov %rax, %db0\n"
    "	shl $1, %rax\n"
    "	mov %rax, %db3\n"		/* 0x2000 */
    "	movabs $0x0123456789abcdef, %rax\n"
    "	lea 1(%rax), %rbx\n"
    "	mov %rax, %rcx\n"
    "	not %rcx\n"
    "	mov %rax, %rdx\n"
    "	bswap %rdx\n"
    "	mov %rax, %rsi\n"
    "	shr $4, %rsi\n"
    "	mov %rax, %rdi\n"
    "	shl $4, %rdi\n"
    "	lea (%rax,%rax,2), %rbp\n"
    "	mov $0x7ff00, %esp\n"
    "	mov %rax, %r8\n"
    "	neg %r8\n"
    "	mov %rax, %r9\n"
    "	rol $8, %r9\n"
    "	mov %rax, %r10\n"
    "	ror $8, %r10\n"
    "	mov %eax, %r11d\n"		/* zero-extends */
    "	mov %rax, %r12\n"
    "	xor %rbx, %r12\n"
    "	mov %rax, %r13\n"
    "	and $0xfff, %r13\n"
    "	lea -1(%rax), %r14\n"
    "	mov %rax, %r15\n"
    "	add %rbx, %r15\n"
    "	std\n"
    "	stc\n"
    KT_LABEL("gg_compute_out")
    "	out %eax, $0xe0\n"
    KT_LABEL("gg_compute_end")
    "	hlt\n"
    ".balign 8\n"
    "gg_gdtr: .word 6 * 8 - 1\n"
    "	.quad " KT_STR(KT_GDT) "\n"
    "gg_idtr: .word 0x7ff\n"
    "	.quad " KT_STR(KT_IDT64) "\n"

    /* CPL 3: x87 and SSE. */
    KT_LABEL("gg_fpu_compute")
    "	fninit\n"
    "	fld1\n"
    "	fldpi\n"
    "	movabs $0x1122334455667788, %rax\n"
    "	movq %rax, %xmm0\n"
    "	pcmpeqd %xmm15, %xmm15\n"
    "	pushq $0x3f80\n"		/* round down, all masked */
    "	ldmxcsr (%rsp)\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gg_fpu_store")
    "	movdqu %xmm3, " D " + 0x100\n"
    "	movdqu %xmm12, " D " + 0x110\n"
    "	stmxcsr " D " + 0x120\n"
    "	fnstcw " D " + 0x128\n"
    "	fstpt " D " + 0x130\n"		/* ST0, then pop */
    "	fstpt " D " + 0x140\n"		/* the old ST1 */
    "	out %eax, $0xe0\n"
    KT_GUEST_END(gg));
/* clang-format on */
KT_GUEST_DECLARE(gg);
extern const uint8_t gg_store[], gg_compute[], gg_compute_out[],
	gg_compute_end[], gg_fpu_compute[], gg_fpu_store[];

#define GG(label) KT_GADDR(gg, KT_CODE, label)

#define NREGS VM_REG_LAST

/* Segment values: selector, base, limit, access (consistent with G). */
static const uint64_t seg_vals[8][4] = {
	{ 0x10, 0x1000, 0x000fffff, 0x4093 }, /* ES */
	{ 0x08, 0, 0xffffffff, 0xa09b }, /* CS: 64-bit */
	{ 0x10, 0, 0xffffffff, 0xc093 }, /* SS */
	{ 0x2b, 0x2000, 0x0000ffff, 0x00f3 }, /* DS: DPL 3 */
	{ 0x33, 0xffff800012345000ULL, 0x12345fff, 0xc093 }, /* FS */
	{ 0x3b, 0x00007fff12340000ULL, 0x000fffff, 0x4093 }, /* GS */
	{ 0x40, 0x3000, 0xffff, 0x0082 }, /* LDTR */
	{ 0x48, 0xffffffff81234000ULL, 0x67, 0x008b }, /* TR: busy TSS */
};

/* A valid value for every register but the PDPTEs. */
static uint64_t test_value(int r)
{
	if (r <= VM_REG_GUEST_R15)
		return 0x0101010101010101ULL * (r + 1) ^ 0x8000000000000000ULL;
	if (r >= VM_REG_GUEST_ES && r <= VM_REG_GUEST_TR)
		return seg_vals[r - VM_REG_GUEST_ES][0];
	if (r >= VM_REG_GUEST_ES_BASE && r <= VM_REG_GUEST_TR_BASE)
		return seg_vals[r - VM_REG_GUEST_ES_BASE][1];
	if (r >= VM_REG_GUEST_ES_LIMIT && r <= VM_REG_GUEST_TR_LIMIT)
		return seg_vals[r - VM_REG_GUEST_ES_LIMIT][2];
	if (r >= VM_REG_GUEST_ES_ACCESS && r <= VM_REG_GUEST_TR_ACCESS)
		return seg_vals[r - VM_REG_GUEST_ES_ACCESS][3];
	if (r >= VM_REG_GUEST_ST0_LO && r <= VM_REG_GUEST_ST7_HI) {
		int n = (r - VM_REG_GUEST_ST0_LO) / 2;

		if ((r - VM_REG_GUEST_ST0_LO) % 2)
			return 0x3fff + n; /* sign and exponent */
		return 0x8000000000000000ULL | (0x1111111ULL * (n + 1));
	}
	if (r >= VM_REG_GUEST_XMM0_LO && r <= VM_REG_GUEST_XMM15_HI)
		return 0x0f0e0d0c0b0a0908ULL * (r - VM_REG_GUEST_XMM0_LO + 1);
	switch (r) {
	case VM_REG_GUEST_RIP:
		return KT_CODE + 0x123;
	case VM_REG_GUEST_RFLAGS:
		return 0x2c7; /* IF, SF, ZF, PF, CF */
	case VM_REG_GUEST_GDTR_BASE:
		return 0xffffffff80001000ULL;
	case VM_REG_GUEST_GDTR_LIMIT:
		return 0x3f;
	case VM_REG_GUEST_IDTR_BASE:
		return 0xffffffff80002000ULL;
	case VM_REG_GUEST_IDTR_LIMIT:
		return 0xfff;
	case VM_REG_GUEST_CR0:
		return 0x80050033; /* PG, AM, WP, NE, ET, MP, PE */
	case VM_REG_GUEST_CR2:
		return 0xdeadbeefcafe0000ULL;
	case VM_REG_GUEST_CR3:
		return 0x123000;
	case VM_REG_GUEST_CR4:
		return 0x6a0; /* OSXMMEXCPT, OSFXSR, PGE, PAE */
	case VM_REG_GUEST_CR8:
		return 5;
	case VM_REG_GUEST_EFER:
		return 0xd01; /* NXE, LMA, LME, SCE */
	case VM_REG_GUEST_KGS_BASE:
		return 0xffff888812345678ULL;
	case VM_REG_GUEST_APIC_BASE:
		return 0xfee00900; /* enabled, BSP */
	case VM_REG_GUEST_TSC:
		return 1ULL << 60;
	case VM_REG_GUEST_DR0:
		return 0x1000;
	case VM_REG_GUEST_DR1:
		return 0x2000;
	case VM_REG_GUEST_DR2:
		return 0xffffffff81000000ULL;
	case VM_REG_GUEST_DR3:
		return 0x7fff0000;
	case VM_REG_GUEST_DR6:
		return 0xffff4ff2; /* BS, B1 */
	case VM_REG_GUEST_DR7:
		return 0x0000040a; /* G0, G1 */
	case VM_REG_GUEST_FCW:
		return 0x027f;
	case VM_REG_GUEST_FSW:
		return 0x3800;
	case VM_REG_GUEST_FTW:
		return 0x81;
	case VM_REG_GUEST_FOP:
		return 0x0123;
	case VM_REG_GUEST_FIP:
		return 0x0000123456789abcULL;
	case VM_REG_GUEST_FDP:
		return 0x00000fedcba98765ULL;
	case VM_REG_GUEST_MXCSR:
		return 0x3fa1;
	case VM_REG_GUEST_INTR_SHADOW:
		return 1;
	}
	return 0;
}

/*
 * What the probes found about TSC writes on this KVM, measured on a bare
 * VM before the tests: KVM_GET_MSRS after KVM_SET_MSRS, and the guest's
 * rdtsc after it.  kvm_pvm does not virtualise the TSC; VMX and SVM do
 * (the TSC offset).
 */
struct tsc_probes {
	struct kp_result msr, guest;
};

/*
 * Does a TSC read continue from `set`?  Test values lie far above any
 * host's TSC, so a KVM that ignored the write cannot pass by coincidence.
 * Skipped only where the probe found the KVM ignores such a write.
 */
static void tsc_judge(uint64_t got, uint64_t set, const struct kp_result *p,
		      const char *what)
{
	if (p->verdict == KP_CANNOT) {
		tap_skip("%s: %s (probe)", what, p->why);
		return;
	}
	if (!ok(got >= set && got - set < 1ULL << 40,
		"%s continues from the value set", what))
		tap_diag("set %#llx, got %#llx", (unsigned long long)set,
			 (unsigned long long)got);
}

static void tsc_check(struct vcpu *v, uint64_t set, const struct kp_result *p,
		      const char *what)
{
	uint64_t val;

	if (vm_get_register(v, VM_REG_GUEST_TSC, &val) < 0)
		ok(0, "read TSC");
	else
		tsc_judge(val, set, p, what);
}

static bool is_pdpte(int r)
{
	return r >= VM_REG_GUEST_PDPTE0 && r <= VM_REG_GUEST_PDPTE3;
}

static void test_names(void)
{
	int unnamed = 0, dup = 0;

	for (int r = 0; r < NREGS; r++) {
		const char *n = vm_reg_name(r);

		if (!n || strcmp(n, "?") == 0) {
			tap_diag("register %d has no name", r);
			unnamed++;
			continue;
		}
		for (int q = 0; q < r; q++) {
			if (strcmp(n, vm_reg_name(q)) == 0) {
				tap_diag("%d and %d are both %s", q, r, n);
				dup++;
			}
		}
	}
	ok(unnamed == 0 && dup == 0, "all %d registers have distinct names",
	   NREGS);
	is_str(vm_reg_name(NREGS), "?", "VM_REG_LAST has no name");
}

static void test_roundtrip(const struct tsc_probes *tp)
{
	struct kt_vm *vm = kt_vm_create("regs-rt", KT_MEM_DEFAULT, 1);
	struct vcpu *v = vm->vcpu[0];
	int regs[NREGS], n = 0, bad = 0;
	uint64_t vals[NREGS], got[NREGS], val;

	for (int r = 0; r < NREGS; r++) {
		if (is_pdpte(r))
			continue;
		regs[n] = r;
		vals[n++] = test_value(r);
	}
	is_int(vm_set_register_set(v, n, regs, vals), 0,
	       "set %d registers in one call", n);
	memset(got, 0xa5, sizeof(got));
	is_int(vm_get_register_set(v, n, regs, got), 0,
	       "get them back in one call");
	for (int i = 0; i < n; i++) {
		/* Checked on their own below. */
		if (regs[i] == VM_REG_GUEST_TSC ||
		    regs[i] == VM_REG_GUEST_MXCSR)
			continue;
		if (got[i] != vals[i]) {
			tap_diag("%s: set %#llx, got %#llx",
				 vm_reg_name(regs[i]),
				 (unsigned long long)vals[i],
				 (unsigned long long)got[i]);
			bad++;
		}
	}
	is_int(bad, 0, "every register reads back as written (but TSC, MXCSR)");
	ok(vm_get_register(v, VM_REG_GUEST_MXCSR, &val) == 0 &&
		   val == test_value(VM_REG_GUEST_MXCSR),
	   "MXCSR round-trips");
	tsc_check(v, test_value(VM_REG_GUEST_TSC), &tp->msr, "TSC");

	/* One at a time. */
	bad = 0;
	for (int i = 0; i < n; i++) {
		if (regs[i] == VM_REG_GUEST_TSC ||
		    regs[i] == VM_REG_GUEST_MXCSR)
			continue;
		if (vm_get_register(v, regs[i], &val) < 0 || val != vals[i])
			bad++;
	}
	is_int(bad, 0, "vm_get_register agrees for each");
	is_int(vm_set_register(v, VM_REG_GUEST_R9, 0x99), 0,
	       "vm_set_register r9");
	ok(vm_get_register(v, VM_REG_GUEST_R9, &val) == 0 && val == 0x99,
	   "r9 reads back");
	ok(vm_get_register(v, VM_REG_GUEST_R8, &val) == 0 &&
		   val == test_value(VM_REG_GUEST_R8),
	   "r8 untouched");

	/* The PDPTEs: readable, never writable. */
	for (int r = VM_REG_GUEST_PDPTE0; r <= VM_REG_GUEST_PDPTE3; r++) {
		ok(vm_get_register(v, r, &val) == 0, "read %s", vm_reg_name(r));
		is_int(vm_set_register(v, r, 0x1001), -EPERM, "write %s: EPERM",
		       vm_reg_name(r));
	}
	{
		int rr[2] = { VM_REG_GUEST_RAX, VM_REG_GUEST_PDPTE2 };
		uint64_t vv[2] = { 0x4242, 0x1001 };

		is_int(vm_set_register_set(v, 2, rr, vv), -EPERM,
		       "a set with a PDPTE in it: EPERM");
		ok(vm_get_register(v, VM_REG_GUEST_RAX, &val) == 0 &&
			   val == test_value(VM_REG_GUEST_RAX),
		   "and it wrote nothing (rax unchanged)");
		rr[1] = NREGS;
		is_int(vm_set_register_set(v, 2, rr, vv), -EINVAL,
		       "a set with an unknown register: EINVAL");
		rr[1] = -1;
		is_int(vm_get_register_set(v, 2, rr, vv), -EINVAL,
		       "a get with register -1: EINVAL");
	}
	is_int(vm_get_register(v, NREGS, &val), -EINVAL,
	       "get VM_REG_LAST: EINVAL");
	is_int(vm_get_register_set(v, VM_REGSET_MAX + 1, regs, got), -E2BIG,
	       "more than VM_REGSET_MAX registers: E2BIG");
	kt_vm_destroy(vm);
}

static uint64_t data64(struct kt_vm *vm, unsigned off)
{
	uint64_t v;

	memcpy(&v, kt_gpa(vm, KT_DATA + off), 8);
	return v;
}

/* Registers written by the test, as the guest sees them. */
static void test_guest_sees(struct kt_vm *vm, struct vcpu *v,
			    const struct tsc_probes *tp)
{
	static const int gpr[16] = {
		VM_REG_GUEST_RAX, VM_REG_GUEST_RBX, VM_REG_GUEST_RCX,
		VM_REG_GUEST_RDX, VM_REG_GUEST_RSI, VM_REG_GUEST_RDI,
		VM_REG_GUEST_RBP, VM_REG_GUEST_RSP, VM_REG_GUEST_R8,
		VM_REG_GUEST_R9,  VM_REG_GUEST_R10, VM_REG_GUEST_R11,
		VM_REG_GUEST_R12, VM_REG_GUEST_R13, VM_REG_GUEST_R14,
		VM_REG_GUEST_R15,
	};
	int regs[32], n = 0, bad = 0;
	uint64_t vals[32], tsc = (1ULL << 60) + (1ULL << 50);

	for (int i = 0; i < 16; i++) {
		regs[n] = gpr[i];
		vals[n++] = gpr[i] == VM_REG_GUEST_RSP ?
				    KT_STACK_TOP - 0x88 :
				    0x1000000000000001ULL * (i + 3);
	}
	regs[n] = VM_REG_GUEST_RFLAGS, vals[n++] = 0x2 | 0x1 | 0x80 | 0x400;
	regs[n] = VM_REG_GUEST_CR2, vals[n++] = 0xfffff00000001234ULL;
	regs[n] = VM_REG_GUEST_DR1, vals[n++] = 0x00007fff00005678ULL;
	regs[n] = VM_REG_GUEST_KGS_BASE, vals[n++] = 0xffffc90000001000ULL;
	regs[n] = VM_REG_GUEST_FS_BASE, vals[n++] = KT_DATA + 0x800;
	regs[n] = VM_REG_GUEST_GS_BASE, vals[n++] = 0xffffc90000002000ULL;
	regs[n] = VM_REG_GUEST_TSC, vals[n++] = tsc;
	regs[n] = VM_REG_GUEST_CR8, vals[n++] = 0xb;
	regs[n] = VM_REG_GUEST_GDTR_LIMIT, vals[n++] = 0x2f;
	regs[n] = VM_REG_GUEST_IDTR_LIMIT, vals[n++] = 0x3ff;
	regs[n] = VM_REG_GUEST_RIP, vals[n++] = GG(gg_store);
	memcpy(kt_gpa(vm, KT_DATA + 0x800), "fs-based", 8);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, 0);
	if (vm_set_register_set(v, n, regs, vals) < 0)
		tap_bail("set registers");
	ok(kt_run_out(v, KT_PORT_OUT, NULL) == 0, "the guest stored them");
	for (int i = 0; i < 16; i++) {
		if (data64(vm, 8 * i) != vals[i]) {
			tap_diag("%s: set %#llx, guest saw %#llx",
				 vm_reg_name(gpr[i]),
				 (unsigned long long)vals[i],
				 (unsigned long long)data64(vm, 8 * i));
			bad++;
		}
	}
	is_int(bad, 0, "the guest sees the 16 general registers set");
	is_hex(data64(vm, 0x80) & 0xcd5, 0x481,
	       "the guest sees rflags set (DF, SF, CF)");
	is_hex(data64(vm, 0x88), vals[17], "the guest sees cr2");
	is_hex(data64(vm, 0x90), vals[18], "the guest sees dr1");
	is_hex(data64(vm, 0x98), vals[19], "the guest reads KGS_BASE (rdmsr)");
	is_hex(data64(vm, 0xa0), vals[20], "the guest reads FS_BASE (rdmsr)");
	is_hex(data64(vm, 0xa8), vals[21], "the guest reads GS_BASE (rdmsr)");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0xb0), "fs-based", 8) == 0,
	   "fs:0 reads at the FS base set");
	tsc_judge(data64(vm, 0xb8), tsc, &tp->guest, "the guest's rdtsc");
	is_int(data64(vm, 0xc0), 0xb, "the guest sees cr8");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0xc8), "\x2f\x00", 2) == 0 &&
		   data64(vm, 0xca) == KT_GDT,
	   "sgdt: the GDTR set");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0xd8), "\xff\x03", 2) == 0 &&
		   data64(vm, 0xda) == KT_IDT64,
	   "sidt: the IDTR set");
}

/* Registers the guest computed, as the test reads them. */
static void test_guest_computes(struct vcpu *v)
{
	static const struct {
		int reg;
		uint64_t val;
	} want[] = {
		{ VM_REG_GUEST_RAX, 0x0123456789abcdefULL },
		{ VM_REG_GUEST_RBX, 0x0123456789abcdf0ULL },
		{ VM_REG_GUEST_RCX, ~0x0123456789abcdefULL },
		{ VM_REG_GUEST_RDX, 0xefcdab8967452301ULL },
		{ VM_REG_GUEST_RSI, 0x00123456789abcdeULL },
		{ VM_REG_GUEST_RDI, 0x123456789abcdef0ULL },
		{ VM_REG_GUEST_RBP, 0x0123456789abcdefULL * 3 },
		{ VM_REG_GUEST_RSP, 0x7ff00 },
		{ VM_REG_GUEST_R8, -0x0123456789abcdefULL },
		{ VM_REG_GUEST_R9, 0x23456789abcdef01ULL },
		{ VM_REG_GUEST_R10, 0xef0123456789abcdULL },
		{ VM_REG_GUEST_R11, 0x89abcdefULL },
		{ VM_REG_GUEST_R12,
		  0x0123456789abcdefULL ^ 0x0123456789abcdf0ULL },
		{ VM_REG_GUEST_R13, 0xdef },
		{ VM_REG_GUEST_R14, 0x0123456789abcdeeULL },
		{ VM_REG_GUEST_R15,
		  0x0123456789abcdefULL + 0x0123456789abcdf0ULL },
		{ VM_REG_GUEST_FS, KT_SEL_DATA },
		{ VM_REG_GUEST_FS_BASE, 0xffff800012345000ULL },
		{ VM_REG_GUEST_KGS_BASE, 0xffff9999abcde000ULL },
		{ VM_REG_GUEST_CR8, 9 },
		{ VM_REG_GUEST_CR2, 0xffffffff8badf00dULL },
		{ VM_REG_GUEST_DR0, 0x1000 },
		{ VM_REG_GUEST_DR3, 0x2000 },
		{ VM_REG_GUEST_GDTR_BASE, KT_GDT },
		{ VM_REG_GUEST_GDTR_LIMIT, 6 * 8 - 1 },
		{ VM_REG_GUEST_IDTR_BASE, KT_IDT64 },
		{ VM_REG_GUEST_IDTR_LIMIT, 0x7ff },
	};
	enum { N = sizeof(want) / sizeof(want[0]) };
	int regs[N + 2], bad = 0;
	uint64_t got[N + 2];

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GG(gg_compute));
	ok(kt_run_out(v, KT_PORT_OUT, NULL) == 0, "the guest computed");
	for (int i = 0; i < N; i++)
		regs[i] = want[i].reg;
	regs[N] = VM_REG_GUEST_RFLAGS;
	regs[N + 1] = VM_REG_GUEST_RIP;
	if (vm_get_register_set(v, N + 2, regs, got) < 0)
		tap_bail("get registers");
	for (int i = 0; i < N; i++) {
		if (got[i] != want[i].val) {
			tap_diag("%s: guest computed %#llx, read %#llx",
				 vm_reg_name(want[i].reg),
				 (unsigned long long)want[i].val,
				 (unsigned long long)got[i]);
			bad++;
		}
	}
	is_int(bad, 0, "%d registers hold what the guest computed", N);
	is_hex(got[N] & 0x401, 0x401, "rflags: DF and CF as the guest set");
	ok(got[N + 1] == GG(gg_compute_out) || got[N + 1] == GG(gg_compute_end),
	   "rip at the out or after it");
}

/* x87 and SSE state, at CPL 3, both ways. */
static void test_fpu(struct kt_vm *vm, struct vcpu *v)
{
	int regs[12] = {
		VM_REG_GUEST_ST0_LO,	  VM_REG_GUEST_STn_HI(0),
		VM_REG_GUEST_STn_LO(1),	  VM_REG_GUEST_STn_HI(1),
		VM_REG_GUEST_XMM0_LO,	  VM_REG_GUEST_XMM0_HI,
		VM_REG_GUEST_XMMn_LO(15), VM_REG_GUEST_XMM15_HI,
		VM_REG_GUEST_MXCSR,	  VM_REG_GUEST_FCW,
		VM_REG_GUEST_FSW,	  VM_REG_GUEST_FTW,
	};
	static const uint64_t want[12] = {
		0xc90fdaa22168c235ULL,
		0x4000, /* pi */
		0x8000000000000000ULL,
		0x3fff, /* 1.0 */
		0x1122334455667788ULL,
		0, /* movq zeroes the high half */
		~0ULL,
		~0ULL, /* pcmpeqd */
		0x3f80,
		0x037f, /* fninit's control word */
		0x3000,
		/* TOP = 6 */ 0xc0, /* physical registers 6, 7 */
	};
	uint64_t got[12], set[8];
	int setregs[8] = {
		VM_REG_GUEST_XMMn_LO(3),  VM_REG_GUEST_XMMn_HI(3),
		VM_REG_GUEST_XMMn_LO(12), VM_REG_GUEST_XMMn_HI(12),
		VM_REG_GUEST_MXCSR,	  VM_REG_GUEST_FCW,
		VM_REG_GUEST_ST0_LO,	  VM_REG_GUEST_STn_HI(0),
	};
	int bad = 0;

	kt_vcpu_set_mode(v, KT_MODE_USER64, GG(gg_fpu_compute));
	ok(kt_run_out(v, KT_PORT_OUT, NULL) == 0,
	   "the guest computed x87 and SSE values at CPL 3");
	if (vm_get_register_set(v, 12, regs, got) < 0)
		tap_bail("get registers");
	for (int i = 0; i < 12; i++) {
		if (regs[i] != VM_REG_GUEST_MXCSR && got[i] != want[i]) {
			tap_diag("%s: guest computed %#llx, read %#llx",
				 vm_reg_name(regs[i]),
				 (unsigned long long)want[i],
				 (unsigned long long)got[i]);
			bad++;
		}
	}
	is_int(bad, 0, "ST0, ST1, XMM0, XMM15, FCW, FSW, FTW");
	is_hex(got[8], 0x3f80, "MXCSR holds what the guest loaded");

	set[0] = 0x0706050403020100ULL;
	set[1] = 0x0f0e0d0c0b0a0908ULL;
	set[2] = 0xfedcba9876543210ULL;
	set[3] = 0x0123456789abcdefULL;
	set[4] = 0x1fa0;
	set[5] = 0x0f7f; /* round toward zero, extended precision */
	set[6] = 0xa000000000000000ULL; /* -1.25 */
	set[7] = 0xbfff;
	if (vm_set_register_set(v, 8, setregs, set) < 0)
		tap_bail("set registers");
	ok(kt_run_out(v, KT_PORT_OUT, NULL) == 0, "the guest stored them");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0x100), &set[0], 16) == 0,
	   "the guest sees XMM3 set");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0x110), &set[2], 16) == 0,
	   "the guest sees XMM12 set");
	is_hex(*(uint32_t *)kt_gpa(vm, KT_DATA + 0x120), 0x1fa0,
	       "the guest sees MXCSR set");
	is_hex(*(uint16_t *)kt_gpa(vm, KT_DATA + 0x128), 0x0f7f,
	       "the guest sees FCW set");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0x130), &set[6], 8) == 0 &&
		   *(uint16_t *)kt_gpa(vm, KT_DATA + 0x138) == 0xbfff,
	   "the guest sees ST0 set (-1.25)");
	ok(memcmp(kt_gpa(vm, KT_DATA + 0x140), &want[2], 8) == 0 &&
		   *(uint16_t *)kt_gpa(vm, KT_DATA + 0x148) == 0x3fff,
	   "ST1 kept the guest's 1.0");
}

int main(void)
{
	struct tsc_probes tp;
	struct kt_vm *vm;

	kt_require_kvm();
	kp_probe("tsc-msr", &tp.msr);
	kp_probe("tsc-guest", &tp.guest);
	test_names();
	test_roundtrip(&tp);
	vm = kt_vm_create("regs", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, gg, gg_end);
	test_guest_sees(vm, vm->vcpu[0], &tp);
	test_guest_computes(vm->vcpu[0]);
	test_fpu(vm, vm->vcpu[0]);
	kt_vm_destroy(vm);
	return tap_done();
}
