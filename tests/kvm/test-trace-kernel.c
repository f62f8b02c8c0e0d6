/*
 * test-trace-kernel.c: the in-kernel exit source (monitor/trace_kernel.h)
 * on this thread's vCPU: a guest makes K cpuid (KVM handles them in the
 * kernel) and N outs (they reach user space), and the kvm_exit/kvm_entry
 * tracepoints give a kernel record for each, with the hardware's reason,
 * the ISA, CLOCK_MONOTONIC times in the run's span, and entry after exit.
 * Skips, with trace_kernel_open's reason, where the host has no kvm
 * tracepoints or no right to them.  Single-threaded.
 */
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libvmmapi/vm_trace.h"
#include "monitor/trace_kernel.h"
#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define NCPUID 50
#define NOUTS 30
#define MAXRECS 100000

/* clang-format off */
asm(KT_GUEST_BEGIN(gk, KT_CODE)
    ".code64\n"
    "	mov $" KT_STR(NCPUID) ", %esi\n"
    "1:	xor %eax, %eax\n"
    "	cpuid\n"
    "	dec %esi\n"
    "	jnz 1b\n"
    "	mov $" KT_STR(NOUTS) ", %ecx\n"
    "2:	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	loop 2b\n"
    "	out %eax, $0xe1\n"
    "	ud2\n"
    KT_GUEST_END(gk));
/* clang-format on */
KT_GUEST_DECLARE(gk);

struct got {
	struct vm_trace_rec r[MAXRECS];
	unsigned int n;
};

static void emit(void *arg, const struct vm_trace_rec *rec)
{
	struct got *g = arg;

	if (g->n < MAXRECS)
		g->r[g->n++] = *rec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(void)
{
	struct got *g = calloc(1, sizeof(*g));
	struct trace_kernel *tk;
	struct kt_vm *vm;
	struct vcpu *v;
	struct vm_exit e;
	pid_t tid = syscall(SYS_gettid);
	int vcpu = 0, n, cpuids = 0, ios = 0;
	bool isa_ok = true, time_ok = true;
	uint64_t lost = 0, t0, t1;
	char why[200], name[48];
	unsigned int isa;

	kt_require_kvm();
	if (!g)
		tap_bail("out of memory");
	tk = trace_kernel_open(&tid, &vcpu, 1, why, sizeof(why));
	if (!tk) {
		tap_skip_all("no in-kernel exits here: %s", why);
	}
	ok(1, "trace_kernel_open on this thread");
	vm = kt_vm_create("trace-kernel", KT_MEM_DEFAULT, 1);
	v = vm->vcpu[0];
	kt_load(vm, KT_CODE, gk, gk_end);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, KT_CODE);
	t0 = now_ns();
	for (int i = 0; i < NOUTS + 1; i++) {
		if (kt_run(v, &e) < 0 || e.exitcode != VM_EXITCODE_INOUT)
			tap_bail("the guest did not make its outs");
	}
	vm_suspend_cpu(v);
	kt_run(v, &e); /* the entry after the last out */
	t1 = now_ns();
	n = trace_kernel_drain(tk, emit, g, &lost);
	ok(n > 0, "trace_kernel_drain gave %d records", n);
	is_int(lost, 0, "nothing lost");
	isa = g->n ? g->r[0].flags & (VM_TRACE_F_VMX | VM_TRACE_F_SVM) : 0;
	ok(isa != 0, "the ISA is known: %s", trace_kernel_isa(tk));
	for (unsigned int i = 0; i < g->n; i++) {
		const struct vm_trace_rec *r = &g->r[i];
		const char *nm =
			vm_trace_reason_name(VM_TRACE_KERNEL, r->flags,
					     r->reason, name, sizeof(name));

		if ((r->flags & (VM_TRACE_F_VMX | VM_TRACE_F_SVM)) != isa ||
		    r->source != VM_TRACE_KERNEL || r->vcpu != 0)
			isa_ok = false;
		if (r->t_exit < t0 || r->t_entry > t1 || r->t_entry < r->t_exit)
			time_ok = false;
		if (!strcasecmp(nm, "cpuid"))
			cpuids++;
		if (!strcasecmp(nm, "IO_INSTRUCTION") ||
		    !strcasecmp(nm, "ioio"))
			ios++;
	}
	ok(isa_ok, "every record: kernel source, vCPU 0, the same ISA flag");
	ok(time_ok,
	   "times on CLOCK_MONOTONIC, within the run, entry after exit");
	ok(cpuids >= NCPUID,
	   "%d cpuid exits seen in the kernel (the guest "
	   "made %d)",
	   cpuids, NCPUID);
	ok(ios >= NOUTS,
	   "%d port I/O exits seen in the kernel (%d went to "
	   "user space)",
	   ios, NOUTS + 1);
	trace_kernel_close(tk);
	kt_vm_destroy(vm);
	free(g);
	return tap_done();
}
