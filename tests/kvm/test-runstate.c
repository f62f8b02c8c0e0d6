/*
 * test-runstate.c: VM_GET_RUN_STATE tells a stopped vCPU that was running
 * from one halted in hlt and from an AP still waiting for INIT/SIPI (what
 * the debugger's thread descriptions say).
 */
#include <errno.h>
#include <unistd.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define FLAG (KT_DATA + 0x100) /* the guest is where it should be */

/* clang-format off */
asm(KT_GUEST_BEGIN(rs, KT_CODE)
    ".code64\n"
    KT_LABEL("rs_halt")
    "	movq $1, " KT_STR(FLAG) "\n"
    "	cli\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    KT_LABEL("rs_spin")
    "	movq $1, " KT_STR(FLAG) "\n"
    "1:	jmp 1b\n"
    KT_GUEST_END(rs));
/* clang-format on */

KT_GUEST_DECLARE(rs);
extern const uint8_t rs_halt[], rs_spin[];

#define RS(label) KT_GADDR(rs, KT_CODE, label)

/* Run vCPU 0 at rip until the guest sets FLAG, stop it, read its state. */
static int state_at(struct kt_vm *vm, uint64_t rip, enum vm_runstate *st)
{
	struct kt_runner *r;
	struct vm_exit e;
	int err;

	kt_poke64(vm, FLAG, 0);
	if (kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, rip) < 0)
		return -EIO;
	r = kt_runner_start(vm->vcpu[0]);
	for (int i = 0; i < 10000 && kt_peek64(vm, FLAG) == 0; i++)
		usleep(1000);
	vm_suspend_cpu(vm->vcpu[0]);
	err = kt_runner_wait(r, &e, KT_RUN_MS);
	if (err == 0 && e.exitcode != VM_EXITCODE_DEBUG)
		err = -EPROTO;
	if (err == 0)
		err = vm_get_run_state(vm->vcpu[0], st);
	vm_resume_cpu(vm->vcpu[0]);
	vm_suspend(vm->ctx, VM_SUSPEND_POWEROFF);
	kt_runner_go(r);
	kt_runner_stop(r);
	return err;
}

int main(void)
{
	enum vm_runstate st = VRS_OTHER;
	struct kt_vm *vm;

	kt_require_kvm();
	vm = kt_vm_create("runstate", KT_MEM_DEFAULT, 2);
	kt_load(vm, KT_CODE, rs, rs_end);

	is_int(vm_get_run_state(vm->vcpu[1], &st), 0, "an AP's state reads");
	is_int(st, VRS_INIT, "an AP not started waits for INIT");
	is_int(state_at(vm, RS(rs_halt), &st), 0,
	       "a vCPU in hlt, stopped: state reads");
	is_int(st, VRS_HALT, "it is halted");
	kt_vm_destroy(vm);

	vm = kt_vm_create("runstate", KT_MEM_DEFAULT, 1);
	kt_load(vm, KT_CODE, rs, rs_end);
	is_int(state_at(vm, RS(rs_spin), &st), 0,
	       "a spinning vCPU, stopped: state reads");
	is_int(st, VRS_RUN, "it is runnable");
	kt_vm_destroy(vm);
	return tap_done();
}
