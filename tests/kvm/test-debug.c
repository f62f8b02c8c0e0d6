/*
 * test-debug.c: the debug commands - VM_SUSPEND_CPU / VM_RESUME_CPU on
 * vCPUs spinning in the guest (one, then two started by INIT/SIPI/SIPI
 * from the BSP), and the per-vCPU capabilities: MTRAP_EXIT single-steps,
 * MASK_HWINTR holds off a pending interrupt while stepping, BPT_EXIT
 * reports int3, and a debug-register breakpoint stops at its address.
 *
 * Where KVMs differ (this host's emulates kernel code and fails on int3
 * rather than intercepting it), either documented behaviour is accepted
 * and checked.  Where a probe (probe.h) finds that the KVM itself cannot
 * do something on a bare VM (kvm_amd on QEMU's emulated SVM intercepts
 * neither int3 nor DR0, and cannot step sti with BLOCKIRQ), exactly the
 * checks that depend on it are skipped, with the probe's reason; the
 * probes run before any thread.  Each spinning vCPU has its own thread (kt_runner); checks
 * are made by the main thread.  Waits have generous deadlines only, never
 * timing thresholds.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

#define WAIT_MS 10000
#define CNT0 KT_DATA /* the BSP's counter */
#define CNT1 (KT_DATA + 8) /* the AP's counter */
#define AP_VECTOR (KT_TRAMP >> 12)
#define MSI_VECTOR 0x40

/* clang-format off */
asm(KT_GUEST_BEGIN(gd, KT_CODE)
    ".code64\n"
    /* Spin counting, for one vCPU. */
    KT_LABEL("gd_spin")
    "1:	incq " KT_STR(CNT0) "\n"
    "	jmp 1b\n"
    KT_LABEL("gd_spin_end")

    /* Say so, then halt with interrupts off. */
    KT_LABEL("gd_halt")
    "	movq $1, " KT_STR(CNT0) "\n"
    "	cli\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    KT_LABEL("gd_halt_end")

    /* The BSP starts the AP, then spins counting. */
    KT_LABEL("gd_bsp")
    "	mov $1, %edi\n"
    "	mov $" KT_STR(AP_VECTOR) ", %esi\n"
    "	mov $" KT_STR(KT_START_AP) ", %eax\n"
    "	call *%rax\n"
    "1:	incq " KT_STR(CNT0) "\n"
    "	jmp 1b\n"

    /* Straight-line code to single-step. */
    KT_LABEL("gd_step")
    "	nop\n"
    KT_LABEL("gd_step1")
    "	mov $1, %eax\n"
    KT_LABEL("gd_step2")
    "	add %eax, %ebx\n"
    KT_LABEL("gd_step3")
    "	jmp 1f\n"
    "	ud2\n"
    KT_LABEL("gd_step4")
    "1:	xchg %ecx, %edx\n"
    KT_LABEL("gd_step5")
    "	out %eax, $0xe0\n"
    "	ud2\n"

    /* Real mode, loaded where CS base is not 0. */
    ".code16\n"
    KT_LABEL("gd_real")
    "	nop\n"
    KT_LABEL("gd_real1")
    "	nop\n"
    KT_LABEL("gd_real2")
    "	out %ax, $0xe0\n"
    ".code64\n"

    /* Enable the LAPIC, report, then step with interrupts on. */
    KT_LABEL("gd_intr")
    "	mov $0xfee000f0, %edx\n"
    "	movl $0x1ff, (%rdx)\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gd_intr_sti")
    "	sti\n"
    "	nop\n"
    "	nop\n"
    "	nop\n"
    "	nop\n"
    KT_LABEL("gd_intr_end")
    "	nop\n"
    "	nop\n"
    "	out %eax, $0xe0\n"
    "	ud2\n"

    /* int3 */
    KT_LABEL("gd_bpt")
    "	nop\n"
    KT_LABEL("gd_bpt_int3")
    "	int3\n"
    "	mov $0x33, %eax\n"
    "	out %eax, $0xe0\n"
    "	ud2\n"

    /* A breakpoint target. */
    KT_LABEL("gd_hwbp")
    "	nop\n"
    "	nop\n"
    KT_LABEL("gd_hwbp_target")
    "	mov $0x44, %eax\n"
    "	out %eax, $0xe0\n"
    "	ud2\n"
    KT_GUEST_END(gd));

/* The AP: real mode at KT_TRAMP, spins counting. */
asm(KT_GUEST_BEGIN(gd_ap, KT_TRAMP)
    ".code16\n"
    "	mov $" KT_STR(KT_DATA >> 4) ", %ax\n"
    "	mov %ax, %ds\n"
    "1:	incl 8\n"
    "	jmp 1b\n"
    KT_GUEST_END(gd_ap));
/* clang-format on */
KT_GUEST_DECLARE(gd);
KT_GUEST_DECLARE(gd_ap);
extern const uint8_t gd_spin[], gd_spin_end[], gd_halt[], gd_halt_end[],
	gd_bsp[], gd_step[], gd_step1[], gd_step2[], gd_step3[], gd_step4[],
	gd_step5[], gd_intr[], gd_intr_sti[], gd_intr_end[], gd_bpt[],
	gd_bpt_int3[], gd_hwbp[], gd_hwbp_target[], gd_real[], gd_real1[];

#define GD(label) KT_GADDR(gd, KT_CODE, label)

/* Wait until the counter at gpa exceeds `than`; false on the deadline. */
static bool advances(struct kt_vm *vm, uint64_t gpa, uint64_t than)
{
	uint64_t end = kt_now_ms() + WAIT_MS;

	while (kt_peek64(vm, gpa) <= than) {
		if (kt_now_ms() > end)
			return false;
		kt_sleep_ms(1);
	}
	return true;
}

/* The counter at gpa does not move over a short while. */
static bool frozen(struct kt_vm *vm, uint64_t gpa, uint64_t *val)
{
	uint64_t a = kt_peek64(vm, gpa);

	kt_sleep_ms(50);
	*val = kt_peek64(vm, gpa);
	return a == *val;
}

static bool is_debug_exit(struct kt_runner *r, const char *who)
{
	struct vm_exit e;
	char buf[160];
	int err = kt_runner_wait(r, &e, WAIT_MS);

	if (err == 0 && e.exitcode == VM_EXITCODE_DEBUG)
		return true;
	if (err)
		tap_diag("%s: %s", who, strerror(-err));
	else
		tap_diag("%s: %s", who, kt_exit_str(&e, buf, sizeof(buf)));
	return false;
}

static void test_suspend_one(void)
{
	struct kt_vm *vm = kt_vm_create("dbg-one", KT_MEM_DEFAULT, 1);
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_cpuset set;
	struct vm_exit e;
	uint64_t c, rip;

	kt_load(vm, KT_CODE, gd, gd_end);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_spin));
	r = kt_runner_start(v);
	ok(advances(vm, CNT0, 0), "the guest spins counting");
	is_int(vm_suspend_cpu(v), 0, "VM_SUSPEND_CPU on the running vCPU");
	ok(kt_runner_wait(r, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_DEBUG,
	   "VM_RUN returns a DEBUG exit");
	if (vm_get_register(v, VM_REG_GUEST_RIP, &rip) < 0)
		rip = 0;
	ok(rip >= GD(gd_spin) && rip < GD(gd_spin_end),
	   "rip %#llx read while parked is in the loop",
	   (unsigned long long)rip);
	is_hex(e.rip, rip, "the DEBUG exit reports the vCPU's rip");
	ok(vm_debug_cpus(vm->ctx, &set) == 0 && vm_cpuset_isset(&set, 0),
	   "vCPU 0 is in the debug set");
	ok(frozen(vm, CNT0, &c), "no progress while in the debug set");
	kt_runner_go(r);
	ok(is_debug_exit(r, "vCPU 0"),
	   "VM_RUN again while in the debug set: DEBUG at once");
	ok(frozen(vm, CNT0, &c), "still no progress");
	is_int(vm_resume_cpu(v), 0, "VM_RESUME_CPU");
	ok(vm_debug_cpus(vm->ctx, &set) == 0 && !vm_cpuset_isset(&set, 0),
	   "vCPU 0 left the debug set");
	kt_runner_go(r);
	ok(advances(vm, CNT0, c), "the guest counts again");

	/* -1: all vCPUs */
	is_int(vm_suspend_all_cpus(vm->ctx), 0, "VM_SUSPEND_CPU -1");
	ok(is_debug_exit(r, "vCPU 0"), "DEBUG exit");
	ok(frozen(vm, CNT0, &c), "no progress");
	is_int(vm_resume_all_cpus(vm->ctx), 0, "VM_RESUME_CPU -1");
	kt_runner_go(r);
	ok(advances(vm, CNT0, c), "the guest counts again");

	is_int(vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF), 0, "power off");
	ok(kt_runner_wait(r, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED,
	   "the vCPU stops SUSPENDED");
	kt_runner_stop(r);
	kt_vm_destroy(vm);
}

/* A vCPU halted with interrupts off is blocked inside KVM_RUN. */
static void test_suspend_halted(void)
{
	struct kt_vm *vm = kt_vm_create("dbg-halt", KT_MEM_DEFAULT, 1);
	struct vcpu *v = vm->vcpu[0];
	struct kt_runner *r;
	struct vm_exit e;
	uint64_t rip = 0;

	kt_load(vm, KT_CODE, gd, gd_end);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_halt));
	r = kt_runner_start(v);
	ok(advances(vm, CNT0, 0), "the guest is about to halt");
	kt_sleep_ms(20); /* to reach its hlt; not a threshold */
	ok(kt_runner_running(r), "the halted vCPU is inside VM_RUN");
	is_int(vm_suspend_cpu(v), 0, "VM_SUSPEND_CPU on the halted vCPU");
	ok(kt_runner_wait(r, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_DEBUG,
	   "the halted vCPU returns a DEBUG exit");
	ok(vm_get_register(v, VM_REG_GUEST_RIP, &rip) == 0 &&
		   rip > GD(gd_halt) && rip < GD(gd_halt_end),
	   "at its hlt");
	is_int(vm_resume_cpu(v), 0, "VM_RESUME_CPU");
	kt_runner_go(r);
	kt_sleep_ms(20);
	ok(kt_runner_running(r), "it halts again");
	vm_suspend(vm->ctx, VM_SUSPEND_HALT);
	ok(kt_runner_wait(r, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED,
	   "and stops SUSPENDED");
	kt_runner_stop(r);
	kt_vm_destroy(vm);
}

static void test_suspend_two(void)
{
	struct kt_vm *vm = kt_vm_create("dbg-two", KT_MEM_DEFAULT, 2);
	struct kt_runner *r0, *r1;
	struct vm_cpuset set;
	struct vm_exit e;
	uint64_t c0, c1, d0;

	kt_load(vm, KT_CODE, gd, gd_end);
	kt_load(vm, KT_TRAMP, gd_ap, gd_ap_end);
	kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, GD(gd_bsp));
	r0 = kt_runner_start(vm->vcpu[0]);
	r1 = kt_runner_start(vm->vcpu[1]);
	ok(advances(vm, CNT0, 0), "the BSP counts");
	ok(advances(vm, CNT1, 0),
	   "the AP, started by INIT/SIPI/SIPI from the BSP, counts");

	is_int(vm_suspend_all_cpus(vm->ctx), 0, "suspend both (-1)");
	ok(is_debug_exit(r0, "BSP"), "the BSP returns DEBUG");
	ok(is_debug_exit(r1, "AP"), "the AP returns DEBUG");
	ok(vm_debug_cpus(vm->ctx, &set) == 0 && vm_cpuset_isset(&set, 0) &&
		   vm_cpuset_isset(&set, 1),
	   "both are in the debug set");
	ok(frozen(vm, CNT0, &c0) && frozen(vm, CNT1, &c1),
	   "both counters stop");

	is_int(vm_resume_cpu(vm->vcpu[1]), 0, "resume the AP only");
	kt_runner_go(r1);
	kt_runner_go(r0); /* VM_RUN again: the BSP is still in the set */
	ok(is_debug_exit(r0, "BSP"), "the BSP's VM_RUN returns DEBUG at once");
	ok(advances(vm, CNT1, c1), "the AP counts");
	ok(frozen(vm, CNT0, &d0) && d0 == c0, "the BSP does not");

	is_int(vm_suspend_cpu(vm->vcpu[1]), 0, "suspend the AP again");
	ok(is_debug_exit(r1, "AP"), "the AP returns DEBUG");
	ok(frozen(vm, CNT1, &c1), "the AP's counter stops");
	is_int(vm_resume_all_cpus(vm->ctx), 0, "resume both (-1)");
	ok(vm_debug_cpus(vm->ctx, &set) == 0 && !vm_cpuset_isset(&set, 0) &&
		   !vm_cpuset_isset(&set, 1),
	   "the debug set is empty");
	kt_runner_go(r0);
	kt_runner_go(r1);
	ok(advances(vm, CNT0, c0) && advances(vm, CNT1, c1),
	   "both count again");

	vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF);
	ok(kt_runner_wait(r0, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED &&
		   kt_runner_wait(r1, &e, WAIT_MS) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED,
	   "both stop SUSPENDED after a power-off");
	kt_runner_stop(r0);
	kt_runner_stop(r1);
	kt_vm_destroy(vm);
}

static void test_caps(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	struct vcpu *none = vm_vcpu_open(vm->ctx, 1);
	int val;

	for (int c = 0; c < VM_CAP_MAX; c++) {
		int r = vm_get_capability(v, c, &val);

		ok(r == 0 || r == -ENOTSUP,
		   "capability %d: supported or ENOTSUP (%d)", c, r);
		if (r == 0)
			is_int(val, 0, "capability %d: off at first", c);
		else
			is_int(vm_set_capability(v, c, 1), -ENOTSUP,
			       "capability %d: set says ENOTSUP", c);
	}
	is_int(vm_get_capability(v, VM_CAP_MAX, &val), -EINVAL,
	       "get an unknown capability: EINVAL");
	is_int(vm_set_capability(v, -1, 1), -EINVAL,
	       "set capability -1: EINVAL");
	is_int(vm_get_capability(none, VM_CAP_MTRAP_EXIT, &val), -ENOENT,
	       "a vCPU that does not exist: ENOENT");
	vm_vcpu_close(none);
}

/*
 * What the probes found on a bare VM; see probe.h.  guest_debug and
 * blockirq_cap say whether the KVM has the interfaces behind the
 * capabilities, so that vitro's ENOTSUP is a skip only where it has not;
 * the others whether the features work.
 */
struct debug_probes {
	struct kp_result guest_debug, blockirq_cap, blockirq, swbp, hwbp;
};

static bool cap_on(struct vcpu *v, const struct debug_probes *dp,
		   enum vm_cap_type cap, int on, const char *name)
{
	const struct kp_result *p = cap == VM_CAP_MASK_HWINTR ?
					    &dp->blockirq_cap :
					    &dp->guest_debug;
	int r = vm_set_capability(v, cap, on), val = -1;

	if (r == -ENOTSUP && p->verdict == KP_CANNOT) {
		tap_skip("%s: %s (probe)", name, p->why);
		return false;
	}
	if (r == -ENOTSUP) {
		ok(0, "%s: vitro says ENOTSUP, but this KVM has it (%s)", name,
		   p->why);
		return false;
	}
	return ok(r == 0 && vm_get_capability(v, cap, &val) == 0 && val == on,
		  "%s %s", name, on ? "on" : "off");
}

/* Expect an MTRAP exit at rip `want`. */
static bool step_to(struct vcpu *v, uint64_t want, const char *what)
{
	struct vm_exit e;
	char buf[160];
	int r = kt_run(v, &e);

	if (ok(r == 0 && e.exitcode == VM_EXITCODE_MTRAP && e.rip == want, "%s",
	       what))
		return true;
	tap_diag("expected MTRAP at %#llx, got %s", (unsigned long long)want,
		 r ? strerror(-r) : kt_exit_str(&e, buf, sizeof(buf)));
	return false;
}

static void test_mtrap(struct kt_vm *vm, const struct debug_probes *dp)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t val;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_step));
	if (!cap_on(v, dp, VM_CAP_MTRAP_EXIT, 1, "MTRAP_EXIT"))
		return;
	step_to(v, GD(gd_step1), "step 1: nop");
	step_to(v, GD(gd_step2), "step 2: mov");
	step_to(v, GD(gd_step3), "step 3: add");
	step_to(v, GD(gd_step4), "step 4: jmp lands at its target");
	step_to(v, GD(gd_step5), "step 5: xchg");
	cap_on(v, dp, VM_CAP_MTRAP_EXIT, 0, "MTRAP_EXIT");
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 1,
	   "without MTRAP_EXIT the guest runs on to its out");
}

/*
 * In real mode at KT_CODE, CS base is 0x20000: the exit's rip is the
 * vCPU's rip (an offset in CS), as for every other exit, not the linear
 * address KVM reports in its debug exit.
 */
static void test_mtrap_real(struct kt_vm *vm, const struct debug_probes *dp)
{
	struct vcpu *v = vm->vcpu[0];
	uint64_t base = KT_CODE & ~0xffffULL, rip = ~0ULL;
	struct vm_exit e;

	kt_vcpu_set_mode(v, KT_MODE_REAL, GD(gd_real));
	if (!cap_on(v, dp, VM_CAP_MTRAP_EXIT, 1, "MTRAP_EXIT"))
		return;
	ok(kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_MTRAP &&
		   vm_get_register(v, VM_REG_GUEST_RIP, &rip) == 0 &&
		   rip == GD(gd_real1) - base,
	   "real mode: a step to rip %#llx", (unsigned long long)rip);
	is_hex(e.rip, rip,
	       "real mode: the MTRAP exit reports rip, not CS base + rip");
	cap_on(v, dp, VM_CAP_MTRAP_EXIT, 0, "MTRAP_EXIT");
	ok(kt_run_out(v, KT_PORT_OUT, NULL) == 0, "real mode: runs on");
}

static void test_mask_hwintr(struct kt_vm *vm, const struct debug_probes *dp)
{
	const struct kp_result *probe = &dp->blockirq;
	struct vcpu *v = vm->vcpu[0];
	struct kt_exc x;
	uint64_t rip = GD(gd_intr_sti);
	bool stepped = probe->verdict != KP_CANNOT;
	int steps = 0;

	kt_exc_reset(vm);
	((struct kt_exc *)kt_gpa(vm, KT_EXC))->eoi = KT_EOI_LAPIC;
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_intr));
	if (kt_run_out(v, KT_PORT_OUT, NULL) < 0) {
		ok(0, "the guest enabled its LAPIC");
		return;
	}
	/* A fixed interrupt, edge, to APIC ID 0: pending until sti. */
	is_int(vm_lapic_msi(vm->ctx, 0xfee00000, MSI_VECTOR), 0,
	       "MSI vector %#x to the vCPU", MSI_VECTOR);
	if (!cap_on(v, dp, VM_CAP_MASK_HWINTR, 1, "MASK_HWINTR"))
		return;
	if (!cap_on(v, dp, VM_CAP_MTRAP_EXIT, 1, "MTRAP_EXIT"))
		return;
	if (stepped) {
		while (rip < GD(gd_intr_end)) {
			rip += 1; /* sti and nop are one byte */
			if (!step_to(v, rip, "masked step"))
				break;
			steps++;
		}
		is_int(steps, 5,
		       "sti and 4 nops stepped with the interrupt pending");
		is_int(kt_exc_get(vm).count, 0, "the interrupt was not taken");
	} else {
		tap_skip("masked steps over sti and 4 nops: %s (probe)",
			 probe->why);
	}
	cap_on(v, dp, VM_CAP_MTRAP_EXIT, 0, "MTRAP_EXIT");
	cap_on(v, dp, VM_CAP_MASK_HWINTR, 0, "MASK_HWINTR");
	ok(kt_run_out(v, KT_PORT_EXC, NULL) == 0,
	   "unmasked, the interrupt is taken");
	x = kt_exc_get(vm);
	ok(x.vector == MSI_VECTOR && x.count == 1, "vector %#llx, once",
	   (unsigned long long)x.vector);
	if (stepped)
		is_hex(x.rip, GD(gd_intr_end),
		       "at the rip where stepping stopped");
}

static void test_bpt(struct kt_vm *vm, const struct debug_probes *dp)
{
	const struct kp_result *probe = &dp->swbp;
	struct vcpu *v = vm->vcpu[0];
	uint64_t at = GD(gd_bpt_int3);
	struct vm_exit e;
	uint32_t val;
	char buf[160];

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_bpt));
	if (!cap_on(v, dp, VM_CAP_BPT_EXIT, 1, "BPT_EXIT"))
		return;
	if (probe->verdict == KP_CANNOT) {
		tap_skip("int3: BPT or INST_EMUL exit: %s (probe)", probe->why);
	} else if (kt_run(v, &e) < 0) {
		ok(0, "int3 with BPT_EXIT: an exit");
	} else if (e.exitcode == VM_EXITCODE_BPT) {
		ok(e.rip == at && e.inst_length == 1,
		   "int3: BPT exit at its rip, length 1");
	} else if (e.exitcode == VM_EXITCODE_INST_EMUL) {
		/* This host: KVM's emulator fails on int3 in kernel mode. */
		ok(e.rip == at && e.u.inst_emul.inst_len >= 1 &&
			   e.u.inst_emul.inst[0] == 0xcc,
		   "int3: INST_EMUL at its rip, instruction byte 0xcc");
	} else {
		ok(0, "int3: BPT or INST_EMUL exit");
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	}
	/* The monitor steps over it, as a debugger does. */
	vm_set_register(v, VM_REG_GUEST_RIP, at + 1);
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 0x33,
	   "past the int3 the guest runs on");
	cap_on(v, dp, VM_CAP_BPT_EXIT, 0, "BPT_EXIT");
}

static void test_hwbp(struct kt_vm *vm, const struct debug_probes *dp)
{
	const struct kp_result *probe = &dp->hwbp;
	struct vcpu *v = vm->vcpu[0];
	uint64_t dr[4] = { GD(gd_hwbp_target), 0, 0, 0 };
	struct vm_exit e;
	bool hit = false, past = false;
	uint32_t val;
	char buf[160];
	int r;

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GD(gd_hwbp));
	/* DR7: L0, execution, 1 byte. */
	r = vm_set_hw_debug(v, true, dr, 0x401);
	if (r == -ENOTSUP && dp->guest_debug.verdict == KP_CANNOT) {
		tap_skip("hardware breakpoints: %s (probe)",
			 dp->guest_debug.why);
		return;
	}
	is_int(r, 0, "vm_set_hw_debug: DR0 at %#llx",
	       (unsigned long long)dr[0]);
	if (probe->verdict == KP_CANNOT) {
		tap_skip("HWBP exit at DR0: %s (probe)", probe->why);
		tap_skip("DR6.B0: %s (probe)", probe->why);
	} else {
		r = kt_run(v, &e);
		hit = r == 0 && e.exitcode == VM_EXITCODE_HWBP;
		/* The guest's own out: it ran past the breakpoint. */
		past = r == 0 && e.exitcode == VM_EXITCODE_INOUT;
		if (!ok(hit && e.rip == dr[0],
			"HWBP exit at the breakpoint's rip"))
			tap_diag("got %s",
				 r ? strerror(-r) :
				     kt_exit_str(&e, buf, sizeof(buf)));
		ok(hit && (e.u.hwbp.dr6 & 1), "DR6.B0 set (dr6 %#llx)",
		   hit ? (unsigned long long)e.u.hwbp.dr6 : 0ULL);
	}
	is_int(vm_set_hw_debug(v, false, NULL, 0), 0, "breakpoints off");
	if (past)
		ok(0, "the guest runs on from the breakpoint: it had run "
		      "past it already");
	else
		ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 0x44,
		   "the guest runs on from the breakpoint");
}

int main(void)
{
	struct debug_probes dp;
	struct kt_vm *vm;

	kt_require_kvm();
	kp_probe("guest-debug", &dp.guest_debug);
	kp_probe("blockirq", &dp.blockirq_cap);
	kp_probe("step-blockirq", &dp.blockirq);
	kp_probe("sw-bp", &dp.swbp);
	kp_probe("hw-bp", &dp.hwbp);
	test_suspend_one();
	test_suspend_halted();
	test_suspend_two();
	vm = kt_vm_create("dbg-caps", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, gd, gd_end);
	test_caps(vm);
	test_mtrap(vm, &dp);
	test_mtrap_real(vm, &dp);
	test_mask_hwintr(vm, &dp);
	test_bpt(vm, &dp);
	test_hwbp(vm, &dp);
	kt_vm_destroy(vm);
	return tap_done();
}
