/*
 * vmm_vcpu.c: vCPUs - creation, VM_RUN and the decoding of KVM exits,
 * the debug set and kicks, and the per-vCPU debug capabilities.
 *
 * Threads.  One thread at a time runs a vCPU (VM_RUN); any thread may put
 * it in the debug set, suspend the VM or change its capabilities.  Changes
 * that need a vCPU ioctl (KVM_SET_GUEST_DEBUG, KVM_NMI) are recorded under
 * vcpu->lock and applied by the running thread before its next KVM_RUN,
 * because a vCPU ioctl from another thread would wait for KVM_RUN to end.
 * So KVM's verdict on debug settings comes late: what can be checked is
 * checked when they are set, and settings KVM refuses are rolled back to
 * the last it took and reported by VM_RUN as DEBUG_REFUSED (vmm_dev.h),
 * not as a failure of VM_RUN, which would end the VM.
 *
 * Kicks.  To get a vCPU out of KVM_RUN promptly, a kicker first publishes
 * the reason (the debug flag or the VM suspend word), then sets the run
 * area's immediate_exit and signals the thread if it is inside VM_RUN.
 * The runner clears immediate_exit after each KVM_RUN (when set) and only
 * then looks at the reasons.  All these are sequentially consistent, so either the
 * runner sees the reason before its next KVM_RUN, or immediate_exit is
 * still set and that KVM_RUN returns at once; the signal covers a runner
 * already inside KVM_RUN.  The runner waits on its way out of VM_RUN for
 * a kicker that saw it inside (vmm_vcpu_kick), so a signal never reaches a
 * thread that has left; kick_lock keeps the run area mapped while it is
 * written.
 *
 * Stops show finished instructions.  After an I/O, MMIO or MSR exit KVM has
 * done only half of the instruction: an `in` has not written rax, a
 * string I/O has not stored its batch nor moved rdi/rcx, an MMIO read has
 * not written its destination, and on recent KVMs even rip still points
 * at the instruction.  KVM finishes it at the start of the next KVM_RUN
 * (Documentation/virt/kvm/api.rst: the operation is complete only once
 * userspace re-enters), then looks at immediate_exit.  So before VM_RUN
 * reports DEBUG or SUSPENDED, a vCPU whose last exit was I/O or MMIO
 * (io_pending) runs KVM_RUN once with immediate_exit set: -EINTR means
 * the instruction is done and no guest code ran; a client that reads or
 * writes registers at the stop then sees, and changes, the real state,
 * and KVM has nothing left that would overwrite what it wrote.  That run
 * may instead return a new exit, because finishing can need the monitor
 * again (the next fragment of an MMIO access split in pieces; a single-
 * step exit after the finished instruction): it goes to the monitor like
 * any exit, and the stop is taken at the next VM_RUN.  The completion
 * runs with the debug configuration the instruction started under; what
 * was set since is applied before the next real KVM_RUN.
 * - VM_REINIT makes new KVM vCPUs: nothing is pending on them, and
 *   io_pending is cleared; a VM suspend is acknowledged (SUSPENDED) only
 *   after the completion, so a re-initialised VM never has half an
 *   instruction left from the old one.
 * - The halt probe runs after a KVM_RUN that returned -EINTR, which KVM
 *   returns only once it has finished any pending instruction.
 * - Between an exit and the next VM_RUN, the vCPU's own thread (the
 *   monitor's exit handlers) sees the instruction unfinished; it must not
 *   write the registers that instruction writes (KVM would overwrite
 *   them, or on a moved rip drop the completion).  A handler that wants
 *   to report a stop from there puts its own vCPU in the debug set and
 *   calls VM_RUN, which finishes the instruction and returns DEBUG.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

/* The signal that interrupts KVM_RUN; vmmapi.h documents it. */
#define VMM_KICK_SIGNAL (SIGRTMIN + 2)

#define DR6_BS (1ULL << 14) /* single-step */
#define DR6_TRAP_BITS 0xfULL /* B0-B3 */
#define DR6_BIT12 (1ULL << 12) /* reads as 0 */
#define DR6_FIXED_1 0xffff0ff0ULL /* bits that read as 1 (RTM off) */
/* What a #DB payload may say: B0-B3, BD, BS, BT (as DR6 has them). */
#define DR6_PAYLOAD_BITS 0xe00fULL
/*
 * DR7 bits that must be 0: the upper half (VM entry fails on VMX and SVM
 * otherwise) and the reserved bits 12, 14 and 15.
 */
#define DR7_MUST_BE_0 (0xffffffff00000000ULL | 1ULL << 12 | 3ULL << 14)
#define DB_VECTOR 1
#define BP_VECTOR 3
#define INT3_OPCODE 0xcc

int vmm_kick_signal(void)
{
	return VMM_KICK_SIGNAL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

/* Idempotent: every VM installs the same empty handler. */
int vmm_kick_init(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(VMM_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int vcpu_kvm_open(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	struct kvm_run *run;
	int fd, r;

	fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU,
		   (unsigned long)vmm_apic_id(&vm->topo, v->id));
	if (fd < 0)
		return -errno;
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	if (run == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	v->fd = fd;
	if ((r = vmm_cpuid_set(v)) < 0) {
		munmap(run, vm->run_size);
		close(fd);
		v->fd = -1;
		return r;
	}
	/* rip with every exit, for logs and traces, at no extra ioctl. */
	v->sync_regs =
		ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) > 0;
	v->stats_fd = -1;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) >
	    0) {
		v->stats_fd = ioctl(fd, KVM_GET_STATS_FD, NULL);
		if (v->stats_fd >= 0)
			vmm_stats_learn(vm, v->stats_fd);
	}
	atomic_store(&v->synced, 0); /* a new KVM vCPU: nothing synced */
	atomic_store(&v->io_pending, false); /* nor anything to complete */
	pthread_mutex_lock(&v->kick_lock);
	v->run = run;
	pthread_mutex_unlock(&v->kick_lock);
	return 0;
}

static void vcpu_kvm_close(struct vmm_vcpu *v);

int vmm_vcpu_create(struct vmm *vm, int cpuid, struct vmm_vcpu **out)
{
	struct vmm_vcpu *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->id = cpuid;
	v->fd = v->stats_fd = -1;
	v->trap_vector = -1;
	pthread_mutex_init(&v->kick_lock, NULL);
	pthread_mutex_init(&v->lock, NULL);
	if ((r = vcpu_kvm_open(v)) < 0 || (r = vmm_trace_vcpu_init(v)) < 0) {
		vcpu_kvm_close(v);
		pthread_mutex_destroy(&v->kick_lock);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

static void vcpu_kvm_close(struct vmm_vcpu *v)
{
	pthread_mutex_lock(&v->kick_lock);
	if (v->run)
		munmap(v->run, v->vm->run_size);
	v->run = NULL;
	pthread_mutex_unlock(&v->kick_lock);
	if (v->fd >= 0)
		close(v->fd);
	if (v->stats_fd >= 0)
		close(v->stats_fd);
	v->fd = v->stats_fd = -1;
}

void vmm_vcpu_destroy(struct vmm_vcpu *v)
{
	vmm_trace_vcpu_fini(v);
	vcpu_kvm_close(v);
	pthread_mutex_destroy(&v->kick_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* After VM_REINIT: a new KVM vCPU in power-on state, same configuration. */
int vmm_vcpu_reset(struct vmm_vcpu *v)
{
	int r;

	vcpu_kvm_close(v);
	if ((r = vcpu_kvm_open(v)) < 0)
		return r;
	pthread_mutex_lock(&v->lock);
	v->debug_dirty = true;
	v->nmi_pending = false;
	atomic_store(&v->pending, true);
	pthread_mutex_unlock(&v->lock);
	v->int3_valid = false;
	v->trap_vector = -1;
	atomic_store(&v->suspended, false);
	return 0;
}

/*
 * The runner leaves VM_RUN by clearing in_run and then waiting for
 * kicking to be 0; a kicker counts itself in kicking before it reads
 * in_run.  Both sequentially consistent: either the kicker sees in_run
 * clear and signals nothing, or the runner waits until its signal is sent,
 * so a signal never goes to a thread that has left VM_RUN for good (and
 * may have exited).  kick_lock keeps runner and the run area stable.
 */
void vmm_vcpu_kick(struct vmm_vcpu *v)
{
	bool in_run;

	vmm_stat_add(v, VMM_STAT_KICKS, 1);
	pthread_mutex_lock(&v->kick_lock);
	atomic_fetch_add(&v->kicking, 1);
	in_run = atomic_load(&v->in_run);
	/*
	 * The vCPU's own thread outside VM_RUN (a stop it reports itself)
	 * sees the reason at the top of its next VM_RUN: an immediate_exit
	 * would only cost it an empty KVM_RUN.
	 */
	if (v->run && (in_run || !v->has_runner ||
		       !pthread_equal(v->runner, pthread_self())))
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (in_run)
		pthread_kill(v->runner, VMM_KICK_SIGNAL);
	atomic_fetch_sub(&v->kicking, 1);
	pthread_mutex_unlock(&v->kick_lock);
}

/* The runner enters VM_RUN: kickers may signal it from now on. */
static void vcpu_run_enter(struct vmm_vcpu *v)
{
	pthread_t self = pthread_self();

	/* Only a runner writes these: its own reads need no lock. */
	if (!v->has_runner || !pthread_equal(v->runner, self)) {
		pthread_mutex_lock(&v->kick_lock);
		v->runner = self;
		v->has_runner = true;
		pthread_mutex_unlock(&v->kick_lock);
	}
	atomic_store(&v->in_run, true);
}

/*
 * The runner leaves VM_RUN: no kicker signals it once this returns.  The
 * wait lasts as long as a kicker's pthread_kill, which holds no lock the
 * runner could be holding.
 */
static void vcpu_run_leave(struct vmm_vcpu *v)
{
	atomic_store(&v->in_run, false);
	while (atomic_load(&v->kicking))
		sched_yield();
}

/* Give KVM a debug configuration; the vCPU's thread, v->lock. */
static int vcpu_apply_debug(struct vmm_vcpu *v, const bool *caps,
			    const struct vm_hw_debug *hw)
{
	struct kvm_guest_debug dbg = { 0 };

	if (caps[VM_CAP_MTRAP_EXIT])
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (caps[VM_CAP_MASK_HWINTR])
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_BLOCKIRQ;
	if (caps[VM_CAP_BPT_EXIT])
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (hw->enable) {
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		for (int i = 0; i < 4; i++)
			dbg.arch.debugreg[i] = hw->dr[i];
		dbg.arch.debugreg[7] = hw->dr7;
	}
	if (dbg.control & v->vm->refuse_guest_debug)
		return -EINVAL;
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return -errno;
	return 0;
}

/*
 * Before KVM_RUN: give KVM what VM_SET_CAPABILITY, VM_SET_HW_DEBUG and
 * VM_INJECT_NMI recorded.  A debug configuration KVM refuses is rolled
 * back to the last one it took, and reported in vme (returns 1) so that
 * the vCPU runs no guest code under a configuration nobody asked for.
 */
static int vcpu_apply_pending(struct vmm_vcpu *v, struct vm_exit *vme)
{
	int r = 0, refused = 0;

	/* Taken on every exit: look (a plain load) before the locked ops. */
	if (!atomic_load(&v->pending) || !atomic_exchange(&v->pending, false))
		return 0;
	pthread_mutex_lock(&v->lock);
	if (v->debug_dirty) {
		v->debug_dirty = false;
		r = vcpu_apply_debug(v, v->caps, &v->hw);
		if (r == 0) {
			memcpy(v->caps_applied, v->caps, sizeof(v->caps));
			v->hw_applied = v->hw;
		} else {
			memset(&vme->u, 0, sizeof(vme->u));
			vme->exitcode = VM_EXITCODE_DEBUG_REFUSED;
			vme->u.debug_refused.error = r;
			for (int i = 0; i < VM_CAP_MAX; i++)
				vme->u.debug_refused.caps |=
					(uint32_t)v->caps[i] << i;
			vme->u.debug_refused.hw = v->hw;
			memcpy(v->caps, v->caps_applied, sizeof(v->caps));
			v->hw = v->hw_applied;
			/* KVM took it before (on a new vCPU: give it again). */
			r = vcpu_apply_debug(v, v->caps, &v->hw);
			refused = 1;
		}
	}
	if (r == 0 && v->nmi_pending) {
		if (ioctl(v->fd, KVM_NMI) < 0)
			r = -errno;
		v->nmi_pending = false;
	}
	pthread_mutex_unlock(&v->lock);
	return r < 0 ? r : refused;
}

/* The instruction bytes at rip, for an emulation-failure report. */
static void fetch_inst(struct vmm_vcpu *v, struct vm_exit *vme)
{
	static const int regs[] = { VM_REG_GUEST_CS_BASE, VM_REG_GUEST_RIP };
	struct vm_gla2gpa w = { .cpuid = v->id,
				.use_current = true,
				.prot = VM_PROT_EXEC };
	uint64_t val[2], gla;
	unsigned n = 0;

	if (vmm_get_regset(v, 2, regs, val) < 0)
		return;
	gla = val[0] + val[1];
	while (n < VM_EXIT_INST_BYTES) {
		uint8_t *p;

		w.gla = gla + n;
		if (vmm_gla2gpa(v, &w, true) < 0 || w.fault)
			break;
		p = vmm_gpa2hva(v->vm, w.gpa, 1);
		if (!p)
			break;
		vme->u.inst_emul.inst[n++] = *p;
	}
	vme->u.inst_emul.inst_len = n;
}

static void decode_internal_error(struct vmm_vcpu *v, struct vm_exit *vme)
{
	struct kvm_run *run = v->run;
	uint32_t nd = run->internal.ndata;

	vme->exitcode = VM_EXITCODE_INST_EMUL;
	vme->u.inst_emul.suberror = run->internal.suberror;
	if (nd > 4)
		nd = 4;
	vme->u.inst_emul.ndata = nd;
	for (uint32_t i = 0; i < nd; i++)
		vme->u.inst_emul.data[i] = run->internal.data[i];
	vme->u.inst_emul.inst_len = 0;
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		unsigned n = run->emulation_failure.insn_size;

		if (n > VM_EXIT_INST_BYTES)
			n = VM_EXIT_INST_BYTES;
		memcpy(vme->u.inst_emul.inst, run->emulation_failure.insn_bytes,
		       n);
		vme->u.inst_emul.inst_len = n;
	}
	if (vme->u.inst_emul.inst_len == 0)
		fetch_inst(v, vme);
}

/*
 * Decode the KVM exit into vme.  Returns false when the exit needs nothing
 * from the monitor and KVM_RUN should simply go on.
 */
static bool decode_exit(struct vmm_vcpu *v, struct vm_exit *vme)
{
	struct kvm_run *run = v->run;

	/* I/O and MMIO, the common exits, set every field they have. */
	if (run->exit_reason != KVM_EXIT_IO &&
	    run->exit_reason != KVM_EXIT_MMIO)
		memset(&vme->u, 0, sizeof(vme->u));
	vme->inst_length = 0;
	vme->rip = (run->kvm_valid_regs & KVM_SYNC_X86_REGS) ?
			   run->s.regs.regs.rip :
			   0;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vme->exitcode = VM_EXITCODE_INOUT;
		vme->u.inout.port = run->io.port;
		vme->u.inout.bytes = run->io.size;
		vme->u.inout.in = run->io.direction == KVM_EXIT_IO_IN;
		vme->u.inout.count = run->io.count;
		vme->u.inout.data = (uint8_t *)run + run->io.data_offset;
		return true;
	case KVM_EXIT_MMIO:
		vme->exitcode = VM_EXITCODE_MMIO;
		vme->u.mmio.gpa = run->mmio.phys_addr;
		vme->u.mmio.bytes = run->mmio.len;
		vme->u.mmio.write = run->mmio.is_write;
		vme->u.mmio.data = run->mmio.data;
		return true;
	case KVM_EXIT_DEBUG:
		/* debug.arch.pc is linear (CS base + rip): keep rip. */
		if (run->debug.arch.exception == BP_VECTOR) {
			vme->exitcode = VM_EXITCODE_BPT;
			vme->inst_length = 1;
		} else if ((run->debug.arch.dr6 & DR6_BS) &&
			   v->caps[VM_CAP_MTRAP_EXIT]) {
			vme->exitcode = VM_EXITCODE_MTRAP;
		} else {
			vme->exitcode = VM_EXITCODE_HWBP;
			vme->u.hwbp.dr6 = run->debug.arch.dr6;
			vme->u.hwbp.dr7 = run->debug.arch.dr7;
		}
		return true;
	case KVM_EXIT_SHUTDOWN:
		vmm_suspend(v->vm, VM_SUSPEND_TRIPLEFAULT, v->id);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
			vmm_suspend(v->vm, VM_SUSPEND_RESET, v->id);
			return false;
		case KVM_SYSTEM_EVENT_SHUTDOWN:
		case KVM_SYSTEM_EVENT_CRASH:
			vmm_suspend(v->vm, VM_SUSPEND_POWEROFF, v->id);
			return false;
		}
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		vme->exitcode = VM_EXITCODE_MSR;
		vme->u.msr.index = run->msr.index;
		vme->u.msr.write = run->exit_reason == KVM_EXIT_X86_WRMSR;
		vme->u.msr.wval = run->msr.data;
		vme->u.msr.value = (uint64_t *)&run->msr.data;
		vme->u.msr.error = &run->msr.error;
		return true;
	case KVM_EXIT_HLT:
		vme->exitcode = VM_EXITCODE_HLT;
		vme->inst_length = 1;
		return true;
	case KVM_EXIT_INTERNAL_ERROR:
		decode_internal_error(v, vme);
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		vme->exitcode = VM_EXITCODE_RUN_FAILED;
		vme->u.run_failed.reason =
			run->fail_entry.hardware_entry_failure_reason;
		return true;
	case KVM_EXIT_INTR:
		return false;
	}
	vme->exitcode = VM_EXITCODE_UNHANDLED;
	vme->u.unhandled.kvm_reason = run->exit_reason;
	return true;
}

/*
 * The vCPU's thread answers a halt probe: is this vCPU stopped for good,
 * halted with interrupts off or never started by a SIPI?
 */
static void vcpu_halt_probe(struct vmm_vcpu *v)
{
	struct kvm_mp_state mp;
	uint64_t rflags;
	int reg = VM_REG_GUEST_RFLAGS;
	bool halted = false;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0) {
		if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
		    mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
			halted = true;
		else if (mp.mp_state == KVM_MP_STATE_HALTED &&
			 vmm_get_regset(v, 1, &reg, &rflags) == 0)
			halted = !(rflags & 0x200); /* IF */
	}
	if (!halted) {
		atomic_store(&v->halted_probes, 0);
		return;
	}
	atomic_fetch_add(&v->halted_probes, 1);
	vmm_halt_evaluate(v->vm);
}

/*
 * Where the vCPU is, for an exit that does not come from KVM_RUN.  The
 * synced registers may be stale (registers set since), so ask KVM; this
 * is the vCPU's own thread, outside KVM_RUN, so the ioctl cannot block.
 */
static void vcpu_rip(struct vmm_vcpu *v, struct vm_exit *vme)
{
	int reg = VM_REG_GUEST_RIP;

	vme->inst_length = 0;
	if (vmm_get_regset(v, 1, &reg, &vme->rip) < 0)
		vme->rip = 0;
}

/* Guest code ran: the halt probe starts counting again (vmm.c). */
static void vcpu_ran(struct vmm_vcpu *v)
{
	/* Written only when set: a store on every exit is not free. */
	if (atomic_load_explicit(&v->halted_probes, memory_order_relaxed))
		atomic_store(&v->halted_probes, 0);
}

/*
 * One KVM_RUN.  With `complete`, immediate_exit is set first, so KVM only
 * finishes the instruction of the last exit and enters no guest code.
 * Returns 0 with an exit in the run area, or -errno (-EINTR: a kick, or
 * the completion is done).
 */
static int vcpu_kvm_run(struct vmm_vcpu *v, bool complete)
{
	struct kvm_run *run = v->run;
	int r;

	if (complete) {
		__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	} else {
		/* The guest may run: an injected trap goes, KVM's lengths too. */
		v->int3_valid = false;
		v->trap_vector = -1;
	}
	if (v->tr_pending)
		vmm_trace_entry(v);
	/*
	 * The registers with every exit (rip for decode, logs and the
	 * debugger); the special registers only while tracing needs the
	 * CPL and the paging of each exit: KVM reads them field by field
	 * (on VMX, some 40 VMREADs), a cost on every exit, where the rest of
	 * vitro reads them with one ioctl when it needs them.
	 */
	if (v->sync_regs)
		run->kvm_valid_regs = KVM_SYNC_X86_REGS |
				      (vmm_tracing(v) ? KVM_SYNC_X86_SREGS : 0);
	atomic_store_explicit(&v->synced, 0, memory_order_release);
	r = ioctl(v->fd, KVM_RUN, 0) < 0 ? -errno : 0;
	if (r == 0 || r == -EINTR)
		atomic_store_explicit(&v->synced, (unsigned)run->kvm_valid_regs,
				      memory_order_release);
	/*
	 * Cleared only when set: a load, not a locked store, on every exit.
	 * A kicker that set it before this load is seen below; one after
	 * leaves it set, and the next KVM_RUN returns at once.
	 */
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST))
		__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	if (vmm_tracing(v))
		vmm_trace_exit(v, r, complete);
	vmm_stat_own_add(v, VMM_STAT_KVM_RUNS, 1);
	if (complete)
		vmm_stat_own_add(v, VMM_STAT_COMPLETIONS, 1);
	/* -EAGAIN ran nothing: what was pending still is. */
	if (r != -EAGAIN)
		atomic_store_explicit(
			&v->io_pending,
			r == 0 && (run->exit_reason == KVM_EXIT_IO ||
				   run->exit_reason == KVM_EXIT_MMIO ||
				   run->exit_reason == KVM_EXIT_X86_RDMSR ||
				   run->exit_reason == KVM_EXIT_X86_WRMSR),
			memory_order_release);
	return r;
}

/* An int3 exit: intercepted, or an emulation failure at an int3. */
static bool is_int3_exit(const struct vm_exit *vme)
{
	if (vme->exitcode == VM_EXITCODE_BPT)
		return true;
	return vme->exitcode == VM_EXITCODE_INST_EMUL &&
	       vme->u.inst_emul.inst_len > 0 &&
	       vme->u.inst_emul.inst[0] == INT3_OPCODE;
}

int vmm_run(struct vmm_vcpu *v, struct vm_exit *vme)
{
	int r = 0;

	if (!vme)
		return -EINVAL;
	/* The monitor is done with the last exit: its record is complete. */
	if (v->tr_pending)
		vmm_trace_entry(v);
	vcpu_run_enter(v);

	for (;;) {
		int sw = atomic_load(&v->vm->suspend);
		bool stop = sw != VM_SUSPEND_NONE || atomic_load(&v->debug);

		if (stop && atomic_load(&v->io_pending)) {
			/*
			 * Finish the last exit's instruction first (see the
			 * top of this file); a new exit it makes goes to the
			 * monitor, and the stop comes at the next VM_RUN.
			 */
			r = vcpu_kvm_run(v, true);
			if (r == -EINTR || r == -EAGAIN) {
				r = 0;
				continue;
			}
			if (r < 0)
				break;
			vcpu_ran(v);
			if (decode_exit(v, vme))
				break;
			continue;
		}
		if (sw != VM_SUSPEND_NONE) {
			atomic_store(&v->suspended, true);
			vme->exitcode = VM_EXITCODE_SUSPENDED;
			vcpu_rip(v, vme);
			vme->u.suspended.how = VMM_SUSPEND_HOW(sw);
			vme->u.suspended.cpuid = VMM_SUSPEND_CPU(sw);
			break;
		}
		if (stop) {
			vme->exitcode = VM_EXITCODE_DEBUG;
			vcpu_rip(v, vme);
			break;
		}
		if ((r = vcpu_apply_pending(v, vme)) < 0)
			break;
		if (r > 0) { /* DEBUG_REFUSED */
			r = 0;
			vcpu_rip(v, vme);
			break;
		}
		r = vcpu_kvm_run(v, false);
		if (r == -EINTR || r == -EAGAIN) {
			vmm_stat_own_add(v, VMM_STAT_EINTR, 1);
			r = 0;
			/* A kick: look at the reasons; else return. */
			if (atomic_load(&v->debug) ||
			    atomic_load(&v->vm->suspend))
				continue;
			if (atomic_exchange(&v->halt_probe, false)) {
				vcpu_halt_probe(v);
				continue;
			}
			vme->exitcode = VM_EXITCODE_BOGUS;
			vme->rip = 0;
			vme->inst_length = 0;
			break;
		}
		if (r < 0)
			break;
		vcpu_ran(v);
		if (decode_exit(v, vme))
			break;
	}
	if (r == 0 && is_int3_exit(vme)) {
		int reg = VM_REG_GUEST_RIP;

		v->int3_valid = vmm_get_regset(v, 1, &reg, &v->int3_rip) == 0;
	}
	if (r == 0) {
		vmm_stat_own_add(v, VMM_STAT_EXITS, 1);
		vmm_count_own(&v->exits[vme->exitcode], 1);
	}
	vcpu_run_leave(v);
	return r;
}

static int cap_supported(struct vmm_vcpu *v, enum vm_cap_type cap)
{
	struct vmm *vm = v->vm;

	switch (cap) {
	case VM_CAP_MTRAP_EXIT:
	case VM_CAP_BPT_EXIT:
		return vm->has_guest_debug;
	case VM_CAP_MASK_HWINTR:
		return vm->has_blockirq;
	default:
		return false;
	}
}

int vmm_get_capability(struct vmm_vcpu *v, struct vm_capability *cap)
{
	if ((unsigned)cap->captype >= VM_CAP_MAX)
		return -EINVAL;
	if (!cap_supported(v, cap->captype))
		return -ENOTSUP;
	pthread_mutex_lock(&v->lock);
	cap->capval = v->caps[cap->captype];
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vmm_set_capability(struct vmm_vcpu *v, struct vm_capability *cap)
{
	if ((unsigned)cap->captype >= VM_CAP_MAX)
		return -EINVAL;
	if (!cap_supported(v, cap->captype))
		return -ENOTSUP;
	pthread_mutex_lock(&v->lock);
	if (v->caps[cap->captype] != !!cap->capval) {
		v->caps[cap->captype] = !!cap->capval;
		v->debug_dirty = true;
		atomic_store(&v->pending, true);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vmm_set_hw_debug(struct vmm_vcpu *v, const struct vm_hw_debug *hw)
{
	if (!v->vm->has_guest_debug)
		return -ENOTSUP;
	/* What KVM would take only to fail VM entry with, refused now. */
	if (hw->enable > 1 || (hw->enable && (hw->dr7 & DR7_MUST_BE_0)))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->hw = *hw;
	v->hw.cpuid = v->id;
	memset(v->hw.pad, 0, sizeof(v->hw.pad));
	v->debug_dirty = true;
	atomic_store(&v->pending, true);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vmm_get_hw_debug(struct vmm_vcpu *v, struct vm_hw_debug *hw)
{
	if (!v->vm->has_guest_debug)
		return -ENOTSUP;
	pthread_mutex_lock(&v->lock);
	*hw = v->hw;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vmm_inject_nmi(struct vmm_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->nmi_pending = true;
	atomic_store(&v->pending, true);
	pthread_mutex_unlock(&v->lock);
	vmm_vcpu_kick(v);
	return 0;
}

/*
 * #DB's DR6 on a KVM without KVM_CAP_EXCEPTION_PAYLOAD: what KVM does on
 * delivery of a payload, done now.  B0-B3 name this #DB's cause; BD, BS
 * and BT accumulate; bit 12 reads as 0, the other reserved bits as 1.
 */
static int inject_dr6(struct vmm_vcpu *v, uint64_t bits)
{
	int reg = VM_REG_GUEST_DR6;
	uint64_t dr6;
	int r = vmm_get_regset(v, 1, &reg, &dr6);

	if (r < 0)
		return r;
	dr6 = ((dr6 & ~DR6_TRAP_BITS) | DR6_FIXED_1 | bits) & ~DR6_BIT12 &
	      0xffffffffULL;
	return vmm_set_regset(v, 1, &reg, &dr6);
}

/*
 * Where rip must be for the guest's handler of a #BP/#OF to see
 * rip + inst_length (vmm_probe.c says how this KVM pushes it).
 */
static int trap_rip(struct vmm_vcpu *v, const struct vm_exception *e,
		    uint64_t rip, uint64_t *out)
{
	uint64_t target = rip + e->inst_length;
	int mode = vmm_trap_mode(v->vm);

	if (mode < 0)
		return mode;
	if (mode == VMM_TRAP_PUSHES_RIP) {
		*out = target;
		return 0;
	}
	/*
	 * KVM adds a length it took from the last exit, which is the int3's
	 * only when that exit was the int3's (the kind of exit the probe
	 * re-injected after): then the guest sees int3 + 1, whether rip is
	 * still at the int3 or a caller moved it past.
	 */
	if (e->vector == IDT_BP && v->int3_valid && target == v->int3_rip + 1) {
		*out = v->int3_rip;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* The vCPU is stopped (vmm_dev.h), so its ioctls do not block. */
int vmm_inject_exception(struct vmm_vcpu *v, const struct vm_exception *e)
{
	int reg = VM_REG_GUEST_RIP;
	struct kvm_vcpu_events ev;
	uint64_t rip = 0, to = 0;
	bool has_ec, trap;
	int r;

	if (e->vector < 0 || e->vector >= 32 || e->vector == 2 ||
	    e->error_code_valid > 1)
		return -EINVAL;
	/* Exceptions that push an error code, and only those. */
	has_ec = e->vector == 8 || (e->vector >= 10 && e->vector <= 14) ||
		 e->vector == 17 || e->vector == 21;
	if (e->error_code_valid != has_ec)
		return -EINVAL;
	trap = e->vector == IDT_BP || e->vector == IDT_OF;
	if (e->inst_length > 15 || (e->inst_length && !trap))
		return -EINVAL;
	if (e->vector == IDT_DB && (e->payload & ~DR6_PAYLOAD_BITS))
		return -EINVAL;
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	if (ev.exception.injected || ev.exception.pending ||
	    v->trap_vector >= 0)
		return -EBUSY;
	if (trap) {
		if ((r = vmm_get_regset(v, 1, &reg, &rip)) < 0 ||
		    (r = trap_rip(v, e, rip, &to)) < 0)
			return r;
		if (to != rip && (r = vmm_set_regset(v, 1, &reg, &to)) < 0)
			return r;
	}
	if (e->vector == IDT_PF) {
		int cr2 = VM_REG_GUEST_CR2;

		if ((r = vmm_set_regset(v, 1, &cr2, &e->payload)) < 0)
			goto undo;
	}
	ev.exception.nr = e->vector;
	ev.exception.has_error_code = e->error_code_valid;
	ev.exception.error_code = e->error_code;
	ev.flags = 0;
	if (e->vector == IDT_DB && e->payload && v->vm->has_exception_payload) {
		/* KVM writes DR6 from the payload as it delivers the #DB. */
		ev.exception.injected = 0;
		ev.exception.pending = 1;
		ev.exception_has_payload = 1;
		ev.exception_payload = e->payload;
		ev.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	} else {
		if (e->vector == IDT_DB && e->payload &&
		    (r = inject_dr6(v, e->payload)) < 0)
			goto undo;
		ev.exception.injected = 1;
	}
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		r = -errno;
		goto undo;
	}
	if (trap)
		v->trap_vector = e->vector;
	return 0;
undo:
	if (trap && to != rip)
		(void)vmm_set_regset(v, 1, &reg, &rip);
	return r;
}

/* The vCPU is stopped (vmm_dev.h), so KVM_GET_MP_STATE does not block. */
int vmm_get_run_state(struct vmm_vcpu *v, struct vm_run_state *rs)
{
	struct kvm_mp_state mp;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return -errno;
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		rs->state = VRS_RUN;
		break;
	case KVM_MP_STATE_HALTED:
		rs->state = VRS_HALT;
		break;
	case KVM_MP_STATE_UNINITIALIZED:
		rs->state = VRS_INIT;
		break;
	case KVM_MP_STATE_INIT_RECEIVED:
		rs->state = VRS_SIPI;
		break;
	default:
		rs->state = VRS_OTHER;
		break;
	}
	return 0;
}
