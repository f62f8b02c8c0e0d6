/*
 * kvm-probe.c: runs the probes of probe.h for shell tests and people.
 *
 *   kvm-probe NAME     prints "NAME: can|cannot|unknown: reason" and exits
 *                      0 (can), 1 (cannot) or 2 (unknown)
 *   kvm-probe -v NAME  prints the probe's number (value) instead
 *   kvm-probe          runs every probe, one line each; exits 0
 *
 * A shell test skips a check only on status 1, with the reason printed.
 */
#include <stdio.h>
#include <string.h>

#include "tests/kvm/probe.h"

static const char *const verdicts[] = { "can", "cannot", "unknown" };

int main(int argc, char **argv)
{
	struct kp_result r;

	if (argc == 3 && strcmp(argv[1], "-v") == 0) {
		kp_probe(argv[2], &r);
		printf("%lld\n", r.value);
		return r.verdict;
	}
	if (argc == 2 && argv[1][0] != '-') {
		kp_probe(argv[1], &r);
		printf("%s: %s: %s\n", argv[1], verdicts[r.verdict], r.why);
		return r.verdict;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: kvm-probe [[-v] NAME]\n");
		for (int i = 0; kp_names[i]; i++)
			fprintf(stderr, "  %-15s %s\n", kp_names[i],
				kp_describe(kp_names[i]));
		return 2;
	}
	for (int i = 0; kp_names[i]; i++) {
		kp_probe(kp_names[i], &r);
		printf("%-15s %-7s %s\n", kp_names[i], verdicts[r.verdict],
		       r.why);
	}
	return 0;
}
