/*
 * test-refuse.c: the debug settings (VM_SET_CAPABILITY, VM_SET_HW_DEBUG)
 * when they cannot be had.  A bad DR7 is refused when set (EINVAL); what
 * KVM itself refuses, at the vCPU's next VM_RUN, is reported by that
 * VM_RUN as VM_EXITCODE_DEBUG_REFUSED before any guest instruction, the
 * settings go back to those KVM last took (VM_GET_CAPABILITY and
 * vm_get_hw_debug say so), the guest then runs under them, and
 * exits.debug_refused counts it.
 *
 * KVM refuses nothing vmm lets through on its own, so the second VM is
 * made with vmm's test knob VITRO_VMM_REFUSE_GUEST_DEBUG, which makes
 * KVM_SET_GUEST_DEBUG fail as KVM would for settings that single-step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define GUESTDBG_SINGLESTEP "0x2" /* KVM_GUESTDBG_SINGLESTEP */
#define CNT KT_DATA

/* clang-format off */
asm(KT_GUEST_BEGIN(gr, KT_CODE)
    ".code64\n"
    KT_LABEL("gr_start")
    "	incq " KT_STR(CNT) "\n"
    "	mov $1, %eax\n"
    "	out %eax, $" KT_STR(KT_PORT_OUT) "\n"
    "	jmp gr_start\n"
    KT_GUEST_END(gr));
/* clang-format on */
KT_GUEST_DECLARE(gr);
extern const uint8_t gr_start[];

#define GR(label) KT_GADDR(gr, KT_CODE, label)

static int cap(struct vcpu *v, enum vm_cap_type c)
{
	int val = -1;

	vm_get_capability(v, c, &val);
	return val;
}

static void test_checked_at_once(void)
{
	struct kt_vm *vm = kt_vm_create("refuse-dr7", KT_MEM_DEFAULT, 1);
	struct vcpu *v = vm->vcpu[0];
	const uint64_t dr[4] = { GR(gr_start), 0, 0, 0 };
	uint64_t got_dr[4] = { 0 }, got_dr7 = 0;
	bool on = false;
	int r;

	r = vm_set_hw_debug(v, true, dr, 0x1);
	if (r == -ENOTSUP) {
		tap_skip("no debug registers for the monitor on this KVM");
		kt_vm_destroy(vm);
		return;
	}
	is_int(r, 0, "DR7 L0 on: taken");
	is_int(vm_set_hw_debug(v, true, dr, 0x1 | 1ULL << 32), -EINVAL,
	       "DR7 with a bit of its upper half: EINVAL");
	is_int(vm_set_hw_debug(v, true, dr, 0x1 | 1ULL << 12), -EINVAL,
	       "DR7 with reserved bit 12: EINVAL");
	is_int(vm_set_hw_debug(v, true, dr, 0x1 | 1ULL << 15), -EINVAL,
	       "DR7 with reserved bit 15: EINVAL");
	ok(vm_get_hw_debug(v, &on, got_dr, &got_dr7) == 0 && on &&
		   got_dr[0] == dr[0] && got_dr7 == 0x1,
	   "what was refused at once left the settings as they were");
	is_int(vm_set_capability(v, VM_CAP_MAX, 1), -EINVAL,
	       "a capability that does not exist: EINVAL");
	kt_vm_destroy(vm);
}

static void test_refused_by_kvm(void)
{
	struct kt_vm *vm;
	struct vcpu *v;
	const uint64_t dr[4] = { GR(gr_start) + 0x100, 0, 0, 0 };
	uint64_t got_dr[4], got_dr7 = 0;
	struct vm_exit e;
	char buf[160];
	bool on = true;
	int i_refused;
	uint32_t val = 0;

	setenv("VITRO_VMM_REFUSE_GUEST_DEBUG", GUESTDBG_SINGLESTEP, 1);
	vm = kt_vm_create("refuse", KT_MEM_DEFAULT, 1);
	unsetenv("VITRO_VMM_REFUSE_GUEST_DEBUG");
	v = vm->vcpu[0];
	kt_load(vm, KT_CODE, gr, gr_end);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GR(gr_start));
	i_refused = kt_stat_index(vm->ctx, "exits.debug_refused");
	ok(i_refused >= 0, "a statistic exits.debug_refused");

	/* Settings KVM takes: int3 exits. */
	if (vm_set_capability(v, VM_CAP_BPT_EXIT, 1) == -ENOTSUP) {
		tap_skip("no VM_CAP_BPT_EXIT on this KVM");
		kt_vm_destroy(vm);
		return;
	}
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 1,
	   "with int3 exits on, the guest runs");

	/* Then a step and a breakpoint together, which KVM refuses. */
	is_int(vm_set_capability(v, VM_CAP_MTRAP_EXIT, 1), 0,
	       "single-step: recorded");
	is_int(vm_set_hw_debug(v, true, dr, 0x1), 0,
	       "DR0 breakpoint: recorded");
	is_int(cap(v, VM_CAP_MTRAP_EXIT), 1,
	       "VM_GET_CAPABILITY: single-step asked");
	kt_poke64(vm, CNT, 0);
	vm_set_register(v, VM_REG_GUEST_RIP, GR(gr_start));
	if (kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_DEBUG_REFUSED) {
		ok(1, "VM_RUN: DEBUG_REFUSED");
		is_int(e.u.debug_refused.error, -EINVAL, "KVM's error");
		ok(e.u.debug_refused.caps == (1u << VM_CAP_MTRAP_EXIT |
					      1u << VM_CAP_BPT_EXIT) &&
			   e.u.debug_refused.hw.enable &&
			   e.u.debug_refused.hw.dr[0] == dr[0] &&
			   e.u.debug_refused.hw.dr7 == 0x1,
		   "the exit says what was refused (caps %#x)",
		   e.u.debug_refused.caps);
		is_hex(e.rip, GR(gr_start), "the exit's rip");
	} else {
		ok(0, "VM_RUN: DEBUG_REFUSED");
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	}
	is_int(kt_peek64(vm, CNT), 0, "no guest instruction ran");
	is_int(cap(v, VM_CAP_MTRAP_EXIT), 0,
	       "VM_GET_CAPABILITY: single-step back off");
	is_int(cap(v, VM_CAP_BPT_EXIT), 1,
	       "VM_GET_CAPABILITY: int3 exits still on, as KVM had them");
	ok(vm_get_hw_debug(v, &on, got_dr, &got_dr7) == 0 && !on,
	   "vm_get_hw_debug: the breakpoint is off again");
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 1 &&
		   kt_peek64(vm, CNT) == 1,
	   "the next VM_RUN runs the guest, not stepping");
	is_int(kt_stat(v, i_refused), 1, "exits.debug_refused is 1");

	/* Settings KVM takes go through as ever. */
	is_int(vm_set_capability(v, VM_CAP_BPT_EXIT, 0), 0, "int3 exits off");
	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0 && val == 1 &&
		   cap(v, VM_CAP_BPT_EXIT) == 0 && kt_stat(v, i_refused) == 1,
	   "taken without a refusal");
	kt_vm_destroy(vm);
}

int main(void)
{
	kt_require_kvm();
	test_checked_at_once();
	test_refused_by_kvm();
	return tap_done();
}
