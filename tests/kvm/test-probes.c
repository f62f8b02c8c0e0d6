/*
 * test-probes.c: the probes of probe.h themselves.  On a host with
 * /dev/kvm every probe should come to a verdict (can or cannot).  One
 * that cannot tell is reported as a skip with what it saw, not a failure:
 * its checks then run and must pass, so nothing is hidden, and a KVM
 * that behaves in a way no probe foresaw (the probes were written on two
 * KVMs) does not fail the suite for that alone.  Prints what this KVM can
 * and cannot do, for the record.  Single-threaded.
 */
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

int main(void)
{
	static const char *const verdicts[] = { "can", "cannot", "unknown" };
	struct kp_result r, stats;

	kt_require_kvm();
	for (int i = 0; kp_names[i]; i++) {
		kp_probe(kp_names[i], &r);
		if (r.verdict == KP_UNKNOWN)
			tap_skip("probe %s cannot tell here (%s); the checks "
				 "that ask it run",
				 kp_names[i], r.why);
		else
			ok(r.why[0] != 0, "probe %s: %s, saying why: %s",
			   kp_names[i], verdicts[r.verdict], r.why);
		ok(kp_describe(kp_names[i]) != NULL, "probe %s is described",
		   kp_names[i]);
	}
	kp_probe("stats", &stats);
	ok(stats.verdict != KP_CAN || stats.value > 0,
	   "stats: a KVM with binary statistics has some (%lld)", stats.value);
	is_int(kp_probe("no-such-probe", &r), KP_UNKNOWN,
	       "an unknown probe: unknown");
	ok(strstr(r.why, "no-such-probe") != NULL, "... naming it: %s", r.why);
	return tap_done();
}
