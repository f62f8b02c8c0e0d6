/*
 * debug/debug.h: the monitor's debug core, always on (DESIGN.md, "The
 * debug core").  It stops, resumes and steps vCPUs, owns breakpoints and
 * watchpoints, and publishes what happens on an event bus.  Its clients -
 * the gdb stub, the control socket's connections, later the Tcl console
 * and the tracer - are peers: none of them owns the VM's stops.
 *
 * The implementation is split by concern: core.c (owners, stops,
 * parking, steps, the vCPU hooks, services), bus.c (events),
 * breakpoints.c (int3 and debug-register breakpoints), watch.c
 * (watchpoints by page protection), probe.c (what the host's KVM can do),
 * gdb_target.c (the gdb stub's target, gdb being one owner).
 *
 * All-stop.  A stop puts vCPUs in vmm's debug set (VM_SUSPEND_CPU) and
 * waits, with a bound, until each vCPU thread has parked in
 * dbg_vcpu_park(); what a client then reads is final (pending port or MMIO
 * input was completed by vmm before the DEBUG exit).  A watchpoint hit
 * found in an MMIO handler is published at that DEBUG exit too, so rip is
 * past the access and a read's register holds its value.  One case parks
 * inside a handler, with its access unfinished: a vCPU that waits for
 * another vCPU's locked instruction when a stop comes (watch.c).  A vCPU
 * that stops by
 * itself (a breakpoint, a watchpoint, a finished step) stops the others,
 * publishes the events and parks: first one BREAKPOINT or WATCHPOINT per
 * breakpoint or watchpoint it hit (each with its owners), then exactly one
 * STEP (a finished step, owner the stepper) or STOP (owner -1, msg saying
 * why when it is not a hit).  Any client may resume.
 *
 * Owners.  Each client takes an owner id (dbg_owner_alloc) and passes it
 * with its requests; events say who asked.  Breakpoints and watchpoints
 * are counted per owner: the same one from gdb and from the console is
 * one in the guest, and stays until every owner removed it.
 * dbg_owner_free() removes what an owner left.
 *
 * Guest first.  A debug exit that no breakpoint, watchpoint or step of an
 * owner explains (the guest's own int3, icebp, TF stepping, or debug
 * registers it set) is delivered to the guest, never ends the VM, and is
 * not reported.
 *
 * Checked settings.  Every capability and debug-register change a request
 * needs is checked; a refusal fails the request with a log line and
 * leaves every vCPU as it was.  vmm applies the settings when the vCPU
 * next enters the guest, so KVM's own refusal comes later, as a
 * VM_EXITCODE_DEBUG_REFUSED exit (or a failed vm_run): the vCPU thread
 * hands it to dbg_vcpu_ran(), which undoes what
 * was refused, tells the owners concerned (VM_EVENT_MESSAGE) and stops
 * the VM (VM_EVENT_STOP with the reason) instead of ending it.
 *
 * Threads.  Requests (dbg_stop ... dbg_breakpoint, dbg_services) come from
 * the control thread, one at a time; they never wait on a vCPU without a
 * bound.  vCPU threads call the dbg_vcpu_* hooks.  Publishing never blocks:
 * a subscriber that does not read loses events, counted in the next one it
 * gets.
 */
#ifndef MONITOR_DEBUG_DEBUG_H
#define MONITOR_DEBUG_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "libvmmapi/vmmapi.h"

struct vitro;
struct vitro_vcpu;
struct dbg_core;
struct dbg_sub;

/* How long a stop waits for each vCPU by default, in milliseconds. */
#define DBG_STOP_TIMEOUT_MS 2000

/*
 * The core of VM vm, before its vCPU threads start.  With `hold`, every
 * vCPU is held before its first instruction until a client resumes it
 * (-G w).  Probes of what the host's KVM can do run on first need.  NULL
 * with errno set.  Registers dbg_services with vm_set_services().
 */
struct dbg_core *dbg_create(struct vitro *vm, bool hold);
void dbg_destroy(struct dbg_core *d);

/*
 * The VM is ending with `status`: publish VM_EVENT_END, let every parked
 * vCPU go and never park one again.  Any thread; the first call counts.
 */
void dbg_vm_ending(struct dbg_core *d, int status);

/*
 * Owners: 0 .. VM_DBG_OWNER_MAX-1, or -EUSERS when all are taken.  The
 * core holds one itself, "local", for in-process callers of dbg_services
 * (libvmmapi's vm_debug_* on the VM's own vmctx).
 */
int dbg_owner_alloc(struct dbg_core *d, const char *name);
/* Remove the owner's breakpoints and watchpoints, and free its id. */
void dbg_owner_free(struct dbg_core *d, int owner);

/*
 * Stop vCPU cpuid (-1: all) and wait up to timeout_ms for each to park.
 * 0 when all are parked; -ETIMEDOUT when some are not, which are named in
 * out->late with their state (a log line says so too); out may be NULL.
 * With timeout_ms 0 it only asks: 0, and out says who is parked already.
 * A vCPU whose thread has not started counts as stopped (it parks before
 * its first instruction).  A late vCPU parks when it can and stays
 * stopped (VM_EVENT_MESSAGE then says so).  Publishes VM_EVENT_STOP for
 * the asking owner.  -ESHUTDOWN once the VM is ending.
 */
int dbg_stop(struct dbg_core *d, int owner, int cpuid, unsigned int timeout_ms,
	     struct vm_dbg_stop *out);
/* Let vCPU cpuid (-1: all) run; publishes VM_EVENT_RESUME. */
int dbg_resume(struct dbg_core *d, int owner, int cpuid);
/*
 * Step one parked vCPU by one instruction (the others stay); it publishes
 * VM_EVENT_STEP when done, or the stop it met first.  Fails, leaving every
 * vCPU as it was, when the step cannot be armed: -EBUSY for a vCPU that
 * is not parked, -EPERM for user code on a KVM that cannot step it (with
 * a log line), or the capability's error.
 *
 * A vCPU that stopped on a breakpoint and resumes at it first steps over
 * it alone, with the breakpoints there lifted for that one instruction
 * (as gdb does for its own), so that another owner's breakpoint does not
 * stop it again on the spot.
 */
int dbg_step(struct dbg_core *d, int owner, int cpuid, unsigned int flags);

/*
 * Resume with one action per vCPU, as gdb's vCont does: act[i] (enum
 * dbg_action) for vCPU i; step_flags (VM_DBG_STEP_*) for the steppers.
 */
enum dbg_action { DBG_STAY, DBG_RUN, DBG_STEP };
int dbg_resume_each(struct dbg_core *d, int owner, const uint8_t *act,
		    unsigned int step_flags);

/*
 * Borrow vCPU cpuid for one command of a client that reads or writes its
 * state: a vCPU that runs is stopped quietly (no event) and waited for up
 * to timeout_ms; one already stopped is left as it is.  0 when it is
 * stopped, with *held telling whether this call stopped it (then
 * dbg_unborrow lets it go again, unless a real stop claimed it
 * meanwhile); -ETIMEDOUT when it did not stop in time, and is let go.
 */
int dbg_borrow(struct dbg_core *d, int cpuid, unsigned int timeout_ms,
	       bool *held);
void dbg_unborrow(struct dbg_core *d, int cpuid);

/*
 * What vCPU cpuid's thread is doing now (enum vm_dbg_cpu_state), or
 * -EINVAL.  Its registers may be read while it is PARKED or IDLE.
 */
int dbg_cpu_state(struct dbg_core *d, int cpuid);
/* Whether vCPU cpuid is stopped: parked, or its thread not started. */
bool dbg_cpu_stopped(struct dbg_core *d, int cpuid);
/*
 * The VM_DBG_STEP_* flags this host supports, and whether it can step
 * user code; may run the probes.
 */
unsigned int dbg_step_flags(struct dbg_core *d);
/*
 * The paging of stopped vCPU cpuid, read once per stop (control thread),
 * for a client's memory accesses: 0, -EBUSY when it is not stopped, or
 * -errno.  A client that writes a vCPU's registers calls
 * dbg_cpu_regs_changed() so that the next one reads it again.
 */
int dbg_cpu_paging(struct dbg_core *d, int cpuid, struct vm_guest_paging *pg);
void dbg_cpu_regs_changed(struct dbg_core *d, int cpuid);

/*
 * Insert or remove a breakpoint or watchpoint for `owner`, translating
 * addr with vCPU cpuid's paging.  Errors: -EOPNOTSUPP a kind never
 * supported here, -ENOSPC out of slots, -EINVAL a range that cannot be
 * watched, -EFAULT an address not mapped, -EPERM a page the CPU itself
 * needs (with a log line), -ENOENT removing what this owner does not have,
 * -EBUSY when vCPU cpuid is not stopped, or a capability's error (every
 * vCPU left as it was).  An owner holds one reference to a breakpoint:
 * inserting it again is not an error and adds nothing.  While the VM
 * runs, the change is made during a short stop of every vCPU that
 * publishes nothing.
 */
int dbg_breakpoint(struct dbg_core *d, int owner, bool insert,
		   enum vm_dbg_bp_type type, uint64_t addr, uint64_t len,
		   int cpuid);

/*
 * A client's view of guest memory is the guest's own, without the int3s
 * the core planted: dbg_mem_shadowed() says whether any is planted; then
 * dbg_mem_shadow() shows, in buf, the byte under each int3 in
 * [gpa, gpa+len) (read), or, after the client wrote buf there, puts the
 * int3s back with the new bytes under them (write).  Control thread, with
 * the vCPUs stopped.
 */
bool dbg_mem_shadowed(struct dbg_core *d);
void dbg_mem_shadow(struct dbg_core *d, uint64_t gpa, void *buf, size_t len,
		    bool write);

/*
 * Events.  A subscription is a bounded queue with an eventfd that is
 * readable while events are queued; mask is 1 << enum vm_event_type.
 */
struct dbg_sub *dbg_subscribe(struct dbg_core *d, uint32_t mask);
void dbg_unsubscribe(struct dbg_sub *s);
int dbg_sub_fd(const struct dbg_sub *s);
/* Take the oldest event; false when none.  Clears the fd when empty. */
bool dbg_sub_take(struct dbg_sub *s, struct vm_event *ev);
/* Publish from any thread; never blocks. */
void dbg_publish(struct dbg_core *d, const struct vm_event *ev);

/*
 * libvmmapi's services handler (vm_set_services): VM_DBG_STOP,
 * VM_DBG_RESUME, VM_DBG_STEP and VM_DBG_BREAKPOINT, with the owner in
 * the struct where it has one (a negative one means the core's "local"
 * owner), else "local".  -EOPNOTSUPP for anything else (VM_DBG_SUBSCRIBE
 * belongs to the control socket: dbg_subscribe).
 */
int dbg_services(void *core, uint32_t cmd, void *data);

/* vCPU hooks, on the vCPU's own thread. */

/*
 * What the thread does now (enum vm_dbg_cpu_state), for stop reports:
 * GUEST before vm_run, OUTPUT while it waits for the host to take guest
 * output, EXIT when that wait is over.
 */
void dbg_vcpu_set_state(struct dbg_core *d, struct vitro_vcpu *vc, int state);
/*
 * After every vm_run, with its result r: the thread is handling an exit
 * now (state EXIT), and the debug settings the vCPU carried into the
 * guest were applied.  For a DEBUG_REFUSED exit, or r < 0 when the
 * failure was KVM refusing the core's debug settings, it returns true:
 * the refused change is undone, its owners are told, the VM is stopped,
 * and the caller runs the vCPU again; false otherwise (for r < 0, the
 * caller ends the VM).
 */
bool dbg_vcpu_ran(struct dbg_core *d, struct vitro_vcpu *vc, int r,
		  const struct vm_exit *vme);
/* VM_EXITCODE_DEBUG: park until resumed. */
void dbg_vcpu_park(struct dbg_core *d, struct vitro_vcpu *vc);
/*
 * MTRAP, BPT, HWBP, and INST_EMUL: a client's stop (parks, returns true),
 * a debug event of the guest's own (delivered to the guest, returns
 * true), an instruction fetch from a page a read or access watchpoint
 * made inaccessible (a stop with a message naming both, returns true), or
 * none of the core's business (false: the caller handles it).
 */
bool dbg_vcpu_exit(struct dbg_core *d, struct vitro_vcpu *vc,
		   const struct vm_exit *vme);
/*
 * An MMIO exit at a guest-physical address on a page the core protects (a
 * watched page): perform the access as the instruction would (its width,
 * one atomic access where the guest's would be; see watch.c for locked
 * instructions), and stop if it hits a watchpoint.  False when the page
 * is not one the core protects.
 */
bool dbg_vcpu_memory_access(struct dbg_core *d, struct vitro_vcpu *vc,
			    const struct vm_exit *vme);
/* The thread is ending: stops no longer wait for it. */
void dbg_vcpu_exited(struct dbg_core *d, struct vitro_vcpu *vc);

#endif
