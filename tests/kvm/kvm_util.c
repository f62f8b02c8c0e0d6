/*
 * kvm_util.c: common set-up for the tests in tests/kvm/ (see kvm_util.h).
 *
 * Threads: kt_run() and friends may be called from any thread, one per
 * vCPU; each call arms its own timer, aimed at the calling thread, so the
 * watchdog of one vCPU thread never interrupts another.  Everything else
 * is called by the test's main thread.  No mutable state outside the
 * caller's structs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/x86_bits.h"
#include "tests/tap.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Interrupts KVM_RUN when a watchdog expires: the one after libvmmapi's. */
#define KT_TICK_SIGNAL (vm_kick_signal() + 1)
/* After the deadline, the tick repeats in case one lands outside KVM_RUN. */
#define KT_TICK_REPEAT_MS 20

#define PG_P 0x1ULL
#define PG_RW 0x2ULL
#define PG_US 0x4ULL
#define PG_PS 0x80ULL

/*
 * The runtime.  At KT_START_AP the AP start-up routine; then the common
 * exception handlers; from +0x1000 the 64-bit stubs, from +0x2000 the
 * 32-bit stubs, 16 bytes each.  A stub pushes a 0 in place of an error
 * code for vectors without one, then its vector.
 */
#define KT_RT_STUBS64 (KT_RT + 0x1000)
#define KT_RT_STUBS32 (KT_RT + 0x2000)

/* Vectors for which the CPU pushes an error code. */
#define KT_HAS_ERRCODE(v)                                                  \
	"(" v " == 8 || (" v " >= 10 && " v " <= 14) || " v " == 17 || " v \
	" == 21 || " v " == 29 || " v " == 30)"

/* clang-format off */
asm(KT_GUEST_BEGIN(kt_rt, KT_RT)
    ".code64\n"
    /* KT_START_AP: edi = APIC ID, esi = start-up vector. */
    "kt_rt_start_ap:\n"
    "	mov $0xfee00000, %edx\n"
    "	mov 0xf0(%rdx), %eax\n"
    "	or $0x1ff, %eax\n" /* SVR: enable, spurious vector 0xff */
    "	mov %eax, 0xf0(%rdx)\n"
    "	mov %edi, %eax\n"
    "	shl $24, %eax\n"
    "	mov %eax, 0x310(%rdx)\n" /* ICR high: destination */
    "	movl $0x4500, 0x300(%rdx)\n" /* INIT, assert */
    "	call 1f\n"
    "	mov %esi, %eax\n"
    "	or $0x4600, %eax\n" /* start-up */
    "	mov %eax, 0x300(%rdx)\n"
    "	call 1f\n"
    "	mov %eax, 0x300(%rdx)\n"
    "	call 1f\n"
    "	ret\n"
    "1:	testl $0x1000, 0x300(%rdx)\n" /* delivery pending */
    "	jnz 1b\n"
    "	ret\n"

    ".org 0x100\n"
    "kt_rt_common64:\n"
    "	push %rax\n"
    "	push %rdx\n"
    "	mov 16(%rsp), %rax\n"
    "	mov %rax, " KT_STR(KT_EXC) "\n"
    "	mov 24(%rsp), %rax\n"
    "	mov %rax, " KT_STR(KT_EXC) " + 8\n"
    "	mov 32(%rsp), %rax\n"
    "	mov %rax, " KT_STR(KT_EXC) " + 16\n"
    "	mov %cr2, %rax\n"
    "	mov %rax, " KT_STR(KT_EXC) " + 24\n"
    "	incq " KT_STR(KT_EXC) " + 32\n"
    "	testb $1, " KT_STR(KT_EXC) " + 40\n"
    "	jz 1f\n"
    "	mov $0x20, %al\n"
    "	out %al, $0x20\n"
    "1:	testb $2, " KT_STR(KT_EXC) " + 40\n"
    "	jz 2f\n"
    "	mov $0xfee000b0, %edx\n"
    "	movl $0, (%rdx)\n"
    "2:	mov 16(%rsp), %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_EXC) "\n"
    "	pop %rdx\n"
    "	pop %rax\n"
    "	add $16, %rsp\n"
    "	iretq\n"

    ".org 0x200\n"
    ".code32\n"
    "kt_rt_common32:\n"
    "	push %eax\n"
    "	push %edx\n"
    "	mov 8(%esp), %eax\n"
    "	mov %eax, " KT_STR(KT_EXC) "\n"
    "	movl $0, " KT_STR(KT_EXC) " + 4\n"
    "	mov 12(%esp), %eax\n"
    "	mov %eax, " KT_STR(KT_EXC) " + 8\n"
    "	movl $0, " KT_STR(KT_EXC) " + 12\n"
    "	mov 16(%esp), %eax\n"
    "	mov %eax, " KT_STR(KT_EXC) " + 16\n"
    "	movl $0, " KT_STR(KT_EXC) " + 20\n"
    "	mov %cr2, %eax\n"
    "	mov %eax, " KT_STR(KT_EXC) " + 24\n"
    "	movl $0, " KT_STR(KT_EXC) " + 28\n"
    "	addl $1, " KT_STR(KT_EXC) " + 32\n"
    "	adcl $0, " KT_STR(KT_EXC) " + 36\n"
    "	testb $1, " KT_STR(KT_EXC) " + 40\n"
    "	jz 1f\n"
    "	mov $0x20, %al\n"
    "	out %al, $0x20\n"
    "1:	testb $2, " KT_STR(KT_EXC) " + 40\n"
    "	jz 2f\n"
    "	movl $0, 0xfee000b0\n"
    "2:	mov 8(%esp), %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_EXC) "\n"
    "	pop %edx\n"
    "	pop %eax\n"
    "	add $8, %esp\n"
    /*
     * Not iret: some KVM emulators (this host's) cannot emulate it in
     * protected mode.  Our 32-bit tests run with interrupts off, so a
     * near return that drops CS and EFLAGS does as well.
     */
    "	ret $8\n"

    ".org 0x1000\n"
    ".code64\n"
    ".set kt_v, 0\n"
    ".rept 256\n"
    ".balign 16\n"
    ".if !" KT_HAS_ERRCODE("kt_v") "\n"
    "	pushq $0\n"
    ".endif\n"
    "	pushq $kt_v\n"
    "	jmp kt_rt_common64\n"
    ".set kt_v, kt_v + 1\n"
    ".endr\n"

    ".org 0x2000\n"
    ".code32\n"
    ".set kt_v, 0\n"
    ".rept 256\n"
    ".balign 16\n"
    ".if !" KT_HAS_ERRCODE("kt_v") "\n"
    "	push $0\n"
    ".endif\n"
    "	push $kt_v\n"
    "	jmp kt_rt_common32\n"
    ".set kt_v, kt_v + 1\n"
    ".endr\n"
    KT_GUEST_END(kt_rt));
/* clang-format on */
KT_GUEST_DECLARE(kt_rt);

static void tick_handler(int sig)
{
	(void)sig;
}

void kt_require_kvm(void)
{
	struct sigaction sa = { .sa_handler = tick_handler };
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		tap_skip_all("/dev/kvm not available: %s", strerror(errno));
	close(fd);
	sigemptyset(&sa.sa_mask);
	if (sigaction(KT_TICK_SIGNAL, &sa, NULL) < 0)
		tap_bail("sigaction: %s", strerror(errno));
}

uint64_t kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

void kt_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void kt_name(char *buf, size_t len, const char *tag)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, len, "kt-%s-%d-%llx", tag, (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
}

void *kt_gpa(struct kt_vm *vm, uint64_t gpa)
{
	if (gpa >= vm->lowmem)
		tap_bail("guest address %#" PRIx64 " outside low memory", gpa);
	return vm->mem + gpa;
}

void kt_load(struct kt_vm *vm, uint64_t gpa, const void *start, const void *end)
{
	size_t n = (const uint8_t *)end - (const uint8_t *)start;

	if (gpa > vm->lowmem || n > vm->lowmem - gpa)
		tap_bail("%zu bytes at %#" PRIx64 " do not fit", n, gpa);
	memcpy(vm->mem + gpa, start, n);
}

uint64_t kt_peek64(struct kt_vm *vm, uint64_t gpa)
{
	return __atomic_load_n((uint64_t *)kt_gpa(vm, gpa), __ATOMIC_SEQ_CST);
}

void kt_poke64(struct kt_vm *vm, uint64_t gpa, uint64_t val)
{
	__atomic_store_n((uint64_t *)kt_gpa(vm, gpa), val, __ATOMIC_SEQ_CST);
}

struct kt_exc kt_exc_get(struct kt_vm *vm)
{
	const uint64_t *src = kt_gpa(vm, KT_EXC);
	struct kt_exc e;
	uint64_t *dst = (uint64_t *)&e;

	/* Written by a vCPU, maybe still running: one atomic load a field. */
	for (size_t i = 0; i < sizeof(e) / sizeof(*dst); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_SEQ_CST);
	return e;
}

void kt_exc_reset(struct kt_vm *vm)
{
	memset(kt_gpa(vm, KT_EXC), 0, sizeof(struct kt_exc));
}

static void put64(struct kt_vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(kt_gpa(vm, gpa), &v, 8);
}

void kt_mem_init(struct kt_vm *vm)
{
	static const uint64_t gdt[] = {
		0,
		0x00af9b000000ffffULL, /* 0x08 code64 */
		0x00cf93000000ffffULL, /* 0x10 data */
		0x00cf9b000000ffffULL, /* 0x18 code32 */
		0x00affb000000ffffULL, /* 0x20 user code64 */
		0x00cff3000000ffffULL, /* 0x28 user data */
	};

	memcpy(kt_gpa(vm, KT_GDT), gdt, sizeof(gdt));
	for (int v = 0; v < 256; v++) {
		uint64_t h64 = KT_RT_STUBS64 + 16 * v;
		uint64_t h32 = KT_RT_STUBS32 + 16 * v;

		/* Interrupt gates, DPL 0. */
		put64(vm, KT_IDT64 + 16 * v,
		      (h64 & 0xffff) | (uint64_t)KT_SEL_CODE64 << 16 |
			      0x8eULL << 40 | (h64 >> 16 & 0xffff) << 48);
		put64(vm, KT_IDT64 + 16 * v + 8, h64 >> 32);
		put64(vm, KT_IDT32 + 8 * v,
		      (h32 & 0xffff) | (uint64_t)KT_SEL_CODE32 << 16 |
			      0x8eULL << 40 | (h32 >> 16 & 0xffff) << 48);
	}
	/* PML4 -> PDPT -> 8 PDs of 2 MiB pages, user-accessible. */
	put64(vm, KT_PGT, (KT_PGT + 0x1000) | PG_P | PG_RW | PG_US);
	for (int i = 0; i < 8; i++) {
		uint64_t pd = KT_PGT + 0x2000 + 0x1000 * i;

		put64(vm, KT_PGT + 0x1000 + 8 * i, pd | PG_P | PG_RW | PG_US);
		for (int j = 0; j < 512; j++)
			put64(vm, pd + 8 * j,
			      ((uint64_t)i << 30 | (uint64_t)j << 21) | PG_P |
				      PG_RW | PG_US | PG_PS);
	}
	kt_load(vm, KT_RT, kt_rt, kt_rt_end);
	kt_exc_reset(vm);
}

struct kt_vm *kt_vm_create(const char *tag, size_t memsize, int ncpus)
{
	struct kt_vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		tap_bail("out of memory");
	if (ncpus < 1 || ncpus > KT_MAXCPUS)
		tap_bail("%d vCPUs", ncpus);
	kt_name(vm->name, sizeof(vm->name), tag);
	vm->ctx = vm_create(vm->name);
	if (!vm->ctx)
		tap_bail("vm_create(%s): %s", vm->name, strerror(errno));
	if (ncpus > 1 && (r = vm_set_topology(vm->ctx, 1, ncpus, 1, ncpus)))
		tap_bail("vm_set_topology: %s", strerror(-r));
	if ((r = vm_setup_memory(vm->ctx, memsize)) < 0)
		tap_bail("vm_setup_memory: %s", strerror(-r));
	vm->lowmem = vm_get_lowmem_size(vm->ctx);
	vm->mem = vm_map_gpa(vm->ctx, 0, vm->lowmem);
	if (!vm->mem)
		tap_bail("vm_map_gpa: %s", strerror(errno));
	vm->ncpus = ncpus;
	for (int i = 0; i < ncpus; i++) {
		vm->vcpu[i] = vm_vcpu_open(vm->ctx, i);
		if (!vm->vcpu[i])
			tap_bail("vm_vcpu_open: %s", strerror(errno));
		if ((r = vm_activate_cpu(vm->vcpu[i])) < 0)
			tap_bail("vm_activate_cpu: %s", strerror(-r));
	}
	kt_mem_init(vm);
	return vm;
}

void kt_vm_destroy(struct kt_vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; i < vm->ncpus; i++)
		vm_vcpu_close(vm->vcpu[i]);
	vm_destroy(vm->ctx);
	free(vm);
}

/* Segment access rights, VMX layout. */
#define AR_CODE64 0xa09b /* G, L, P, S, execute/read accessed */
#define AR_CODE32 0xc09b /* G, D, P, S, execute/read accessed */
#define AR_DATA32 0xc093 /* G, B, P, S, read/write accessed */
#define AR_UCODE64 0xa0fb
#define AR_UDATA32 0xc0f3
#define AR_CODE16 0x9b
#define AR_DATA16 0x93

int kt_vcpu_set_mode(struct vcpu *v, enum kt_mode mode, uint64_t rip)
{
	int regs[64];
	uint64_t vals[64];
	unsigned n = 0;
	uint64_t cs_sel, cs_base = 0, cs_limit = 0xffffffff, cs_ar;
	uint64_t ds_sel, ds_limit = 0xffffffff, ds_ar;
	uint64_t cr0, cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT, efer = 0, cr3 = 0;
	uint64_t idt = KT_IDT64, idt_limit = 256 * 16 - 1;
	uint64_t rflags = 0x2;

#define SET(r, val)                \
	do {                       \
		regs[n] = (r);     \
		vals[n++] = (val); \
	} while (0)

	switch (mode) {
	case KT_MODE_REAL:
		cs_sel = (rip >> 4) & 0xf000;
		cs_base = cs_sel << 4;
		rip -= cs_base;
		cs_limit = ds_limit = 0xffff;
		cs_ar = AR_CODE16;
		ds_sel = 0;
		ds_ar = AR_DATA16;
		cr0 = CR0_ET | CR0_NE;
		idt = 0;
		idt_limit = 0x3ff;
		break;
	case KT_MODE_PROT32:
		cs_sel = KT_SEL_CODE32;
		cs_ar = AR_CODE32;
		ds_sel = KT_SEL_DATA;
		ds_ar = AR_DATA32;
		cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
		idt = KT_IDT32;
		idt_limit = 256 * 8 - 1;
		break;
	case KT_MODE_LONG64:
	case KT_MODE_USER64:
		cs_sel =
			mode == KT_MODE_LONG64 ? KT_SEL_CODE64 : KT_SEL_UCODE64;
		cs_ar = mode == KT_MODE_LONG64 ? AR_CODE64 : AR_UCODE64;
		ds_sel = mode == KT_MODE_LONG64 ? KT_SEL_DATA : KT_SEL_UDATA;
		ds_ar = mode == KT_MODE_LONG64 ? AR_DATA32 : AR_UDATA32;
		cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		cr3 = KT_PGT;
		cr4 |= CR4_PAE;
		efer = EFER_LME | EFER_LMA;
		if (mode == KT_MODE_USER64)
			rflags |= 3 << 12; /* IOPL 3 */
		break;
	default:
		return -EINVAL;
	}
	SET(VM_REG_GUEST_CR0, cr0);
	SET(VM_REG_GUEST_CR3, cr3);
	SET(VM_REG_GUEST_CR4, cr4);
	SET(VM_REG_GUEST_EFER, efer);
	SET(VM_REG_GUEST_GDTR_BASE, KT_GDT);
	SET(VM_REG_GUEST_GDTR_LIMIT, 6 * 8 - 1);
	SET(VM_REG_GUEST_IDTR_BASE, idt);
	SET(VM_REG_GUEST_IDTR_LIMIT, idt_limit);
	SET(VM_REG_GUEST_CS, cs_sel);
	SET(VM_REG_GUEST_CS_BASE, cs_base);
	SET(VM_REG_GUEST_CS_LIMIT, cs_limit);
	SET(VM_REG_GUEST_CS_ACCESS, cs_ar);
	for (int s = VM_REG_GUEST_ES; s <= VM_REG_GUEST_GS; s++) {
		if (s == VM_REG_GUEST_CS)
			continue;
		SET(s, ds_sel);
		SET(s - VM_REG_GUEST_ES + VM_REG_GUEST_ES_BASE, 0);
		SET(s - VM_REG_GUEST_ES + VM_REG_GUEST_ES_LIMIT, ds_limit);
		SET(s - VM_REG_GUEST_ES + VM_REG_GUEST_ES_ACCESS, ds_ar);
	}
	SET(VM_REG_GUEST_RIP, rip);
	SET(VM_REG_GUEST_RSP, KT_STACK_TOP);
	SET(VM_REG_GUEST_RFLAGS, rflags);
#undef SET
	return vm_set_register_set(v, n, regs, vals);
}

const char *kt_exit_str(const struct vm_exit *e, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s rip %#" PRIx64,
			 vm_exitcode_name(e->exitcode), e->rip);

	if (n < 0 || (size_t)n >= len)
		return buf;
	switch (e->exitcode) {
	case VM_EXITCODE_INOUT: {
		uint32_t v = 0;

		memcpy(&v, e->u.inout.data, e->u.inout.bytes);
		snprintf(buf + n, len - n,
			 ": %s port %#x bytes %d count %u value %#x",
			 e->u.inout.in ? "in" : "out", e->u.inout.port,
			 e->u.inout.bytes, e->u.inout.count, v);
		break;
	}
	case VM_EXITCODE_MMIO:
		snprintf(buf + n, len - n, ": %s gpa %#" PRIx64 " bytes %d",
			 e->u.mmio.write ? "write" : "read", e->u.mmio.gpa,
			 e->u.mmio.bytes);
		break;
	case VM_EXITCODE_SUSPENDED:
		snprintf(buf + n, len - n, ": %s by vCPU %d",
			 vm_suspend_name(e->u.suspended.how),
			 e->u.suspended.cpuid);
		break;
	case VM_EXITCODE_INST_EMUL:
		snprintf(buf + n, len - n,
			 ": suberror %u, %d bytes %02x %02x %02x %02x",
			 e->u.inst_emul.suberror, e->u.inst_emul.inst_len,
			 e->u.inst_emul.inst[0], e->u.inst_emul.inst[1],
			 e->u.inst_emul.inst[2], e->u.inst_emul.inst[3]);
		break;
	case VM_EXITCODE_HWBP:
		snprintf(buf + n, len - n, ": dr6 %#" PRIx64, e->u.hwbp.dr6);
		break;
	case VM_EXITCODE_UNHANDLED:
		snprintf(buf + n, len - n, ": KVM exit %u",
			 e->u.unhandled.kvm_reason);
		break;
	default:
		break;
	}
	return buf;
}

int kt_run_timeout(struct vcpu *v, struct vm_exit *e, int ms)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = KT_TICK_SIGNAL,
	};
	struct itimerspec its = {
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
		.it_interval = { 0, KT_TICK_REPEAT_MS * 1000000L },
	};
	uint64_t deadline = kt_now_ms() + ms;
	timer_t t;
	int r;

	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0)
		return -errno;
	if (timer_settime(t, 0, &its, NULL) < 0) {
		r = -errno;
		timer_delete(t);
		return r;
	}
	for (;;) {
		r = vm_run(v, e);
		if (r < 0 || e->exitcode != VM_EXITCODE_BOGUS)
			break;
		if (kt_now_ms() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
	}
	timer_delete(t);
	return r;
}

int kt_run(struct vcpu *v, struct vm_exit *e)
{
	return kt_run_timeout(v, e, KT_RUN_MS);
}

int kt_run_out(struct vcpu *v, uint16_t port, uint32_t *val)
{
	struct vm_exit e;
	char buf[160];
	int r = kt_run(v, &e);

	if (r < 0) {
		tap_diag("vCPU %d: run: %s", vcpu_id(v), strerror(-r));
		return -EPROTO;
	}
	if (e.exitcode != VM_EXITCODE_INOUT || e.u.inout.in ||
	    e.u.inout.port != port) {
		tap_diag("vCPU %d: expected out to %#x, got %s", vcpu_id(v),
			 port, kt_exit_str(&e, buf, sizeof(buf)));
		return -EPROTO;
	}
	if (val) {
		*val = 0;
		memcpy(val, e.u.inout.data, e.u.inout.bytes);
	}
	return 0;
}

int kt_stat_index(struct vmctx *ctx, const char *name)
{
	char buf[VM_STAT_NAME_MAX];

	for (int i = 0; vm_get_stat_desc(ctx, i, buf, sizeof(buf)) == 0; i++) {
		if (strcmp(buf, name) == 0)
			return i;
	}
	return -1;
}

uint64_t kt_stat(struct vcpu *v, int index)
{
	uint64_t buf[1024];
	int n, r;

	if (index < 0 || index >= 1024)
		tap_bail("statistic %d", index);
	if ((r = vm_get_stats(v, buf, 1024, &n)) < 0)
		tap_bail("vm_get_stats: %s", strerror(-r));
	if (index >= n)
		tap_bail("statistic %d of %d", index, n);
	return buf[index];
}

struct kt_runner {
	struct vcpu *vcpu;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Guarded by lock. */
	bool have; /* exit holds an exit not yet released by go */
	struct vm_exit exit;
	int err; /* the run's error, when ended */
	bool ended; /* the thread is done */
	bool go; /* the main thread released the exit */
	bool quit; /* the main thread wants the thread to end */
};

static void *runner_main(void *arg)
{
	struct kt_runner *r = arg;
	struct vm_exit e;
	int err;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		if (r->quit) {
			r->ended = true;
			pthread_cond_broadcast(&r->cond);
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);
		err = kt_run_timeout(r->vcpu, &e, KT_RUNNER_MS);
		pthread_mutex_lock(&r->lock);
		r->exit = e;
		r->err = err;
		r->have = true;
		r->go = false;
		if (err < 0 || e.exitcode == VM_EXITCODE_SUSPENDED)
			r->ended = true;
		pthread_cond_broadcast(&r->cond);
		while (!r->ended && !r->go && !r->quit)
			pthread_cond_wait(&r->cond, &r->lock);
		r->have = false;
		if (r->ended) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

struct kt_runner *kt_runner_start(struct vcpu *v)
{
	struct kt_runner *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		tap_bail("out of memory");
	r->vcpu = v;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if ((e = pthread_create(&r->thread, NULL, runner_main, r)) != 0)
		tap_bail("pthread_create: %s", strerror(e));
	return r;
}

int kt_runner_wait(struct kt_runner *r, struct vm_exit *e, int ms)
{
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->have && !r->ended && ret == 0)
		ret = pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	if (r->have || r->ended) {
		*e = r->exit;
		ret = r->err;
	} else {
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void kt_runner_go(struct kt_runner *r)
{
	pthread_mutex_lock(&r->lock);
	if (r->have) {
		r->go = true;
		r->have = false;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

bool kt_runner_running(struct kt_runner *r)
{
	bool running;

	pthread_mutex_lock(&r->lock);
	running = !r->have && !r->ended;
	pthread_mutex_unlock(&r->lock);
	return running;
}

void kt_runner_stop(struct kt_runner *r)
{
	bool ended;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->quit = true;
	ended = r->ended;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	/* A thread inside VM_RUN is kicked out by the debug set. */
	if (!ended)
		vm_suspend_cpu(r->vcpu);
	pthread_join(r->thread, NULL);
	if (!ended)
		vm_resume_cpu(r->vcpu);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
