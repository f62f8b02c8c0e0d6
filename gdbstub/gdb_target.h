/*
 * gdb_target.h: what the GDB stub needs from the machine it debugs.
 *
 * A target is a table of operations plus an opaque pointer.  The vitro
 * monitor implements it over libvmmapi; the unit tests and the fuzzer
 * implement it with a fake (tests/unit/gdb_fake_target.c).  The stub owns
 * the protocol: thread ids, the gdb register numbering (gdb_x86.c maps it
 * to enum vm_reg_name), the breakpoint list and the stop logic.
 *
 * Threads.  The stub runs in one thread, the control thread, and calls
 * every operation below from it, one at a time.  Stop events come from
 * other threads (vCPU threads): a target reports them with
 * gdb_events_report(), which is thread-safe and never blocks on the
 * stub; the stub takes them from the queue in the control thread when
 * the queue's eventfd becomes readable.
 *
 * The stop protocol (all-stop):
 * - stop_all() returns once every vCPU is parked outside guest
 *   execution, so registers and memory may be read.  It is idempotent.
 *   A target whose stop is bounded may return 0 with a vCPU that did not
 *   park in time (it says so on its own): the operations on that vCPU
 *   then fail with -EBUSY.
 * - A vCPU that stops on its own (breakpoint, watchpoint, step done)
 *   parks itself, then reports the event.  It stays parked until a
 *   resume() lets it run.  The stub calls stop_all() before it tells gdb,
 *   so the others stop too.
 * - resume() is called only when every vCPU is parked, with one action per
 *   vCPU.  A vCPU whose action is GDB_RESUME_STOP stays parked.
 * - Breakpoints are inserted and removed, registers and memory accessed,
 *   only while every vCPU is parked.
 * - With no debugger attached the stub answers a reported stop by
 *   resuming every vCPU; a target that wants to hold the guest for a
 *   debugger (vitro -G w) keeps it parked without reporting.
 *
 * Breakpoints are the target's business: the stub never writes 0xCC.  A
 * software breakpoint may be an int3, a hardware slot or a protected
 * page, whatever works on the host.  On a breakpoint stop the target
 * leaves the vCPU's pc at the breakpoint (rewinding past an int3) and
 * reports that linear address; a watchpoint stop reports the data
 * address.  The stub drops a stop that went stale (its breakpoint was
 * removed before gdb heard of it) and resumes the vCPU, which then hits
 * the breakpoint again if it is back.
 *
 * Errors: int operations return 0 or -errno, as libvmmapi does;
 * -EOPNOTSUPP means "not supported here" and becomes an empty reply,
 * which gdb reads as "this packet is not supported".
 */
#ifndef GDB_TARGET_H
#define GDB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmm/vmm_dev.h"

/* gdb's signal numbers (include/gdb/signals.def), not the host's. */
#define GDB_SIGNAL_0 0
#define GDB_SIGNAL_INT 2
#define GDB_SIGNAL_QUIT 3
#define GDB_SIGNAL_ILL 4
#define GDB_SIGNAL_TRAP 5
#define GDB_SIGNAL_ABRT 6
#define GDB_SIGNAL_KILL 9
#define GDB_SIGNAL_SEGV 11

/* Breakpoint and watchpoint kinds: the number in gdb's Z and z packets. */
enum gdb_bp_type {
	GDB_BP_SW, /* software breakpoint */
	GDB_BP_HW, /* hardware breakpoint */
	GDB_WP_WRITE, /* write watchpoint */
	GDB_WP_READ, /* read watchpoint */
	GDB_WP_ACCESS, /* read or write watchpoint */
	GDB_BP_TYPES
};

/* What a vCPU does on resume. */
enum gdb_resume_kind {
	GDB_RESUME_STOP, /* stay parked */
	GDB_RESUME_CONT, /* run */
	GDB_RESUME_STEP, /* run one instruction, then report GDB_STOP_STEP */
};

struct gdb_resume_action {
	uint8_t kind; /* enum gdb_resume_kind */
	uint8_t signal; /* gdb signal to deliver, 0 for none */
};

/*
 * Single-step options, with QEMU's bit values (qqemu.sstepbits).  ENABLE
 * is always on; NOIRQ runs the step with interrupt injection blocked
 * (KVM_GUESTDBG_BLOCKIRQ, bhyve's VM_CAP_MASK_HWINTR); NOTIMER keeps
 * timers from advancing during the step.
 */
#define GDB_SSTEP_ENABLE 0x1
#define GDB_SSTEP_NOIRQ 0x2
#define GDB_SSTEP_NOTIMER 0x4

/* Memory access flags. */
#define GDB_MEM_PHYS 0x1 /* addr is guest-physical, not linear */

/* Why a vCPU stopped, or how the VM ended. */
enum gdb_stop_reason {
	GDB_STOP_SIGNAL, /* a plain signal, no further reason */
	GDB_STOP_SWBREAK, /* software breakpoint at addr */
	GDB_STOP_HWBREAK, /* hardware breakpoint at addr */
	GDB_STOP_WATCH, /* write watchpoint hit, data address addr */
	GDB_STOP_RWATCH, /* read watchpoint hit */
	GDB_STOP_AWATCH, /* access watchpoint hit */
	GDB_STOP_STEP, /* a step finished */
	GDB_STOP_INTERRUPT, /* stopped on request */
	GDB_STOP_EXITED, /* the VM ended with exit status `status` (W) */
	GDB_STOP_KILLED, /* the VM was terminated by `signal` (X) */
};

struct gdb_stop_event {
	enum gdb_stop_reason reason;
	int vcpu; /* the vCPU that stopped; ignored for EXITED/KILLED */
	int signal; /* gdb signal, 0 for the reason's default */
	uint64_t addr; /* breakpoint address (linear pc), watched address */
	int status; /* exit status, for EXITED */
};

struct gdb_target_ops {
	/* The active vCPUs (gdb thread id = vCPU id + 1). */
	int (*cpus)(void *opaque, struct vm_cpuset *cpus);
	/*
	 * Optional: a one-line description of a vCPU for qThreadExtraInfo,
	 * e.g. "vCPU 1, halted, long mode, CPL 0", NUL-terminated in buf.
	 */
	int (*cpu_describe)(void *opaque, int vcpu, char *buf, size_t len);
	/*
	 * Optional: whether vCPU's registers can be read now.  A target
	 * whose stop is bounded may leave a vCPU running (see stop_all);
	 * the stub then reports stops in, and defaults to, a vCPU that is
	 * ready.  NULL: every vCPU is.
	 */
	bool (*cpu_ready)(void *opaque, int vcpu);

	/* Park every vCPU; return once all are parked. */
	int (*stop_all)(void *opaque);
	/*
	 * Resume: act[v] for each vCPU v (GDB_RESUME_STOP for the inactive
	 * ones).  step_flags (GDB_SSTEP_*) apply to the stepping vCPUs.  A
	 * stepped vCPU reports GDB_STOP_STEP when its instruction is done
	 * (or another stop if it hit something first).
	 */
	int (*resume)(void *opaque, const struct gdb_resume_action *act,
		      unsigned int step_flags);
	/* Optional: the GDB_SSTEP_* bits supported (ENABLE if NULL). */
	unsigned int (*step_flags)(void *opaque);

	/*
	 * Registers by enum vm_reg_name, as vm_get_register_set() does.
	 * -EBUSY from regs_get: the vCPU cannot be read now (a bounded stop
	 * left it running); the stub tells gdb the registers are
	 * unavailable rather than failing its request.
	 */
	int (*regs_get)(void *opaque, int vcpu, unsigned int count,
			const int *regnums, uint64_t *vals);
	int (*regs_set)(void *opaque, int vcpu, unsigned int count,
			const int *regnums, const uint64_t *vals);

	/*
	 * Memory by linear address with vcpu's paging (never touching the
	 * guest's page tables), or by physical address with GDB_MEM_PHYS.
	 * Return the bytes done, which may be fewer than len when the range
	 * runs into an unmapped page; -EFAULT or 0 when none could be.
	 */
	ssize_t (*mem_read)(void *opaque, int vcpu, uint64_t addr, void *buf,
			    size_t len, unsigned int flags);
	ssize_t (*mem_write)(void *opaque, int vcpu, uint64_t addr,
			     const void *buf, size_t len, unsigned int flags);

	/*
	 * Breakpoints and watchpoints, for every vCPU.  len is gdb's kind:
	 * 1 for x86 breakpoints, the watched length for watchpoints.  vcpu
	 * is the thread gdb selected (Hg) when it inserted the breakpoint:
	 * the target translates addr through that vCPU's paging; a removal
	 * passes the same vCPU as the insertion.  The target decides what
	 * it can do: -EOPNOTSUPP for a kind it never supports, -ENOSPC when
	 * it is out of resources, -EINVAL for an address or length it cannot
	 * watch.  The stub keeps the list and never inserts the same
	 * breakpoint twice.
	 */
	int (*bp_insert)(void *opaque, int vcpu, enum gdb_bp_type type,
			 uint64_t addr, uint64_t len);
	int (*bp_remove)(void *opaque, int vcpu, enum gdb_bp_type type,
			 uint64_t addr, uint64_t len);

	/*
	 * Optional: run a monitor command line (qRcmd).  On success *out
	 * gets malloc'd NUL-terminated output (or NULL), which the stub
	 * frees.  -ENOENT for an unknown command.
	 */
	int (*monitor)(void *opaque, const char *line, char **out);
	/* Optional: power the VM off (gdb's kill). */
	int (*kill)(void *opaque);
	/*
	 * Optional: how far the running kernel is moved from where its ELF
	 * is linked (KASLR), for qOffsets: 0 with *slide, -EOPNOTSUPP when
	 * the target knows no kernel, or -errno.
	 */
	int (*offsets)(void *opaque, uint64_t *slide);
};

struct gdb_target {
	const struct gdb_target_ops *ops;
	void *opaque;
};

/*
 * The stop-event queue: vCPU threads report into it, the stub takes from
 * it in the control thread.  Bounded; a stop reported while it is full is
 * dropped with -ENOSPC (the vCPU stays parked; the stub's next stop_all
 * and resume cover it).  An exit is never dropped.
 */
struct gdb_events;

struct gdb_events *gdb_events_create(void);
void gdb_events_destroy(struct gdb_events *q);
/* Readable when events are queued; for the control thread's poll loop. */
int gdb_events_fd(const struct gdb_events *q);

/* Any thread. */
int gdb_events_report(struct gdb_events *q, const struct gdb_stop_event *ev);
/* Shorthands: a vCPU stopped; the VM exited with a status. */
int gdb_events_stop(struct gdb_events *q, int vcpu, enum gdb_stop_reason reason,
		    uint64_t addr);
int gdb_events_exit(struct gdb_events *q, int status);

/*
 * The consumer side, for the stub: take the oldest event (an exit first).
 * Returns false when empty.  gdb_events_clear() empties the eventfd; call
 * it before taking, so a report that races is seen on the next poll.
 */
bool gdb_events_take(struct gdb_events *q, struct gdb_stop_event *ev);
void gdb_events_clear(struct gdb_events *q);

#endif
