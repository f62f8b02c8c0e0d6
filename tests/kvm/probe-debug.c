/*
 * probe-debug.c: probes of KVM_SET_GUEST_DEBUG - int3 intercepts,
 * debug-register breakpoints, single-step, and single-step with
 * KVM_GUESTDBG_BLOCKIRQ over an interrupt that is pending.  Each runs a
 * few instructions of 64-bit CPL 0 code on a bare VM (probe_vm.h), as
 * tests/kvm/test-debug.c does through vitro.  Single-threaded.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "tests/kvm/probe_vm.h"

#define MSI_VECTOR 0x40

/* clang-format off */
KPV_BLOB(kpd,
	 ".code64\n"
	 KPV_L("kpd_bpt")
	 "	nop\n"
	 KPV_L("kpd_bpt_int3")
	 "	int3\n"
	 "	mov $0x33, %eax\n"
	 "	out %eax, $0xe0\n"
	 "	hlt\n"

	 KPV_L("kpd_hwbp")
	 "	nop\n"
	 "	nop\n"
	 KPV_L("kpd_hwbp_target")
	 "	mov $0x44, %eax\n"
	 "	out %eax, $0xe0\n"
	 "	hlt\n"

	 KPV_L("kpd_step")
	 "	nop\n"
	 "	mov $1, %eax\n"
	 "	add %eax, %ebx\n"
	 "	jmp 1f\n"
	 "	ud2\n"
	 "1:	xchg %ecx, %edx\n"
	 KPV_L("kpd_step_out")
	 "	out %eax, $0xe0\n"
	 "	hlt\n"

	 KPV_L("kpd_intr")
	 "	mov $0xfee000f0, %edx\n"
	 "	movl $0x1ff, (%rdx)\n"
	 "	out %eax, $0xe0\n"
	 KPV_L("kpd_intr_sti")
	 "	sti\n"
	 "	nop\n"
	 "	nop\n"
	 "	nop\n"
	 "	nop\n"
	 KPV_L("kpd_intr_end")
	 "	nop\n"
	 "	out %eax, $0xe0\n"
	 "	hlt\n");
/* clang-format on */
extern const uint8_t kpd_bpt[], kpd_bpt_int3[], kpd_hwbp[], kpd_hwbp_target[],
	kpd_step[], kpd_step_out[], kpd_intr[], kpd_intr_sti[], kpd_intr_end[];
#define KPD(label) KPV_ADDR(kpd, KPV_CODE, label)

static int start(struct kpv *p, bool irqchip, uint64_t rip,
		 struct kp_result *res)
{
	if (kpv_open(p, irqchip, res))
		return -1;
	kpv_load(p, KPV_CODE, kpd, kpd_end);
	if (kpv_long64(p, rip) < 0) {
		kp_say(res, KP_UNKNOWN, "cannot set up 64-bit mode");
		return -1;
	}
	return 0;
}

int kp_guest_debug(struct kp_result *res)
{
	struct kpv p;

	if (kpv_open(&p, false, res) == 0) {
		if (ioctl(p.kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG) >
		    0)
			kp_say(res, KP_CAN, "KVM_CAP_SET_GUEST_DEBUG");
		else
			kp_say(res, KP_CANNOT,
			       "KVM has no KVM_CAP_SET_GUEST_DEBUG");
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_blockirq(struct kp_result *res)
{
	struct kpv p;
	int caps;

	if (kpv_open(&p, false, res) == 0) {
		caps = ioctl(p.kvm, KVM_CHECK_EXTENSION,
			     KVM_CAP_SET_GUEST_DEBUG2);
		if (caps > 0 && (caps & KVM_GUESTDBG_BLOCKIRQ))
			kp_say(res, KP_CAN, "KVM_GUESTDBG_BLOCKIRQ");
		else
			kp_say(res, KP_CANNOT,
			       "KVM has no KVM_GUESTDBG_BLOCKIRQ (in "
			       "KVM_CAP_SET_GUEST_DEBUG2)");
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_sw_bp(struct kp_result *res)
{
	uint64_t at = KPD(kpd_bpt_int3);
	struct kpv p;
	char buf[160];
	int r;

	if (start(&p, false, KPD(kpd_bpt), res) == 0) {
		if (kpv_set_debug(&p,
				  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP,
				  NULL, 0) < 0) {
			kp_say(res, KP_CANNOT,
			       "KVM_SET_GUEST_DEBUG refused "
			       "KVM_GUESTDBG_USE_SW_BP");
		} else if ((r = kpv_run(&p)) == KVM_EXIT_DEBUG &&
			   p.run->debug.arch.exception == 3 &&
			   kpv_rip(&p) == at) {
			kp_say(res, KP_CAN, "KVM_EXIT_DEBUG #BP at the int3");
		} else if (r == KVM_EXIT_INTERNAL_ERROR &&
			   p.run->internal.suberror ==
				   KVM_INTERNAL_ERROR_EMULATION) {
			kp_say(res, KP_CAN,
			       "an emulation failure at the int3 (a software "
			       "KVM)");
		} else if (kpv_is_out(&p, KPV_PORT_EXC, NULL)) {
			kp_say(res, KP_CANNOT,
			       "int3 with KVM_GUESTDBG_USE_SW_BP is not "
			       "intercepted: the guest took vector %llu "
			       "through its own IDT",
			       (unsigned long long)kpv_peek64(&p, KPV_EXC));
		} else {
			kp_say(res, KP_CANNOT,
			       "int3 with KVM_GUESTDBG_USE_SW_BP at %#llx "
			       "gave %s",
			       (unsigned long long)at,
			       kpv_exit_str(&p, buf, sizeof(buf)));
		}
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_hw_bp(struct kp_result *res)
{
	uint64_t dr[4] = { KPD(kpd_hwbp_target), 0, 0, 0 };
	struct kpv p;
	char buf[160];
	int r;

	if (start(&p, false, KPD(kpd_hwbp), res) == 0) {
		/* DR7: L0, execution, 1 byte. */
		if (kpv_set_debug(&p,
				  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
				  dr, 0x401) < 0)
			kp_say(res, KP_CANNOT,
			       "KVM_SET_GUEST_DEBUG refused "
			       "KVM_GUESTDBG_USE_HW_BP");
		else if ((r = kpv_run(&p)) == KVM_EXIT_DEBUG &&
			 p.run->debug.arch.exception == 1 &&
			 (p.run->debug.arch.dr6 & 1) && kpv_rip(&p) == dr[0])
			kp_say(res, KP_CAN, "KVM_EXIT_DEBUG at DR0");
		else if (kpv_is_out(&p, KPV_PORT_OUT, NULL))
			kp_say(res, KP_CANNOT,
			       "an execution breakpoint in DR0 at %#llx "
			       "(KVM_GUESTDBG_USE_HW_BP) did not fire: the "
			       "guest ran past it to its out",
			       (unsigned long long)dr[0]);
		else
			kp_say(res, KP_CANNOT,
			       "an execution breakpoint in DR0 at %#llx gave "
			       "%s",
			       (unsigned long long)dr[0],
			       kpv_exit_str(&p, buf, sizeof(buf)));
	}
	kpv_close(&p);
	return res->verdict;
}

/*
 * Step from `rip` expecting a KVM_EXIT_DEBUG at each of want[0..n-1]; 0,
 * or -1 with the reason in res.
 */
static int steps(struct kpv *p, const uint64_t *want, int n, const char *what,
		 struct kp_result *res)
{
	char buf[160];

	for (int i = 0; i < n; i++) {
		if (kpv_run(p) != KVM_EXIT_DEBUG || kpv_rip(p) != want[i]) {
			kp_say(res, KP_CANNOT,
			       "%s: step %d should stop at %#llx, gave %s",
			       what, i + 1, (unsigned long long)want[i],
			       kpv_exit_str(p, buf, sizeof(buf)));
			return -1;
		}
	}
	return 0;
}

int kp_step(struct kp_result *res)
{
	const uint64_t b = KPD(kpd_step);
	/* nop, mov, add, jmp (over the ud2), xchg */
	const uint64_t want[] = { b + 1, b + 6, b + 8, b + 12,
				  KPD(kpd_step_out) };
	struct kpv p;

	if (start(&p, false, b, res) == 0) {
		if (kpv_set_debug(&p,
				  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
				  NULL, 0) < 0)
			kp_say(res, KP_CANNOT,
			       "KVM_SET_GUEST_DEBUG refused "
			       "KVM_GUESTDBG_SINGLESTEP");
		else if (steps(&p, want, 5, "single-step at CPL 0", res) == 0)
			kp_say(res, KP_CAN, "5 steps, each where expected");
	}
	kpv_close(&p);
	return res->verdict;
}

int kp_step_blockirq(struct kp_result *res)
{
	const uint64_t sti = KPD(kpd_intr_sti);
	const uint64_t want[] = { sti + 1, sti + 2, sti + 3, sti + 4, sti + 5 };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = MSI_VECTOR };
	struct kpv p;
	char buf[160];
	int caps;

	if (start(&p, true, KPD(kpd_intr), res) < 0)
		goto out;
	caps = ioctl(p.kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	if (caps <= 0 || !(caps & KVM_GUESTDBG_BLOCKIRQ)) {
		kp_say(res, KP_CANNOT, "KVM has no KVM_GUESTDBG_BLOCKIRQ");
		goto out;
	}
	if (kpv_run(&p) != KVM_EXIT_IO || !kpv_is_out(&p, KPV_PORT_OUT, NULL)) {
		kp_say(res, KP_UNKNOWN, "enabling the LAPIC gave %s",
		       kpv_exit_str(&p, buf, sizeof(buf)));
		goto out;
	}
	if (ioctl(p.vm, KVM_SIGNAL_MSI, &msi) <= 0) {
		kp_say(res, KP_UNKNOWN, "KVM_SIGNAL_MSI was not delivered");
		goto out;
	}
	if (kpv_set_debug(&p,
			  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
				  KVM_GUESTDBG_BLOCKIRQ,
			  NULL, 0) < 0) {
		kp_say(res, KP_CANNOT,
		       "KVM_SET_GUEST_DEBUG refused "
		       "KVM_GUESTDBG_BLOCKIRQ");
		goto out;
	}
	if (steps(&p, want, 5,
		  "stepping sti and 4 nops with BLOCKIRQ and an interrupt "
		  "pending",
		  res) < 0)
		goto out;
	if (kpv_peek64(&p, KPV_EXC + 0x20) != 0) {
		kp_say(res, KP_CANNOT,
		       "the pending interrupt was taken while stepping with "
		       "BLOCKIRQ");
		goto out;
	}
	kpv_set_debug(&p, 0, NULL, 0);
	if (kpv_run(&p) != KVM_EXIT_IO || !kpv_is_out(&p, KPV_PORT_EXC, NULL) ||
	    kpv_peek64(&p, KPV_EXC) != MSI_VECTOR ||
	    kpv_peek64(&p, KPV_EXC + 0x10) != KPD(kpd_intr_end)) {
		kp_say(res, KP_CANNOT,
		       "unmasked, the interrupt should come at %#llx; got %s "
		       "(vector %llu at rip %#llx)",
		       (unsigned long long)KPD(kpd_intr_end),
		       kpv_exit_str(&p, buf, sizeof(buf)),
		       (unsigned long long)kpv_peek64(&p, KPV_EXC),
		       (unsigned long long)kpv_peek64(&p, KPV_EXC + 0x10));
		goto out;
	}
	kp_say(res, KP_CAN, "5 masked steps, then the interrupt at %#llx",
	       (unsigned long long)KPD(kpd_intr_end));
out:
	kpv_close(&p);
	return res->verdict;
}
