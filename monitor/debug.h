/*
 * debug.h: the monitor's debugger - stopping and resuming vCPUs, software
 * and hardware breakpoints, watchpoints - shared by the gdb stub (as its
 * target, gdbstub/gdb_target.h) and the console.
 *
 * All-stop model.  A stop puts every vCPU in vmm's debug set and waits
 * until each vCPU thread has parked in dbg_vcpu_park(); a resume gives
 * each parked vCPU an action (stay, continue, step) and takes the ones
 * that run out of the debug set.  A vCPU that stops by itself (a
 * breakpoint, a watchpoint, a finished step) stops the others, reports a
 * stop event and parks.
 *
 * Breakpoints.  How a software breakpoint traps depends on the host's KVM,
 * so vitro probes it at start-up (dbg_probe_host): an int3 intercepted
 * by KVM (hardware KVM), an int3 that KVM cannot emulate (a software KVM
 * that emulates guest kernel code: the emulation failure at a planted
 * int3 is the trap), or, when neither works, the four debug registers.
 * Either way the user sets breakpoints with a plain `break`.  An int3 that
 * is not a debugger's breakpoint is delivered to the guest as #BP.
 *
 * Watchpoints use page protection, not debug registers (which do not fire
 * on every KVM): a watched page is made read-only (write watchpoints) or
 * inaccessible (read and access watchpoints), every guest access to it
 * exits, the monitor performs it on guest memory and stops when it falls
 * in a watched range.  There is no limit of four.
 *
 * Threads.  The gdb stub calls the target operations from the control
 * thread; vCPU threads call the dbg_vcpu_* hooks.  One mutex guards the
 * state, one condition variable signals parking and resuming.
 */
#ifndef MONITOR_DEBUG_H
#define MONITOR_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/gdb_target.h"
#include "libvmmapi/vmmapi.h"

struct vitro;
struct vitro_vcpu;
struct vitro_debug;

enum dbg_bp_mode {
	DBG_BP_INT3_EXIT, /* int3 exits to the monitor (KVM_EXIT_DEBUG) */
	DBG_BP_INT3_EMUL, /* int3 is an emulation failure: the trap */
	DBG_BP_DEBUGREG, /* only debug registers (4 breakpoints) */
};

const char *dbg_bp_mode_name(enum dbg_bp_mode mode);

/* What the host's KVM can do for a debugger, found out at start-up. */
struct dbg_host {
	enum dbg_bp_mode bp_mode; /* how software breakpoints trap */
	/*
	 * Single-step works at CPL 3 in long mode.  A KVM that runs guest
	 * user code natively and emulates the kernel (this project's
	 * software KVM) shuts the guest down instead.
	 */
	bool user_step;
};

/* Run the probes in scratch VMs: 0, or -errno if none could run. */
int dbg_probe_host(struct dbg_host *host);

/*
 * A debugger for vm.  Stop events go to `events`.  With `hold`, every vCPU
 * is held before its first instruction until a debugger resumes it (-G w).
 * NULL with errno set on failure.
 */
struct vitro_debug *dbg_create(struct vitro *vm, const struct dbg_host *host,
			       struct gdb_events *events, bool hold);
void dbg_destroy(struct vitro_debug *d);

/* The gdb stub's view of it. */
struct gdb_target dbg_target(struct vitro_debug *d);

/* The VM is ending: let every parked vCPU go, and stop parking. */
void dbg_release(struct vitro_debug *d);

/* vCPU hooks, on the vCPU's own thread. */

/* The vCPU's thread is ending: stops no longer wait for it. */
void dbg_vcpu_exited(struct vitro_debug *d, struct vitro_vcpu *vc);

/* VM_EXITCODE_DEBUG: park until resumed. */
void dbg_vcpu_park(struct vitro_debug *d, struct vitro_vcpu *vc);

/*
 * MTRAP, BPT, HWBP, and an INST_EMUL at an int3: a debugger's stop, or the
 * guest's own int3.  Returns false when the exit is none of the debugger's
 * business and the caller should treat it as it would without one.
 */
bool dbg_vcpu_exit(struct vitro_debug *d, struct vitro_vcpu *vc,
		   const struct vm_exit *vme);

/*
 * A guest access that exited as MMIO at a guest-physical address that is
 * memory (a watched page): do it on memory, and stop if it hits a
 * watchpoint.  Returns false when gpa is not memory.
 */
bool dbg_vcpu_memory_access(struct vitro_debug *d, struct vitro_vcpu *vc,
			    const struct vm_exit *vme);

/*
 * Without a debugger, vitro still delivers a guest's own int3 that this
 * host's KVM could not emulate, as #BP.  Returns false if the exit was not
 * such an int3.
 */
bool dbg_deliver_guest_int3(struct vcpu *vcpu, const struct vm_exit *vme);

#endif
