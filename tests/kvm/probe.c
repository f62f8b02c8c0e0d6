/*
 * probe.c: the table of probes and the child process each runs in (see
 * probe.h).  The child has a watchdog (alarm); the parent reads its
 * result from a pipe.  No state outside the call.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/kvm/probe_vm.h"

/* A probe runs a few guest instructions; the nested KVM is slow. */
#define KP_DEADLINE_S 60

static const struct {
	const char *name;
	int (*fn)(struct kp_result *res);
	const char *what;
} probes[] = {
	{ "tsc-msr", kp_tsc_msr,
	  "IA32_TSC written with KVM_SET_MSRS reads back with KVM_GET_MSRS" },
	{ "tsc-guest", kp_tsc_guest,
	  "IA32_TSC written with KVM_SET_MSRS is what the guest's rdtsc "
	  "continues from" },
	{ "guest-debug", kp_guest_debug,
	  "KVM has KVM_SET_GUEST_DEBUG (KVM_CAP_SET_GUEST_DEBUG)" },
	{ "blockirq", kp_blockirq,
	  "KVM_SET_GUEST_DEBUG takes KVM_GUESTDBG_BLOCKIRQ" },
	{ "sw-bp", kp_sw_bp,
	  "int3 at CPL 0 with KVM_GUESTDBG_USE_SW_BP comes back as "
	  "KVM_EXIT_DEBUG (#BP) or as an emulation failure, not to the guest" },
	{ "hw-bp", kp_hw_bp,
	  "an execution breakpoint in DR0 (KVM_GUESTDBG_USE_HW_BP) gives "
	  "KVM_EXIT_DEBUG at its address" },
	{ "step", kp_step,
	  "KVM_GUESTDBG_SINGLESTEP at CPL 0 exits once per instruction" },
	{ "step-blockirq", kp_step_blockirq,
	  "single-steps with KVM_GUESTDBG_BLOCKIRQ over sti and 4 nops with "
	  "an interrupt pending, which is then taken once at the next rip" },
	{ "shutdown-state", kp_shutdown_state,
	  "after a triple fault (KVM_EXIT_SHUTDOWN) the vCPU's rip is the "
	  "faulting instruction's, not the reset vector" },
	{ "legacy-paging", kp_legacy_paging,
	  "a guest turns on 32-bit paging (CR0.PG outside long mode)" },
	{ "pae-paging", kp_pae_paging,
	  "a guest turns on PAE paging and reads through it" },
	{ "pae-pdpte", kp_pae_pdpte,
	  "the CPU leaves the reserved bits of PAE PDPTEs in memory alone "
	  "(some set the accessed bit there)" },
	{ "la57", kp_la57,
	  "KVM's supported CPUID offers LA57 (5-level paging)" },
	{ "tsc-deadline", kp_tsc_deadline,
	  "KVM's in-kernel LAPIC has the TSC-deadline timer "
	  "(KVM_CAP_TSC_DEADLINE_TIMER)" },
	{ "stats", kp_stats,
	  "the vCPU has binary statistics (value: how many scalar ones)" },
	{ "stat-exits", kp_stat_exits,
	  "the vCPU's binary statistics have an 'exits' counter" },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

const char *const kp_names[] = {
	"guest-debug",
	"blockirq",
	"tsc-msr",
	"tsc-guest",
	"sw-bp",
	"hw-bp",
	"step",
	"step-blockirq",
	"shutdown-state",
	"legacy-paging",
	"pae-paging",
	"pae-pdpte",
	"la57",
	"tsc-deadline",
	"stats",
	"stat-exits",
	NULL,
};
_Static_assert(sizeof(kp_names) / sizeof(kp_names[0]) == NPROBES + 1,
	       "kp_names lists every probe");

const char *kp_describe(const char *name)
{
	for (size_t i = 0; i < NPROBES; i++)
		if (strcmp(probes[i].name, name) == 0)
			return probes[i].what;
	return NULL;
}

int kp_probe(const char *name, struct kp_result *res)
{
	struct kp_result got;
	int fds[2], st;
	ssize_t n;
	pid_t pid;
	size_t i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < NPROBES && strcmp(probes[i].name, name) != 0; i++)
		;
	if (i == NPROBES)
		return kp_say(res, KP_UNKNOWN, "no probe called '%s'", name);
	if (pipe(fds) < 0)
		return kp_say(res, KP_UNKNOWN, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return kp_say(res, KP_UNKNOWN, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		signal(SIGALRM, SIG_DFL);
		alarm(KP_DEADLINE_S);
		memset(&got, 0, sizeof(got));
		probes[i].fn(&got);
		n = write(fds[1], &got, sizeof(got));
		_exit(n == (ssize_t)sizeof(got) ? 0 : 1);
	}
	close(fds[1]);
	do
		n = read(fds[0], &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(got)) {
		if (WIFSIGNALED(st))
			return kp_say(res, KP_UNKNOWN,
				      "probe %s died of signal %d%s", name,
				      WTERMSIG(st),
				      WTERMSIG(st) == SIGALRM ?
					      " (no exit within the deadline)" :
					      "");
		return kp_say(res, KP_UNKNOWN, "probe %s gave no result", name);
	}
	got.why[sizeof(got.why) - 1] = '\0';
	*res = got;
	return res->verdict;
}
