/*
 * test-trace.c: vmm's exit trace rings (VM_TRACE_START, _READ, _STOP):
 * one record per exit with what a user checks (port, data in and out,
 * MMIO address and values, MSR number, rip, CPL, times), guest stacks
 * through a known call chain, truncated walks marked, a full ring counts
 * its drops, and stop/restart.  Single-threaded: the test runs the vCPU
 * and drains the ring itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libvmmapi/vm_trace.h"
#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define NOUTS 20
#define NMMIO 5
#define MMIO_ADDR 0xc0000000u
#define TEST_MSR 0x40005ead
#define PORT_IN 0xe2
#define PORT_END 0xe1
#define BUFSZ (1u << 20)

/* clang-format off */
asm(KT_GUEST_BEGIN(gt, KT_CODE)
    ".code64\n"
    KT_LABEL("gt_start")
    "	mov $" KT_STR(KT_STACK_TOP) ", %rsp\n"
    "gt_go:	xor %ebp, %ebp\n"
    "	call gt_fa\n"
    KT_LABEL("gt_ret_start")
    "	out %eax, $" KT_STR(PORT_END) "\n"
    "	ud2\n"
    /* fb's frame: its saved rbp on one page, its return on the next. */
    KT_LABEL("gt_start_split")
    "	mov $" KT_STR(KT_STACK_TOP) " - 0x1000 + 24, %rsp\n"
    "	jmp gt_go\n"
    "gt_fa:	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	call gt_fb\n"
    KT_LABEL("gt_ret_fa")
    "	pop %rbp\n"
    "	ret\n"
    "gt_fb:	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	call gt_fc\n"
    KT_LABEL("gt_ret_fb")
    "	pop %rbp\n"
    "	ret\n"
    KT_LABEL("gt_fc")
    "	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	mov $" KT_STR(NOUTS) ", %ecx\n"
    "	mov $0x1234, %eax\n"
    "1:	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	loop 1b\n"
    "	mov $" KT_STR(NMMIO) ", %ecx\n"
    "	mov $" KT_STR(MMIO_ADDR) ", %ebx\n"
    "2:	mov (%rbx), %eax\n"
    "	loop 2b\n"
    "	movl $0x77, (%rbx)\n"
    "	in $" KT_STR(PORT_IN) ", %al\n"
    "	mov $" KT_STR(TEST_MSR) ", %ecx\n"
    "	rdmsr\n"
    "	mov $0x99, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    KT_LABEL("gt_fc_end")
    "	pop %rbp\n"
    "	ret\n"
    KT_GUEST_END(gt));

/* At CPL 3: one out. */
asm(KT_GUEST_BEGIN(gu, KT_CODE)
    ".code64\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	out %eax, $" KT_STR(PORT_END) "\n"
    "	ud2\n"
    KT_GUEST_END(gu));
/* clang-format on */
KT_GUEST_DECLARE(gt);
KT_GUEST_DECLARE(gu);
extern const uint8_t gt_start[], gt_start_split[], gt_ret_start[], gt_ret_fa[],
	gt_ret_fb[], gt_fc[], gt_fc_end[];
#define GADDR(l) KT_GADDR(gt, KT_CODE, l)

static uint8_t *buf;

/* The stack of an out in gt_fc: the returns into fb, fa and the entry. */
static bool stack_is_fc(const struct vm_trace_rec *r)
{
	const uint64_t *st = (const uint64_t *)(r + 1);

	return r->nstack == 3 && st[0] == GADDR(gt_ret_fb) &&
	       st[1] == GADDR(gt_ret_fa) && st[2] == GADDR(gt_ret_start) &&
	       !(r->flags & VM_TRACE_F_STACK_TRUNC);
}

static int trace_start(struct vmctx *ctx, uint32_t ring, uint32_t stack)
{
	struct vm_trace_start st = { .ring = ring, .stack = stack };

	return vm_command(ctx, VM_TRACE_START, &st);
}

/* Take what the ring holds: records in buf, their number in *n. */
static int trace_read(struct vmctx *ctx, int cpu, uint32_t *n,
		      uint64_t *dropped)
{
	struct vm_trace_read rd = { .cpuid = cpu,
				    .len = BUFSZ,
				    .buf = (uintptr_t)buf };
	int r = vm_command(ctx, VM_TRACE_READ, &rd);

	*n = rd.nrecs;
	if (dropped)
		*dropped = rd.dropped;
	return r;
}

static const struct vm_trace_rec *rec_at(uint32_t i)
{
	uint8_t *p = buf;

	while (i--) {
		const struct vm_trace_rec *r = (const void *)p;

		p += sizeof(*r) + r->nstack * sizeof(uint64_t);
	}
	return (const void *)p;
}

/* Run to the end marker, answering MMIO reads, the in and the MSRs. */
static int run_guest(struct vcpu *v, bool *msr_exits)
{
	struct vm_exit e;
	uint8_t mmio_val = 0x55;

	for (;;) {
		if (kt_run(v, &e) < 0)
			return -1;
		switch (e.exitcode) {
		case VM_EXITCODE_INOUT:
			if (e.u.inout.port == PORT_END)
				return 0;
			if (e.u.inout.in)
				e.u.inout.data[0] = 0x42;
			break;
		case VM_EXITCODE_MMIO:
			if (!e.u.mmio.write) {
				memset(e.u.mmio.data, 0, 8);
				e.u.mmio.data[0] = mmio_val++;
			}
			break;
		case VM_EXITCODE_MSR:
			*msr_exits = true;
			*e.u.msr.error = 0;
			if (!e.u.msr.write)
				*e.u.msr.value = 0xabcdef;
			break;
		default:
			tap_diag("unexpected exit %s",
				 vm_exitcode_name(e.exitcode));
			return -1;
		}
	}
}

/* The last exit's record is finished when the vCPU goes back. */
static void finish_last(struct vcpu *v)
{
	struct vm_exit e;

	vm_suspend_cpu(v);
	kt_run(v, &e);
	vm_resume_cpu(v);
}

int main(void)
{
	struct kt_vm *vm;
	struct vmctx *ctx;
	struct vcpu *v;
	uint32_t n;
	uint64_t dropped;
	bool msr_exits = false;
	int outs = 0, mmio_r = 0, mmio_w = 0, ins = 0, rdm = 0, wrm = 0;
	bool data_ok = true, rip_ok = true, cpl_ok = true, time_ok = true;
	bool stack_ok = true, mmio_ok = true, msr_ok = true;
	uint64_t last = 0, mmio_next = 0x55;

	kt_require_kvm();
	if (!(buf = malloc(BUFSZ)))
		tap_bail("out of memory");
	vm = kt_vm_create("trace", KT_MEM_DEFAULT, 1);
	ctx = vm->ctx;
	v = vm->vcpu[0];
	kt_load(vm, KT_CODE, gt, gt_end);

	is_int(trace_read(ctx, 0, &n, NULL), -ENOENT,
	       "VM_TRACE_READ while tracing is off: ENOENT");
	is_int(trace_start(ctx, 16, VM_TRACE_STACK_MAX + 1), -EINVAL,
	       "a stack deeper than %d: EINVAL", VM_TRACE_STACK_MAX);
	is_int(trace_start(ctx, 0, 0), -EINVAL, "a ring of 0: EINVAL");
	is_int(trace_start(ctx, 4096, 8), 0, "VM_TRACE_START, stack 8");

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GADDR(gt_start));
	if (run_guest(v, &msr_exits) < 0)
		tap_bail("the guest did not reach its end");
	finish_last(v);
	is_int(trace_read(ctx, 0, &n, &dropped), 0, "VM_TRACE_READ");
	ok(dropped == 0, "nothing dropped (%llu)", (unsigned long long)dropped);
	for (uint32_t i = 0; i < n; i++) {
		const struct vm_trace_rec *r = rec_at(i);
		const uint64_t *st = (const uint64_t *)(r + 1);

		if (r->t_exit < last || r->t_entry < r->t_exit)
			time_ok = false;
		last = r->t_entry;
		if (r->source != VM_TRACE_USER || r->vcpu != 0)
			data_ok = false;
		if (r->cpl != 0)
			cpl_ok = false;
		if (r->reason == VM_TRACE_KVM_EXIT_IO &&
		    r->addr == KT_PORT_OUT) {
			outs++;
			if (r->data != 0x1234 || r->size != 4 ||
			    !(r->flags & VM_TRACE_F_WRITE) || r->count != 1)
				data_ok = false;
			if (r->rip < GADDR(gt_fc) || r->rip > GADDR(gt_fc_end))
				rip_ok = false;
			if (!stack_is_fc(r)) {
				if (stack_ok)
					tap_diag("stack: n %u %#llx %#llx "
						 "%#llx flags %#x",
						 r->nstack,
						 (unsigned long long)st[0],
						 (unsigned long long)st[1],
						 (unsigned long long)st[2],
						 r->flags);
				stack_ok = false;
			}
		} else if (r->reason == VM_TRACE_KVM_EXIT_IO &&
			   r->addr == PORT_IN) {
			ins++;
			if (r->data != 0x42 || (r->flags & VM_TRACE_F_WRITE))
				data_ok = false;
		} else if (r->reason == VM_TRACE_KVM_EXIT_MMIO) {
			if (r->addr != MMIO_ADDR || r->size != 4)
				mmio_ok = false;
			if (r->flags & VM_TRACE_F_WRITE) {
				mmio_w++;
				if (r->data != 0x77)
					mmio_ok = false;
			} else {
				mmio_r++;
				if (r->data != mmio_next++)
					mmio_ok = false;
			}
		} else if (r->reason == VM_TRACE_KVM_EXIT_X86_RDMSR) {
			rdm++;
			if (r->addr != TEST_MSR || r->data != 0xabcdef)
				msr_ok = false;
		} else if (r->reason == VM_TRACE_KVM_EXIT_X86_WRMSR) {
			wrm++;
			if (r->addr != TEST_MSR || r->data != 0x99)
				msr_ok = false;
		}
	}
	is_int(outs, NOUTS, "one record per out to port %#x", KT_PORT_OUT);
	ok(data_ok, "outs: port, size 4, data 0x1234, out; vCPU 0, user");
	ok(rip_ok, "their rip is inside the function that made them");
	ok(stack_ok,
	   "their stack: the return addresses into fb, fa and the entry, "
	   "complete");
	ok(cpl_ok, "CPL 0 for every exit of the CPL-0 guest");
	ok(time_ok, "t_exit <= t_entry, in order");
	is_int(mmio_r, NMMIO, "a record per MMIO read");
	is_int(mmio_w, 1, "a record for the MMIO write");
	ok(mmio_ok,
	   "MMIO: the address, the width, the value written and the values "
	   "the monitor answered");
	is_int(ins, 1, "a record for the in");
	if (!msr_exits) {
		tap_skip("this KVM handles MSR %#x itself (no user-space MSR "
			 "exits)",
			 TEST_MSR);
		tap_skip("likewise for wrmsr");
	} else {
		ok(rdm == 1 && wrm == 1, "a record per rdmsr and wrmsr");
		ok(msr_ok, "MSR records: the number, the value written and "
			   "the value answered");
	}

	/* A frame across a page boundary: the walk maps both pages. */
	is_int(trace_start(ctx, 4096, 8), 0, "restart with stack 8");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GADDR(gt_start_split));
	run_guest(v, &msr_exits);
	finish_last(v);
	trace_read(ctx, 0, &n, NULL);
	outs = 0;
	stack_ok = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct vm_trace_rec *r = rec_at(i);

		if (r->reason != VM_TRACE_KVM_EXIT_IO || r->addr != KT_PORT_OUT)
			continue;
		outs++;
		stack_ok = stack_ok && stack_is_fc(r);
	}
	ok(outs == NOUTS && stack_ok,
	   "a frame whose words lie on two pages: the same three return "
	   "addresses, complete (%d outs)",
	   outs);

	/* A depth of 2: the walk stops early, and says so. */
	is_int(trace_start(ctx, 4096, 2), 0, "restart with stack 2");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GADDR(gt_start));
	run_guest(v, &msr_exits);
	finish_last(v);
	trace_read(ctx, 0, &n, NULL);
	stack_ok = n > 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct vm_trace_rec *r = rec_at(i);

		if (r->reason == VM_TRACE_KVM_EXIT_IO &&
		    r->addr == KT_PORT_OUT &&
		    (r->nstack != 2 || !(r->flags & VM_TRACE_F_STACK_TRUNC)))
			stack_ok = false;
	}
	ok(stack_ok, "stack 2: two return addresses, marked truncated");

	/* A ring of 16 that nobody drains: the rest is counted. */
	is_int(trace_start(ctx, 16, 0), 0, "restart with a ring of 16");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GADDR(gt_start));
	run_guest(v, &msr_exits);
	finish_last(v);
	trace_read(ctx, 0, &n, &dropped);
	is_int(n, 16, "the ring holds 16 records");
	ok(dropped >= NOUTS + NMMIO + 2 - 16,
	   "the others were counted as dropped (%llu)",
	   (unsigned long long)dropped);

	/* CPL 3. */
	is_int(trace_start(ctx, 64, 0), 0, "restart");
	kt_load(vm, KT_CODE, gu, gu_end);
	kt_vcpu_set_mode(v, KT_MODE_USER64, KT_CODE);
	{
		struct vm_exit e;

		kt_run(v, &e);
		kt_run(v, &e);
		finish_last(v);
	}
	trace_read(ctx, 0, &n, NULL);
	ok(n >= 1 && rec_at(0)->cpl == 3 && rec_at(0)->rip >= KT_CODE,
	   "an exit at CPL 3 says CPL 3");

	is_int(vm_command(ctx, VM_TRACE_STOP, NULL), 0, "VM_TRACE_STOP");
	is_int(trace_read(ctx, 0, &n, NULL), -ENOENT,
	       "after the stop, no ring");
	kt_vm_destroy(vm);
	free(buf);
	return tap_done();
}
