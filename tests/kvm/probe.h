/*
 * probe.h: what this host's KVM can do, measured on /dev/kvm directly,
 * without vitro.
 *
 * KVMs differ: kvm_pvm (a software KVM) emulates guest kernel code and
 * fails on int3; kvm_amd under QEMU's emulated SVM intercepts neither int3
 * nor debug-register breakpoints; hardware VMX and SVM do both.  A test
 * that meets such a difference asks a probe here, a few lines of guest
 * code run on a bare KVM VM, and skips exactly the check the probe says
 * this KVM cannot pass, printing the probe's reason; when the probe says
 * the KVM can, or cannot tell, the check runs and must pass.  So a skip
 * always rests on a measurement of the KVM, never on what vitro did.
 *
 * Each probe runs in a child process (fork) under a watchdog, so one that
 * hangs or crashes gives KP_UNKNOWN instead of taking the test with it.
 * Call probes before the test starts threads of its own.  The program
 * build/tests/kvm/kvm-probe runs them for shell tests.
 */
#ifndef TESTS_KVM_PROBE_H
#define TESTS_KVM_PROBE_H

#include <stddef.h>
#include <stdint.h>

enum kp_verdict {
	KP_CAN = 0, /* this KVM does it (measured) */
	KP_CANNOT = 1, /* it does not; the reason says what happened */
	KP_UNKNOWN = 2, /* no /dev/kvm, a set-up error, a hang: run the check */
};

#define KP_WHY_MAX 256

struct kp_result {
	int verdict; /* enum kp_verdict */
	long long value; /* a number some probes measure, else 0 */
	char why[KP_WHY_MAX]; /* what was seen, for CANNOT and UNKNOWN */
};

/*
 * Run the probe called `name` (see kp_names); KP_UNKNOWN for an unknown
 * name.  Always fills *res.
 */
int kp_probe(const char *name, struct kp_result *res);

/* The probes' names and one line each on what they measure; NULL-ended. */
extern const char *const kp_names[];
const char *kp_describe(const char *name);

#endif
