/*
 * test-traps.c: VM_INJECT_EXCEPTION for traps, where KVMs differ.
 * - #BP re-injected after an int3 exit (VM_CAP_BPT_EXIT): the guest's
 *   handler sees rip just past the int3, whether the caller left rip at
 *   the int3 with inst_length 1 or moved it past with 0; it survives
 *   register writes before the vCPU runs; a second injection is EBUSY.
 * - #BP and #OF with no exit of their own: delivered past the
 *   instruction, or refused (EOPNOTSUPP) with the vCPU untouched, on a
 *   KVM that cannot say where it would push rip (VMX, SVM).
 * - #DB with DR6 bits as payload: the guest's handler reads them in DR6,
 *   also after register writes made before the vCPU runs.
 *
 * The guest's IDT stubs (kvm_util) report each vector and the pushed rip;
 * for #DB a handler of the test's own first reports DR6.  Where a KVM
 * does not intercept int3 (KVM on QEMU's emulated SVM) the guest takes it
 * itself, there is no int3 exit to re-inject, and those checks say skip.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define PORT_DR6 0xe8
#define ORIG_DB (KT_DATA + 0x100) /* the runtime's stub for vector 1 */
#define DR6_BS (1u << 14)
#define DR6_FIXED_1 0xffff0ff0u
#define DR6_BIT12 (1u << 12)

/* clang-format off */
asm(KT_GUEST_BEGIN(gt, KT_CODE)
    /* The same bytes in 32- and 64-bit mode. */
    KT_LABEL("gt_idle")
    "	nop\n"
    "	mov $2, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"

    ".code64\n"
    KT_LABEL("gt_int3")
    "	nop\n"
    KT_LABEL("gt_int3_at")
    "	int3\n"
    KT_LABEL("gt_int3_after")
    "	mov $0x33, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"

    /* #DB: report DR6, then on to the runtime's stub. */
    KT_LABEL("gt_db")
    "	push %rax\n"
    "	mov %dr6, %rax\n"
    "	out %eax, $" KT_STR(PORT_DR6) "\n"
    "	pop %rax\n"
    "	jmp *" KT_STR(ORIG_DB) "\n"

    ".code32\n"
    KT_LABEL("gt_into")
    "	into\n"
    KT_LABEL("gt_into_after")
    "	mov $0x44, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	ud2\n"
    KT_GUEST_END(gt));
/* clang-format on */
KT_GUEST_DECLARE(gt);
extern const uint8_t gt_idle[], gt_int3[], gt_int3_at[], gt_int3_after[],
	gt_db[], gt_into[], gt_into_after[];

#define GT(label) KT_GADDR(gt, KT_CODE, label)

static uint64_t rip_of(struct vcpu *v)
{
	uint64_t rip = 0;

	vm_get_register(v, VM_REG_GUEST_RIP, &rip);
	return rip;
}

/* Run and expect the runtime's stub to report `vector` from `rip`. */
static bool delivered(struct kt_vm *vm, int vector, uint64_t rip,
		      const char *what)
{
	uint32_t val = 0;
	struct kt_exc x;

	if (kt_run_out(vm->vcpu[0], KT_PORT_EXC, &val) < 0 ||
	    val != (uint32_t)vector)
		return ok(0, "%s: the guest's handler for vector %d runs", what,
			  vector);
	x = kt_exc_get(vm);
	return is_hex(x.rip, rip, "%s: the handler sees rip %#llx", what,
		      (unsigned long long)rip);
}

/* Run to the int3 with BPT_EXIT; false (and skips) without an exit. */
static bool int3_exit(struct kt_vm *vm, const char *what, int nskip)
{
	struct vcpu *v = vm->vcpu[0];
	struct vm_exit e;
	char buf[160];

	kt_exc_reset(vm);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GT(gt_int3));
	if (kt_run(v, &e) < 0) {
		ok(0, "%s: run to the int3", what);
		return false;
	}
	if ((e.exitcode == VM_EXITCODE_BPT ||
	     (e.exitcode == VM_EXITCODE_INST_EMUL &&
	      e.u.inst_emul.inst_len > 0 && e.u.inst_emul.inst[0] == 0xcc)) &&
	    e.rip == GT(gt_int3_at))
		return ok(1, "%s: an int3 exit (%s) at the int3", what,
			  vm_exitcode_name(e.exitcode));
	if (e.exitcode == VM_EXITCODE_INOUT && e.u.inout.port == KT_PORT_EXC &&
	    kt_exc_get(vm).vector == 3) {
		for (int i = 0; i < nskip; i++)
			tap_skip("%s: this KVM does not intercept int3 (the "
				 "guest took it itself): nothing to re-inject",
				 what);
		return false;
	}
	ok(0, "%s: an int3 exit", what);
	tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	return false;
}

static void test_bp_after_int3(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t val = 0;
	int r = vm_set_capability(v, VM_CAP_BPT_EXIT, 1);

	if (r == -ENOTSUP) {
		for (int i = 0; i < 15; i++)
			tap_skip("no VM_CAP_BPT_EXIT on this KVM");
		return;
	}
	is_int(r, 0, "VM_CAP_BPT_EXIT on");

	/* The monitor's case: rip at the int3, inst_length 1. */
	if (int3_exit(vm, "rip at the int3", 4)) {
		is_int(vm_inject_trap(v, IDT_BP, 1), 0,
		       "rip at the int3: inject #BP, inst_length 1");
		delivered(vm, IDT_BP, GT(gt_int3_after), "rip at the int3");
		ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 0x33,
		   "rip at the int3: the guest returns past the int3");
	}

	/* rip moved past the int3 by the caller, inst_length 0. */
	if (int3_exit(vm, "rip past the int3", 3)) {
		vm_set_register(v, VM_REG_GUEST_RIP, GT(gt_int3_after));
		is_int(vm_inject_exception(v, IDT_BP, false, 0, 0), 0,
		       "rip past the int3: inject #BP, inst_length 0");
		delivered(vm, IDT_BP, GT(gt_int3_after), "rip past the int3");
	}

	/*
	 * KVM never reports an injected #BP (KVM_GET_VCPU_EVENTS): vmm
	 * must refuse a second one, and keep it over a register write that
	 * sets the events again.
	 */
	if (int3_exit(vm, "kept", 6)) {
		is_int(vm_inject_trap(v, IDT_BP, 1), 0, "kept: inject #BP");
		is_int(vm_inject_exception(v, 6, false, 0, 0), -EBUSY,
		       "kept: a second exception before the vCPU ran: EBUSY");
		is_int(vm_set_register(v, VM_REG_GUEST_INTR_SHADOW, 0), 0,
		       "kept: write the interrupt shadow");
		is_int(vm_set_register(v, VM_REG_GUEST_RAX, 0x1234), 0,
		       "kept: write rax");
		delivered(vm, IDT_BP, GT(gt_int3_after), "kept");
	}
	is_int(vm_set_capability(v, VM_CAP_BPT_EXIT, 0), 0,
	       "VM_CAP_BPT_EXIT off");
}

/*
 * A trap with no exit of its own, after an `out`: delivered past the
 * instruction, or refused and nothing changed; either way the guest then
 * runs the instruction with the result the hardware gives.
 */
static void test_trap_without_exit(struct kt_vm *vm, enum kt_mode mode,
				   int vector, uint64_t at, uint64_t after,
				   const char *what)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t val = 0;
	int r;

	kt_exc_reset(vm);
	kt_vcpu_set_mode(v, mode, GT(gt_idle));
	if (kt_run_out(v, KT_PORT_OUT, NULL) < 0) {
		ok(0, "%s: the guest runs to its out", what);
		return;
	}
	vm_set_register(v, VM_REG_GUEST_RIP, at);
	r = vm_inject_trap(v, vector, 1);
	ok(r == 0 || r == -EOPNOTSUPP, "%s: inject, inst_length 1: %s", what,
	   r == 0 ? "taken" : strerror(-r));
	if (r == 0) {
		delivered(vm, vector, after, what);
	} else {
		is_hex(rip_of(v), at, "%s: refused, rip untouched", what);
		if (vector == IDT_BP) /* the guest's own int3 then */
			delivered(vm, vector, after, what);
		else /* into with OF clear does nothing */
			ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 &&
				   kt_exc_get(vm).count == 0,
			   "%s: refused, nothing delivered", what);
	}
}

/* Point IDT vector 1 at gt_db, which reports DR6, then the stub. */
static void db_handler_install(struct kt_vm *vm)
{
	uint64_t *gate = kt_gpa(vm, KT_IDT64 + 16 * IDT_DB);
	uint64_t stub = (gate[0] & 0xffff) | (gate[0] >> 48 & 0xffff) << 16 |
			gate[1] << 32;
	uint64_t h = GT(gt_db);

	kt_poke64(vm, ORIG_DB, stub);
	gate[0] = (gate[0] & 0x0000ffffffff0000ULL) | (h & 0xffff) |
		  (h >> 16 & 0xffff) << 48;
	gate[1] = h >> 32;
}

/* Inject #DB with `bits`, run: the DR6 the handler read, or 0. */
static uint32_t db(struct kt_vm *vm, uint64_t bits, bool writes,
		   const char *what)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t dr6 = 0, val = 0;

	kt_exc_reset(vm);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GT(gt_idle));
	is_int(vm_inject_exception(v, IDT_DB, false, 0, bits), 0,
	       "%s: inject #DB, DR6 bits %#llx", what,
	       (unsigned long long)bits);
	if (writes) {
		is_int(vm_inject_exception(v, 6, false, 0, 0), -EBUSY,
		       "%s: a second exception before the vCPU ran: EBUSY",
		       what);
		is_int(vm_set_register(v, VM_REG_GUEST_INTR_SHADOW, 0), 0,
		       "%s: write the interrupt shadow", what);
		is_int(vm_set_register(v, VM_REG_GUEST_RAX, 0x1234), 0,
		       "%s: write rax", what);
	}
	if (kt_run_out(v, PORT_DR6, &dr6) < 0)
		ok(0, "%s: the #DB handler reads DR6", what);
	delivered(vm, IDT_DB, GT(gt_idle), what);
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 2,
	   "%s: the guest returns and goes on", what);
	return dr6;
}

static void test_db(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];
	uint32_t dr6;

	db_handler_install(vm);
	dr6 = db(vm, 0x2 | DR6_BS, false, "#DB B1|BS");
	is_hex(dr6 & 0xf, 0x2, "#DB B1|BS: B0-B3 in DR6 are B1");
	ok(dr6 & DR6_BS, "#DB B1|BS: BS set in DR6 (%#x)", dr6);
	ok((dr6 & DR6_FIXED_1) == DR6_FIXED_1 && !(dr6 & DR6_BIT12),
	   "#DB B1|BS: the reserved bits read as hardware has them (%#x)", dr6);
	dr6 = db(vm, 0x1, true, "#DB B0, kept");
	is_hex(dr6 & 0xf, 0x1, "#DB B0: B0-B3 in DR6 are B0 only");
	ok(dr6 & DR6_BS, "#DB B0: BS, set before, is still set (%#x)", dr6);
	dr6 = db(vm, 0, false, "#DB no bits");
	is_hex(dr6 & 0xf, 0x1, "#DB no bits: DR6 as it was");

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GT(gt_idle));
	is_int(vm_inject_exception(v, IDT_DB, false, 0, 1u << 16), -EINVAL,
	       "#DB with DR6 bit 16 (RTM): EINVAL");
	is_int(vm_inject_exception(v, IDT_DB, false, 0, 1u << 4), -EINVAL,
	       "#DB with DR6 bit 4 (reserved): EINVAL");
}

static void test_invalid(struct kt_vm *vm)
{
	struct vcpu *v = vm->vcpu[0];

	kt_vcpu_set_mode(v, KT_MODE_LONG64, GT(gt_idle));
	is_int(vm_inject_trap(v, 6, 2), -EINVAL,
	       "inst_length with #UD, not a trap: EINVAL");
	is_int(vm_inject_trap(v, IDT_BP, 16), -EINVAL,
	       "inst_length 16, longer than any instruction: EINVAL");
}

int main(void)
{
	struct kt_vm *vm;

	kt_require_kvm();
	vm = kt_vm_create("traps", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, gt, gt_end);
	test_invalid(vm);
	test_bp_after_int3(vm);
	test_trap_without_exit(vm, KT_MODE_LONG64, IDT_BP, GT(gt_int3_at),
			       GT(gt_int3_after), "#BP with no int3 exit");
	test_trap_without_exit(vm, KT_MODE_PROT32, IDT_OF, GT(gt_into),
			       GT(gt_into_after), "#OF");
	test_db(vm);
	kt_vm_destroy(vm);
	return tap_done();
}
