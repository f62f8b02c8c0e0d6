/*
 * vmm_priv.h: the vmm core's internal state, shared by the files of vmm/.
 *
 * Locking:
 * - vmm.lock guards the memory segments and maps, the topology and the
 *   creation of vCPUs.  Guest memory lookups on hot paths (the page walker,
 *   gpa2hva) take it too; maps change rarely.
 * - A vCPU's configuration that its own thread applies before KVM_RUN
 *   (capabilities, hardware debug registers, a pending NMI) is guarded by
 *   vcpu.lock and flagged dirty; the thread applies it, so no other thread
 *   ever issues a vCPU ioctl that would block behind KVM_RUN.
 * - The debug flag, the VM's suspend reason and the kick handshake are
 *   atomics; see vmm_vcpu.c for the ordering argument.
 * - Statistics are relaxed atomics, readable at any time.
 */
#ifndef VMM_PRIV_H
#define VMM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include "libvmmapi/vm_trace.h"
#include "vmm/vmm.h"
#include "vmm/vmm_hpet.h"
#include "vmm/vmm_rtc.h"

/* Counters of vmm's own that follow the exit counters in VM_STATS. */
enum vmm_stat {
	VMM_STAT_EXITS, /* every return of VM_RUN */
	VMM_STAT_KVM_RUNS, /* KVM_RUN ioctls */
	VMM_STAT_KICKS, /* kicks sent to the vCPU thread */
	VMM_STAT_EINTR, /* KVM_RUN interrupted by a signal */
	VMM_STAT_COMPLETIONS, /* KVM_RUNs that finished I/O before a stop */
	VMM_STAT_MAX
};

struct vmm_memseg {
	size_t len; /* 0: unallocated */
	char name[VM_NAME_MAX]; /* "" for system memory */
	int fd; /* the memfd backing the segment, -1 for anonymous memory */
	uint8_t *hva; /* the segment mapped in vitro */
	uint32_t flags; /* VM_MEMSEG_F_* as allocated */
	uint32_t backing; /* enum vm_memseg_backing */
	uint32_t why; /* enum vm_memseg_why */
	uint64_t page_size; /* the largest page that can back it */
};

struct vmm_memmap {
	uint64_t gpa;
	size_t len; /* 0: unused entry */
	int segid;
	uint64_t segoff;
	int prot; /* VM_PROT_* */
	int flags; /* VM_MEMMAP_F_* */
};

/* A protected range (VM_PROTECT_GPA); len 0: unused entry. */
struct vmm_prot {
	uint64_t gpa;
	uint64_t len;
	int prot;
};

/* A KVM memory slot, numbered by its index; map -1: unused. */
struct vmm_slot {
	uint64_t gpa;
	uint64_t len;
	uint8_t *hva;
	bool readonly;
	int map; /* the map it belongs to */
};

#define VMM_MAX_PROTS 128
#define VMM_XSAVE_MAX 16384 /* larger XSAVE states: FPU via KVM_GET_FPU */
#define VMM_MAX_SLOTS 256

struct vmm_vcpu {
	struct vmm *vm;
	int id;
	int fd; /* KVM vCPU fd */
	struct kvm_run *run; /* its shared run area */
	int stats_fd; /* KVM binary statistics, or -1 */

	atomic_bool debug; /* in the debug set */
	atomic_bool suspended; /* acknowledged a VM suspend */
	atomic_bool halt_probe; /* look at the run state after the kick */
	atomic_int halted_probes; /* probes in a row that found it halted */
	uint64_t halt_exits_seen; /* KVM's exits at the last halt check */

	/*
	 * The kick handshake: which thread is inside VM_RUN, if any.  The
	 * runner enters and leaves VM_RUN without kick_lock (it would be two
	 * lock round trips on every exit); in_run and kicking make the
	 * handshake (vmm_vcpu.c, vmm_vcpu_kick).
	 */
	pthread_mutex_t kick_lock;
	pthread_t runner; /* written under kick_lock, by the runner */
	bool has_runner; /* runner is set; written as runner is */
	atomic_bool in_run; /* the runner is inside VM_RUN */
	atomic_uint kicking; /* kickers that may signal the runner */
	/*
	 * Which parts of run->s.regs hold the vCPU's state as KVM has it:
	 * the KVM_SYNC_X86_REGS and KVM_SYNC_X86_SREGS bits that the last
	 * KVM_RUN was asked for; set when KVM_RUN returns, cleared before
	 * the next one and by any write.  sync_regs: KVM offers them.
	 */
	atomic_uint synced;
	bool sync_regs;
	/*
	 * The last KVM_RUN returned an I/O or MMIO exit: KVM finishes that
	 * instruction only on the next KVM_RUN (vmm_vcpu.c).  Written by the
	 * thread that runs the vCPU, and by VM_REINIT while none does.
	 */
	atomic_bool io_pending;
	/*
	 * Trap injection (vmm_inject_exception); both owned by whoever may
	 * touch the vCPU's state: its thread, or a client while it is
	 * stopped.  int3_valid: the last VM_RUN returned an int3 exit (BPT,
	 * or INST_EMUL at an int3) at int3_rip and no KVM_RUN has entered
	 * the guest since, so KVM still holds what that exit told it.
	 * trap_vector: a #BP or #OF vmm injected that the vCPU has not run
	 * since (KVM_GET_VCPU_EVENTS never shows those), or -1.
	 */
	bool int3_valid;
	uint64_t int3_rip;
	int trap_vector;

	/*
	 * Configuration applied by the vCPU's own thread; vcpu.lock.  What
	 * was asked for, and what KVM last took (where a configuration KVM
	 * refuses is rolled back to).
	 */
	pthread_mutex_t lock;
	bool caps[VM_CAP_MAX]; /* VM_CAP_* values */
	struct vm_hw_debug hw; /* debug-register breakpoints */
	bool caps_applied[VM_CAP_MAX];
	struct vm_hw_debug hw_applied;
	bool debug_dirty; /* KVM_SET_GUEST_DEBUG needed */
	bool nmi_pending; /* KVM_NMI needed */
	atomic_bool pending; /* one of the two above is set */

	_Atomic uint64_t exits[VM_EXITCODE_MAX];
	_Atomic uint64_t stat[VMM_STAT_MAX];

	/*
	 * Exit tracing (vmm_trace.c): the ring, or NULL when off; busy
	 * while the vCPU's thread pushes to it.  The record of the last
	 * exit waits in tr_rec (pending) for the vCPU to go back.
	 */
	_Atomic(struct vmm_trace_ring *) ring;
	atomic_bool ring_busy;
	bool tr_pending; /* the vCPU's thread only */
	struct vm_trace_rec tr_rec;
	uint64_t tr_stack[VM_TRACE_STACK_MAX];
};

/* One KVM binary statistic we export (scalar ones only). */
struct vmm_kvm_stat {
	char name[VM_STAT_NAME_MAX];
	uint32_t offset; /* in the data block, bytes */
};

struct vmm {
	char name[VM_NAME_MAX];
	int kvm_fd; /* /dev/kvm */
	int vm_fd;
	size_t run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	bool has_sregs2;
	bool has_guest_debug; /* KVM_CAP_SET_GUEST_DEBUG */
	bool has_blockirq; /* KVM_GUESTDBG_BLOCKIRQ */
	size_t xsave_size; /* KVM_GET_XSAVE(2) bytes, 0 without XSAVE */
	bool has_emul_failure_bytes;
	bool has_exception_payload; /* KVM_CAP_EXCEPTION_PAYLOAD enabled */
	/*
	 * For tests of the refusal path: KVM_SET_GUEST_DEBUG fails with
	 * -EINVAL, as if KVM refused it, when its control has any of these
	 * KVM_GUESTDBG_* bits (VITRO_VMM_REFUSE_GUEST_DEBUG, read at create).
	 */
	uint32_t refuse_guest_debug;

	/*
	 * How this KVM delivers an injected #BP/#OF (vmm_probe.c), and
	 * whether the CPUID vmm sets reaches the guest (vmm_cpuid_probe.c);
	 * both under probe_lock.
	 */
	pthread_mutex_t probe_lock;
	int trap_mode; /* enum vmm_trap_mode */
	bool cpuid_probed; /* cpuid_probe holds the answer */
	struct vm_cpuid_probe cpuid_probe;

	pthread_mutex_t lock;
	struct vm_cpu_topology topo;
	struct vmm_memseg seg[VM_MAX_MEMSEGS];
	struct vmm_memmap map[VM_MAX_MEMMAPS];
	struct vmm_prot prot[VMM_MAX_PROTS];
	struct vmm_slot slot[VMM_MAX_SLOTS];
	int nslots; /* usable: min(VMM_MAX_SLOTS, KVM's) */
	struct vmm_vcpu *vcpu[VM_MAXCPU];
	struct kvm_cpuid2 *cpuid; /* what KVM supports */
	uint32_t cpu_model; /* enum vm_cpu_model_id, for vCPUs made next */
	struct vm_cpuid_mask cpu_hide; /* hidden on top of the model */

	/* KVM's per-vCPU statistics, learnt when the first vCPU starts. */
	struct vmm_kvm_stat *kvm_stat;
	int nkvm_stat;
	uint32_t kvm_stat_data_offset;
	uint32_t kvm_stat_data_size;
	/* Offsets in the data of "blocking" and "exits", when KVM has both. */
	bool kvm_stat_halt;
	uint32_t kvm_stat_blocking;
	uint32_t kvm_stat_exits;

	/*
	 * Why the VM is suspended, and by which vCPU, in one word so that
	 * both change together: VMM_SUSPEND_WORD(how, cpuid).
	 */
	_Atomic int suspend;

	/* Exit tracing (vmm_trace.c): the configuration, under lock. */
	bool trace_on;
	uint32_t trace_ring; /* records per vCPU */
	uint32_t trace_stack; /* return addresses per record */
	_Atomic unsigned int trace_depth; /* trace_stack, for the vCPUs */

	struct vmm_rtc rtc; /* the CMOS RTC (vmm_rtc.c); its own lock */
	struct vmm_hpet hpet; /* the HPET (vmm_hpet.c); its own lock */
};

/*
 * Where the guest's handler finds rip when KVM injects #BP or #OF.  VMX
 * and SVM inject them as software exceptions and push rip plus a length
 * that KVM took from the last exit (VMX: the instruction length of the
 * #BP intercept; SVM: NextRIP, or the instruction at rip decoded); a KVM
 * that emulates the guest may push rip unchanged, as for a fault.
 */
enum vmm_trap_mode {
	VMM_TRAP_UNPROBED,
	VMM_TRAP_PUSHES_RIP, /* the guest sees rip as it is */
	VMM_TRAP_ADDS_LENGTH, /* rip + the int3's length, after its exit */
};

#define VMM_SUSPEND_WORD(how, cpuid) ((int)(how) | (((cpuid) + 1) << 8))
#define VMM_SUSPEND_HOW(w) ((enum vm_suspend_how)((w)&0xff))
#define VMM_SUSPEND_CPU(w) (((w) >> 8) - 1)

/* vmm_mem.c; all with vm->lock held */
int vmm_memseg_alloc(struct vmm *vm, struct vm_memseg *ms);
/*
 * The backing of a segment allocated with `flags` on a host whose
 * transparent_hugepage/enabled and shmem_enabled files read `thp` and
 * `shmem_thp` (NULL or "" when absent): sets ms->backing, why, page_size.
 */
void vmm_mem_backing_choose(uint32_t flags, const char *thp,
			    const char *shmem_thp, struct vm_memseg *ms);
int vmm_memseg_get(struct vmm *vm, struct vm_memseg *ms);
int vmm_memmap_add(struct vmm *vm, const struct vm_memmap *mm);
int vmm_memmap_remove(struct vmm *vm, const struct vm_munmap *mu);
int vmm_memmap_getnext(struct vmm *vm, struct vm_memmap *mm);
int vmm_protect_gpa(struct vmm *vm, const struct vm_gpa_prot *gp);
int vmm_memslots_restore(struct vmm *vm);
void *vmm_gpa2hva_locked(struct vmm *vm, uint64_t gpa, size_t len);
void vmm_mem_free(struct vmm *vm);

/* vmm.c */
struct vmm_vcpu *vmm_vcpu_get(struct vmm *vm, int cpuid);
int vmm_suspend(struct vmm *vm, enum vm_suspend_how how, int cpuid);
int vmm_check_halt(struct vmm *vm);
void vmm_halt_evaluate(struct vmm *vm);
void *vmm_gpa2hva(struct vmm *vm, uint64_t gpa, size_t len);
void *vmm_gpa2hva_cb(void *vm, uint64_t gpa, size_t len);

/* vmm_vcpu.c */
int vmm_vcpu_create(struct vmm *vm, int cpuid, struct vmm_vcpu **out);
void vmm_vcpu_destroy(struct vmm_vcpu *vcpu);
int vmm_vcpu_reset(struct vmm_vcpu *vcpu);
void vmm_vcpu_kick(struct vmm_vcpu *vcpu);
int vmm_run(struct vmm_vcpu *vcpu, struct vm_exit *vme);
int vmm_set_capability(struct vmm_vcpu *vcpu, struct vm_capability *cap);
int vmm_get_capability(struct vmm_vcpu *vcpu, struct vm_capability *cap);
int vmm_set_hw_debug(struct vmm_vcpu *vcpu, const struct vm_hw_debug *hw);
int vmm_get_hw_debug(struct vmm_vcpu *vcpu, struct vm_hw_debug *hw);
int vmm_inject_nmi(struct vmm_vcpu *vcpu);
int vmm_get_run_state(struct vmm_vcpu *vcpu, struct vm_run_state *rs);
int vmm_inject_exception(struct vmm_vcpu *vcpu, const struct vm_exception *e);
int vmm_kick_init(void);

/* vmm_probe.c */
int vmm_trap_mode(struct vmm *vm);
/*
 * The probes' scratch guest (on a scratch VM): VMM_PROBE_MEM bytes of
 * memory from 0 and vCPU 0, a flat 32-bit GDT at VMM_PROBE_GDT (code
 * 0x08, data 0x10); *mem is the memory's host address.  Then its
 * registers: CPL 0 protected mode without paging at rip, the stack at
 * VMM_PROBE_STACK, the IDT at idt (idt_limit 0: none).
 */
#define VMM_PROBE_MEM 0x10000
#define VMM_PROBE_GDT 0x1000
#define VMM_PROBE_STACK 0x8000
int vmm_probe_setup(struct vmm *scratch, struct vmm_vcpu **v, uint8_t **mem);
int vmm_probe_regs(struct vmm_vcpu *v, uint64_t rip, uint64_t idt,
		   uint16_t idt_limit);

/* vmm_regs.c */
int vmm_get_regset(struct vmm_vcpu *vcpu, unsigned count, const int *regnums,
		   uint64_t *regvals);
int vmm_set_regset(struct vmm_vcpu *vcpu, unsigned count, const int *regnums,
		   const uint64_t *regvals);
int vmm_gla2gpa(struct vmm_vcpu *vcpu, struct vm_gla2gpa *w, bool nofault);
int vmm_get_paging(struct vmm_vcpu *vcpu, struct vm_guest_paging *paging);
void vmm_paging_from_sregs(const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs,
			   struct vm_guest_paging *paging);

/* vmm_cpuid.c */
uint32_t vmm_apic_id(const struct vm_cpu_topology *topo, int cpuid);
int vmm_cpuid_init(struct vmm *vm);
int vmm_cpuid_set(struct vmm_vcpu *vcpu);
/* Filter one KVM CPUID entry through a model and a mask (pure). */
void vmm_cpuid_filter(uint32_t model, const struct vm_cpuid_mask *hide,
		      struct kvm_cpuid_entry2 *e);
int vmm_cpu_model_set(struct vmm *vm, struct vm_cpu_model *m);
int vmm_cpu_model_get(struct vmm *vm, struct vm_cpu_model *m);

/* vmm_cpuid_probe.c */
int vmm_cpuid_probe(struct vmm *vm, struct vm_cpuid_probe *p);

/* vmm_stats.c */
void vmm_stats_learn(struct vmm *vm, int stats_fd);
int vmm_get_stats(struct vmm_vcpu *vcpu, struct vm_stats *st);
int vmm_stat_desc(struct vmm *vm, struct vm_stat_desc *d);
/*
 * Whether the halt probe must look at this vCPU: false when KVM's
 * statistics say it ran guest code since the last call, or is not blocked
 * in a halt now; true when they say it sat blocked, or KVM has no such
 * statistics.  Called with vm->lock held, from one thread.
 */
bool vmm_stats_halt_candidate(struct vmm_vcpu *v);

/* vmm_trace.c */
struct vmm_trace_ring;
int vmm_trace_vcpu_init(struct vmm_vcpu *v); /* vm->lock held */
void vmm_trace_vcpu_fini(struct vmm_vcpu *v);
int vmm_trace_start(struct vmm *vm, const struct vm_trace_start *a);
int vmm_trace_stop(struct vmm *vm);
int vmm_trace_read(struct vmm_vcpu *v, struct vm_trace_read *a);
/* The vCPU's thread: after KVM_RUN returned r, and before the next. */
void vmm_trace_exit(struct vmm_vcpu *v, int r, bool complete);
void vmm_trace_entry(struct vmm_vcpu *v);

static inline bool vmm_tracing(struct vmm_vcpu *v)
{
	return atomic_load_explicit(&v->ring, memory_order_relaxed) != NULL;
}

static inline void vmm_stat_add(struct vmm_vcpu *vcpu, enum vmm_stat s,
				uint64_t n)
{
	atomic_fetch_add_explicit(&vcpu->stat[s], n, memory_order_relaxed);
}

/*
 * A counter that only one thread adds to (the vCPU's own, for its runs
 * and exits): a load and a store instead of a locked add on every exit.
 * Readers on other threads still see whole values.
 */
static inline void vmm_count_own(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void vmm_stat_own_add(struct vmm_vcpu *vcpu, enum vmm_stat s,
				    uint64_t n)
{
	vmm_count_own(&vcpu->stat[s], n);
}

#endif
