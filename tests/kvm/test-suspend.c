/*
 * test-suspend.c: VM_SUSPEND for each reason, a guest triple fault, and
 * VM_REINIT.
 *
 * The VM has two vCPUs: the BSP starts the AP with INIT/SIPI/SIPI and
 * halts with interrupts off (so it is blocked inside KVM_RUN); the AP
 * spins counting, or, for the triple fault, enters protected mode without
 * an IDT and executes ud2.  Each vCPU runs on its own thread (kt_runner);
 * checks are made by the main thread.  Between reasons the VM is
 * reinitialised, which also shows that it runs again with its memory kept.
 * Last, VM_CHECK_HALT probes stop the VM only when every vCPU has stopped
 * for good (halted with interrupts off, or never started).
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define WAIT_MS 10000
#define HALTED KT_DATA /* the BSP is about to halt */
#define CNT1 (KT_DATA + 8) /* the AP's counter */
#define AP_CELL (KT_DATA + 16) /* the start-up vector the BSP sends */
#define MARK (KT_DATA + 24) /* survives VM_REINIT */
#define SPIN_AP KT_TRAMP
#define FAULT_AP (KT_TRAMP + 0x1000)

/* clang-format off */
asm(KT_GUEST_BEGIN(gs, KT_CODE)
    ".code64\n"
    KT_LABEL("gs_bsp")
    "	mov $1, %edi\n"
    "	mov " KT_STR(AP_CELL) ", %esi\n"
    "	mov $" KT_STR(KT_START_AP) ", %eax\n"
    "	call *%rax\n"
    "	movq $1, " KT_STR(HALTED) "\n"
    "	cli\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    /* Halt for good, or with interrupts on; the AP is never started. */
    KT_LABEL("gs_cli_hlt")
    "	movq $1, " KT_STR(HALTED) "\n"
    "	cli\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    KT_LABEL("gs_sti_hlt")
    "	movq $1, " KT_STR(HALTED) "\n"
    "	sti\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    KT_LABEL("gs_hello")
    "	mov $0x600d, %eax\n"
    "	out %eax, $0xe0\n"
    "	ud2\n"
    KT_GUEST_END(gs));

/* An AP that spins counting, in real mode. */
asm(KT_GUEST_BEGIN(gs_spin, SPIN_AP)
    ".code16\n"
    "	mov $" KT_STR(KT_DATA >> 4) ", %ax\n"
    "	mov %ax, %ds\n"
    "1:	incl 8\n"
    "	jmp 1b\n"
    KT_GUEST_END(gs_spin));

/* An AP that triple-faults: protected mode, an empty IDT, ud2. */
asm(KT_GUEST_BEGIN(gs_fault, FAULT_AP)
    ".code16\n"
    "	cli\n"
    "	lgdtl %cs:(gs_fault_gdtr - gs_fault)\n"
    "	mov %cr0, %eax\n"
    "	or $1, %eax\n"
    "	mov %eax, %cr0\n"
    "	ljmpl $" KT_STR(KT_SEL_CODE32) ", $" KT_ADDR(gs_fault, "1f") "\n"
    ".code32\n"
    "1:	mov $" KT_STR(KT_SEL_DATA) ", %eax\n"
    "	mov %eax, %ds\n"
    "	mov %eax, %ss\n"
    "	lidt " KT_ADDR(gs_fault, "gs_fault_idtr") "\n"
    "	ud2\n"
    ".balign 8\n"
    "gs_fault_gdtr: .word 6 * 8 - 1\n"
    "	.long " KT_STR(KT_GDT) "\n"
    "gs_fault_idtr: .word 0\n"
    "	.long 0\n"
    KT_GUEST_END(gs_fault));
/* clang-format on */
KT_GUEST_DECLARE(gs);
KT_GUEST_DECLARE(gs_spin);
KT_GUEST_DECLARE(gs_fault);
extern const uint8_t gs_bsp[], gs_cli_hlt[], gs_sti_hlt[], gs_hello[];

#define GS(label) KT_GADDR(gs, KT_CODE, label)

static bool set_is(struct vmctx *ctx, bool a, bool b)
{
	struct vm_cpuset s;

	return vm_suspended_cpus(ctx, &s) == 0 && vm_cpuset_isset(&s, 0) == a &&
	       vm_cpuset_isset(&s, 1) == b;
}

static bool wait_for(struct kt_vm *vm, uint64_t gpa)
{
	uint64_t end = kt_now_ms() + WAIT_MS;

	while (kt_peek64(vm, gpa) == 0) {
		if (kt_now_ms() > end)
			return false;
		kt_sleep_ms(1);
	}
	return true;
}

static bool suspended(struct kt_runner *r, enum vm_suspend_how how, int cpuid,
		      const char *who)
{
	struct vm_exit e;
	char buf[160];
	int err = kt_runner_wait(r, &e, WAIT_MS);

	if (err == 0 && e.exitcode == VM_EXITCODE_SUSPENDED &&
	    e.u.suspended.how == how && e.u.suspended.cpuid == cpuid)
		return true;
	if (err)
		tap_diag("%s: %s", who, strerror(-err));
	else
		tap_diag("%s: %s", who, kt_exit_str(&e, buf, sizeof(buf)));
	return false;
}

/* Start the BSP at `bsp`; gs_bsp starts the AP at `ap`.  Both get runners. */
static void start_at(struct kt_vm *vm, uint64_t bsp, uint64_t ap,
		     struct kt_runner **r)
{
	kt_poke64(vm, HALTED, 0);
	kt_poke64(vm, CNT1, 0);
	kt_poke64(vm, AP_CELL, ap >> 12);
	if (kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, bsp) < 0)
		tap_bail("set mode");
	r[0] = kt_runner_start(vm->vcpu[0]);
	r[1] = kt_runner_start(vm->vcpu[1]);
}

static void start(struct kt_vm *vm, uint64_t ap, struct kt_runner **r)
{
	start_at(vm, GS(gs_bsp), ap, r);
}

/* After VM_REINIT: power-on state, as KVM makes it. */
static void check_power_on(struct vcpu *v, const char *what)
{
	int regs[5] = { VM_REG_GUEST_RIP, VM_REG_GUEST_CS, VM_REG_GUEST_CS_BASE,
			VM_REG_GUEST_CR0, VM_REG_GUEST_EFER };
	uint64_t val[5];

	ok(vm_get_register_set(v, 5, regs, val) == 0 && val[0] == 0xfff0 &&
		   val[1] == 0xf000 && val[2] == 0xffff0000 &&
		   val[3] == 0x60000010 && val[4] == 0,
	   "%s: vCPU %d at power-on (f000:fff0, CR0 0x60000010)", what,
	   vcpu_id(v));
}

static void test_reasons(struct kt_vm *vm)
{
	static const enum vm_suspend_how hows[] = {
		VM_SUSPEND_RESET,
		VM_SUSPEND_POWEROFF,
		VM_SUSPEND_HALT,
	};
	struct kt_runner *r[2];

	for (unsigned i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		enum vm_suspend_how how = hows[i];
		const char *name = vm_suspend_name(how);

		start(vm, SPIN_AP, r);
		ok(wait_for(vm, CNT1) && wait_for(vm, HALTED),
		   "%s: the AP spins, the BSP halts", name);
		/* Give the BSP time to reach its hlt; not a threshold. */
		kt_sleep_ms(20);
		ok(kt_runner_running(r[0]) && kt_runner_running(r[1]),
		   "%s: both vCPUs are inside VM_RUN", name);
		is_int(vm_suspend(vm->ctx, how), 0, "VM_SUSPEND %s", name);
		is_int(vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF), -EALREADY,
		       "%s: a second VM_SUSPEND: EALREADY", name);
		ok(suspended(r[0], how, -1, "BSP"),
		   "%s: the halted BSP returns SUSPENDED, %s, cpuid -1", name,
		   name);
		ok(suspended(r[1], how, -1, "AP"),
		   "%s: the spinning AP returns SUSPENDED, %s, cpuid -1", name,
		   name);
		ok(set_is(vm->ctx, true, true), "%s: suspended set {0, 1}",
		   name);
		kt_runner_stop(r[0]);
		kt_runner_stop(r[1]);
		kt_poke64(vm, MARK, 0x1234 + i);
		is_int(vm_reinit(vm->ctx), 0, "%s: VM_REINIT", name);
		ok(set_is(vm->ctx, false, false),
		   "%s: the suspended set is empty again", name);
		check_power_on(vm->vcpu[0], name);
		check_power_on(vm->vcpu[1], name);
		is_int(kt_peek64(vm, MARK), 0x1234 + i, "%s: memory is kept",
		       name);
	}
}

static void test_triple_fault(struct kt_vm *vm)
{
	struct kt_runner *r[2];

	start(vm, FAULT_AP, r);
	ok(suspended(r[1], VM_SUSPEND_TRIPLEFAULT, 1, "AP"),
	   "the AP's triple fault: SUSPENDED, triple fault, cpuid 1");
	ok(suspended(r[0], VM_SUSPEND_TRIPLEFAULT, 1, "BSP"),
	   "the halted BSP: SUSPENDED, triple fault, cpuid 1");
	is_int(vm_suspend(vm->ctx, VM_SUSPEND_RESET), -EALREADY,
	       "VM_SUSPEND after it: EALREADY");
	kt_runner_stop(r[0]);
	kt_runner_stop(r[1]);
	is_int(vm_reinit(vm->ctx), 0, "VM_REINIT after a triple fault");
}

/*
 * Send halt probes every 20 ms, as a monitor would, until `r` holds an exit
 * or `n` probes are sent; returns whether it does.
 */
static bool probe(struct kt_vm *vm, struct kt_runner **r, int n)
{
	for (int i = 0; i < n; i++) {
		if (vm_check_halt(vm->ctx) < 0)
			return false;
		kt_sleep_ms(20);
		if (!kt_runner_running(r[0]) || !kt_runner_running(r[1]))
			return true;
	}
	return false;
}

/* Stop a VM the probes rightly left running, and reinitialise it. */
static void stop(struct kt_vm *vm, struct kt_runner **r)
{
	vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF);
	kt_runner_stop(r[0]);
	kt_runner_stop(r[1]);
	if (vm_reinit(vm->ctx) < 0)
		tap_bail("VM_REINIT");
}

static void test_check_halt(struct kt_vm *vm)
{
	struct kt_runner *r[2];

	/* The BSP halts with interrupts on: it may wake up. */
	start_at(vm, GS(gs_sti_hlt), 0, r);
	ok(wait_for(vm, HALTED), "check halt: the BSP halts, interrupts on");
	ok(!probe(vm, r, 5), "check halt: 5 probes leave the VM running");
	stop(vm, r);

	/* The BSP halts for good but the AP spins. */
	start(vm, SPIN_AP, r);
	ok(wait_for(vm, CNT1) && wait_for(vm, HALTED),
	   "check halt: the AP spins, the BSP halts, interrupts off");
	ok(!probe(vm, r, 5), "check halt: 5 probes leave the VM running");
	stop(vm, r);

	/* The BSP halts for good, the AP was never started. */
	start_at(vm, GS(gs_cli_hlt), 0, r);
	ok(wait_for(vm, HALTED),
	   "check halt: the BSP halts, interrupts off; no SIPI for the AP");
	ok(probe(vm, r, 250), "check halt: the probes stop the VM");
	ok(suspended(r[0], VM_SUSPEND_HALT, -1, "BSP") &&
		   suspended(r[1], VM_SUSPEND_HALT, -1, "AP"),
	   "check halt: both return SUSPENDED, halt, cpuid -1");
	kt_runner_stop(r[0]);
	kt_runner_stop(r[1]);
	is_int(vm_reinit(vm->ctx), 0, "check halt: VM_REINIT");
}

int main(void)
{
	struct kt_vm *vm;
	struct vm_exit e;
	uint32_t val;

	kt_require_kvm();
	vm = kt_vm_create("suspend", KT_MEM_DEFAULT, 2);
	kt_load(vm, KT_CODE, gs, gs_end);
	kt_load(vm, SPIN_AP, gs_spin, gs_spin_end);
	kt_load(vm, FAULT_AP, gs_fault, gs_fault_end);

	is_int(vm_suspend(vm->ctx, VM_SUSPEND_NONE), -EINVAL,
	       "VM_SUSPEND none: EINVAL");
	is_int(vm_suspend(vm->ctx, VM_SUSPEND_LAST), -EINVAL,
	       "VM_SUSPEND past the last reason: EINVAL");
	is_int(vm_reinit(vm->ctx), -EBUSY, "VM_REINIT of a running VM: EBUSY");

	/* VM_REINIT waits for every vCPU to have seen the suspend. */
	is_int(vm_suspend(vm->ctx, VM_SUSPEND_RESET), 0, "VM_SUSPEND reset");
	is_int(vm_reinit(vm->ctx), -EBUSY,
	       "VM_REINIT before any vCPU saw it: EBUSY");
	ok(vm_run(vm->vcpu[0], &e) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED &&
		   e.u.suspended.how == VM_SUSPEND_RESET &&
		   e.u.suspended.cpuid == -1,
	   "vCPU 0 returns SUSPENDED, reset, cpuid -1");
	ok(set_is(vm->ctx, true, false), "suspended set {0}");
	is_int(vm_reinit(vm->ctx), -EBUSY,
	       "VM_REINIT before vCPU 1 saw it: EBUSY");
	ok(vm_run(vm->vcpu[1], &e) == 0 &&
		   e.exitcode == VM_EXITCODE_SUSPENDED &&
		   e.u.suspended.how == VM_SUSPEND_RESET,
	   "vCPU 1 returns SUSPENDED");
	is_int(vm_reinit(vm->ctx), 0, "then VM_REINIT succeeds");

	test_reasons(vm);
	test_triple_fault(vm);
	test_check_halt(vm);

	if (kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, GS(gs_hello)) < 0)
		tap_bail("set mode");
	ok(kt_run_out(vm->vcpu[0], KT_PORT_OUT, &val) == 0 && val == 0x600d,
	   "the VM runs again");
	kt_vm_destroy(vm);
	return tap_done();
}
