/*
 * core.c: the debug core's heart (debug.h): owners, stopping with a
 * bound, parking, resuming and stepping vCPUs, the settings each vCPU
 * carries into the guest, the vCPU threads' hooks, and dbg_services.
 *
 * Holds.  A vCPU is held while c->hold is set, and then it is in vmm's
 * debug set too: both change together under d->lock, so a vCPU never
 * spins between a DEBUG exit and an empty park.  A hold set only to make
 * a change (quiesce) is marked internal and lifted afterwards unless a
 * real stop claimed it meanwhile.
 *
 * Steps.  The control thread arms a step (capabilities, checked) before
 * it lets the vCPU go; the vCPU thread reports it done at the MTRAP exit.
 * Stepping stays armed from one step to the next, as gdb steps often.  A
 * vCPU resuming at the breakpoint it stopped on first steps over it alone,
 * with the breakpoints there lifted (breakpoints.c); the vCPUs that were
 * to run too wait (deferred) until every step-over is done.  A finished
 * step takes KVM's TF out of the frame of an interrupt or exception the
 * step delivered (step_scrub_tf()).
 *
 * Settings.  c->set is what the core recorded in vmm for a vCPU, c->good
 * what a vm_run since proved applied.  KVM's refusal shows as a
 * VM_EXITCODE_DEBUG_REFUSED exit, with vmm back on the settings KVM last
 * took (vmm applies settings before KVM_RUN), or as a failed vm_run when
 * KVM refuses those too; dbg_vcpu_ran() then undoes what differs from
 * c->good (see refused()).
 *
 * Locking and threads: debug_int.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/debug/debug_int.h"
#include "monitor/vitro.h"

static struct dbg_cpu *cpu_of(struct dbg_core *d, int id)
{
	return &d->cpu[id];
}

struct vcpu *dbg_vcpu(struct dbg_core *d, int id)
{
	if (id < 0 || (unsigned int)id >= d->ncpus)
		return NULL;
	return d->vm->vcpu[id].vcpu;
}

static bool valid_cpu(struct dbg_core *d, int id)
{
	return id >= 0 && (unsigned int)id < d->ncpus;
}

static bool valid_owner(struct dbg_core *d, int owner)
{
	return owner >= 0 && owner < VM_DBG_OWNER_MAX && d->owner[owner].used;
}

void dbg_event_init(struct vm_event *ev, uint32_t type, int cpuid, int owner)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->cpuid = cpuid;
	ev->owner = owner;
}

static void event_msg(struct vm_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void event_msg(struct vm_event *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->msg, sizeof(ev->msg), fmt, ap);
	va_end(ap);
}

int dbg_pc(struct vcpu *v, uint64_t *pc)
{
	static const int regs[] = { VM_REG_GUEST_CS_BASE, VM_REG_GUEST_RIP };
	uint64_t val[2];
	int r;

	if ((r = vm_get_register_set(v, 2, regs, val)) < 0)
		return r;
	*pc = val[0] + val[1];
	return 0;
}

int dbg_translate(struct vcpu *v, uint64_t addr, int prot, uint64_t *gpa)
{
	uint64_t g;
	int fault, r;

	r = vm_gla2gpa_nofault(v, NULL, addr, prot, &g, &fault);
	if (r < 0)
		return r;
	if (fault)
		return -EFAULT;
	*gpa = g;
	return 0;
}

/* Creation. */

struct dbg_core *dbg_create(struct vitro *vm, bool hold)
{
	struct dbg_core *d = calloc(1, sizeof(*d));
	int v;

	if (!d)
		return NULL;
	d->cpu = calloc(vm->ncpus, sizeof(*d->cpu));
	d->bp = calloc(DBG_MAX_BP, sizeof(*d->bp));
	d->watch = calloc(DBG_MAX_WATCH, sizeof(*d->watch));
	if (!d->cpu || !d->bp || !d->watch) {
		free(d->cpu);
		free(d->bp);
		free(d->watch);
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->vm = vm;
	d->ncpus = vm->ncpus;
	d->rmw_cpu = -1;
	pthread_mutex_init(&d->lock, NULL);
	{
		/* Bounded waits must not stretch when the wall clock moves. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	dbg_bus_init(d);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		atomic_init(&c->state, VM_DBG_CPU_IDLE);
		atomic_init(&c->unproven, false);
		c->step_owner = -1;
		c->action = DBG_RUN;
	}
	d->noirq =
		vm->ncpus > 0 && vm_get_capability(vm->vcpu[0].vcpu,
						   VM_CAP_MASK_HWINTR, &v) == 0;
	d->local = dbg_owner_alloc(d, "local");
	if (hold) {
		pthread_mutex_lock(&d->lock);
		for (unsigned int i = 0; i < d->ncpus; i++)
			cpu_of(d, i)->hold = true;
		vm_suspend_all_cpus(vm->ctx);
		pthread_mutex_unlock(&d->lock);
	}
	vm_set_services(vm->ctx, dbg_services, d);
	return d;
}

void dbg_destroy(struct dbg_core *d)
{
	if (!d)
		return;
	vm_set_services(d->vm->ctx, NULL, NULL);
	dbg_bus_fini(d);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->cpu);
	free(d->bp);
	free(d->watch);
	free(d);
}

const struct dbg_host *dbg_host_get(struct dbg_core *d)
{
	struct dbg_host h = { .bp_mode = DBG_BP_DEBUGREG };
	int r;

	if (d->host_known)
		return &d->host;
	r = dbg_probe_host(&h);
	if (r < 0) {
		vitro_log("debug: cannot probe what this KVM does with int3 "
			  "and single-steps (%s): breakpoints use the debug "
			  "registers, and user code is not stepped",
			  strerror(-r));
		h.bp_mode = DBG_BP_DEBUGREG;
		h.user_step = false;
	} else if (d->vm->opt.verbose) {
		vitro_log("debug: breakpoints trap through %s; single-step %s "
			  "user mode",
			  dbg_bp_mode_name(h.bp_mode),
			  h.user_step ? "works in" : "cannot enter");
	}
	pthread_mutex_lock(&d->lock);
	d->host = h;
	d->host_known = true;
	pthread_mutex_unlock(&d->lock);
	return &d->host;
}

void dbg_host_set(struct dbg_core *d, const struct dbg_host *host)
{
	pthread_mutex_lock(&d->lock);
	d->host = *host;
	d->host_known = true;
	pthread_mutex_unlock(&d->lock);
}

unsigned int dbg_step_flags(struct dbg_core *d)
{
	return d->noirq ? VM_DBG_STEP_NOIRQ : 0;
}

void dbg_vm_ending(struct dbg_core *d, int status)
{
	struct vm_event ev;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (d->ending) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->ending = true;
	d->rmw_cpu = -1;
	for (unsigned int i = 0; i < d->ncpus; i++) {
		cpu_of(d, i)->hold = false;
		cpu_of(d, i)->hold_internal = false;
	}
	dbg_event_init(&ev, VM_EVENT_END, -1, -1);
	ev.status = status;
	dbg_publish(d, &ev);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Owners. */

int dbg_owner_alloc(struct dbg_core *d, const char *name)
{
	int r = -EUSERS;

	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < VM_DBG_OWNER_MAX; i++) {
		if (d->owner[i].used)
			continue;
		d->owner[i].used = true;
		snprintf(d->owner[i].name, sizeof(d->owner[i].name), "%s",
			 name ? name : "?");
		r = i;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Settings. */

static void settings_want(struct dbg_core *d, int i, struct dbg_settings *s)
{
	const struct dbg_cpu *c = cpu_of(d, i);

	memset(s, 0, sizeof(*s));
	s->mtrap = c->stepping;
	s->mask_irq =
		c->stepping && (c->step_flags & VM_DBG_STEP_NOIRQ) && d->noirq;
	dbg_bp_settings(d, i, s);
}

static bool hw_equal(const struct dbg_settings *a, const struct dbg_settings *b)
{
	return a->hw == b->hw &&
	       (!a->hw ||
		(a->dr7 == b->dr7 && !memcmp(a->dr, b->dr, sizeof(a->dr))));
}

/* Record `want` for vCPU i, field by field, c->set following success. */
static int settings_apply(struct dbg_core *d, int i,
			  const struct dbg_settings *want)
{
	struct dbg_cpu *c = cpu_of(d, i);
	struct vcpu *v = dbg_vcpu(d, i);
	static const struct {
		enum vm_cap_type cap;
		size_t off;
	} caps[] = {
		{ VM_CAP_MTRAP_EXIT, offsetof(struct dbg_settings, mtrap) },
		{ VM_CAP_MASK_HWINTR, offsetof(struct dbg_settings, mask_irq) },
		{ VM_CAP_BPT_EXIT, offsetof(struct dbg_settings, bpt) },
	};
	int r;

	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		bool w = *(const bool *)((const char *)want + caps[k].off);
		bool *s = (bool *)((char *)&c->set + caps[k].off);

		if (*s == w && !c->force)
			continue;
		r = vm_set_capability(v, caps[k].cap, w);
		/* Off where the cap does not exist is off all the same. */
		if (r < 0 && !w && !*s)
			r = 0;
		if (r < 0) {
			vitro_log("debug: vCPU %d: cannot turn %s %s: %s", i,
				  caps[k].cap == VM_CAP_MTRAP_EXIT ?
					  "single-step" :
				  caps[k].cap == VM_CAP_MASK_HWINTR ?
					  "interrupt masking" :
					  "int3 exits",
				  w ? "on" : "off", strerror(-r));
			return r;
		}
		*s = w;
		atomic_store(&c->unproven, true);
	}
	if (!hw_equal(&c->set, want) || c->force) {
		r = vm_set_hw_debug(v, want->hw, want->dr, want->dr7);
		if (r < 0) {
			vitro_log("debug: vCPU %d: cannot load the debug "
				  "registers: %s",
				  i, strerror(-r));
			return r;
		}
		c->set.hw = want->hw;
		memcpy(c->set.dr, want->dr, sizeof(c->set.dr));
		c->set.dr7 = want->dr7;
		atomic_store(&c->unproven, true);
	}
	c->force = false;
	return 0;
}

int dbg_settings_sync(struct dbg_core *d)
{
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_settings want;
		int r;

		settings_want(d, i, &want);
		if ((r = settings_apply(d, i, &want)) < 0)
			return r;
	}
	return 0;
}

/* Holds. */

/* Parked, or held before its thread ran: no guest code, no KVM_RUN. */
static bool cpu_stopped(const struct dbg_cpu *c)
{
	int st = atomic_load(&c->state);

	return c->parked || (c->hold && st == VM_DBG_CPU_IDLE);
}

static void hold_cpu(struct dbg_core *d, int i, bool internal)
{
	struct dbg_cpu *c = cpu_of(d, i);

	/* A real stop cancels deferred runs: nothing runs after it. */
	if (!internal)
		c->deferred = false;
	if (c->hold) {
		if (!internal)
			c->hold_internal = false;
		return;
	}
	c->hold = true;
	c->hold_internal = internal;
	vm_suspend_cpu(dbg_vcpu(d, i));
	/* A thread waiting in the core (watch.c's slot) is not kicked. */
	pthread_cond_broadcast(&d->cond);
}

static void release_cpu(struct dbg_core *d, int i)
{
	struct dbg_cpu *c = cpu_of(d, i);

	c->pg_valid = false;
	c->at_bp = false;
	c->deferred = false;
	c->late = false;
	c->injected = false;
	c->npend = 0; /* a kept stop a resume overtook is not replayed */
	c->pend_stop = false;
	if (!c->hold)
		return;
	vm_resume_cpu(dbg_vcpu(d, i));
	c->hold = false;
	c->hold_internal = false;
}

/* Wait, d->lock held, until the vCPUs in `want` are stopped or gone. */
static bool wait_stopped(struct dbg_core *d, const bool *want,
			 unsigned int timeout_ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	for (;;) {
		bool all = true;

		for (unsigned int i = 0; i < d->ncpus; i++) {
			const struct dbg_cpu *c = cpu_of(d, i);

			if (want[i] && !cpu_stopped(c) && !c->gone)
				all = false;
		}
		if (all)
			return true;
		if (d->ending || timeout_ms == 0 ||
		    pthread_cond_timedwait(&d->cond, &d->lock, &dl) ==
			    ETIMEDOUT)
			return false;
	}
}

static const char *state_name(int st)
{
	switch (st) {
	case VM_DBG_CPU_IDLE:
		return "not started";
	case VM_DBG_CPU_GUEST:
		return "running guest code";
	case VM_DBG_CPU_EXIT:
		return "handling an exit in the monitor";
	case VM_DBG_CPU_OUTPUT:
		return "blocked writing guest output to the host";
	case VM_DBG_CPU_PARKED:
		return "parked";
	case VM_DBG_CPU_GONE:
		return "gone";
	}
	return "?";
}

/* Name the late vCPUs on the log, and in msg. */
static void report_late(struct dbg_core *d, const bool *late, unsigned int ms,
			char *msg, size_t len)
{
	size_t off = 0;

	msg[0] = 0;
	for (unsigned int i = 0; i < d->ncpus; i++) {
		int st;

		if (!late[i])
			continue;
		st = atomic_load(&cpu_of(d, i)->state);
		vitro_log("debug: vCPU %u did not stop within %u ms: it is %s; "
			  "it stays stopped once it can",
			  i, ms, state_name(st));
		if (off < len)
			off += snprintf(msg + off, len - off, "%svCPU %u %s",
					off ? ", " : "late: ", i,
					state_name(st));
	}
}

/*
 * Hold every vCPU for a change, waiting with the usual bound; held[i]
 * says which this call held.  Control thread, d->lock not held.
 */
static void quiesce(struct dbg_core *d, bool *held)
{
	bool want[VM_MAXCPU], late[VM_MAXCPU] = { false };
	char msg[8];
	bool any = false;

	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		want[i] = true;
		held[i] = !c->hold;
		if (held[i])
			hold_cpu(d, i, true);
	}
	if (!wait_stopped(d, want, DBG_STOP_TIMEOUT_MS) && !d->ending) {
		for (unsigned int i = 0; i < d->ncpus; i++) {
			const struct dbg_cpu *c = cpu_of(d, i);

			late[i] = !cpu_stopped(c) && !c->gone;
			any |= late[i];
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (any)
		report_late(d, late, DBG_STOP_TIMEOUT_MS, msg, sizeof(msg));
}

static void unquiesce(struct dbg_core *d, const bool *held)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		if (held[i] && c->hold && c->hold_internal)
			release_cpu(d, i);
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Whether an owner left a breakpoint, watchpoint or step; d->lock held. */
static bool owner_left_anything(struct dbg_core *d, int owner)
{
	uint64_t bit = 1ULL << owner;

	for (int i = 0; i < DBG_MAX_BP; i++) {
		if (d->bp[i].used && (d->bp[i].owners & bit))
			return true;
	}
	for (int i = 0; i < DBG_MAX_WATCH; i++) {
		if (d->watch[i].used && (d->watch[i].owners & bit))
			return true;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		if (cpu_of(d, i)->step_owner == owner)
			return true;
	}
	return false;
}

void dbg_owner_free(struct dbg_core *d, int owner)
{
	bool held[VM_MAXCPU];

	if (owner < 0 || owner >= VM_DBG_OWNER_MAX || owner == d->local)
		return;
	/*
	 * Most owners (a vitroctl run) leave nothing: free them without
	 * stopping every vCPU for it.
	 */
	pthread_mutex_lock(&d->lock);
	if (!owner_left_anything(d, owner)) {
		d->owner[owner].used = false;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	pthread_mutex_unlock(&d->lock);
	quiesce(d, held);
	pthread_mutex_lock(&d->lock);
	if (d->owner[owner].used) {
		dbg_bp_owner_free(d, owner);
		dbg_watch_owner_free(d, owner);
		for (unsigned int i = 0; i < d->ncpus; i++) {
			if (cpu_of(d, i)->step_owner == owner)
				cpu_of(d, i)->step_owner = -1;
		}
		d->owner[owner].used = false;
	}
	pthread_mutex_unlock(&d->lock);
	unquiesce(d, held);
}

/* Stops. */

int dbg_stop(struct dbg_core *d, int owner, int cpuid, unsigned int timeout_ms,
	     struct vm_dbg_stop *out)
{
	bool want[VM_MAXCPU] = { false }, late[VM_MAXCPU] = { false };
	struct vm_dbg_stop res;
	struct vm_event ev;
	bool any_late = false;

	if (cpuid != -1 && !valid_cpu(d, cpuid))
		return -EINVAL;
	memset(&res, 0, sizeof(res));
	res.cpuid = cpuid;
	res.timeout_ms = timeout_ms;
	pthread_mutex_lock(&d->lock);
	if (d->ending) {
		pthread_mutex_unlock(&d->lock);
		return -ESHUTDOWN;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		if (cpuid != -1 && (int)i != cpuid)
			continue;
		want[i] = true;
		hold_cpu(d, i, false);
	}
	wait_stopped(d, want, timeout_ms);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		const struct dbg_cpu *c = cpu_of(d, i);
		int st = atomic_load(&c->state);

		res.state[i] = st;
		if (cpu_stopped(c))
			vm_cpuset_set(&res.stopped, i);
		else if (want[i] && !c->gone && timeout_ms) {
			vm_cpuset_set(&res.late, i);
			late[i] = any_late = true;
			cpu_of(d, i)->late = true;
		}
	}
	dbg_event_init(&ev, VM_EVENT_STOP, cpuid, owner);
	pthread_mutex_unlock(&d->lock);
	if (any_late)
		report_late(d, late, timeout_ms, ev.msg, sizeof(ev.msg));
	dbg_publish(d, &ev);
	if (out)
		*out = res;
	return any_late ? -ETIMEDOUT : 0;
}

int dbg_borrow(struct dbg_core *d, int cpuid, unsigned int timeout_ms,
	       bool *held)
{
	bool want[VM_MAXCPU] = { false };
	struct dbg_cpu *c;
	int r = 0;

	if (!valid_cpu(d, cpuid))
		return -EINVAL;
	c = cpu_of(d, cpuid);
	want[cpuid] = true;
	*held = false;
	pthread_mutex_lock(&d->lock);
	if (d->ending) {
		pthread_mutex_unlock(&d->lock);
		return -ESHUTDOWN;
	}
	if (!c->hold) {
		hold_cpu(d, cpuid, true);
		*held = true;
	}
	if (!wait_stopped(d, want, timeout_ms)) {
		if (*held && c->hold && c->hold_internal)
			release_cpu(d, cpuid);
		*held = false;
		pthread_cond_broadcast(&d->cond);
		r = d->ending ? -ESHUTDOWN : -ETIMEDOUT;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

void dbg_unborrow(struct dbg_core *d, int cpuid)
{
	struct dbg_cpu *c;

	if (!valid_cpu(d, cpuid))
		return;
	c = cpu_of(d, cpuid);
	pthread_mutex_lock(&d->lock);
	if (c->hold && c->hold_internal)
		release_cpu(d, cpuid);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

int dbg_cpu_state(struct dbg_core *d, int cpuid)
{
	if (!valid_cpu(d, cpuid))
		return -EINVAL;
	return atomic_load(&cpu_of(d, cpuid)->state);
}

bool dbg_cpu_stopped(struct dbg_core *d, int cpuid)
{
	bool r;

	if (!valid_cpu(d, cpuid))
		return false;
	pthread_mutex_lock(&d->lock);
	r = cpu_stopped(cpu_of(d, cpuid)) && !d->ending;
	pthread_mutex_unlock(&d->lock);
	return r;
}

int dbg_cpu_paging(struct dbg_core *d, int cpuid, struct vm_guest_paging *pg)
{
	struct dbg_cpu *c;
	int r = 0;

	if (!valid_cpu(d, cpuid))
		return -ENOENT;
	c = cpu_of(d, cpuid);
	pthread_mutex_lock(&d->lock);
	if (!cpu_stopped(c) || d->ending)
		r = -EBUSY;
	else if (!c->pg_valid &&
		 (r = vm_get_guest_paging(dbg_vcpu(d, cpuid), &c->pg)) == 0)
		c->pg_valid = true;
	if (r == 0)
		*pg = c->pg;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void dbg_cpu_regs_changed(struct dbg_core *d, int cpuid)
{
	if (!valid_cpu(d, cpuid))
		return;
	pthread_mutex_lock(&d->lock);
	cpu_of(d, cpuid)->pg_valid = false;
	pthread_mutex_unlock(&d->lock);
}

/* Resuming and stepping. */

/* What a resume needs to know of a parked vCPU, read before it runs. */
struct resume_view {
	uint64_t pc; /* linear */
	uint64_t gpa; /* of pc, if pc_mapped */
	bool pc_mapped;
	bool user; /* CPL 3 in long mode */
	bool tf; /* the guest's own RFLAGS.TF */
	struct dbg_step_from from; /* for a step that begins here */
};

static int resume_view(struct dbg_core *d, int i, bool any_bp,
		       struct resume_view *rv)
{
	static const int regs[] = {
		VM_REG_GUEST_CS_BASE,	VM_REG_GUEST_RIP,
		VM_REG_GUEST_RFLAGS,	VM_REG_GUEST_EFER,
		VM_REG_GUEST_SS_ACCESS, VM_REG_GUEST_RSP,
		VM_REG_GUEST_CS,	VM_REG_GUEST_SS,
		VM_REG_GUEST_SS_BASE,	VM_REG_GUEST_TR_BASE,
		VM_REG_GUEST_CR0,
	};
	struct vcpu *v = dbg_vcpu(d, i);
	uint64_t val[11];
	int r;

	if ((r = vm_get_register_set(v, 11, regs, val)) < 0)
		return r;
	rv->pc = val[0] + val[1];
	rv->tf = val[2] & RFLAGS_TF;
	rv->user = (val[3] & EFER_LMA) && VM_SEG_ACCESS_DPL(val[4]) == 3;
	rv->from = (struct dbg_step_from){
		.rip = val[1],
		.rflags = val[2],
		.rsp = val[5],
		.cs = val[6],
		.ss = val[7],
		.ss_base = val[8],
		.tr_base = val[9],
		.lma = val[3] & EFER_LMA,
		.pe = val[10] & CR0_PE,
	};
	/* A page walk per step only where a breakpoint could be at pc. */
	rv->pc_mapped =
		any_bp && dbg_translate(v, rv->pc, VM_PROT_EXEC, &rv->gpa) == 0;
	return 0;
}

/* Step state of one vCPU, saved so that a refused resume can undo it. */
struct step_save {
	bool stepping, stepover, guest_tf, lift_int3;
	uint8_t after;
	unsigned int step_flags, lift_dr;
	int step_owner;
	uint64_t lift_gpa;
};

static void step_save(const struct dbg_cpu *c, struct step_save *s)
{
	*s = (struct step_save){
		.stepping = c->stepping,
		.stepover = c->stepover,
		.guest_tf = c->guest_tf,
		.lift_int3 = c->lift_int3,
		.after = c->after,
		.step_flags = c->step_flags,
		.lift_dr = c->lift_dr,
		.step_owner = c->step_owner,
		.lift_gpa = c->lift_gpa,
	};
}

static void step_restore(struct dbg_cpu *c, const struct step_save *s)
{
	c->stepping = s->stepping;
	c->stepover = s->stepover;
	c->guest_tf = s->guest_tf;
	c->lift_int3 = s->lift_int3;
	c->after = s->after;
	c->step_flags = s->step_flags;
	c->lift_dr = s->lift_dr;
	c->step_owner = s->step_owner;
	c->lift_gpa = s->lift_gpa;
}

static int refuse_user_step(int i)
{
	vitro_log("debug: cannot single-step vCPU %d in user mode (CPL 3): "
		  "this host's KVM shuts the guest down when asked to; set a "
		  "breakpoint in kernel code and continue instead",
		  i);
	return -EPERM;
}

int dbg_resume_each(struct dbg_core *d, int owner, const uint8_t *act,
		    unsigned int step_flags)
{
	struct resume_view rv[VM_MAXCPU];
	struct step_save saved[VM_MAXCPU];
	bool over[VM_MAXCPU] = { false }, need_view[VM_MAXCPU] = { false };
	bool any = false, any_over = false, any_bp;
	const struct dbg_host *host = NULL;
	struct vm_event ev;
	int single = -1, nrun = 0, r;

	/* Which vCPUs need a look at their state before they go. */
	pthread_mutex_lock(&d->lock);
	if (d->ending || !valid_owner(d, owner)) {
		r = d->ending ? -ESHUTDOWN : -EINVAL;
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		const struct dbg_cpu *c = cpu_of(d, i);

		if (act[i] == DBG_STAY)
			continue;
		if (act[i] != DBG_RUN && act[i] != DBG_STEP) {
			pthread_mutex_unlock(&d->lock);
			return -EINVAL;
		}
		any = true;
		single = nrun++ ? -1 : (int)i;
		if (act[i] == DBG_STEP && !cpu_stopped(c)) {
			pthread_mutex_unlock(&d->lock);
			return -EBUSY;
		}
		need_view[i] =
			cpu_stopped(c) && (act[i] == DBG_STEP || c->at_bp);
	}
	any_bp = dbg_bp_any(d);
	pthread_mutex_unlock(&d->lock);
	if (!any)
		return -EINVAL;

	/* Parked vCPUs stay parked while the control thread reads them. */
	for (unsigned int i = 0; i < d->ncpus; i++) {
		if (need_view[i] && (r = resume_view(d, i, any_bp, &rv[i])) < 0)
			return r;
		if (need_view[i] && rv[i].user && !host)
			host = dbg_host_get(d);
	}

	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		/*
		 * A step runs the instruction at pc whatever breakpoint is
		 * there; a run steps over the one it stopped on.
		 */
		over[i] = act[i] != DBG_STAY && need_view[i] && !c->stepover &&
			  (act[i] == DBG_STEP ||
			   (c->at_bp && rv[i].pc == c->bp_pc)) &&
			  dbg_bp_exec_at(d, rv[i].pc,
					 rv[i].pc_mapped ? rv[i].gpa : ~0ULL);
		if ((act[i] == DBG_STEP || over[i]) && rv[i].user && host &&
		    !host->user_step) {
			pthread_mutex_unlock(&d->lock);
			return refuse_user_step(i);
		}
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		step_save(c, &saved[i]);
		if (act[i] == DBG_STAY && c->stepover) {
			/*
			 * An interrupted step-over of a vCPU that stays: the
			 * breakpoints go back, or the others would run past
			 * them; it steps over again when it next resumes.
			 */
			c->stepover = false;
			c->stepping = false;
			d->stepovers--;
			dbg_bp_unlift(d, i);
			continue;
		}
		if (act[i] == DBG_STAY)
			continue;
		if (c->stepover) {
			/* An interrupted step-over goes on first. */
			c->after = act[i];
			any_over = true;
			continue;
		}
		if (over[i]) {
			c->stepping = true;
			c->stepover = true;
			c->after = act[i];
			c->step_flags = VM_DBG_STEP_NOIRQ;
			c->step_owner = act[i] == DBG_STEP ? owner : -1;
			c->guest_tf = rv[i].tf && !c->injected;
			c->from = rv[i].from;
			if (act[i] == DBG_STEP)
				c->step_flags = step_flags | VM_DBG_STEP_NOIRQ;
			dbg_bp_lift(d, i, rv[i].pc,
				    rv[i].pc_mapped ? rv[i].gpa : ~0ULL);
			any_over = true;
		} else if (act[i] == DBG_STEP) {
			c->stepping = true;
			c->step_flags = step_flags;
			c->step_owner = owner;
			/*
			 * With an exception pending, the step delivers it and
			 * runs no instruction of the guest's with TF.
			 */
			c->guest_tf = rv[i].tf && !c->injected;
			c->from = rv[i].from;
		} else {
			c->stepping = false;
		}
	}
	if ((r = dbg_settings_sync(d)) < 0) {
		for (unsigned int i = 0; i < d->ncpus; i++) {
			struct dbg_cpu *c = cpu_of(d, i);

			if (over[i])
				dbg_bp_unlift(d, i);
			if (act[i] == DBG_STAY && saved[i].stepover &&
			    !c->stepover) {
				d->stepovers++;
				dbg_bp_lift(d, i, c->bp_pc, saved[i].lift_gpa);
			}
			step_restore(c, &saved[i]);
		}
		dbg_settings_sync(d);
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *c = cpu_of(d, i);

		if (act[i] == DBG_STAY)
			continue;
		if (over[i])
			d->stepovers++;
		if (any_over && !c->stepover) {
			/* Runs once the step-overs are done. */
			c->deferred = true;
			c->action = act[i];
			continue;
		}
		c->action = c->stepping ? DBG_STEP : DBG_RUN;
		release_cpu(d, i);
	}
	dbg_event_init(&ev, VM_EVENT_RESUME, single, owner);
	dbg_publish(d, &ev);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int dbg_resume(struct dbg_core *d, int owner, int cpuid)
{
	uint8_t act[VM_MAXCPU];
	bool any = false;

	if (cpuid != -1 && !valid_cpu(d, cpuid))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->ncpus; i++) {
		act[i] = DBG_STAY;
		if ((cpuid == -1 || (int)i == cpuid) &&
		    (cpu_of(d, i)->hold || cpu_of(d, i)->stepover)) {
			act[i] = DBG_RUN;
			any = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (!any) {
		/* Nothing held: resuming what runs is not an error. */
		struct vm_event ev;

		dbg_event_init(&ev, VM_EVENT_RESUME, cpuid, owner);
		dbg_publish(d, &ev);
		return 0;
	}
	return dbg_resume_each(d, owner, act, 0);
}

int dbg_step(struct dbg_core *d, int owner, int cpuid, unsigned int flags)
{
	uint8_t act[VM_MAXCPU];

	if (!valid_cpu(d, cpuid))
		return -EINVAL;
	for (unsigned int i = 0; i < d->ncpus; i++)
		act[i] = (int)i == cpuid ? DBG_STEP : DBG_STAY;
	return dbg_resume_each(d, owner, act, flags);
}

/* Breakpoints and watchpoints. */

int dbg_breakpoint(struct dbg_core *d, int owner, bool insert,
		   enum vm_dbg_bp_type type, uint64_t addr, uint64_t len,
		   int cpuid)
{
	bool held[VM_MAXCPU];
	int r;

	if (!valid_cpu(d, cpuid) || type >= VM_DBG_BP_TYPES)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	r = !valid_owner(d, owner) ? -EINVAL : d->ending ? -ESHUTDOWN : 0;
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		return r;
	if (type == VM_DBG_BP_SW && insert)
		dbg_host_get(d);
	quiesce(d, held);
	pthread_mutex_lock(&d->lock);
	if (!cpu_stopped(cpu_of(d, cpuid)))
		r = -EBUSY;
	else if (type <= VM_DBG_BP_HW)
		r = dbg_bp_change(d, owner, insert, type, addr, cpuid);
	else
		r = dbg_watch_change(d, owner, insert, type, addr, len, cpuid);
	pthread_mutex_unlock(&d->lock);
	unquiesce(d, held);
	return r;
}

/* Services. */

int dbg_services(void *core, uint32_t cmd, void *data)
{
	struct dbg_core *d = core;

	switch (cmd) {
	case VM_DBG_STOP: {
		struct vm_dbg_stop *s = data;

		return dbg_stop(d, d->local, s->cpuid, s->timeout_ms, s);
	}
	case VM_DBG_RESUME: {
		struct vm_dbg_cpu *c = data;

		return dbg_resume(d, c->owner >= 0 ? c->owner : d->local,
				  c->cpuid);
	}
	case VM_DBG_STEP: {
		struct vm_dbg_cpu *c = data;

		return dbg_step(d, c->owner >= 0 ? c->owner : d->local,
				c->cpuid, c->flags);
	}
	case VM_DBG_BREAKPOINT: {
		struct vm_dbg_bp *b = data;

		return dbg_breakpoint(d, b->owner >= 0 ? b->owner : d->local,
				      b->insert, b->type, b->addr, b->len,
				      b->cpuid);
	}
	default:
		return -EOPNOTSUPP;
	}
}

/* The vCPU threads' side. */

/*
 * What a vCPU's thread is doing, for a report on a vCPU that did not stop
 * in time.  Only the idle state (before the thread ran) takes part in a
 * decision, and it is never set here: the guest/exit states of every exit
 * are release stores, not locked exchanges.
 */
void dbg_vcpu_set_state(struct dbg_core *d, struct vitro_vcpu *vc, int state)
{
	if (d && vc)
		atomic_store_explicit(&cpu_of(d, vc->id)->state, state,
				      memory_order_release);
}

/* Hold every vCPU for a stop the caller's vCPU makes; d->lock held. */
static void hold_all(struct dbg_core *d)
{
	for (unsigned int i = 0; i < d->ncpus; i++)
		hold_cpu(d, i, false);
}

/*
 * Hold every vCPU and publish the stop; d->lock held.  Hits kept by
 * dbg_self_stop_after() go first: the exit that ends their instruction
 * may be a stop of its own (a finished step), which then reports them.
 */
static void stop_locked(struct dbg_core *d, struct vitro_vcpu *vc,
			const struct vm_event *evs, int n,
			struct vm_event *term)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);
	uint64_t pc;

	hold_all(d);
	for (int k = 0; k < c->npend; k++)
		dbg_publish(d, &c->pend[k]);
	c->npend = 0;
	c->pend_stop = false;
	for (int k = 0; k < n; k++)
		dbg_publish(d, &evs[k]);
	if (!term->addr && dbg_pc(vc->vcpu, &pc) == 0)
		term->addr = pc;
	dbg_publish(d, term);
}

void dbg_self_stop(struct dbg_core *d, struct vitro_vcpu *vc,
		   const struct vm_event *evs, int n, struct vm_event *term)
{
	if (!d->ending) {
		stop_locked(d, vc, evs, n, term);
		dbg_park_locked(d, vc);
	}
	pthread_mutex_unlock(&d->lock);
}

void dbg_self_stop_after(struct dbg_core *d, struct vitro_vcpu *vc,
			 const struct vm_event *evs, int n,
			 const struct vm_event *term)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);

	if (!d->ending) {
		hold_all(d);
		/* The write of a locked instruction may add to its read's. */
		for (int k = 0; k < n && c->npend < DBG_MAX_PEND; k++)
			c->pend[c->npend++] = evs[k];
		if (!c->pend_stop)
			c->pend_term = *term;
		c->pend_stop = true;
	}
	pthread_mutex_unlock(&d->lock);
}

/*
 * Publish a stop kept by dbg_self_stop_after(), now that the instruction
 * is done; d->lock held.  A client that resumed the vCPU before it got
 * here overtook the stop, which then is dropped.
 */
static void publish_pending(struct dbg_core *d, struct vitro_vcpu *vc)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);

	if (c->pend_stop && c->hold && !c->hold_internal && !d->ending) {
		struct vm_event term = c->pend_term;

		stop_locked(d, vc, NULL, 0, &term);
	}
	c->npend = 0;
	c->pend_stop = false;
}

/*
 * The vCPU stopped on breakpoints at linear pc (n hits in evs): it
 * resumes by stepping over them.  d->lock held; returns with it released.
 */
static void stop_at_bp(struct dbg_core *d, struct vitro_vcpu *vc, uint64_t pc,
		       const struct vm_event *evs, int n)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);
	struct vm_event ev;

	c->at_bp = true;
	c->bp_pc = pc;
	dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
	ev.addr = pc;
	dbg_self_stop(d, vc, evs, n, &ev);
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
	    vm_copyin(v, val[0] + val[1], &insn, 1) != 1 || insn != DBG_HLT)
		return false;
	return vm_set_register(v, VM_REG_GUEST_RIP, val[1] + 1) == 0;
}

static bool step_finish(struct dbg_core *d, struct vitro_vcpu *vc);

void dbg_park_locked(struct dbg_core *d, struct vitro_vcpu *vc)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);

	for (;;) {
		/*
		 * Said before the state shows it: a client that sees
		 * PARKED finds the message queued.
		 */
		if (c->late) {
			struct vm_event ev;

			c->late = false;
			dbg_event_init(&ev, VM_EVENT_MESSAGE, vc->id, -1);
			event_msg(&ev, "vCPU %d stopped, late", vc->id);
			dbg_publish(d, &ev);
		}
		c->parked = true;
		atomic_store(&c->state, VM_DBG_CPU_PARKED);
		pthread_cond_broadcast(&d->cond);
		while (c->hold && !d->ending)
			pthread_cond_wait(&d->cond, &d->lock);
		c->parked = false;
		atomic_store(&c->state, VM_DBG_CPU_EXIT);
		pthread_cond_broadcast(&d->cond);
		if (d->ending)
			return;
		if (c->action == DBG_STEP && c->stepping &&
		    step_over_hlt(vc->vcpu)) {
			c->action = DBG_RUN;
			/* Done at once: as at an MTRAP exit. */
			if (step_finish(d, vc))
				continue;
		}
		c->action = DBG_RUN;
		return;
	}
}

void dbg_vcpu_park(struct dbg_core *d, struct vitro_vcpu *vc)
{
	pthread_mutex_lock(&d->lock);
	publish_pending(d, vc);
	dbg_park_locked(d, vc);
	pthread_mutex_unlock(&d->lock);
}

void dbg_vcpu_exited(struct dbg_core *d, struct vitro_vcpu *vc)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);

	pthread_mutex_lock(&d->lock);
	c->gone = true;
	c->parked = false;
	atomic_store(&c->state, VM_DBG_CPU_GONE);
	if (d->rmw_cpu == vc->id)
		d->rmw_cpu = -1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Deliver the guest's own #DB, with the DR6 bits that say why. */
static bool deliver_db(struct dbg_core *d, struct vitro_vcpu *vc,
		       uint64_t payload)
{
	int r = vm_inject_exception(vc->vcpu, IDT_DB, false, 0, payload);

	if (r < 0)
		vitro_log("debug: vCPU %d: cannot deliver the guest's own #DB "
			  "(dr6 bits %#llx): %s",
			  vc->id, (unsigned long long)payload, strerror(-r));
	return r == 0;
}

/*
 * The guest's icebp (int1): a trap raised by a 1-byte instruction.  Where
 * KVM stopped at it (an intercepted #DB on VMX, an emulation failure),
 * rip is still at the 0xf1 and the guest must see its handler called
 * with rip past it; where KVM already stepped past it, a plain #DB.
 */
static void deliver_icebp(struct dbg_core *d, struct vitro_vcpu *vc)
{
	uint64_t rip, pc;
	uint8_t b = 0;

	if (dbg_pc(vc->vcpu, &pc) < 0 || vm_copyin(vc->vcpu, pc, &b, 1) != 1 ||
	    b != DBG_ICEBP) {
		deliver_db(d, vc, 0);
		return;
	}
	if (vm_inject_trap(vc->vcpu, IDT_DB, 1) == 0)
		return;
	/* A vmm that takes only #BP and #OF as traps: step past it here. */
	if (vm_get_register(vc->vcpu, VM_REG_GUEST_RIP, &rip) == 0 &&
	    vm_set_register(vc->vcpu, VM_REG_GUEST_RIP, rip + 1) == 0)
		deliver_db(d, vc, 0);
}

/* Something the core could not deliver or undo: stop with a message. */
static void stop_with(struct dbg_core *d, struct vitro_vcpu *vc,
		      const char *msg)
{
	struct vm_event ev;

	vitro_log("debug: vCPU %d: %s", vc->id, msg);
	pthread_mutex_lock(&d->lock);
	dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
	snprintf(ev.msg, sizeof(ev.msg), "%s", msg);
	dbg_self_stop(d, vc, NULL, 0, &ev);
}

/*
 * Whether the frame an event delivered where the step began leaves just
 * below top is there, with KVM's TF in its flags: words of `size` bytes,
 * rip, cs, rflags and, with `full`, rsp and ss (an error code goes below
 * them).  If so, clear that TF and set *at to where it was.  vc's thread,
 * stopped.
 */
static bool scrub_frame(struct vcpu *v, const struct dbg_step_from *f,
			uint64_t top, unsigned int size, bool full,
			uint64_t *at)
{
	const uint64_t mask = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	const unsigned int n = full ? 5 : 3;
	uint64_t q[5] = { 0 }, gla = top - n * size, fl;
	uint8_t buf[5 * 8];

	if (vm_copyin(v, gla, buf, n * size) != (ssize_t)(n * size))
		return false;
	for (unsigned int k = 0; k < n; k++)
		memcpy(&q[k], buf + k * size, size);
	/* A fault or an interrupt returns to rip, a software int past it. */
	if (((q[0] - f->rip) & mask) >= 16 ||
	    (q[1] & 0xffff) != (f->cs & 0xffff) ||
	    ((q[2] ^ (f->rflags | RFLAGS_TF)) & mask & ~RFLAGS_RF))
		return false;
	if (full && (q[3] != f->rsp || (q[4] & 0xffff) != (f->ss & 0xffff)))
		return false;
	fl = q[2] & ~RFLAGS_TF;
	*at = gla + 2 * size;
	memcpy(buf, &fl, size);
	return vm_copyout(v, buf, *at, size) == (ssize_t)size;
}

/*
 * KVM single-steps by setting RFLAGS.TF behind the guest's back.  An
 * interrupt or exception delivered during the step pushes that TF in the
 * frame it makes (KVM's commit that added KVM_GUESTDBG_BLOCKIRQ, Linux
 * 61e5f69ef083, says so); when the step ends inside the handler (KVM ends
 * a step at any instruction it emulates, such as a LAPIC EOI), the
 * handler's iret brings TF back once the core no longer steps, and the
 * guest takes a #DB nobody asked for.  Any KVM does this, hardware or
 * nested.  Look where the delivery puts a frame, for one that returns to
 * where the step began with TF added, and take that TF out.  A frame the
 * handler already left (the usual end of a step through a handler: its
 * iret, then one instruction) is dead and changes nothing.  Long mode:
 * the step's stack and the TSS's (rsp0-2, IST); 32-bit protected mode and
 * real mode: the same stack only.  vc's thread, d->lock held.
 */
static void step_scrub_tf(struct dbg_core *d, struct vitro_vcpu *vc)
{
	const struct dbg_step_from *f = &cpu_of(d, vc->id)->from;
	struct vcpu *v = vc->vcpu;
	uint64_t tops[11], at = 0;
	unsigned int ntops = 0;
	uint8_t tss[92];
	bool done = false;

	if (f->rflags & RFLAGS_TF)
		return; /* the guest's own: left as it is */
	if (!f->lma) {
		/* The same stack only: 32-bit words, or real mode's 16. */
		uint64_t mask = f->pe ? 0xffffffffULL : 0xffffULL;

		done = scrub_frame(v, f, f->ss_base + (f->rsp & mask),
				   f->pe ? 4 : 2, false, &at);
		goto out;
	}
	/* The stack the step began on, then the TSS's: rsp0-2, IST1-7. */
	tops[ntops++] = f->rsp & ~15ULL;
	if (vm_copyin(v, f->tr_base, tss, sizeof(tss)) ==
	    (ssize_t)sizeof(tss)) {
		for (int k = 0; k < 11; k++) {
			if (k == 3)
				continue; /* reserved, between rsp2 and ist1 */
			memcpy(&tops[ntops], tss + 4 + 8 * k, 8);
			tops[ntops] &= ~15ULL;
			if (tops[ntops] && tops[ntops] != tops[0])
				ntops++;
		}
	}
	for (unsigned int t = 0; t < ntops && !done; t++)
		done = scrub_frame(v, f, tops[t], 8, true, &at);
out:
	if (done && d->vm->opt.verbose)
		vitro_log("debug: vCPU %d: took the single-step's TF out of "
			  "the flags an interrupt or exception pushed at %#llx",
			  vc->id, (unsigned long long)at);
}

/*
 * The step of vCPU vc is done (an MTRAP exit, or a hlt stepped here).
 * d->lock held.  True when the caller must park (a stop was published and
 * every vCPU held), false when the vCPU runs on.
 */
static bool step_finish(struct dbg_core *d, struct vitro_vcpu *vc)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);
	struct vm_event ev;
	bool step;

	if (!c->stepping || d->ending)
		return false; /* disarmed since: nothing to report */
	step_scrub_tf(d, vc);
	if (c->guest_tf &&
	    vm_inject_exception(vc->vcpu, IDT_DB, false, 0, DR6_BS) < 0)
		vitro_log("debug: vCPU %d: cannot deliver the guest's own "
			  "single-step #DB",
			  vc->id);
	step = !c->stepover || c->after == DBG_STEP;
	if (c->stepover) {
		c->stepover = false;
		d->stepovers--;
		dbg_bp_unlift(d, vc->id);
		if (!step)
			c->stepping = false;
		if (dbg_settings_sync(d) < 0) {
			dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
			event_msg(&ev, "cannot put the breakpoints back after "
				       "stepping over one");
			stop_locked(d, vc, NULL, 0, &ev);
			return true;
		}
	}
	if (step) {
		dbg_event_init(&ev, VM_EVENT_STEP, vc->id, c->step_owner);
		stop_locked(d, vc, NULL, 0, &ev);
		return true;
	}
	if (d->stepovers > 0) {
		/* Others still step over theirs: wait with the deferred. */
		hold_cpu(d, vc->id, false);
		c->deferred = true;
		c->action = DBG_RUN;
		return true;
	}
	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct dbg_cpu *o = cpu_of(d, i);

		if (o->deferred) {
			o->action = o->stepping ? DBG_STEP : DBG_RUN;
			release_cpu(d, i);
		}
	}
	pthread_cond_broadcast(&d->cond);
	return false;
}

static bool exit_mtrap(struct dbg_core *d, struct vitro_vcpu *vc)
{
	pthread_mutex_lock(&d->lock);
	if (step_finish(d, vc))
		dbg_park_locked(d, vc);
	pthread_mutex_unlock(&d->lock);
	return true;
}

#define MAX_HITS 16

static bool exit_int3(struct dbg_core *d, struct vitro_vcpu *vc)
{
	struct vm_event evs[MAX_HITS];
	uint64_t pc, gpa;
	uint8_t *p;
	int n, r;

	if (dbg_pc(vc->vcpu, &pc) < 0 ||
	    dbg_translate(vc->vcpu, pc, VM_PROT_EXEC, &gpa) < 0)
		goto guest;
	pthread_mutex_lock(&d->lock);
	n = dbg_bp_int3_hits(d, vc->id, gpa, pc, evs, MAX_HITS);
	if (n > 0) {
		stop_at_bp(d, vc, pc, evs, n);
		return true;
	}
	/* Ours until just now (removed or lifted): run the real byte. */
	p = vm_map_gpa(d->vm->ctx, gpa, 1);
	if (p && *p != DBG_INT3) {
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	pthread_mutex_unlock(&d->lock);
guest:
	/* #BP is a trap: vmm makes the guest see rip past the int3. */
	if ((r = vm_inject_trap(vc->vcpu, IDT_BP, 1)) < 0) {
		char msg[100];

		snprintf(msg, sizeof(msg),
			 "cannot deliver the guest's own int3 as #BP: %s",
			 strerror(-r));
		stop_with(d, vc, msg);
	}
	return true;
}

static bool exit_hwbp(struct dbg_core *d, struct vitro_vcpu *vc,
		      const struct vm_exit *vme)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);
	uint64_t dr6 = vme->u.hwbp.dr6, ours = 0, why, pc = 0;
	struct vm_event evs[MAX_HITS];
	int n;

	pthread_mutex_lock(&d->lock);
	if (c->set.hw) {
		for (int i = 0; i < DBG_NDR; i++)
			if (c->set.dr7 & (3ULL << (2 * i)))
				ours |= 1ULL << i;
	}
	if ((dr6 & DR6_BS) && c->stepping) {
		/* A step the exit decoder did not recognise as one. */
		if (step_finish(d, vc))
			dbg_park_locked(d, vc);
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	if (dr6 & ours) {
		dbg_pc(vc->vcpu, &pc);
		n = dbg_bp_dr_hits(d, vc->id, (unsigned int)(dr6 & ours), evs,
				   MAX_HITS);
		/* The guest's own trap in the same #DB is still its own. */
		why = dr6 & (DR6_BS | DR6_BT);
		if (why && deliver_db(d, vc, why))
			c->injected = true;
		if (n == 0) {
			/* Removed since: nothing stops the instruction now. */
			pthread_mutex_unlock(&d->lock);
			return true;
		}
		stop_at_bp(d, vc, pc, evs, n);
		return true;
	}
	pthread_mutex_unlock(&d->lock);
	/*
	 * The guest's own: its TF, icebp, or its debug registers (in force
	 * only while the core uses none; B0-B3 then speak of the core's).
	 */
	why = dr6 & (c->set.hw ? (DR6_BD | DR6_BS | DR6_BT) : DR6_WHY);
	if (why)
		deliver_db(d, vc, why);
	else
		deliver_icebp(d, vc);
	return true;
}

bool dbg_vcpu_exit(struct dbg_core *d, struct vitro_vcpu *vc,
		   const struct vm_exit *vme)
{
	switch (vme->exitcode) {
	case VM_EXITCODE_MTRAP:
		return exit_mtrap(d, vc);
	case VM_EXITCODE_HWBP:
		return exit_hwbp(d, vc, vme);
	case VM_EXITCODE_BPT:
		return exit_int3(d, vc);
	case VM_EXITCODE_INST_EMUL:
		if (dbg_watch_fetch(d, vc, vme))
			return true;
		if (vme->u.inst_emul.inst_len == 0)
			return false;
		/* A KVM that cannot emulate int3 or icebp: the guest's trap. */
		if (vme->u.inst_emul.inst[0] == DBG_INT3)
			return exit_int3(d, vc);
		if (vme->u.inst_emul.inst[0] == DBG_ICEBP) {
			deliver_icebp(d, vc);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/*
 * KVM refused vCPU vc's new debug settings: undo everything that differs
 * from what it last accepted (c->good), tell the owners concerned, and
 * stop.  d->lock held; returns with it released.
 */
static void refused(struct dbg_core *d, struct vitro_vcpu *vc, int err)
{
	struct dbg_cpu *c = cpu_of(d, vc->id);
	uint64_t owners = 0;
	struct vm_event ev;
	char what[80] = "";

	c->refused = true;
	if (c->set.mtrap && !c->good.mtrap) {
		if (c->step_owner >= 0)
			owners |= 1ULL << c->step_owner;
		if (c->stepover) {
			c->stepover = false;
			d->stepovers--;
			dbg_bp_unlift(d, vc->id);
		}
		c->stepping = false;
		snprintf(what, sizeof(what), "its single-step was cancelled");
	}
	if ((c->set.bpt && !c->good.bpt) || !hw_equal(&c->set, &c->good)) {
		dbg_bp_drop_refused(d, vc->id, &owners);
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 "%sthe breakpoints it needed were removed",
			 what[0] ? "; " : "");
	}
	/* What KVM holds now is c->good: record it all again. */
	c->set = c->good;
	c->force = true;
	dbg_settings_sync(d);
	for (int o = 0; o < VM_DBG_OWNER_MAX; o++) {
		if (!(owners & (1ULL << o)))
			continue;
		dbg_event_init(&ev, VM_EVENT_MESSAGE, vc->id, o);
		event_msg(&ev,
			  "vCPU %d: KVM refused the debug settings (%s): %s",
			  vc->id, strerror(-err), what[0] ? what : "undone");
		dbg_publish(d, &ev);
	}
	vitro_log("debug: vCPU %d: KVM refused the debugger's settings (%s): "
		  "%s; the VM is stopped",
		  vc->id, strerror(-err), what[0] ? what : "undone");
	dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
	event_msg(&ev, "KVM refused the debug settings: %s", strerror(-err));
	dbg_self_stop(d, vc, NULL, 0, &ev);
}

/* dbg_vcpu_ran() for a refusal or a first run under new settings. */
static __attribute__((noinline)) bool ran_slow(struct dbg_core *d,
					       struct vitro_vcpu *vc,
					       struct dbg_cpu *c, int r,
					       const struct vm_exit *vme)
{
	/*
	 * vmm put back the settings KVM last took, and no guest instruction
	 * ran: undo the core's record of the change and tell its owners.
	 */
	if (r == 0 && vme->exitcode == VM_EXITCODE_DEBUG_REFUSED) {
		/*
		 * Every one, not only the first: vmm is back on settings KVM
		 * took, so this cannot repeat without a new change, and a
		 * change swallowed here would leave the core's record wrong.
		 */
		pthread_mutex_lock(&d->lock);
		if (!d->ending) {
			refused(d, vc, vme->u.debug_refused.error);
			return true;
		}
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	if (r == 0) {
		/* Settings are applied before KVM_RUN, which this exit ran. */
		if (vme->exitcode != VM_EXITCODE_DEBUG &&
		    vme->exitcode != VM_EXITCODE_SUSPENDED &&
		    atomic_load(&c->unproven)) {
			pthread_mutex_lock(&d->lock);
			c->good = c->set;
			c->refused = false;
			atomic_store(&c->unproven, false);
			pthread_mutex_unlock(&d->lock);
		}
		if (vme->exitcode != VM_EXITCODE_MMIO &&
		    vme->exitcode != VM_EXITCODE_DEBUG)
			dbg_watch_rmw_release(d, vc->id);
		return false;
	}
	pthread_mutex_lock(&d->lock);
	if (!atomic_load(&c->unproven) || c->refused || d->ending) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	refused(d, vc, r);
	return true;
}

/*
 * After every VM_RUN.  The common exit (the settings are proven, nothing
 * refused) only notes the state and ends a locked instruction's hold on
 * a watched page (dbg_watch_rmw_release), and stays small: it runs on
 * every exit.
 */
bool dbg_vcpu_ran(struct dbg_core *d, struct vitro_vcpu *vc, int r,
		  const struct vm_exit *vme)
{
	struct dbg_cpu *c;

	if (!d)
		return false;
	c = cpu_of(d, vc->id);
	atomic_store_explicit(&c->state, VM_DBG_CPU_EXIT, memory_order_release);
	if (r != 0 || vme->exitcode == VM_EXITCODE_DEBUG_REFUSED ||
	    atomic_load(&c->unproven))
		return ran_slow(d, vc, c, r, vme);
	if (vme->exitcode != VM_EXITCODE_MMIO &&
	    vme->exitcode != VM_EXITCODE_DEBUG &&
	    atomic_load(&d->rmw_cpu) == vc->id)
		dbg_watch_rmw_release(d, vc->id);
	return false;
}
