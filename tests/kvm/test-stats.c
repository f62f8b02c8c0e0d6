/*
 * test-stats.c: VM_STATS and VM_STAT_DESC - every counter is named, the
 * exit counters move by exactly the exits a guest makes, per vCPU, and
 * KVM's binary statistics are exported (as "kvm.*") where the host has
 * them.  Single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

#define NOUTS 100
#define NMMIO 7
#define MAXSTATS 1024

/* clang-format off */
asm(KT_GUEST_BEGIN(gc, KT_CODE)
    ".code64\n"
    KT_LABEL("gc_outs")
    "	mov $" KT_STR(NOUTS) ", %ecx\n"
    "1:	out %eax, $0xe0\n"
    "	loop 1b\n"
    "	mov $" KT_STR(NMMIO) ", %ecx\n"
    "	mov $0xc0000000, %ebx\n"
    "2:	mov (%rbx), %eax\n"
    "	loop 2b\n"
    "	out %eax, $0xe1\n"
    "	ud2\n"
    KT_GUEST_END(gc));
/* clang-format on */
KT_GUEST_DECLARE(gc);
extern const uint8_t gc_outs[];

static int count_descs(struct vmctx *ctx, bool *named, bool *unique, int *nkvm)
{
	char(*names)[VM_STAT_NAME_MAX] = calloc(MAXSTATS, sizeof(*names));
	int n;

	if (!names)
		tap_bail("out of memory");

	*named = *unique = true;
	*nkvm = 0;
	for (n = 0; n < MAXSTATS; n++) {
		int r = vm_get_stat_desc(ctx, n, names[n], VM_STAT_NAME_MAX);

		if (r == -ENOENT)
			break;
		if (r < 0 || names[n][0] == 0) {
			tap_diag("statistic %d: %d", n, r);
			*named = false;
			continue;
		}
		if (strncmp(names[n], "kvm.", 4) == 0)
			(*nkvm)++;
		for (int q = 0; q < n; q++) {
			if (strcmp(names[q], names[n]) == 0) {
				tap_diag("%d and %d are both %s", q, n,
					 names[n]);
				*unique = false;
			}
		}
	}
	free(names);
	return n;
}

int main(void)
{
	struct kt_vm *vm;
	struct vmctx *ctx;
	struct vcpu *v, *v1, *none;
	uint64_t buf[MAXSTATS], small[4], before[MAXSTATS];
	char name[VM_STAT_NAME_MAX], want[VM_STAT_NAME_MAX];
	struct vm_exit e;
	bool named, unique, order = true;
	int n, count, nkvm, i_inout, i_mmio, i_debug, i_exits, i_runs, i_kicks;
	int i_kvm_exits;
	struct kp_result stats, exits;

	kt_require_kvm();
	kp_probe("stats", &stats);
	kp_probe("stat-exits", &exits);
	vm = kt_vm_create("stats", KT_MEM_DEFAULT, 2);
	ctx = vm->ctx;
	v = vm->vcpu[0];
	v1 = vm->vcpu[1];
	kt_load(vm, KT_CODE, gc, gc_end);

	/* Names. */
	n = count_descs(ctx, &named, &unique, &nkvm);
	ok(n > VM_EXITCODE_MAX && n < MAXSTATS, "%d statistics", n);
	ok(named, "vm_get_stat_desc names every index");
	ok(unique, "no two have the same name");
	is_int(vm_get_stat_desc(ctx, n, name, sizeof(name)), -ENOENT,
	       "index %d, past the last: ENOENT", n);
	is_int(vm_get_stat_desc(ctx, -1, name, sizeof(name)), -EINVAL,
	       "index -1: EINVAL");
	is_int(vm_get_stat_desc(ctx, 0, name, 3), -ENAMETOOLONG,
	       "a buffer too small: ENAMETOOLONG");
	for (int c = 0; c < VM_EXITCODE_MAX; c++) {
		snprintf(want, sizeof(want), "exits.%s", vm_exitcode_name(c));
		if (vm_get_stat_desc(ctx, c, name, sizeof(name)) < 0 ||
		    strcmp(name, want) != 0)
			order = false;
	}
	ok(order, "the first %d are exits.<exit code>, in exit-code order",
	   VM_EXITCODE_MAX);
	/* As many as a bare vCPU of this KVM has scalar statistics. */
	if (stats.verdict == KP_CANNOT)
		tap_skip("no binary statistics: %s (probe)", stats.why);
	else if (stats.verdict == KP_CAN)
		is_int(nkvm, stats.value,
		       "each of KVM's scalar vCPU statistics, as kvm.*");
	else
		ok(nkvm > 0,
		   "KVM's binary statistics, as kvm.* (the probe "
		   "could not count them: %s)",
		   stats.why);

	i_inout = kt_stat_index(ctx, "exits.inout");
	i_mmio = kt_stat_index(ctx, "exits.mmio");
	i_debug = kt_stat_index(ctx, "exits.debug");
	i_exits = kt_stat_index(ctx, "vmm.exits");
	i_runs = kt_stat_index(ctx, "vmm.kvm_runs");
	i_kicks = kt_stat_index(ctx, "vmm.kicks");
	i_kvm_exits = kt_stat_index(ctx, "kvm.exits");
	ok(i_inout >= 0 && i_mmio >= 0 && i_debug >= 0 && i_exits >= 0 &&
		   i_runs >= 0 && i_kicks >= 0,
	   "exits.inout, exits.mmio, exits.debug, vmm.exits, vmm.kvm_runs, "
	   "vmm.kicks");
	if (i_inout < 0 || i_mmio < 0 || i_debug < 0 || i_exits < 0 ||
	    i_runs < 0 || i_kicks < 0)
		tap_bail("statistics missing");

	/* Counters. */
	count = -1;
	ok(vm_get_stats(v, buf, MAXSTATS, &count) == 0 && count == n,
	   "vm_get_stats: as many counters as names");
	memset(small, 0xee, sizeof(small));
	ok(vm_get_stats(v, small, 3, &count) == 0 && count == n &&
		   small[3] == 0xeeeeeeeeeeeeeeeeULL,
	   "with room for 3: 3 written, the count says %d", n);
	none = vm_vcpu_open(ctx, 3);
	ok(vm_get_stats(none, buf, MAXSTATS, &count) == -ENOENT,
	   "a vCPU that does not exist: ENOENT");
	vm_vcpu_close(none);

	if (vm_get_stats(v, before, MAXSTATS, &count) < 0)
		tap_bail("vm_get_stats");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, KT_CODE);
	for (int i = 0; i < NOUTS; i++) {
		if (kt_run_out(v, KT_PORT_OUT, NULL) < 0) {
			ok(0, "out %d", i);
			break;
		}
	}
	for (int i = 0; i < NMMIO; i++) {
		if (kt_run(v, &e) < 0 || e.exitcode != VM_EXITCODE_MMIO) {
			ok(0, "MMIO read %d", i);
			break;
		}
		memset(e.u.mmio.data, 0, 8);
	}
	ok(kt_run_out(v, 0xe1, NULL) == 0, "the guest is done");
	vm_suspend_cpu(v);
	ok(vm_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_DEBUG,
	   "a DEBUG exit");
	vm_resume_cpu(v);
	if (vm_get_stats(v, buf, MAXSTATS, &count) < 0)
		tap_bail("vm_get_stats");
	is_int(buf[i_inout] - before[i_inout], NOUTS + 1,
	       "exits.inout grew by the %d outs", NOUTS + 1);
	is_int(buf[i_mmio] - before[i_mmio], NMMIO,
	       "exits.mmio grew by the %d MMIO reads", NMMIO);
	is_int(buf[i_debug] - before[i_debug], 1, "exits.debug grew by 1");
	is_int(buf[i_exits] - before[i_exits], NOUTS + 1 + NMMIO + 1,
	       "vmm.exits counts every VM_RUN return");
	ok(buf[i_runs] - before[i_runs] >= NOUTS + 1 + NMMIO,
	   "vmm.kvm_runs: at least one KVM_RUN per exit to the monitor");
	ok(buf[i_kicks] > before[i_kicks],
	   "vmm.kicks grew (VM_SUSPEND_CPU kicks)");
	/* KVM's own count of exits (io_exits is not kept when emulating). */
	if (exits.verdict == KP_CANNOT)
		tap_skip("no kvm.exits: %s (probe)", exits.why);
	else
		ok(i_kvm_exits >= 0 && buf[i_kvm_exits] - before[i_kvm_exits] >=
					       NOUTS + 1 + NMMIO,
		   "kvm.exits grew by at least %d", NOUTS + 1 + NMMIO);
	if (vm_get_stats(v1, buf, MAXSTATS, &count) < 0)
		tap_bail("vm_get_stats");
	ok(buf[i_inout] == 0 && buf[i_exits] == 0,
	   "vCPU 1's counters did not move: they are per vCPU");
	kt_vm_destroy(vm);
	return tap_done();
}
