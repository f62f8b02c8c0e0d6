/*
 * vmm_ctl.h: the VM control socket's protocol, spoken between libvmmapi
 * (vm_open) and the monitor that owns the VM (monitor/ctl/).
 *
 * Transport.  One unix socket per VM, SOCK_SEQPACKET, at
 * $XDG_RUNTIME_DIR/vitro/NAME.sock (/run/vitro/NAME.sock for root,
 * /tmp/vitro-UID/NAME.sock without XDG_RUNTIME_DIR; see
 * vm_ctl_socket_path() in vmmapi.h).  Message boundaries are kept, so
 * every message is one request, reply or event, and a malformed one never
 * puts the stream out of step.
 *
 * Messages.  A struct vm_ctl_hdr, then the command's struct, exactly
 * VMM_CMD_SIZE(cmd) bytes:
 * - request (client to server): hdr.cmd is a command of vmm_dev.h or one
 *   of the services below, hdr.seq the client's number for it (not 0),
 *   hdr.error 0, then the struct;
 * - reply (server to client, one per request, in order): the same cmd and
 *   seq, error 0 or -errno, then the struct as the command left it (after
 *   an error its contents mean something only where the command says so,
 *   as VM_DBG_STOP's do).  A request the server could not decode gets a
 *   reply of the header alone, with what it could read of cmd and seq;
 * - event (server to client, between replies, after VM_DBG_SUBSCRIBE):
 *   cmd VM_CTL_EVENT, seq 0, then a struct vm_event.
 *
 * Errors of the socket itself (the connection and the VM go on):
 *   -EBADMSG          shorter than a header, or a length that is not the
 *                     header plus VMM_CMD_SIZE(cmd);
 *   -EPROTO           a magic that is not VM_CTL_MAGIC, or a request with
 *                     error set;
 *   -EMSGSIZE         longer than VM_CTL_MSG_MAX;
 *   -EPROTONOSUPPORT  another ABI version (VMM_CMD_VERSION);
 *   -ENOTTY           a command the server does not know;
 *   -EOPNOTSUPP       an in-process command (VMM_CMD_LOCAL);
 *   -EPERM            a command that changes the VM's layout or belongs to
 *                     the debug core (VM_REINIT, VM_ACTIVATE_CPU,
 *                     VM_SET_TOPOLOGY, VM_SET_CPU_MODEL,
 *                     VM_ALLOC_MEMSEG, VM_MMAP_MEMSEG, VM_MUNMAP_MEMSEG,
 *                     VM_PROTECT_GPA, VM_SET_CAPABILITY, VM_SET_HW_DEBUG);
 *   -EINVAL           a vCPU id that is not one of the VM's;
 *   -EBUSY            a running vCPU that did not stop for the command in
 *                     time (see below);
 *   -EUSERS           no owner id left for this connection;
 *   -ESHUTDOWN        the VM is ending.
 * A peer that may not control the VM (another user than the monitor's,
 * and not root) gets one header, cmd VM_CTL_HELLO, seq 0, error -EACCES,
 * and is disconnected; so does one past the server's connection limit,
 * with -EUSERS.  The first request of a connection should be
 * VM_CTL_HELLO.
 *
 * vCPU state over the socket.  A command on a vCPU's state (registers,
 * VM_GET_RUN_STATE, translation with its current paging, exception and
 * NMI injection) on a vCPU that runs is done by stopping that vCPU for
 * the command (with a bound), and resuming it after; a vCPU that was
 * stopped already stays so.  A translation with an explicit paging state
 * (use_current 0) reads only guest memory and needs no stop.
 *
 * Services.  Besides the vmm commands, the socket carries requests to the
 * monitor's debug core (VM_DBG_*): stops that wait with a bound, steps,
 * breakpoints and watchpoints owned by the connection (removed when it
 * closes), and event subscriptions.  On the socket, VM_SUSPEND_CPU and
 * VM_RESUME_CPU are the debug core's stop (without waiting) and resume,
 * so that the monitor knows who holds a vCPU.  Each connection is one
 * owner of the core (its id is in the hello): VM_DBG_STOP, VM_DBG_RESUME
 * and the stops for a command are made in its name, and the server writes
 * it into VM_DBG_BREAKPOINT's owner whatever the client put there.  A
 * VM_DBG_STOP waits at most VM_CTL_STOP_MAX_MS.  In-process, libvmmapi
 * hands services to the handler the monitor registered (vm_set_services).
 */
#ifndef VMM_CTL_H
#define VMM_CTL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmm_dev.h"

#define VM_CTL_MAGIC 0x72746976u /* "vitr", little-endian */

struct vm_ctl_hdr {
	uint32_t magic; /* VM_CTL_MAGIC */
	uint32_t cmd; /* VMM_CMD number */
	uint32_t seq; /* the request's number, echoed; 0 for events */
	int32_t error; /* reply: 0 or -errno; 0 otherwise */
};

/* The largest message: a header and the largest command struct. */
#define VM_CTL_MSG_MAX (sizeof(struct vm_ctl_hdr) + VMM_CMD_SIZE_MAX)

/*
 * VM_CTL_HELLO: the client's ABI version in, what the VM is out.  A
 * version the server does not speak gets -EPROTONOSUPPORT (see above).
 */
struct vm_ctl_hello {
	uint32_t abi; /* in: VMM_ABI_VERSION; out: the server's */
	uint32_t ncpus; /* out: vCPUs */
	int32_t pid; /* out: the monitor's process */
	uint32_t state; /* out: enum vm_ctl_state */
	struct vm_cpu_topology topo; /* out */
	uint64_t lowmem; /* out: system memory below the PCI hole */
	uint64_t highmem; /* out: from VM_HIGHMEM_BASE */
	int32_t owner; /* out: this connection's owner id (VM_DBG_*) */
	uint32_t pad;
	char name[VM_NAME_MAX]; /* out */
};

enum vm_ctl_state {
	VM_CTL_RUNNING, /* every vCPU runs */
	VM_CTL_STOPPED, /* some vCPU is held by the debug core */
	VM_CTL_ENDING, /* the VM is ending; requests fail with -ESHUTDOWN */
};

/*
 * Events.  A subscriber gives a mask of (1 << type); each event it gets
 * says how many it lost before it (a subscriber that does not read is
 * never waited for: its events are dropped and counted).
 */
enum vm_event_type {
	VM_EVENT_STOP = 1, /* a vCPU stopped: a request or another vCPU's hit */
	VM_EVENT_BREAKPOINT, /* a vCPU hit a breakpoint at addr */
	VM_EVENT_WATCHPOINT, /* a vCPU touched watched data at addr */
	VM_EVENT_STEP, /* a vCPU finished a step */
	VM_EVENT_RESUME, /* vCPUs were resumed */
	VM_EVENT_END, /* the VM ended with `status` */
	VM_EVENT_MESSAGE, /* a client's or the core's note, in msg */
	VM_EVENT_TRACE, /* exit records wait for this client (VM_CTL_TRACE) */
	VM_EVENT_MAX
};

#define VM_EVENT_MASK_ALL (((1u << VM_EVENT_MAX) - 1) & ~1u)

struct vm_event {
	uint32_t type; /* enum vm_event_type */
	int32_t cpuid; /* the vCPU, or -1 */
	uint64_t seq; /* the VM's event count: gaps are other subscribers' */
	uint64_t addr; /* breakpoint pc (linear), watched data address */
	uint64_t owners; /* BREAKPOINT/WATCHPOINT: the owners' bits */
	uint32_t kind; /* BREAKPOINT/WATCHPOINT: enum vm_dbg_bp_type */
	int32_t status; /* END: the monitor's exit status */
	int32_t owner; /* STOP/RESUME/MESSAGE: who asked, or -1 */
	uint32_t dropped; /* events this subscriber lost before this one */
	char msg[120]; /* NUL-terminated; empty when there is nothing to say */
};

/* VM_DBG_SUBSCRIBE: which events this connection receives (0: none). */
struct vm_dbg_subscribe {
	uint32_t mask; /* 1 << enum vm_event_type */
	uint32_t pad;
};

/*
 * What a vCPU's thread is doing, as the debug core knows it: the answer
 * when a stop did not catch it within its time.
 */
enum vm_dbg_cpu_state {
	VM_DBG_CPU_IDLE, /* not started yet */
	VM_DBG_CPU_GUEST, /* running guest code (inside VM_RUN) */
	VM_DBG_CPU_EXIT, /* handling an exit in the monitor */
	VM_DBG_CPU_OUTPUT, /* blocked writing guest output to the host */
	VM_DBG_CPU_PARKED, /* stopped in the debug core */
	VM_DBG_CPU_GONE, /* its thread ended */
};

/*
 * VM_DBG_STOP: stop one vCPU (cpuid) or all (-1) and wait up to
 * timeout_ms (at most VM_CTL_STOP_MAX_MS over the socket, which keeps the
 * monitor's event loop responsive) for each to park.  0 when all did; -ETIMEDOUT otherwise,
 * with the out fields filled all the same: the late ones in `late` and
 * what each vCPU was doing in `state`.  A vCPU that parks later stays
 * stopped.
 */
struct vm_dbg_stop {
	int32_t cpuid; /* in: a vCPU, or -1 for all */
	uint32_t timeout_ms; /* in: 0 asks and does not wait */
	struct vm_cpuset stopped; /* out: parked now */
	struct vm_cpuset late; /* out: asked, not parked in time */
	uint8_t state[VM_MAXCPU]; /* out: enum vm_dbg_cpu_state */
};

#define VM_CTL_STOP_MAX_MS 5000

/* VM_DBG_RESUME / VM_DBG_STEP: one vCPU, or -1 (all; not for a step). */
struct vm_dbg_cpu {
	int32_t cpuid;
	uint32_t flags; /* VM_DBG_STEP: VM_DBG_STEP_* */
	int32_t owner; /* set by the server for a socket client; -1 local */
	uint32_t pad;
};

#define VM_DBG_STEP_NOIRQ 1 /* no interrupt injection during the step */

/* Breakpoint and watchpoint kinds, as gdb numbers them in Z packets. */
enum vm_dbg_bp_type {
	VM_DBG_BP_SW, /* execution, however the host traps it best */
	VM_DBG_BP_HW, /* execution, in a debug register */
	VM_DBG_WP_WRITE,
	VM_DBG_WP_READ,
	VM_DBG_WP_ACCESS,
	VM_DBG_BP_TYPES
};

/*
 * VM_DBG_BREAKPOINT: insert or remove a breakpoint or watchpoint owned by
 * the caller.  The linear address is translated with vCPU cpuid's paging.
 * Owners are counted: the same breakpoint from two owners is one in the
 * guest, which stays until both removed it.
 */
struct vm_dbg_bp {
	int32_t owner; /* set by the server for a socket client */
	int32_t cpuid; /* whose paging translates addr */
	uint32_t type; /* enum vm_dbg_bp_type */
	uint32_t insert; /* 1 insert, 0 remove */
	uint64_t addr; /* linear */
	uint64_t len; /* 1 for breakpoints; the watched bytes */
};

#define VM_DBG_OWNER_MAX 64 /* owner ids are 0 .. VM_DBG_OWNER_MAX-1 */

/*
 * VM_CTL_REGION: one of the monitor's named port-I/O and MMIO regions
 * (the devices' ranges), by index: the port regions first, then the MMIO
 * ones, each in address order; -ENOENT past the last.  Each request looks
 * at the maps as they are then, so a region registered or removed between
 * two requests may be missed or seen twice.
 */
struct vm_ctl_region {
	int32_t index; /* in: 0, 1, ... */
	uint32_t kind; /* out: VM_CTL_REGION_PIO or VM_CTL_REGION_MMIO */
	uint64_t base; /* out: first port or address */
	uint64_t size; /* out: ports or bytes */
	uint64_t hits; /* out: accesses dispatched to it so far */
	char name[32]; /* out: NUL-terminated */
};

#define VM_CTL_REGION_PIO 0
#define VM_CTL_REGION_MMIO 1

/*
 * VM_CTL_TRACE: the monitor's VM-exit trace (libvmmapi/vm_trace.h).
 *   STATUS   fill the out fields;
 *   RECORD   record to `path` (opened by the monitor: give it absolute)
 *            with `spec`; -EBUSY while a recording runs;
 *   STOP     end the recording (the file gets its END); -ENOENT if none;
 *   WATCH    queue the exits that match `spec` for this connection, for
 *            VM_CTL_TRACE_READ; a VM_EVENT_TRACE tells a subscriber when
 *            records wait (once until it reads).  A new WATCH replaces
 *            the last; the watch ends with UNWATCH or the connection.
 *   UNWATCH  end this connection's watch.
 * A bad spec is -EINVAL with the reason in `error`.  Capture (the rings
 * in vmm) is on while a recording or a watch is; its stack depth and
 * ring size are the largest asked.
 */
enum vm_ctl_trace_op {
	VM_CTL_TRACE_STATUS,
	VM_CTL_TRACE_RECORD,
	VM_CTL_TRACE_STOP,
	VM_CTL_TRACE_WATCH,
	VM_CTL_TRACE_UNWATCH,
};

struct vm_ctl_trace {
	uint32_t op; /* in: enum vm_ctl_trace_op */
	uint32_t recording; /* out: 1 while a file is being recorded */
	char path[256]; /* in: RECORD's file; out: the file recorded */
	char spec[512]; /* in: RECORD's and WATCH's spec; out: recording's */
	uint32_t watchers; /* out: connections watching */
	uint32_t stack; /* out: stack depth captured */
	uint32_t ring; /* out: records per vCPU ring */
	uint32_t pad;
	uint64_t records; /* out: records written to the file */
	uint64_t dropped; /* out: records the rings lost while recording */
	uint64_t kernel_records; /* out: of records, in-kernel exits */
	uint64_t t0; /* out: CLOCK_MONOTONIC ns the recording started */
	uint64_t now; /* out: CLOCK_MONOTONIC ns at this reply */
	char kernel[160]; /* out: the in-kernel source: "on", "off: why" */
	char error[160]; /* out: why a request failed, or empty */
};

/*
 * VM_CTL_TRACE_READ: take the records queued by this connection's watch:
 * whole records (struct vm_trace_rec and its nstack return addresses)
 * packed in buf; 0 records when none wait.  -ENOENT without a watch.
 */
#define VM_CTL_TRACE_BUF 7168
struct vm_ctl_trace_read {
	uint32_t len; /* out: bytes of buf used */
	uint32_t nrecs; /* out: records in buf */
	uint64_t dropped; /* out: records this watch lost since last read */
	uint8_t buf[VM_CTL_TRACE_BUF]; /* out */
};

/*
 * VM_CTL_DUMP_CORE: the monitor writes a core dump of the guest to
 * `path` (absolute; created mode 0600, replaced if it exists) in QEMU's
 * dump-guest-memory layout (monitor/coredump.h), with every vCPU stopped
 * meanwhile; vCPUs that ran run again afterwards.  Errors carry the
 * reason in `error`.
 */
struct vm_ctl_dump {
	char path[256]; /* in */
	uint32_t flags; /* in: 0 */
	uint32_t ncpus; /* out: vCPUs in the notes */
	uint64_t bytes; /* out: the file's size */
	uint64_t mem; /* out: guest memory written */
	uint32_t nvirt; /* out: virtual PT_LOADs */
	uint32_t pad;
	char error[160]; /* out: why it failed, or empty */
};

VMM_CHECK_SIZE(struct vm_ctl_hdr, 16);
VMM_CHECK_SIZE(struct vm_ctl_hello, 48 + VM_NAME_MAX);
VMM_CHECK_SIZE(struct vm_event, 48 + 120);
VMM_CHECK_SIZE(struct vm_dbg_subscribe, 8);
VMM_CHECK_SIZE(struct vm_dbg_stop, 8 + 64 + VM_MAXCPU);
VMM_CHECK_SIZE(struct vm_dbg_cpu, 16);
VMM_CHECK_SIZE(struct vm_dbg_bp, 32);
VMM_CHECK_SIZE(struct vm_ctl_region, 64);
VMM_CHECK_SIZE(struct vm_ctl_trace, 1152);
VMM_CHECK_SIZE(struct vm_ctl_trace_read, 16 + VM_CTL_TRACE_BUF);
VMM_CHECK_SIZE(struct vm_ctl_dump, 448);

/* Transport and services: numbers 96 and up. */
#define VM_CTL_HELLO VMM_CMD(96, struct vm_ctl_hello)
#define VM_CTL_EVENT VMM_CMD(97, struct vm_event) /* server to client */
#define VM_DBG_SUBSCRIBE VMM_CMD(98, struct vm_dbg_subscribe)
#define VM_DBG_STOP VMM_CMD(100, struct vm_dbg_stop)
#define VM_DBG_RESUME VMM_CMD(101, struct vm_dbg_cpu)
#define VM_DBG_STEP VMM_CMD(102, struct vm_dbg_cpu)
#define VM_DBG_BREAKPOINT VMM_CMD(103, struct vm_dbg_bp)
#define VM_CTL_REGION VMM_CMD(104, struct vm_ctl_region)
#define VM_CTL_TRACE VMM_CMD(105, struct vm_ctl_trace)
#define VM_CTL_TRACE_READ VMM_CMD(106, struct vm_ctl_trace_read)
#define VM_CTL_DUMP_CORE VMM_CMD(107, struct vm_ctl_dump)

/* Command numbers from here on are the monitor's, not vmm's. */
#define VM_CTL_FIRST_NR 96

/*
 * Whether a reply with error err still carries a struct worth reading:
 * VM_DBG_STOP's timeout says which vCPUs were late, VM_CTL_TRACE's
 * errors say why in `error`.
 */
static inline bool vm_ctl_reply_kept(uint32_t cmd, int err)
{
	return err == 0 || (cmd == VM_DBG_STOP && err == -ETIMEDOUT) ||
	       cmd == VM_CTL_TRACE || cmd == VM_CTL_DUMP_CORE;
}

#endif
