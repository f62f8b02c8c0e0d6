/*
 * test-trace-kernel.c: trace_kernel, the exits KVM handles in the host
 * kernel, from the kvm:kvm_exit/kvm_entry tracepoints of a vCPU thread.
 * A guest makes port I/O exits to user space, PIT reads (port 0x40, which
 * the in-kernel PIT answers) and cpuid exits (which KVM handles itself);
 * the kernel records must show each of them with the host's ISA, in
 * CLOCK_MONOTONIC time that brackets what user space saw, and an exit
 * whose entry has not come yet must wait for a later drain.  Where the
 * tracepoints cannot be read the trace checks skip with trace_kernel's
 * reason.  Single-threaded: the main thread is the vCPU thread.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/trace_kernel.h"
#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define NOUT 20 /* out to KT_PORT_OUT: exits to user space */
#define NPIT 40 /* in from port 0x40: the in-kernel PIT */
#define NCPUID 300 /* cpuid: handled in the kernel */
#define PORT_DONE 0xe1

/* VMX basic exit reasons and SVM exit codes used here. */
#define VMX_CPUID 10
#define VMX_IO 30
#define SVM_CPUID 0x72
#define SVM_IOIO 0x7b

/* clang-format off */
asm(KT_GUEST_BEGIN(gk, KT_CODE)
    ".code64\n"
    KT_LABEL("gk_start")
    "	mov $" KT_STR(NOUT) ", %ecx\n"
    "1:	out %eax, $0xe0\n"
    "	loop 1b\n"
    "	mov $" KT_STR(NPIT) ", %ecx\n"
    "2:	in $0x40, %al\n"
    "	loop 2b\n"
    KT_LABEL("gk_bench")
    "	mov $" KT_STR(NCPUID) ", %esi\n"
    "3:	xor %eax, %eax\n"
    KT_LABEL("gk_cpuid")
    "	cpuid\n"
    "	dec %esi\n"
    "	jnz 3b\n"
    "	out %eax, $0xe1\n"
    "	jmp gk_bench\n"
    KT_GUEST_END(gk));
/* clang-format on */
KT_GUEST_DECLARE(gk);
extern const uint8_t gk_start[], gk_bench[], gk_cpuid[];

struct recs {
	struct vm_trace_rec *r;
	size_t n, cap;
};

static void collect(void *arg, const struct vm_trace_rec *rec)
{
	struct recs *rs = arg;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 256;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		if (!rs->r)
			tap_bail("out of memory");
	}
	rs->r[rs->n++] = *rec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The host's ISA from its CPU vendor: VM_TRACE_F_VMX or _SVM. */
static unsigned int host_isa(void)
{
	unsigned int a, b, c, d;
	char v[13];

	if (!__get_cpuid(0, &a, &b, &c, &d))
		return 0;
	memcpy(v, &b, 4);
	memcpy(v + 4, &d, 4);
	memcpy(v + 8, &c, 4);
	v[12] = 0;
	if (strcmp(v, "GenuineIntel") == 0)
		return VM_TRACE_F_VMX;
	if (strcmp(v, "AuthenticAMD") == 0 || strcmp(v, "HygonGenuine") == 0)
		return VM_TRACE_F_SVM;
	return 0;
}

static bool is_io(const struct vm_trace_rec *r, uint16_t port)
{
	uint32_t want = r->flags & VM_TRACE_F_VMX ? VMX_IO : SVM_IOIO;

	/* Both ISAs put the port in bits 16-31 of info1. */
	return r->reason == want && ((r->addr >> 16) & 0xffff) == port;
}

static bool is_cpuid(const struct vm_trace_rec *r, uint64_t rip)
{
	uint32_t want = r->flags & VM_TRACE_F_VMX ? VMX_CPUID : SVM_CPUID;

	return r->reason == want && r->rip == rip;
}

static size_t count_io(const struct recs *rs, uint16_t port)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		n += is_io(&rs->r[i], port);
	return n;
}

static size_t count_cpuid(const struct recs *rs, uint64_t rip)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		n += is_cpuid(&rs->r[i], rip);
	return n;
}

/* The guest's exits: N outs, then the PIT and cpuid loops, then DONE. */
static bool run_main(struct vcpu *v, uint64_t *t_ret)
{
	for (int i = 0; i < NOUT; i++) {
		if (kt_run_out(v, KT_PORT_OUT, NULL) < 0)
			return false;
		t_ret[i] = now_ns();
	}
	return kt_run_out(v, PORT_DONE, NULL) == 0;
}

static void checks_off(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		tap_skip("no in-kernel exits: %s", why);
}

int main(void)
{
	struct kt_vm *vm;
	struct vcpu *v;
	struct trace_kernel *tk;
	struct recs r1 = { 0 }, r2 = { 0 };
	uint64_t t_ret[NOUT], t0, t1, t2, t3, tb0, lost = 0, rip_cpuid;
	char why[256];
	pid_t tid = gettid(), bad = 0x3ffffff0;
	int vcpu0 = 0, n1, n2;
	unsigned int isa = host_isa();
	bool main_ok, order, spans, in_run, flags;

	kt_require_kvm();
	vm = kt_vm_create("tracek", KT_MEM_DEFAULT, 1);
	v = vm->vcpu[0];
	kt_load(vm, KT_CODE, gk, gk_end);
	rip_cpuid = KT_GADDR(gk, KT_CODE, gk_cpuid);

	errno = 0;
	why[0] = 0;
	ok(trace_kernel_open(&tid, &vcpu0, 0, why, sizeof(why)) == NULL &&
		   errno == EINVAL && why[0],
	   "no thread: EINVAL (%s)", why);

	/* The cost baseline: the cpuid loop, untraced (once to warm up). */
	if (kt_vcpu_set_mode(v, KT_MODE_LONG64,
			     KT_GADDR(gk, KT_CODE, gk_bench)) < 0)
		tap_bail("kt_vcpu_set_mode failed");
	ok(kt_run_out(v, PORT_DONE, NULL) == 0,
	   "untraced, %d cpuid exits, then out to %#x", NCPUID, PORT_DONE);
	tb0 = now_ns();
	kt_run_out(v, PORT_DONE, NULL);
	tb0 = now_ns() - tb0;

	tk = trace_kernel_open(&tid, &vcpu0, 1, why, sizeof(why));
	if (!tk)
		tap_diag("trace_kernel_open: %s (%s)", why, strerror(errno));
	if (tk)
		is_str(trace_kernel_isa(tk), "", "no ISA before an exit");
	else
		checks_off(1, why);

	if (kt_vcpu_set_mode(v, KT_MODE_LONG64,
			     KT_GADDR(gk, KT_CODE, gk_start)) < 0)
		tap_bail("kt_vcpu_set_mode failed");
	t0 = now_ns();
	main_ok = run_main(v, t_ret);
	t1 = now_ns();
	ok(main_ok, "the guest made %d port exits to user space, then %#x",
	   NOUT, PORT_DONE);

	ok(trace_kernel_drain(NULL, collect, NULL, NULL) == -EINVAL,
	   "drain without a trace: EINVAL");
	if (!tk) {
		checks_off(15, why);
		kt_vm_destroy(vm);
		return tap_done();
	}

	n1 = trace_kernel_drain(tk, collect, &r1, &lost);
	ok(n1 > 0 && (size_t)n1 == r1.n, "first drain: %d records", n1);
	ok(isa != 0 && strcmp(trace_kernel_isa(tk),
			      isa == VM_TRACE_F_VMX ? "vmx" : "svm") == 0,
	   "the ISA is the host CPU's: %s", trace_kernel_isa(tk));
	flags = true;
	order = true;
	in_run = true;
	for (size_t i = 0; i < r1.n; i++) {
		const struct vm_trace_rec *r = &r1.r[i];

		if ((r->flags & (VM_TRACE_F_VMX | VM_TRACE_F_SVM)) != isa ||
		    r->source != VM_TRACE_KERNEL || r->vcpu != 0 ||
		    r->count != 1 || r->cpl != VM_TRACE_CPL_UNKNOWN)
			flags = false;
		if (r->t_entry < r->t_exit ||
		    (i > 0 && r->t_exit < r1.r[i - 1].t_entry))
			order = false;
		if (r->t_exit < t0 || r->t_entry > t1)
			in_run = false;
	}
	ok(flags, "every record: kernel, vCPU 0, count 1, CPL unknown, %s",
	   isa == VM_TRACE_F_VMX ? "VMX" : "SVM");
	ok(order, "t_entry >= t_exit, and records in time order");
	ok(in_run, "every record lies within the run (CLOCK_MONOTONIC)");
	ok(count_io(&r1, KT_PORT_OUT) + count_io(&r1, 0x40) >= NOUT,
	   "I/O exits in the kernel (%zu) >= the %d port exits user space "
	   "saw",
	   count_io(&r1, KT_PORT_OUT) + count_io(&r1, 0x40), NOUT);
	is_int(count_io(&r1, KT_PORT_OUT), NOUT, "I/O exits to port %#x",
	       KT_PORT_OUT);
	is_int(count_io(&r1, 0x40), NPIT,
	       "I/O exits to port 0x40 (in-kernel PIT)");
	is_int(count_cpuid(&r1, rip_cpuid), NCPUID,
	       "cpuid exits at the cpuid's rip");
	spans = true;
	for (size_t i = 0, k = 0; i < r1.n && k < NOUT; i++) {
		if (!is_io(&r1.r[i], KT_PORT_OUT))
			continue;
		if (r1.r[i].t_exit > t_ret[k] || r1.r[i].t_entry < t_ret[k]) {
			tap_diag("out %zu: kernel %llu..%llu, user %llu", k,
				 (unsigned long long)r1.r[i].t_exit,
				 (unsigned long long)r1.r[i].t_entry,
				 (unsigned long long)t_ret[k]);
			spans = false;
		}
		k++;
	}
	ok(spans, "each exit user space saw lies in its kernel record's span");
	is_int(count_io(&r1, PORT_DONE), 0,
	       "the last exit (to %#x) waits for its entry", PORT_DONE);

	/* Again, traced: the pending exit ends, and the cost of tracing. */
	t2 = now_ns();
	kt_run_out(v, PORT_DONE, NULL);
	t3 = now_ns();
	n2 = trace_kernel_drain(tk, collect, &r2, &lost);
	ok(n2 > 0 && r2.n > 0 && is_io(&r2.r[0], PORT_DONE) &&
		   r2.r[0].t_exit < t1 && r2.r[0].t_entry > t2,
	   "second drain (%d): first the exit that was pending, now entered",
	   n2);
	is_int(count_cpuid(&r2, rip_cpuid), NCPUID,
	       "second drain: the cpuid exits");
	is_int(lost, 0, "no event lost");
	tap_diag("%d cpuid exits: %.1f us untraced, %.1f us traced: about "
		 "%.2f us per event (2 per exit)",
		 NCPUID, tb0 / 1e3, (t3 - t2) / 1e3,
		 ((double)(t3 - t2) - (double)tb0) / (2e3 * NCPUID));

	errno = 0;
	ok(trace_kernel_open(&bad, &vcpu0, 1, why, sizeof(why)) == NULL &&
		   errno == ESRCH && strstr(why, "thread"),
	   "a thread that does not exist: ESRCH (%s)", why);
	trace_kernel_close(tk);
	free(r1.r);
	free(r2.r);
	kt_vm_destroy(vm);
	return tap_done();
}
