/*
 * debug_int.h: what the files of the debug core share (debug.h is the
 * interface to its clients; this header is not for them).
 *
 * Locking.  d->lock guards everything in struct dbg_core and struct
 * dbg_cpu except the fields marked atomic and the bus, which has its own
 * lock (bus.c), always taken inside d->lock, never the other way round.
 * d->cond is broadcast whenever a vCPU parks or unparks, a hold is lifted,
 * the VM starts ending, or the locked read-modify-write slot (watch.c)
 * frees.  libvmmapi calls made under d->lock never wait for a vCPU: a
 * kick does not wait, and a vCPU's registers are read only while it is
 * stopped or by its own thread.
 *
 * Threads.  Requests come from the control thread, one at a time; it may
 * drop d->lock in the middle of one (to read a parked vCPU's registers,
 * to run the probes) because no other request can start meanwhile and a
 * held vCPU stays parked - but for one waiting on a step-over of another
 * vCPU (c->deferred), which that vCPU's thread lets go when its step is
 * done.  vCPU threads take d->lock in their hooks.
 */
#ifndef MONITOR_DEBUG_DEBUG_INT_H
#define MONITOR_DEBUG_DEBUG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "monitor/debug/debug.h"

#define DBG_NDR 4 /* debug-register slots */
#define DBG_MAX_BP 1024 /* breakpoints, all owners */
#define DBG_MAX_WATCH 256 /* watchpoints, all owners */
#define DBG_INT3 0xcc
#define DBG_ICEBP 0xf1
#define DBG_HLT 0xf4
#define DBG_MAX_PEND 16 /* hits one exit handler may find */
#define DR6_BD (1ULL << 13)
#define DR6_BS (1ULL << 14)
#define DR6_BT (1ULL << 15)
#define DR6_WHY (0xfULL | DR6_BD | DR6_BS | DR6_BT)
#define RFLAGS_TF 0x100ULL
#define RFLAGS_RF 0x10000ULL
#define CR0_PE 0x1ULL
#define EFER_LMA (1ULL << 10)

/* How software breakpoints trap on this host (probe.c). */
enum dbg_bp_mode {
	DBG_BP_INT3_EXIT, /* int3 exits to the monitor (KVM_EXIT_DEBUG) */
	DBG_BP_INT3_EMUL, /* int3 is an emulation failure: the trap */
	DBG_BP_DEBUGREG, /* only debug registers (4 breakpoints) */
};

/* What the host's KVM can do for a debugger, found out on first need. */
struct dbg_host {
	enum dbg_bp_mode bp_mode; /* how software breakpoints trap */
	/*
	 * Single-step works at CPL 3 in long mode.  A KVM that runs guest
	 * user code natively and emulates the kernel (this project's
	 * software KVM) shuts the guest down instead.
	 */
	bool user_step;
};

const char *dbg_bp_mode_name(enum dbg_bp_mode mode);
/* Run the probes in scratch VMs: 0, or -errno if they could not run. */
int dbg_probe_host(struct dbg_host *host);

/*
 * What the core asked vmm for on one vCPU: capabilities and debug
 * registers.  vmm applies them when the vCPU next enters the guest.
 */
struct dbg_settings {
	bool mtrap; /* VM_CAP_MTRAP_EXIT */
	bool mask_irq; /* VM_CAP_MASK_HWINTR */
	bool bpt; /* VM_CAP_BPT_EXIT */
	bool hw; /* debug registers in use */
	uint64_t dr[DBG_NDR];
	uint64_t dr7;
};

struct dbg_cpu {
	_Atomic int state; /* enum vm_dbg_cpu_state; its thread writes it */
	bool parked; /* its thread waits in park_locked() */
	bool hold; /* it must stay parked (and is in vmm's debug set) */
	bool hold_internal; /* held only for a change, by quiesce() */
	bool gone; /* its thread ended */
	bool late; /* a stop gave up waiting for it; it says when it parks */
	uint8_t action; /* enum dbg_action, for the next unpark */

	/* Stepping. */
	bool stepping; /* a step is armed: MTRAP means it is done */
	bool stepover; /* the step lifts the breakpoints at its pc */
	uint8_t after; /* after the step-over: DBG_RUN or DBG_STEP */
	bool deferred; /* held until every step-over is done, then runs */
	unsigned int step_flags; /* VM_DBG_STEP_* */
	int step_owner; /* who asked for the step, or -1 */
	bool guest_tf; /* TF was the guest's own when the step began */
	bool injected; /* the core left an exception pending as it stopped */
	/* Where the step began, for a frame it may push (step_scrub_tf). */
	struct dbg_step_from {
		uint64_t rip, rsp, rflags, cs, ss, ss_base, tr_base;
		bool lma, pe; /* long mode; protected mode */
	} from;

	/* Breakpoints. */
	bool at_bp; /* stopped on a breakpoint, at bp_pc */
	uint64_t bp_pc; /* linear */
	bool lift_int3; /* its step-over lifted the int3s at lift_gpa */
	uint64_t lift_gpa;
	unsigned int lift_dr; /* debug-register slots off for its step-over */

	/* Settings: recorded in vmm, and proven by a vm_run. */
	struct dbg_settings set;
	struct dbg_settings good;
	atomic_bool unproven; /* set is not yet known to be applied */
	bool force; /* record every setting again, the next sync */
	/* KVM refused settings; a failed vm_run after that ends the VM */
	bool refused;

	/*
	 * A stop found in an exit handler, reported once vmm finished the
	 * instruction (at the DEBUG exit): the hits, then pend_term.
	 */
	struct vm_event pend[DBG_MAX_PEND];
	int npend;
	bool pend_stop;
	struct vm_event pend_term;

	/* The paging of a stopped vCPU, for the control thread. */
	bool pg_valid;
	struct vm_guest_paging pg;
};

struct dbg_owner {
	bool used;
	char name[24];
};

/* A breakpoint: an int3 in guest memory or a debug-register slot. */
enum dbg_bp_how {
	DBG_HOW_INT3,
	DBG_HOW_DR,
};

struct dbg_bp {
	bool used;
	uint8_t type; /* VM_DBG_BP_SW or VM_DBG_BP_HW */
	uint8_t how; /* enum dbg_bp_how */
	int8_t slot; /* DBG_HOW_DR: the slot */
	uint64_t addr; /* linear, as the owner gave it */
	uint64_t gpa; /* DBG_HOW_INT3: where the int3 is */
	uint8_t orig; /* DBG_HOW_INT3: the byte under it */
	uint64_t owners; /* 1 << owner id */
};

struct dbg_dr {
	int users; /* breakpoints in this slot; 0: free */
	uint64_t addr; /* linear */
};

/* A watchpoint: a linear range and the physical pieces it maps to. */
struct dbg_watch {
	bool used;
	uint8_t type; /* VM_DBG_WP_* */
	uint64_t addr;
	uint64_t len;
	int npieces;
	struct {
		uint64_t gpa;
		uint64_t len;
		uint64_t addr; /* the linear address of gpa */
	} piece[2];
	uint64_t owners;
};

struct dbg_sub;

struct dbg_core {
	struct vitro *vm;
	unsigned int ncpus;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ending; /* the VM is ending: never park */

	bool host_known;
	struct dbg_host host;
	bool noirq; /* VM_CAP_MASK_HWINTR is supported */

	int local; /* the core's own owner, for dbg_services */
	struct dbg_owner owner[VM_DBG_OWNER_MAX];
	struct dbg_cpu *cpu; /* ncpus of them */

	struct dbg_bp *bp; /* DBG_MAX_BP */
	struct dbg_dr dr[DBG_NDR];
	int stepovers; /* step-overs in flight */

	struct dbg_watch *watch; /* DBG_MAX_WATCH */
	_Atomic int rmw_cpu; /* in a locked instruction on a watched page */
	bool rmw_warned; /* the write-watchpoint caveat was logged */
	uint64_t unwatched[16]; /* pages watched until lately, a ring */
	unsigned int nunwatched; /* entries written to it, ever */

	/* The bus (bus.c). */
	pthread_mutex_t bus_lock;
	struct dbg_sub *subs;
	uint64_t seq;
};

/* core.c */
struct vcpu *dbg_vcpu(struct dbg_core *d, int id);
/* The host's capabilities, probing on first need (control thread). */
const struct dbg_host *dbg_host_get(struct dbg_core *d);
/* Take these as the host's, without probing (tests). */
void dbg_host_set(struct dbg_core *d, const struct dbg_host *host);
/*
 * Bring every vCPU's recorded settings in line with the core's state
 * (breakpoints, steps).  0, or the first error, with the vCPUs before the
 * failing one changed: the caller undoes its own change and syncs again.
 */
int dbg_settings_sync(struct dbg_core *d);
/*
 * The vCPU stopped by itself: hold the others, publish n events and the
 * terminal one (type STOP or STEP), and park.  Called with d->lock held;
 * returns with it released.  While the VM ends, publishes and parks
 * nothing.
 */
void dbg_self_stop(struct dbg_core *d, struct vitro_vcpu *vc,
		   const struct vm_event *evs, int n, struct vm_event *term);
/*
 * The same, found in an exit handler (a watchpoint's MMIO access): hold
 * every vCPU and keep the events; the vCPU returns to vm_run, vmm
 * finishes the instruction before the DEBUG exit, and dbg_vcpu_park()
 * publishes them then, so that what a client reads is the state after
 * the access.  Called with d->lock held; returns with it released.
 */
void dbg_self_stop_after(struct dbg_core *d, struct vitro_vcpu *vc,
			 const struct vm_event *evs, int n,
			 const struct vm_event *term);
/* Park in the caller's exit handler, d->lock held (watch.c). */
void dbg_park_locked(struct dbg_core *d, struct vitro_vcpu *vc);
/* The linear pc (CS base + rip) of a stopped vCPU, or of the caller's. */
int dbg_pc(struct vcpu *v, uint64_t *pc);
/* Translate linear addr with vCPU v's current paging: 0 or -EFAULT. */
int dbg_translate(struct vcpu *v, uint64_t addr, int prot, uint64_t *gpa);
/* Fill an event's common fields. */
void dbg_event_init(struct vm_event *ev, uint32_t type, int cpuid, int owner);

/* bus.c */
void dbg_bus_init(struct dbg_core *d);
void dbg_bus_fini(struct dbg_core *d);

/* breakpoints.c; d->lock held unless said otherwise. */
int dbg_bp_change(struct dbg_core *d, int owner, bool insert,
		  enum vm_dbg_bp_type type, uint64_t addr, int cpuid);
/* bpt and the debug registers vCPU i should have. */
void dbg_bp_settings(struct dbg_core *d, int i, struct dbg_settings *s);
/* Events for the int3 breakpoints at gpa: how many were written. */
int dbg_bp_int3_hits(struct dbg_core *d, int cpuid, uint64_t gpa, uint64_t pc,
		     struct vm_event *evs, int max);
/* Events for the breakpoints in debug-register slots `slots`. */
int dbg_bp_dr_hits(struct dbg_core *d, int cpuid, unsigned int slots,
		   struct vm_event *evs, int max);
/* Whether an execution breakpoint sits at linear pc / gpa. */
bool dbg_bp_exec_at(struct dbg_core *d, uint64_t pc, uint64_t gpa);
/* Whether there is any breakpoint at all. */
bool dbg_bp_any(struct dbg_core *d);
/* Lift the breakpoints at pc for vCPU i's step-over, or put them back. */
void dbg_bp_lift(struct dbg_core *d, int i, uint64_t pc, uint64_t gpa);
void dbg_bp_unlift(struct dbg_core *d, int i);
/*
 * Remove the breakpoints that vCPU i's refused settings needed: every
 * int3 one when bpt was refused, the debug-register ones that were not
 * in force before.  Their owners are or-ed into *owners.
 */
void dbg_bp_drop_refused(struct dbg_core *d, int i, uint64_t *owners);
void dbg_bp_owner_free(struct dbg_core *d, int owner);

/* watch.c; d->lock held unless said otherwise. */
int dbg_watch_change(struct dbg_core *d, int owner, bool insert,
		     enum vm_dbg_bp_type type, uint64_t addr, uint64_t len,
		     int cpuid);
void dbg_watch_owner_free(struct dbg_core *d, int owner);
/* An INST_EMUL exit fetching from a page a watchpoint made inaccessible. */
bool dbg_watch_fetch(struct dbg_core *d, struct vitro_vcpu *vc,
		     const struct vm_exit *vme);
/* Free the locked-instruction slot if vCPU id holds it. */
void dbg_watch_rmw_release(struct dbg_core *d, int id);

#endif
