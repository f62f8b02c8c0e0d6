/*
 * debug.c: the monitor's debugger (see debug.h): all-stop parking of vCPU
 * threads, breakpoints, watchpoints by page protection, and the gdb target
 * operations over libvmmapi.
 *
 * Locking: d->lock guards everything in struct vitro_debug; d->cond is
 * signalled when a vCPU parks or unparks and when holds are lifted.  The
 * breakpoint and watchpoint lists change only while every vCPU is parked
 * (the stub's rule), and vCPU threads read them under d->lock.  The
 * libvmmapi calls made under d->lock never wait for a vCPU (a kick does
 * not wait), so holding it around them cannot deadlock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/debug.h"
#include "monitor/vitro.h"

#define MAX_SWBP 1024
#define MAX_WATCH 256
#define NDR 4
#define INT3 0xcc
#define BP_VECTOR 3

/* A software breakpoint: an int3 planted in guest memory. */
struct swbp {
	uint64_t addr; /* linear, as gdb gave it */
	uint64_t gpa;
	uint8_t orig; /* the byte under the int3 */
};

/* A debug-register breakpoint (Z1, or Z0 without int3). */
struct drbp {
	bool used;
	bool soft; /* gdb asked for a software breakpoint */
	uint64_t addr;
};

/* A watchpoint: a linear range, and the physical pieces it maps to. */
struct watch {
	enum gdb_bp_type type;
	uint64_t addr;
	uint64_t len;
	int npieces;
	struct {
		uint64_t gpa;
		uint64_t len;
		uint64_t addr; /* the linear address of gpa */
	} piece[2];
};

struct dbg_cpu {
	bool parked; /* its thread waits in dbg_vcpu_park */
	bool hold; /* it must stay parked */
	bool exited; /* its thread is gone */
	uint8_t action; /* enum gdb_resume_kind, for the next unpark */
	bool stepping; /* MTRAP armed by us */
	bool pg_valid; /* pg holds its paging since it stopped */
	struct vm_guest_paging pg; /* control thread only */
};

struct vitro_debug {
	struct vitro *vm;
	enum dbg_bp_mode mode;
	bool user_step; /* single-step is safe at CPL 3 in long mode */
	struct gdb_events *events;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool released; /* the VM is ending: never park */
	unsigned step_flags; /* GDB_SSTEP_* of the last resume */
	struct dbg_cpu *cpu; /* vm->ncpus of them */
	struct swbp *swbp;
	int nswbp;
	struct drbp dr[NDR];
	struct watch *watch;
	int nwatch;
};

const char *dbg_bp_mode_name(enum dbg_bp_mode mode)
{
	switch (mode) {
	case DBG_BP_INT3_EXIT:
		return "int3 exits";
	case DBG_BP_INT3_EMUL:
		return "int3 emulation failures";
	case DBG_BP_DEBUGREG:
		return "debug registers";
	}
	return "?";
}

/* A scratch VM with one vCPU and 2 MiB of memory, for a probe. */
static int probe_vm(const char *what, struct vmctx **ctxp, struct vcpu **vcp)
{
	char name[64];
	struct vmctx *ctx;
	struct vcpu *vc;
	int r;

	snprintf(name, sizeof(name), "vitro-probe-%s-%d", what, (int)getpid());
	if (!(ctx = vm_create(name)))
		return -errno;
	r = vm_setup_memory(ctx, 2 << 20);
	if (r == 0 && !(vc = vm_vcpu_open(ctx, 0)))
		r = -errno;
	if (r == 0 && (r = vm_activate_cpu(vc)) < 0)
		vm_vcpu_close(vc);
	if (r < 0) {
		vm_destroy(ctx);
		return r;
	}
	*ctxp = ctx;
	*vcp = vc;
	return 0;
}

static void probe_vm_destroy(struct vmctx *ctx, struct vcpu *vc)
{
	vm_vcpu_close(vc);
	vm_destroy(ctx);
}

/*
 * An int3 at CPL 0 in flat 32-bit protected mode (as kernel code runs; a
 * software KVM emulates it, and emulates real mode's int3 through the IVT
 * instead of failing), with an empty IDT so that an int3 nobody intercepts
 * triple-faults at once: how does it come back?
 */
static int probe_int3(enum dbg_bp_mode *mode)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	VM_REG_GUEST_RIP,
		VM_REG_GUEST_RFLAGS,	VM_REG_GUEST_CS,
		VM_REG_GUEST_CS_BASE,	VM_REG_GUEST_CS_LIMIT,
		VM_REG_GUEST_CS_ACCESS, VM_REG_GUEST_SS,
		VM_REG_GUEST_SS_BASE,	VM_REG_GUEST_SS_LIMIT,
		VM_REG_GUEST_SS_ACCESS, VM_REG_GUEST_DS_ACCESS,
		VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT,
	};
	const uint64_t vals[] = {
		0x11, 0x1000, 0x2,	  0x8,	  0,	  0xffffffff, 0xc09b,
		0x10, 0,      0xffffffff, 0xc093, 0xc093, 0,	      0,
	};
	struct vmctx *ctx;
	struct vcpu *vc;
	struct vm_exit vme;
	uint8_t *mem;
	int r;

	if ((r = probe_vm("int3", &ctx, &vc)) < 0)
		return r;
	r = vm_set_register_set(vc, sizeof(regs) / sizeof(regs[0]), regs, vals);
	if (r == 0 && !(mem = vm_map_gpa(ctx, 0x1000, 16)))
		r = -EFAULT;
	if (r == 0) {
		mem[0] = INT3;
		mem[1] = 0xf4; /* hlt, should int3 fall through */
		*mode = DBG_BP_DEBUGREG;
		if (vm_set_capability(vc, VM_CAP_BPT_EXIT, 1) == 0 &&
		    vm_run(vc, &vme) == 0) {
			if (vme.exitcode == VM_EXITCODE_BPT)
				*mode = DBG_BP_INT3_EXIT;
			else if (vme.exitcode == VM_EXITCODE_INST_EMUL &&
				 vme.u.inst_emul.inst_len > 0 &&
				 vme.u.inst_emul.inst[0] == INT3)
				*mode = DBG_BP_INT3_EMUL;
		}
	}
	probe_vm_destroy(ctx, vc);
	return r;
}

/*
 * One single-step at CPL 3 in long mode, on an identity-mapped user page:
 * a step exit, or (on a KVM that runs user code natively and cannot step
 * it) the VM shut down.
 */
static int probe_user_step(bool *ok)
{
	static const int regs[] = {
		VM_REG_GUEST_CR0,	 VM_REG_GUEST_CR3,
		VM_REG_GUEST_CR4,	 VM_REG_GUEST_EFER,
		VM_REG_GUEST_RIP,	 VM_REG_GUEST_RSP,
		VM_REG_GUEST_RFLAGS,	 VM_REG_GUEST_CS,
		VM_REG_GUEST_CS_BASE,	 VM_REG_GUEST_CS_LIMIT,
		VM_REG_GUEST_CS_ACCESS,	 VM_REG_GUEST_SS,
		VM_REG_GUEST_SS_BASE,	 VM_REG_GUEST_SS_LIMIT,
		VM_REG_GUEST_SS_ACCESS,	 VM_REG_GUEST_DS_ACCESS,
		VM_REG_GUEST_IDTR_LIMIT,
	};
	const uint64_t vals[] = {
		0x80010031, 0x2000,	0x20,	0x500,	    0x1000, 0x1ff000,
		0x2,	    0x1b,	0,	0xffffffff, 0xa0fb, 0x23,
		0,	    0xffffffff, 0xc0f3, 0xc0f3,	    0,
	};
	/* inc %rax; inc %rax; jmp . */
	static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0x48,
					0xff, 0xc0, 0xeb, 0xfe };
	struct vmctx *ctx;
	struct vcpu *vc;
	struct vm_exit vme;
	uint64_t *pt;
	uint8_t *mem;
	int r;

	if ((r = probe_vm("step", &ctx, &vc)) < 0)
		return r;
	if (!(mem = vm_map_gpa(ctx, 0, 0x5000))) {
		probe_vm_destroy(ctx, vc);
		return -EFAULT;
	}
	memcpy(mem + 0x1000, code, sizeof(code));
	pt = (uint64_t *)(mem + 0x2000);
	pt[0] = 0x3000 | 7; /* PML4: present, writable, user */
	pt[512] = 0x4000 | 7; /* PDPT */
	pt[1024] = 0x80 | 7; /* PD: a 2 MiB user page at 0 */
	r = vm_set_register_set(vc, sizeof(regs) / sizeof(regs[0]), regs, vals);
	if (r == 0)
		r = vm_set_capability(vc, VM_CAP_MTRAP_EXIT, 1);
	*ok = r == 0 && vm_run(vc, &vme) == 0 &&
	      vme.exitcode == VM_EXITCODE_MTRAP;
	probe_vm_destroy(ctx, vc);
	return 0;
}

int dbg_probe_host(struct dbg_host *host)
{
	int r;

	host->user_step = false;
	if ((r = probe_int3(&host->bp_mode)) < 0)
		return r;
	return probe_user_step(&host->user_step);
}

static struct vcpu *vcpu_of(struct vitro_debug *d, int id)
{
	if (id < 0 || (unsigned)id >= d->vm->ncpus)
		return NULL;
	return d->vm->vcpu[id].vcpu;
}

struct vitro_debug *dbg_create(struct vitro *vm, const struct dbg_host *host,
			       struct gdb_events *events, bool hold)
{
	struct vitro_debug *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cpu = calloc(vm->ncpus, sizeof(*d->cpu));
	d->swbp = calloc(MAX_SWBP, sizeof(*d->swbp));
	d->watch = calloc(MAX_WATCH, sizeof(*d->watch));
	if (!d->cpu || !d->swbp || !d->watch) {
		dbg_destroy(d);
		errno = ENOMEM;
		return NULL;
	}
	d->vm = vm;
	d->mode = host->bp_mode;
	d->user_step = host->user_step;
	d->events = events;
	d->step_flags = GDB_SSTEP_ENABLE | GDB_SSTEP_NOIRQ;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (hold) {
		for (unsigned i = 0; i < vm->ncpus; i++)
			d->cpu[i].hold = true;
		vm_suspend_all_cpus(vm->ctx);
	}
	return d;
}

void dbg_destroy(struct vitro_debug *d)
{
	if (!d)
		return;
	if (d->cpu) {
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->cond);
	}
	free(d->cpu);
	free(d->swbp);
	free(d->watch);
	free(d);
}

void dbg_release(struct vitro_debug *d)
{
	pthread_mutex_lock(&d->lock);
	d->released = true;
	for (unsigned i = 0; i < d->vm->ncpus; i++)
		d->cpu[i].hold = false;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Stepping. */

static void step_arm(struct vitro_debug *d, struct vitro_vcpu *vc,
		     unsigned flags)
{
	vm_set_capability(vc->vcpu, VM_CAP_MTRAP_EXIT, 1);
	if (flags & GDB_SSTEP_NOIRQ)
		vm_set_capability(vc->vcpu, VM_CAP_MASK_HWINTR, 1);
	d->cpu[vc->id].stepping = true;
}

static void step_disarm(struct vitro_debug *d, struct vitro_vcpu *vc)
{
	vm_set_capability(vc->vcpu, VM_CAP_MTRAP_EXIT, 0);
	vm_set_capability(vc->vcpu, VM_CAP_MASK_HWINTR, 0);
	d->cpu[vc->id].stepping = false;
}

/* Parking. */

/*
 * The vCPU stopped by itself: stop the others and report.  Returns false
 * when the VM is ending and there is no one to report to.
 */
static bool stop_report(struct vitro_debug *d, struct vitro_vcpu *vc,
			enum gdb_stop_reason reason, uint64_t addr)
{
	pthread_mutex_lock(&d->lock);
	if (d->released) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	for (unsigned i = 0; i < d->vm->ncpus; i++)
		d->cpu[i].hold = true;
	/* Parked before the report: stop_all then finds it so at once. */
	d->cpu[vc->id].parked = true;
	pthread_mutex_unlock(&d->lock);
	vm_suspend_all_cpus(d->vm->ctx);
	gdb_events_stop(d->events, vc->id, reason, addr);
	return true;
}

/*
 * A step of hlt is done here rather than by KVM: a KVM that emulates the
 * hlt under single-step can apply the halt late, after the next
 * instruction, and leave the vCPU halted with interrupts off (seen on
 * this project's software KVM), and on any KVM a step of hlt with
 * interrupts masked would wait forever.  Leaving the hlt at once is what
 * a spurious wake-up does, which guests tolerate.
 */
static bool step_over_hlt(struct vcpu *v)
{
	static const int regs[] = { VM_REG_GUEST_CS_BASE, VM_REG_GUEST_RIP };
	uint64_t val[2];
	uint8_t insn;

	if (vm_get_register_set(v, 2, regs, val) < 0 ||
	    vm_copyin(v, val[0] + val[1], &insn, 1) != 1 || insn != 0xf4)
		return false;
	return vm_set_register(v, VM_REG_GUEST_RIP, val[1] + 1) == 0;
}

void dbg_vcpu_park(struct vitro_debug *d, struct vitro_vcpu *vc)
{
	struct dbg_cpu *c = &d->cpu[vc->id];
	bool released;
	uint8_t action;
	unsigned flags;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		c->parked = true;
		pthread_cond_broadcast(&d->cond);
		while (c->hold && !d->released)
			pthread_cond_wait(&d->cond, &d->lock);
		c->parked = false;
		action = c->action;
		c->action = GDB_RESUME_CONT;
		flags = d->step_flags;
		released = d->released;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		if (action != GDB_RESUME_STEP || released ||
		    !step_over_hlt(vc->vcpu) ||
		    !stop_report(d, vc, GDB_STOP_STEP, 0))
			break;
	}
	/* Single-stepping stays armed from one step to the next. */
	if (action == GDB_RESUME_STEP && !released)
		step_arm(d, vc, flags);
	else if (c->stepping)
		step_disarm(d, vc); /* stepping ended, or was interrupted */
}

void dbg_vcpu_exited(struct vitro_debug *d, struct vitro_vcpu *vc)
{
	pthread_mutex_lock(&d->lock);
	d->cpu[vc->id].exited = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* This vCPU stopped by itself: stop the others, report, park. */
static void stop_self(struct vitro_debug *d, struct vitro_vcpu *vc,
		      enum gdb_stop_reason reason, uint64_t addr)
{
	if (stop_report(d, vc, reason, addr))
		dbg_vcpu_park(d, vc);
	else if (d->cpu[vc->id].stepping)
		step_disarm(d, vc);
}

static int op_stop_all(void *opaque)
{
	struct vitro_debug *d = opaque;
	int r;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->vm->ncpus; i++)
		d->cpu[i].hold = true;
	pthread_mutex_unlock(&d->lock);
	if ((r = vm_suspend_all_cpus(d->vm->ctx)) < 0)
		return r;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		bool all = true;

		for (unsigned i = 0; i < d->vm->ncpus; i++) {
			const struct dbg_cpu *c = &d->cpu[i];

			if (!c->parked && !c->exited && d->vm->vcpu[i].started)
				all = false;
		}
		if (all || d->released)
			break;
		pthread_cond_wait(&d->cond, &d->lock);
	}
	r = d->released ? -ESHUTDOWN : 0;
	pthread_mutex_unlock(&d->lock);
	return r;
}

/*
 * A step at CPL 3 in long mode, where the KVM cannot step user code:
 * refused before anything runs, with a message, rather than letting KVM
 * shut the guest down.
 */
static int user_step_refused(struct vitro_debug *d, int vcpu)
{
	static const int regs[] = { VM_REG_GUEST_EFER, VM_REG_GUEST_SS_ACCESS };
	uint64_t v[2];

	if (d->user_step ||
	    vm_get_register_set(d->vm->vcpu[vcpu].vcpu, 2, regs, v) < 0 ||
	    !(v[0] & (1 << 10)) || VM_SEG_ACCESS_DPL(v[1]) != 3)
		return 0;
	vitro_log("gdb: cannot single-step vCPU %d in user mode (CPL 3): "
		  "this host's KVM shuts the guest down when asked to; set a "
		  "breakpoint in kernel code and continue instead",
		  vcpu);
	return -EPERM;
}

static int op_resume(void *opaque, const struct gdb_resume_action *act,
		     unsigned int step_flags)
{
	struct vitro_debug *d = opaque;

	for (unsigned i = 0; i < d->vm->ncpus; i++) {
		int r;

		if (act[i].kind == GDB_RESUME_STEP &&
		    (r = user_step_refused(d, i)) < 0)
			return r;
	}

	pthread_mutex_lock(&d->lock);
	d->step_flags = step_flags;
	for (unsigned i = 0; i < d->vm->ncpus; i++) {
		struct dbg_cpu *c = &d->cpu[i];

		if (act[i].kind == GDB_RESUME_STOP)
			continue;
		c->action = act[i].kind;
		c->hold = false;
		c->pg_valid = false;
		vm_resume_cpu(d->vm->vcpu[i].vcpu);
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static unsigned op_step_flags(void *opaque)
{
	struct vitro_debug *d = opaque;
	int v;

	if (vm_get_capability(d->vm->vcpu[0].vcpu, VM_CAP_MASK_HWINTR, &v) == 0)
		return GDB_SSTEP_ENABLE | GDB_SSTEP_NOIRQ;
	return GDB_SSTEP_ENABLE;
}

/* What a vCPU thread sees. */

static int swbp_find(struct vitro_debug *d, uint64_t addr)
{
	for (int i = 0; i < d->nswbp; i++) {
		if (d->swbp[i].addr == addr)
			return i;
	}
	return -1;
}

/* The linear address of rip: CS base + rip. */
static uint64_t linear_pc(struct vcpu *vcpu, uint64_t rip)
{
	uint64_t base = 0;

	vm_get_register(vcpu, VM_REG_GUEST_CS_BASE, &base);
	return base + rip;
}

bool dbg_deliver_guest_int3(struct vcpu *vcpu, const struct vm_exit *vme)
{
	uint64_t rip;

	if (vme->exitcode == VM_EXITCODE_INST_EMUL &&
	    (vme->u.inst_emul.inst_len == 0 ||
	     vme->u.inst_emul.inst[0] != INT3))
		return false;
	if (vme->exitcode != VM_EXITCODE_INST_EMUL &&
	    vme->exitcode != VM_EXITCODE_BPT)
		return false;
	/* #BP is a trap: it is delivered with rip past the int3. */
	if (vm_get_register(vcpu, VM_REG_GUEST_RIP, &rip) < 0 ||
	    vm_set_register(vcpu, VM_REG_GUEST_RIP, rip + 1) < 0)
		return false;
	return vm_inject_exception(vcpu, BP_VECTOR, false, 0, 0) == 0;
}

bool dbg_vcpu_exit(struct vitro_debug *d, struct vitro_vcpu *vc,
		   const struct vm_exit *vme)
{
	uint64_t pc;
	int i;

	switch (vme->exitcode) {
	case VM_EXITCODE_MTRAP:
		stop_self(d, vc, GDB_STOP_STEP, 0);
		return true;
	case VM_EXITCODE_HWBP:
		pc = linear_pc(vc->vcpu, vme->rip);
		for (i = 0; i < NDR; i++) {
			if ((vme->u.hwbp.dr6 & (1u << i)) && d->dr[i].used)
				break;
		}
		if (i == NDR)
			return false;
		stop_self(d, vc,
			  d->dr[i].soft ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK,
			  d->dr[i].addr);
		return true;
	case VM_EXITCODE_BPT:
	case VM_EXITCODE_INST_EMUL:
		if (vme->exitcode == VM_EXITCODE_INST_EMUL &&
		    (vme->u.inst_emul.inst_len == 0 ||
		     vme->u.inst_emul.inst[0] != INT3))
			return false;
		pc = linear_pc(vc->vcpu, vme->rip);
		pthread_mutex_lock(&d->lock);
		i = swbp_find(d, pc);
		pthread_mutex_unlock(&d->lock);
		if (i < 0)
			return dbg_deliver_guest_int3(vc->vcpu, vme);
		stop_self(d, vc, GDB_STOP_SWBREAK, pc);
		return true;
	default:
		return false;
	}
}

bool dbg_vcpu_memory_access(struct vitro_debug *d, struct vitro_vcpu *vc,
			    const struct vm_exit *vme)
{
	uint64_t gpa = vme->u.mmio.gpa;
	unsigned n = vme->u.mmio.bytes;
	bool write = vme->u.mmio.write;
	enum gdb_stop_reason reason = GDB_STOP_SIGNAL;
	uint64_t hit = 0;
	uint8_t *p = vm_map_gpa(d->vm->ctx, gpa, n);

	if (!p)
		return false;
	if (write)
		memcpy(p, vme->u.mmio.data, n);
	else
		memcpy(vme->u.mmio.data, p, n);
	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < d->nwatch && reason == GDB_STOP_SIGNAL; i++) {
		const struct watch *w = &d->watch[i];

		if ((w->type == GDB_WP_WRITE && !write) ||
		    (w->type == GDB_WP_READ && write))
			continue;
		for (int j = 0; j < w->npieces; j++) {
			uint64_t a = w->piece[j].gpa, l = w->piece[j].len;

			if (gpa < a + l && a < gpa + n) {
				hit = w->piece[j].addr +
				      (gpa > a ? gpa - a : 0);
				reason = w->type == GDB_WP_WRITE ?
						 GDB_STOP_WATCH :
					 w->type == GDB_WP_READ ?
						 GDB_STOP_RWATCH :
						 GDB_STOP_AWATCH;
				break;
			}
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (reason != GDB_STOP_SIGNAL)
		stop_self(d, vc, reason, hit);
	return true;
}

/* Target operations: threads, registers, memory. */

static int op_cpus(void *opaque, struct vm_cpuset *cpus)
{
	struct vitro_debug *d = opaque;

	return vm_active_cpus(d->vm->ctx, cpus);
}

static int op_cpu_describe(void *opaque, int vcpu, char *buf, size_t len)
{
	static const int regs[] = { VM_REG_GUEST_CR0, VM_REG_GUEST_EFER,
				    VM_REG_GUEST_CS_ACCESS,
				    VM_REG_GUEST_SS_ACCESS };
	struct vitro_debug *d = opaque;
	struct vcpu *v = vcpu_of(d, vcpu);
	enum vm_runstate rs = VRS_RUN;
	const char *mode, *run = "";
	uint64_t val[4];
	int r;

	if (!v)
		return -ENOENT;
	if ((r = vm_get_register_set(v, 4, regs, val)) < 0)
		return r;
	if (vm_get_run_state(v, &rs) == 0 && rs == VRS_INIT)
		run = ", waiting for INIT";
	else if (rs == VRS_SIPI)
		run = ", waiting for SIPI";
	else if (rs == VRS_HALT)
		run = ", halted";
	if (!(val[0] & 1))
		mode = "real mode";
	else if (val[1] & (1 << 10)) /* EFER.LMA */
		mode = val[2] & VM_SEG_ACCESS_L ? "long mode" :
						  "compatibility mode";
	else
		mode = "protected mode";
	snprintf(buf, len, "vCPU %d%s, %s, CPL %d", vcpu, run, mode,
		 (val[0] & 1) ? (int)VM_SEG_ACCESS_DPL(val[3]) : 0);
	return 0;
}

static int op_regs_get(void *opaque, int vcpu, unsigned int count,
		       const int *regnums, uint64_t *vals)
{
	struct vcpu *v = vcpu_of(opaque, vcpu);

	return v ? vm_get_register_set(v, count, regnums, vals) : -ENOENT;
}

static int op_regs_set(void *opaque, int vcpu, unsigned int count,
		       const int *regnums, const uint64_t *vals)
{
	struct vitro_debug *d = opaque;
	struct vcpu *v = vcpu_of(d, vcpu);

	if (!v)
		return -ENOENT;
	d->cpu[vcpu].pg_valid = false;
	return vm_set_register_set(v, count, regnums, vals);
}

/* Physical memory, page by page, up to the first byte that is not RAM. */
static ssize_t phys_copy(struct vitro_debug *d, uint64_t gpa, void *buf,
			 size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = gpa + done;
		size_t n = 4096 - (a & 4095);
		uint8_t *p;

		if (n > len - done)
			n = len - done;
		if (!(p = vm_map_gpa(d->vm->ctx, a, n)))
			break;
		if (write)
			memcpy(p, (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, p, n);
		done += n;
	}
	return done ? (ssize_t)done : -EFAULT;
}

/* The vCPU's paging, read once per stop (control thread). */
static const struct vm_guest_paging *paging_of(struct vitro_debug *d, int vcpu)
{
	struct dbg_cpu *c = &d->cpu[vcpu];

	if (!c->pg_valid && vm_get_guest_paging(vcpu_of(d, vcpu), &c->pg) < 0)
		return NULL;
	c->pg_valid = true;
	return &c->pg;
}

static ssize_t op_mem_read(void *opaque, int vcpu, uint64_t addr, void *buf,
			   size_t len, unsigned int flags)
{
	struct vitro_debug *d = opaque;

	const struct vm_guest_paging *pg;

	if (flags & GDB_MEM_PHYS)
		return phys_copy(d, addr, buf, len, false);
	if (!vcpu_of(d, vcpu))
		return -ENOENT;
	if (!(pg = paging_of(d, vcpu)))
		return -EIO;
	return vm_copyin_paging(vcpu_of(d, vcpu), pg, addr, buf, len);
}

static ssize_t op_mem_write(void *opaque, int vcpu, uint64_t addr,
			    const void *buf, size_t len, unsigned int flags)
{
	struct vitro_debug *d = opaque;
	const struct vm_guest_paging *pg;

	if (flags & GDB_MEM_PHYS)
		return phys_copy(d, addr, (void *)buf, len, true);
	if (!vcpu_of(d, vcpu))
		return -ENOENT;
	if (!(pg = paging_of(d, vcpu)))
		return -EIO;
	return vm_copyout_paging(vcpu_of(d, vcpu), pg, buf, addr, len);
}

/* Breakpoints. */

/* A linear address as the first vCPU's paging maps it (kernel mappings
 * are the same on every vCPU). */
static int translate(struct vitro_debug *d, uint64_t addr, int prot,
		     uint64_t *gpa)
{
	int fault, r;

	r = vm_gla2gpa_nofault(d->vm->vcpu[0].vcpu, NULL, addr, prot, gpa,
			       &fault);
	if (r < 0)
		return r;
	return fault ? -EFAULT : 0;
}

/* Load the debug registers into every vCPU. */
static int dr_apply(struct vitro_debug *d)
{
	uint64_t dr[NDR] = { 0 }, dr7 = 0;
	bool any = false;
	int r = 0;

	for (int i = 0; i < NDR; i++) {
		if (!d->dr[i].used)
			continue;
		dr[i] = d->dr[i].addr;
		dr7 |= 2ULL << (2 * i); /* G(i); R/W and LEN 0: execution */
		any = true;
	}
	for (unsigned i = 0; i < d->vm->ncpus && r == 0; i++)
		r = vm_set_hw_debug(d->vm->vcpu[i].vcpu, any, dr, dr7);
	return r;
}

static int dr_insert(struct vitro_debug *d, uint64_t addr, bool soft)
{
	for (int i = 0; i < NDR; i++) {
		if (!d->dr[i].used) {
			d->dr[i] = (struct drbp){ true, soft, addr };
			return dr_apply(d);
		}
	}
	return -ENOSPC;
}

static int dr_remove(struct vitro_debug *d, uint64_t addr, bool soft)
{
	for (int i = 0; i < NDR; i++) {
		if (d->dr[i].used && d->dr[i].addr == addr &&
		    d->dr[i].soft == soft) {
			d->dr[i].used = false;
			return dr_apply(d);
		}
	}
	return -ENOENT;
}

static int swbp_insert(struct vitro_debug *d, uint64_t addr)
{
	uint64_t gpa;
	uint8_t *p;
	int r;

	if (d->nswbp == MAX_SWBP)
		return -ENOSPC;
	if ((r = translate(d, addr, VM_PROT_EXEC, &gpa)) < 0)
		return r;
	if (!(p = vm_map_gpa(d->vm->ctx, gpa, 1)))
		return -EFAULT;
	d->swbp[d->nswbp++] = (struct swbp){ addr, gpa, *p };
	*p = INT3;
	/* int3 traps on KVM only when asked to; the emulator needs no ask. */
	if (d->mode == DBG_BP_INT3_EXIT && d->nswbp == 1) {
		for (unsigned i = 0; i < d->vm->ncpus; i++)
			vm_set_capability(d->vm->vcpu[i].vcpu, VM_CAP_BPT_EXIT,
					  1);
	}
	return 0;
}

static int swbp_remove(struct vitro_debug *d, uint64_t addr)
{
	int i = swbp_find(d, addr);
	uint8_t *p;

	if (i < 0)
		return -ENOENT;
	p = vm_map_gpa(d->vm->ctx, d->swbp[i].gpa, 1);
	if (p && *p == INT3)
		*p = d->swbp[i].orig;
	d->swbp[i] = d->swbp[--d->nswbp];
	if (d->mode == DBG_BP_INT3_EXIT && d->nswbp == 0) {
		for (unsigned j = 0; j < d->vm->ncpus; j++)
			vm_set_capability(d->vm->vcpu[j].vcpu, VM_CAP_BPT_EXIT,
					  0);
	}
	return 0;
}

/* Watchpoints. */

/* Protect the pages of [gpa, gpa+len) as the watchpoints on them need. */
static int watch_reprotect(struct vitro_debug *d, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa & ~4095ULL, last = (gpa + len - 1) & ~4095ULL;
	int r = 0;

	for (uint64_t pg = first; pg <= last && r == 0; pg += 4096) {
		int prot = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC;

		for (int i = 0; i < d->nwatch; i++) {
			const struct watch *w = &d->watch[i];

			for (int j = 0; j < w->npieces; j++) {
				uint64_t a = w->piece[j].gpa;

				if (a >= pg + 4096 || a + w->piece[j].len <= pg)
					continue;
				if (w->type == GDB_WP_WRITE)
					prot &= ~VM_PROT_WRITE;
				else
					prot = 0;
			}
		}
		r = vm_protect_gpa(d->vm->ctx, pg, 4096, prot);
	}
	return r;
}

/* Whether linear [a, a+len) as vcpu's paging maps it touches page pg. */
static bool range_on_page(struct vcpu *v, uint64_t a, uint64_t len, uint64_t pg)
{
	for (uint64_t off = 0; off < len; off += 4096) {
		uint64_t gpa;
		int fault;

		if (vm_gla2gpa_nofault(v, NULL, (a & ~4095ULL) + off,
				       VM_PROT_READ, &gpa, &fault) == 0 &&
		    !fault && (gpa & ~4095ULL) == pg)
			return true;
	}
	return false;
}

/*
 * A read or access watchpoint makes its page inaccessible: the guest's own
 * accesses exit and vitro performs them, but the CPU's accesses while it
 * delivers an interrupt or walks page tables, and instruction fetches,
 * cannot be performed for it, and the guest would fault.  Refuse a page
 * that holds a vCPU's GDT, IDT, TSS or current code, or a page table
 * translating the watched address; -EPERM, with a log line saying why.
 */
static int page_is_cpus_own(struct vitro_debug *d, uint64_t addr, uint64_t gpa)
{
	static const int regs[] = {
		VM_REG_GUEST_GDTR_BASE, VM_REG_GUEST_GDTR_LIMIT,
		VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT,
		VM_REG_GUEST_TR_BASE,	VM_REG_GUEST_TR_LIMIT,
		VM_REG_GUEST_CS_BASE,	VM_REG_GUEST_RIP,
	};
	static const char *const what[] = { "GDT", "IDT", "TSS", "code" };
	uint64_t pg = gpa & ~4095ULL;
	struct vm_gla2gpa w = { .use_current = true,
				.gla = addr,
				.prot = VM_PROT_READ };

	for (unsigned i = 0; i < d->vm->ncpus; i++) {
		struct vcpu *v = d->vm->vcpu[i].vcpu;
		uint64_t r[8];

		if (vm_get_register_set(v, 8, regs, r) < 0)
			continue;
		for (int k = 0; k < 4; k++) {
			uint64_t base = r[2 * k], len = r[2 * k + 1] + 1;

			if (k == 3) {
				base += r[7];
				len = 16; /* an instruction, at most */
			}
			if (!range_on_page(v, base, len, pg))
				continue;
			vitro_log("gdb: no read watchpoint at %#llx: its page "
				  "holds vCPU %u's %s, which the CPU must "
				  "read itself",
				  (unsigned long long)addr, i, what[k]);
			return -EPERM;
		}
	}
	/* The tables translating addr: the first from CR3, then each entry. */
	if (vm_gla2gpa_walk(d->vm->vcpu[0].vcpu, &w, true) == 0) {
		uint64_t cr3 = 0;

		vm_get_register(d->vm->vcpu[0].vcpu, VM_REG_GUEST_CR3, &cr3);
		for (int l = 0; l < w.levels; l++) {
			uint64_t table =
				l ? w.pte[l - 1] & 0x000ffffffffff000ULL :
				    cr3 & ~4095ULL;

			if (table == pg) {
				vitro_log("gdb: no read watchpoint at %#llx: "
					  "its page holds a page table the "
					  "CPU walks to reach it",
					  (unsigned long long)addr);
				return -EPERM;
			}
		}
	}
	return 0;
}

static int watch_insert(struct vitro_debug *d, enum gdb_bp_type type,
			uint64_t addr, uint64_t len)
{
	struct watch w = { .type = type, .addr = addr, .len = len };
	uint64_t done = 0;
	int r;

	if (len == 0 || len > 4096 || addr + len < addr)
		return -EINVAL;
	if (d->nwatch == MAX_WATCH)
		return -ENOSPC;
	/* A range within two pages: each may map anywhere. */
	while (done < len) {
		uint64_t a = addr + done, gpa;
		uint64_t n = 4096 - (a & 4095);

		if (n > len - done)
			n = len - done;
		if ((r = translate(d, a, VM_PROT_READ, &gpa)) < 0)
			return r;
		if (!vm_map_gpa(d->vm->ctx, gpa, n))
			return -EINVAL; /* not memory: nothing to protect */
		w.piece[w.npieces++] = (typeof(w.piece[0])){ gpa, n, a };
		done += n;
	}
	if (type != GDB_WP_WRITE) {
		for (int j = 0; j < w.npieces; j++) {
			if ((r = page_is_cpus_own(d, w.piece[j].addr,
						  w.piece[j].gpa)) < 0)
				return r;
		}
	}
	d->watch[d->nwatch++] = w;
	for (int j = 0; j < w.npieces; j++) {
		if ((r = watch_reprotect(d, w.piece[j].gpa, w.piece[j].len))) {
			/* Refused: leave the pages as they were. */
			d->nwatch--;
			for (int k = 0; k <= j; k++)
				watch_reprotect(d, w.piece[k].gpa,
						w.piece[k].len);
			return r;
		}
	}
	return 0;
}

static int watch_remove(struct vitro_debug *d, enum gdb_bp_type type,
			uint64_t addr, uint64_t len)
{
	for (int i = 0; i < d->nwatch; i++) {
		struct watch w = d->watch[i];

		if (w.type != type || w.addr != addr || w.len != len)
			continue;
		d->watch[i] = d->watch[--d->nwatch];
		for (int j = 0; j < w.npieces; j++)
			watch_reprotect(d, w.piece[j].gpa, w.piece[j].len);
		return 0;
	}
	return -ENOENT;
}

/* Insert or remove, by kind; d->lock held. */
static int bp_change(struct vitro_debug *d, bool insert, enum gdb_bp_type type,
		     uint64_t addr, uint64_t len)
{
	switch (type) {
	case GDB_BP_SW:
		if (d->mode == DBG_BP_DEBUGREG)
			return insert ? dr_insert(d, addr, true) :
					dr_remove(d, addr, true);
		return insert ? swbp_insert(d, addr) : swbp_remove(d, addr);
	case GDB_BP_HW:
		return insert ? dr_insert(d, addr, false) :
				dr_remove(d, addr, false);
	default:
		return insert ? watch_insert(d, type, addr, len) :
				watch_remove(d, type, addr, len);
	}
}

static int op_bp_insert(void *opaque, enum gdb_bp_type type, uint64_t addr,
			uint64_t len)
{
	struct vitro_debug *d = opaque;
	int r;

	pthread_mutex_lock(&d->lock);
	r = bp_change(d, true, type, addr, len);
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int op_bp_remove(void *opaque, enum gdb_bp_type type, uint64_t addr,
			uint64_t len)
{
	struct vitro_debug *d = opaque;
	int r;

	pthread_mutex_lock(&d->lock);
	r = bp_change(d, false, type, addr, len);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Monitor commands (gdb's `monitor`), until the Tcl console takes them. */

struct outbuf {
	char *buf;
	size_t len, cap;
};

static void outf(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void outf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL,
			      o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->buf && o->len + n < o->cap) {
			o->len += n;
			return;
		}
		char *nb = realloc(o->buf, o->cap + n + 256);

		if (!nb)
			return;
		o->buf = nb;
		o->cap += n + 256;
	}
}

static void mon_vcpus(struct vitro_debug *d, struct outbuf *o)
{
	static const int regs[] = { VM_REG_GUEST_RIP, VM_REG_GUEST_RSP,
				    VM_REG_GUEST_CS_BASE, VM_REG_GUEST_CR3 };

	for (unsigned i = 0; i < d->vm->ncpus; i++) {
		char desc[96];
		uint64_t v[4];

		if (op_cpu_describe(d, i, desc, sizeof(desc)) < 0 ||
		    vm_get_register_set(d->vm->vcpu[i].vcpu, 4, regs, v) < 0) {
			outf(o, "vCPU %u: state not readable\n", i);
			continue;
		}
		outf(o, "%s: pc %#llx sp %#llx cr3 %#llx\n", desc,
		     (unsigned long long)(v[2] + v[0]),
		     (unsigned long long)v[1], (unsigned long long)v[3]);
	}
}

static void mon_stats(struct vitro_debug *d, struct outbuf *o)
{
	uint64_t vals[256];
	char name[VM_STAT_NAME_MAX];

	for (unsigned i = 0; i < d->vm->ncpus; i++) {
		int n = 0;

		if (vm_get_stats(d->vm->vcpu[i].vcpu, vals, 256, &n) < 0)
			continue;
		outf(o, "vCPU %u:\n", i);
		for (int k = 0; k < n && k < 256; k++) {
			if (vals[k] && vm_get_stat_desc(d->vm->ctx, k, name,
							sizeof(name)) == 0)
				outf(o, "  %-32s %llu\n", name,
				     (unsigned long long)vals[k]);
		}
	}
}

/* After the stub's own commands (phys, help), in the same columns. */
static const char mon_help[] =
	"info vcpus     each vCPU's mode, privilege level, pc, sp and cr3\n"
	"stats          non-zero exit and KVM counters of each vCPU\n";

static int op_monitor(void *opaque, const char *line, char **out)
{
	struct vitro_debug *d = opaque;
	struct outbuf o = { 0 };

	while (*line == ' ')
		line++;
	if (!strcmp(line, "help") || !*line)
		outf(&o, "%s", mon_help);
	else if (!strcmp(line, "info vcpus"))
		mon_vcpus(d, &o);
	else if (!strcmp(line, "stats"))
		mon_stats(d, &o);
	else
		return -ENOENT;
	*out = o.buf;
	return 0;
}

static int op_kill(void *opaque)
{
	struct vitro_debug *d = opaque;

	vitro_end(d->vm, VITRO_EXIT_POWEROFF, "killed by the debugger");
	return 0;
}

static const struct gdb_target_ops dbg_ops = {
	.cpus = op_cpus,
	.cpu_describe = op_cpu_describe,
	.stop_all = op_stop_all,
	.resume = op_resume,
	.step_flags = op_step_flags,
	.regs_get = op_regs_get,
	.regs_set = op_regs_set,
	.mem_read = op_mem_read,
	.mem_write = op_mem_write,
	.bp_insert = op_bp_insert,
	.bp_remove = op_bp_remove,
	.monitor = op_monitor,
	.kill = op_kill,
};

struct gdb_target dbg_target(struct vitro_debug *d)
{
	return (struct gdb_target){ &dbg_ops, d };
}
