/*
 * vmmapi.h: vitro's public C API to a virtual machine, after FreeBSD's
 * libvmmapi.  Every program above the vmm core (the vitro monitor, its gdb
 * stub and console, vitroctl, tests) uses only this header.
 *
 * Handles.  A struct vmctx is one VM, created (and owned) by vm_create() or
 * opened by vm_open(); a struct vcpu is one of its vCPUs, opened with
 * vm_vcpu_open().  Both are opaque.
 *
 * Transports.  A VM this process created is driven in-process; a VM that
 * another process runs is reached through its control socket (vm_open),
 * with the same functions, which then send each command as a request
 * (vmm_ctl.h).  What differs: vm_run, vm_map_gpa and vm_create_devmem are
 * in-process only (-EOPNOTSUPP, or NULL with errno EOPNOTSUPP, remotely);
 * commands that change the VM's layout (memory, topology, vCPUs) and the
 * debug capabilities belong to the monitor and are refused remotely with
 * -EPERM; and a remote call may fail with -ECONNRESET when the monitor is
 * gone, -ESHUTDOWN while the VM ends, or -ETIMEDOUT when the monitor
 * does not answer in time (vm_set_ctl_timeout).  Over the socket, a
 * command on the state of a vCPU that runs is done by the monitor
 * stopping that vCPU for it (vmm_ctl.h), so the rule below on stopped
 * vCPUs is the monitor's business there.
 *
 * The error contract, for every function below unless it says otherwise:
 * - a function returning int returns 0 on success or a negative errno value
 *   (-EINVAL, -EFAULT, ...) on failure; errno is not used;
 * - a constructor returning a pointer returns NULL with errno set;
 * - out-parameters are written only on success.
 *
 * Threads.  Calls may come from any thread.  Functions that read or write a
 * vCPU's state (registers, capabilities, translation with its paging,
 * vm_copyin/vm_copyout, exception injection) need that vCPU stopped: in the
 * debug set (vm_suspend_cpu) and parked outside vm_run, or called from the
 * thread that runs it, between two vm_run calls.
 */
#ifndef VMMAPI_H
#define VMMAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libvmmapi/vmm_ctl.h"
#include "vmm/vmm_dev.h"

#define VMMAPI_VERSION 2

struct vmctx;
struct vcpu;

/* Lifecycle. */
/*
 * Whether name may name a VM: 1 to VM_NAME_MAX-1 printable characters,
 * no '/' or space, not starting with '.'.  vm_create refuses others.
 */
bool vm_name_valid(const char *name);
struct vmctx *vm_create(const char *name);
/*
 * Attach to the running VM `name` through its control socket.  NULL with
 * errno: ENOENT (no VM of that name), ECONNREFUSED (its monitor is gone,
 * leaving its socket), EACCES (another user's), EPROTONOSUPPORT (another
 * ABI version), EUSERS (the monitor has too many clients), ETIMEDOUT (it
 * does not answer), EINVAL (not a VM name).
 */
struct vmctx *vm_open(const char *name);
/*
 * A VM reached through the caller's own transport instead of a socket:
 * how the monitor's console talks to the VM it runs, with exactly the
 * semantics of a control-socket client (vmm_ctl.h).  call carries one
 * request (a command of vmm_dev.h or vmm_ctl.h and its struct, which it
 * updates as the reply would) and returns its error; VM_CTL_HELLO is the
 * first.  event_fd and event_next serve vm_event_fd and vm_event_next
 * (NULL: -EOPNOTSUPP); close runs at vm_destroy.  NULL with errno set
 * when the hello fails.
 */
struct vm_transport_ops {
	int (*call)(void *arg, uint32_t cmd, void *data);
	int (*event_fd)(void *arg);
	int (*event_next)(void *arg, struct vm_event *ev, int timeout_ms);
	void (*close)(void *arg);
};
struct vmctx *vm_open_transport(const struct vm_transport_ops *ops, void *arg);
/* Destroy a VM this process created, or close an opened one. */
void vm_destroy(struct vmctx *ctx);
bool vm_is_remote(const struct vmctx *ctx);
/* An opened VM: what its monitor said when it attached (remote only). */
int vm_get_info(struct vmctx *ctx, struct vm_ctl_hello *info);
/*
 * An opened VM: its monitor's port-I/O and MMIO region number index
 * (VM_CTL_REGION: port regions first, then MMIO, each in address order),
 * -ENOENT past the last; -EOPNOTSUPP in-process (the monitor has the
 * maps itself).
 */
int vm_get_region(struct vmctx *ctx, int index, struct vm_ctl_region *out);
const char *vm_get_name(const struct vmctx *ctx);
/*
 * The number of vCPUs: for an opened VM, what its monitor said; for a
 * created one, the highest activated vCPU id + 1.  Or -errno.
 */
int vm_get_ncpus(struct vmctx *ctx);
/*
 * How long a remote call waits for its reply, in milliseconds (default
 * VM_CTL_TIMEOUT_MS; VM_DBG_STOP waits its own timeout on top).  A
 * monitor that does not answer in time gives -ETIMEDOUT, and the
 * connection stays usable.  No effect in-process.
 */
#define VM_CTL_TIMEOUT_MS 10000
void vm_set_ctl_timeout(struct vmctx *ctx, unsigned int ms);
/*
 * One raw command of vmm_dev.h or vmm_ctl.h with its struct (exactly
 * VMM_CMD_SIZE(cmd) bytes at arg; NULL when that is 0), over this handle's
 * transport: what the control socket's server uses to carry out a
 * request in-process.  Commands marked VMM_CMD_LOCAL are -EOPNOTSUPP
 * remotely.  arg is written only on success (and for VM_DBG_STOP also
 * on -ETIMEDOUT).
 */
int vm_command(struct vmctx *ctx, uint32_t cmd, void *arg);
/*
 * Where the control socket of VM `name` lives: $XDG_RUNTIME_DIR/vitro/ (or
 * /run/vitro/ for root, /tmp/vitro-UID/ for a user without
 * XDG_RUNTIME_DIR) followed by NAME.sock.  vm_ctl_runtime_dir gives the
 * directory alone.  -ENAMETOOLONG if buf is too small.
 */
int vm_ctl_runtime_dir(char *buf, size_t len);
int vm_ctl_socket_path(const char *name, char *buf, size_t len);
struct vcpu *vm_vcpu_open(struct vmctx *ctx, int vcpuid);
void vm_vcpu_close(struct vcpu *vcpu);
int vcpu_id(const struct vcpu *vcpu);
struct vmctx *vcpu_ctx(const struct vcpu *vcpu);

int vm_set_topology(struct vmctx *ctx, uint16_t sockets, uint16_t cores,
		    uint16_t threads, uint16_t maxcpus);
int vm_get_topology(struct vmctx *ctx, uint16_t *sockets, uint16_t *cores,
		    uint16_t *threads, uint16_t *maxcpus);
/*
 * CPU models (vmm_dev.h): set before the vCPUs are activated (-EBUSY
 * after); hide (may be NULL) hides more than the model does; hidden (may
 * be NULL) gets what the model hides that the host's CPU or KVM has.
 * vm_cpuid_probe measures (once per VM, on a scratch VM) whether the
 * CPUID set reaches the guest and what kind of KVM this is.
 */
int vm_set_cpu_model(struct vmctx *ctx, enum vm_cpu_model_id model,
		     const struct vm_cpuid_mask *hide,
		     struct vm_cpuid_mask *hidden);
int vm_get_cpu_model(struct vmctx *ctx, struct vm_cpu_model *m);
int vm_cpuid_probe(struct vmctx *ctx, struct vm_cpuid_probe *p);
/* "host", "conservative"; "?" for another value. */
const char *vm_cpu_model_name(uint32_t model);
/* A model by its name: 0, or -EINVAL. */
int vm_cpu_model_parse(const char *name, enum vm_cpu_model_id *model);
/* "hardware", "emulated", "unknown". */
const char *vm_kvm_kind_name(uint32_t kind);
/*
 * A feature's name (Linux's /proc/cpuinfo spelling where it has one), or
 * "WORD.BIT" (as "7ebx.12") for a bit without a name, into buf.
 */
const char *vm_cpuid_feature_name(int word, int bit, char *buf, size_t len);
int vm_activate_cpu(struct vcpu *vcpu);
int vm_active_cpus(struct vmctx *ctx, struct vm_cpuset *cpus);
int vm_suspended_cpus(struct vmctx *ctx, struct vm_cpuset *cpus);
int vm_debug_cpus(struct vmctx *ctx, struct vm_cpuset *cpus);
int vm_suspend(struct vmctx *ctx, enum vm_suspend_how how);
/*
 * Probe whether the guest has stopped for good (every vCPU halted with
 * interrupts off, or never started); two probes in a row that find it so
 * suspend the VM with VM_SUSPEND_HALT.  A monitor calls this periodically.
 */
int vm_check_halt(struct vmctx *ctx);
int vm_reinit(struct vmctx *ctx);

/* Memory. */

/*
 * Allocate `len` bytes of system memory and map it: up to VM_LOWMEM_LIMIT
 * at guest-physical 0, the rest from VM_HIGHMEM_BASE (the PCI hole lies
 * between).
 */
int vm_setup_memory(struct vmctx *ctx, size_t len);
/* The same with VM_MEMSEG_F_* flags: the backing (vmm_dev.h). */
int vm_setup_memory_flags(struct vmctx *ctx, size_t len, unsigned flags);
size_t vm_get_lowmem_size(struct vmctx *ctx);
size_t vm_get_highmem_size(struct vmctx *ctx);

int vm_alloc_memseg(struct vmctx *ctx, int segid, size_t len, const char *name);
int vm_alloc_memseg_flags(struct vmctx *ctx, int segid, size_t len,
			  const char *name, unsigned flags);
/* Everything VM_GET_MEMSEG tells: the length, the name and the backing. */
int vm_get_memseg_info(struct vmctx *ctx, int segid, struct vm_memseg *ms);
/*
 * A segment's backing in words: "anonymous memory with transparent huge
 * pages (2 MiB)"; and why vmm chose it ("" when the flags asked for it).
 */
const char *vm_memseg_backing_desc(const struct vm_memseg *ms, char *buf,
				   size_t len);
const char *vm_memseg_why_desc(uint32_t why);
/* Its short name: shmem, shmem-thp, anon-thp or hugetlb. */
const char *vm_memseg_backing_name(uint32_t backing);
int vm_get_memseg(struct vmctx *ctx, int segid, size_t *len, char *name,
		  size_t namelen);
int vm_mmap_memseg(struct vmctx *ctx, uint64_t gpa, int segid, uint64_t segoff,
		   size_t len, int prot);
int vm_munmap_memseg(struct vmctx *ctx, uint64_t gpa, size_t len);
/* The first mapping at or above *gpa. */
int vm_mmap_getnext(struct vmctx *ctx, uint64_t *gpa, int *segid,
		    uint64_t *segoff, size_t *len, int *prot, int *flags);
/*
 * Page-granular protection of guest-physical memory against the guest
 * (VM_PROTECT_GPA in vmm_dev.h): without VM_PROT_WRITE guest writes exit as
 * MMIO; with no access bits every guest access does.
 */
int vm_protect_gpa(struct vmctx *ctx, uint64_t gpa, size_t len, int prot);
/* Allocate a named device-memory segment, map it at `gpa`, return it. */
void *vm_create_devmem(struct vmctx *ctx, int segid, const char *name,
		       uint64_t gpa, size_t len);

/*
 * Host address of guest-physical [gpa, gpa+len), which must lie within one
 * mapping; NULL (errno EFAULT) otherwise.  In-process only.
 */
void *vm_map_gpa(struct vmctx *ctx, uint64_t gpa, size_t len);
/*
 * Copy guest-physical memory, over either transport: the bytes done,
 * which is fewer than len when the range runs into non-memory, or -EFAULT
 * when not even the first byte is memory.  Page protection does not apply.
 */
ssize_t vm_read_gpa(struct vmctx *ctx, uint64_t gpa, void *buf, size_t len);
ssize_t vm_write_gpa(struct vmctx *ctx, uint64_t gpa, const void *buf,
		     size_t len);

/* Running. */
int vm_run(struct vcpu *vcpu, struct vm_exit *vmexit);
/*
 * The signal libvmmapi sends a thread inside vm_run to get its vCPU out of
 * KVM_RUN (it installs an empty handler for it).  A thread that runs
 * vCPUs must leave it unblocked.
 */
int vm_kick_signal(void);
const char *vm_exitcode_name(enum vm_exitcode code);
const char *vm_suspend_name(enum vm_suspend_how how);

/* Registers (enum vm_reg_name). */
int vm_get_register(struct vcpu *vcpu, int reg, uint64_t *val);
int vm_set_register(struct vcpu *vcpu, int reg, uint64_t val);
int vm_get_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, uint64_t *regvals);
int vm_set_register_set(struct vcpu *vcpu, unsigned int count,
			const int *regnums, const uint64_t *regvals);
const char *vm_reg_name(int reg);

/* Debugging. */
int vm_suspend_cpu(struct vcpu *vcpu);
int vm_resume_cpu(struct vcpu *vcpu);
int vm_suspend_all_cpus(struct vmctx *ctx);
int vm_resume_all_cpus(struct vmctx *ctx);
int vm_get_capability(struct vcpu *vcpu, enum vm_cap_type cap, int *val);
int vm_set_capability(struct vcpu *vcpu, enum vm_cap_type cap, int val);
/* Whether a stopped vCPU was running, halted, or waiting for a SIPI. */
int vm_get_run_state(struct vcpu *vcpu, enum vm_runstate *state);
/* Debug-register breakpoints/watchpoints: dr[0..3] and DR7; off if !enable */
int vm_set_hw_debug(struct vcpu *vcpu, bool enable, const uint64_t dr[4],
		    uint64_t dr7);
/*
 * The debug registers the vCPU runs with next: as last set, or after KVM
 * refused them (VM_EXITCODE_DEBUG_REFUSED) the ones before.
 */
int vm_get_hw_debug(struct vcpu *vcpu, bool *enable, uint64_t dr[4],
		    uint64_t *dr7);

/* Translation. */
int vm_get_guest_paging(struct vcpu *vcpu, struct vm_guest_paging *paging);
/*
 * Translate `gla` for an access `prot` (VM_PROT_*).  With paging NULL the
 * vCPU's current paging is used.  On success *fault tells whether the CPU
 * would fault, and *gpa is set when it would not.  vm_gla2gpa behaves as
 * the CPU: it sets accessed/dirty bits and injects the fault; the NOFAULT
 * form never changes the guest.
 */
int vm_gla2gpa(struct vcpu *vcpu, const struct vm_guest_paging *paging,
	       uint64_t gla, int prot, uint64_t *gpa, int *fault);
int vm_gla2gpa_nofault(struct vcpu *vcpu, const struct vm_guest_paging *paging,
		       uint64_t gla, int prot, uint64_t *gpa, int *fault);
/* The full walk (levels, entries, fault level), either form. */
int vm_gla2gpa_walk(struct vcpu *vcpu, struct vm_gla2gpa *walk, bool nofault);

/*
 * Copy between guest linear memory, as the vCPU's paging maps it, and a
 * host buffer.  Translation never touches the guest (NOFAULT).  Returns
 * the number of bytes copied, which is less than len when the range runs
 * into an unmapped page or non-memory, or a negative errno (-EFAULT when
 * not even the first byte is mapped).
 */
ssize_t vm_copyin(struct vcpu *vcpu, uint64_t gla, void *buf, size_t len);
ssize_t vm_copyout(struct vcpu *vcpu, const void *buf, uint64_t gla,
		   size_t len);
/*
 * The same with a paging state the caller got from vm_get_guest_paging()
 * (or built): no register reads, for a caller that copies often while the
 * vCPU stays stopped.
 */
ssize_t vm_copyin_paging(struct vcpu *vcpu,
			 const struct vm_guest_paging *paging, uint64_t gla,
			 void *buf, size_t len);
ssize_t vm_copyout_paging(struct vcpu *vcpu,
			  const struct vm_guest_paging *paging, const void *buf,
			  uint64_t gla, size_t len);

/* Events. */
/*
 * An exception delivered at the current rip.  payload is CR2 for #PF and
 * the DR6 bits for #DB (struct vm_exception), ignored otherwise.
 */
int vm_inject_exception(struct vcpu *vcpu, int vector, bool errcode_valid,
			uint32_t errcode, uint64_t payload);
/*
 * A trap raised by the instruction at rip (#BP from an int3, #OF from
 * into), inst_length bytes long: the guest sees it delivered after the
 * instruction, on every KVM, or -EOPNOTSUPP where this KVM cannot do that
 * (VM_INJECT_EXCEPTION in vmm_dev.h says when).
 */
int vm_inject_trap(struct vcpu *vcpu, int vector, unsigned int inst_length);
int vm_inject_nmi(struct vcpu *vcpu);
int vm_isa_assert_irq(struct vmctx *ctx, int irq);
int vm_isa_deassert_irq(struct vmctx *ctx, int irq);
int vm_isa_pulse_irq(struct vmctx *ctx, int irq);
int vm_lapic_msi(struct vmctx *ctx, uint64_t addr, uint64_t data);

/*
 * The CMOS RTC and its NVRAM (VM_RTC_* in vmm_dev.h), as bhyve's:
 * vm_rtc_write writes NVRAM (offsets 0x0e-0x7f but the century byte 0x32,
 * else -EINVAL); vm_rtc_read reads any of the 128 bytes, with no side
 * effect; the time is in seconds since the epoch (0 to VM_RTC_TIME_MAX).
 * vm_rtc_guest_read/write are the guest's accesses to the data port, with
 * the chip's side effects (a port device uses them).
 */
int vm_rtc_write(struct vmctx *ctx, int offset, uint8_t value);
int vm_rtc_read(struct vmctx *ctx, int offset, uint8_t *retval);
int vm_rtc_settime(struct vmctx *ctx, time_t secs);
int vm_rtc_gettime(struct vmctx *ctx, time_t *secs);
int vm_rtc_guest_write(struct vmctx *ctx, int offset, uint8_t value);
int vm_rtc_guest_read(struct vmctx *ctx, int offset, uint8_t *retval);

/*
 * The HPET (VM_HPET_* in vmm_dev.h): vm_hpet_read/write are the guest's
 * accesses to the register at offset, size 4 or 8 bytes, with their side
 * effects (the MMIO device uses them); get/set_state the whole model, for
 * save and restore.
 */
int vm_hpet_read(struct vmctx *ctx, uint32_t offset, unsigned size,
		 uint64_t *retval);
int vm_hpet_write(struct vmctx *ctx, uint32_t offset, unsigned size,
		  uint64_t value);
int vm_hpet_get_state(struct vmctx *ctx, struct vm_hpet_state *state);
int vm_hpet_set_state(struct vmctx *ctx, const struct vm_hpet_state *state);

/*
 * The monitor's debug core (vmm_ctl.h): bounded stops, steps, owned
 * breakpoints, events.  In-process these go to the handler the monitor
 * registered with vm_set_services() (-EOPNOTSUPP without one); remotely
 * to the monitor through the socket.
 */
typedef int vm_services_fn(void *arg, uint32_t cmd, void *data);
void vm_set_services(struct vmctx *ctx, vm_services_fn *fn, void *arg);
/*
 * Stop vCPU cpuid (-1: all) and wait up to timeout_ms for each to park.
 * 0, or -ETIMEDOUT with *out telling which were late and what they did.
 * out may be NULL.
 */
int vm_debug_stop(struct vmctx *ctx, int cpuid, unsigned int timeout_ms,
		  struct vm_dbg_stop *out);
int vm_debug_resume(struct vmctx *ctx, int cpuid);
/* One instruction on this vCPU, then a VM_EVENT_STEP; flags VM_DBG_STEP_*. */
int vm_debug_step(struct vcpu *vcpu, unsigned int flags);
/* Insert or remove a breakpoint or watchpoint at a linear address. */
int vm_debug_breakpoint(struct vcpu *vcpu, bool insert,
			enum vm_dbg_bp_type type, uint64_t addr, uint64_t len);

/*
 * Events of an opened VM (struct vm_event, vmm_ctl.h).  Subscribe with a
 * mask of 1 << enum vm_event_type (VM_EVENT_MASK_ALL; 0 ends it); events
 * then queue up in the handle, also while other calls wait for replies.
 * vm_event_fd is readable (poll) while an event may be waiting;
 * vm_event_next takes the oldest, waiting up to timeout_ms (0: not at all)
 * for one: 0, -ETIMEDOUT when none came, -ECONNRESET when the monitor is
 * gone and nothing is left.  The queue is bounded: events that did not fit
 * are counted in the `dropped` of the next one.  In-process these are
 * -EOPNOTSUPP (the monitor subscribes to its debug core directly).
 */
int vm_events_subscribe(struct vmctx *ctx, uint32_t mask);
int vm_event_fd(struct vmctx *ctx);
int vm_event_next(struct vmctx *ctx, struct vm_event *ev, int timeout_ms);

/* Statistics. */
/*
 * Read up to `max` counters of the vCPU into buf; *count gets how many
 * there are (which may exceed max).
 */
/*
 * The monitor's VM-exit trace (vmm_ctl.h, VM_CTL_TRACE): record to a file,
 * stop, status, and this connection's watch of live exits.
 */
int vm_trace_control(struct vmctx *ctx, struct vm_ctl_trace *t);
int vm_trace_fetch(struct vmctx *ctx, struct vm_ctl_trace_read *r);
/*
 * A core dump written by the monitor (vmm_ctl.h, VM_CTL_DUMP_CORE): d->path
 * absolute.  The call waits as long as the dump takes (the handle's
 * timeout is VM_CTL_TIMEOUT_MS again afterwards).  Remote only.
 */
int vm_dump_core(struct vmctx *ctx, struct vm_ctl_dump *d);

int vm_get_stats(struct vcpu *vcpu, uint64_t *buf, int max, int *count);
int vm_get_stat_desc(struct vmctx *ctx, int index, char *buf, size_t len);

#endif
