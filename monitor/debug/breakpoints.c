/*
 * breakpoints.c: execution breakpoints for the debug core: int3
 * instructions planted in guest memory, or debug-register slots, each
 * owned by a set of owners (debug.h, "Owners").
 *
 * How a software breakpoint traps depends on the host's KVM (probe.c): an
 * int3 intercepted by KVM (VM_CAP_BPT_EXIT on every vCPU while one is
 * planted), an int3 that KVM cannot emulate (the emulation failure is the
 * trap), or, failing both, a debug-register slot.  Hardware breakpoints
 * always take a slot; two breakpoints at one linear address share it.
 *
 * An int3 lives at a guest-physical address, found through the paging of
 * the vCPU the owner selected; two breakpoints at one physical address
 * (two linear aliases) share the int3 and the byte under it.  The int3 is
 * in memory while some breakpoint wants it and no vCPU has lifted it to
 * step over it; the byte under it comes back otherwise.  A vCPU that hits
 * an int3 that went away meanwhile finds the real byte there and runs it
 * again (core.c), so planting and removing need no stop for correctness;
 * the core makes changes under a short stop all the same, so that the
 * capabilities reach vCPUs that would otherwise stay in the guest.
 *
 * Locking: every function here runs with d->lock held (debug_int.h).
 */
#include <errno.h>
#include <string.h>

#include "monitor/debug/debug_int.h"
#include "monitor/vitro.h"

/* Whether a breakpoint wants an int3 at gpa. */
static bool int3_at(struct dbg_core *d, uint64_t gpa)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		const struct dbg_bp *b = &d->bp[k];

		if (b->used && b->how == DBG_HOW_INT3 && b->gpa == gpa)
			return true;
	}
	return false;
}

/* Whether an int3 belongs at gpa now: wanted, and lifted by no vCPU. */
static bool int3_wanted(struct dbg_core *d, uint64_t gpa)
{
	bool any = int3_at(d, gpa);

	for (unsigned int i = 0; any && i < d->ncpus; i++) {
		if (d->cpu[i].lift_int3 && d->cpu[i].lift_gpa == gpa)
			return false;
	}
	return any;
}

/* Put the int3 at gpa in or out of memory, orig being the byte under it. */
static void int3_sync(struct dbg_core *d, uint64_t gpa, uint8_t orig)
{
	uint8_t *p = vm_map_gpa(d->vm->ctx, gpa, 1);

	if (!p)
		return;
	/* One byte, one store: a vCPU sees either the int3 or the byte. */
	__atomic_store_n(p, int3_wanted(d, gpa) ? DBG_INT3 : orig,
			 __ATOMIC_SEQ_CST);
}

static int int3_orig(struct dbg_core *d, uint64_t gpa, uint8_t *orig)
{
	uint8_t *p;

	for (int k = 0; k < DBG_MAX_BP; k++) {
		const struct dbg_bp *b = &d->bp[k];

		if (b->used && b->how == DBG_HOW_INT3 && b->gpa == gpa) {
			*orig = b->orig;
			return 0;
		}
	}
	if (!(p = vm_map_gpa(d->vm->ctx, gpa, 1)))
		return -EFAULT; /* not memory: nothing to plant in */
	*orig = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	return 0;
}

static bool any_int3(struct dbg_core *d)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		if (d->bp[k].used && d->bp[k].how == DBG_HOW_INT3)
			return true;
	}
	return false;
}

void dbg_bp_settings(struct dbg_core *d, int i, struct dbg_settings *s)
{
	const struct dbg_cpu *c = &d->cpu[i];

	s->bpt = d->host_known && d->host.bp_mode == DBG_BP_INT3_EXIT &&
		 any_int3(d);
	s->hw = false;
	s->dr7 = 0;
	memset(s->dr, 0, sizeof(s->dr));
	for (int k = 0; k < DBG_NDR; k++) {
		if (!d->dr[k].users || (c->lift_dr & (1u << k)))
			continue;
		s->dr[k] = d->dr[k].addr;
		/* G(k); R/W and LEN 0: an execution breakpoint. */
		s->dr7 |= 2ULL << (2 * k);
		s->hw = true;
	}
}

static int slot_get(struct dbg_core *d, uint64_t addr)
{
	int free_slot = -1;

	for (int k = 0; k < DBG_NDR; k++) {
		if (d->dr[k].users && d->dr[k].addr == addr)
			return k;
		if (!d->dr[k].users && free_slot < 0)
			free_slot = k;
	}
	return free_slot < 0 ? -ENOSPC : free_slot;
}

/* Take entry b out (owners gone), fixing memory; settings are the caller's. */
static void bp_drop(struct dbg_core *d, struct dbg_bp *b)
{
	b->used = false;
	b->owners = 0;
	if (b->how == DBG_HOW_INT3)
		int3_sync(d, b->gpa, b->orig);
	else if (d->dr[b->slot].users > 0)
		d->dr[b->slot].users--;
}

static struct dbg_bp *bp_find(struct dbg_core *d, uint8_t type, uint8_t how,
			      uint64_t addr, uint64_t gpa, uint64_t owner_bit)
{
	struct dbg_bp *any = NULL;

	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *b = &d->bp[k];

		if (!b->used || b->type != type || b->how != how ||
		    b->addr != addr || (owner_bit && !(b->owners & owner_bit)))
			continue;
		if (how == DBG_HOW_DR || b->gpa == gpa)
			return b;
		any = b;
	}
	/* Removing, with the mapping changed since: the owner's anyway. */
	return owner_bit ? any : NULL;
}

static int bp_insert(struct dbg_core *d, int owner, uint8_t type, uint8_t how,
		     uint64_t addr, int cpuid)
{
	uint64_t bit = 1ULL << owner, gpa = 0;
	struct dbg_bp *b, *slot = NULL;
	uint8_t orig = 0;
	int r, dr = -1;

	if (how == DBG_HOW_INT3) {
		if ((r = dbg_translate(dbg_vcpu(d, cpuid), addr, VM_PROT_EXEC,
				       &gpa)) < 0)
			return r;
		if ((r = int3_orig(d, gpa, &orig)) < 0)
			return r;
	}
	if ((b = bp_find(d, type, how, addr, gpa, 0))) {
		b->owners |= bit;
		return 0;
	}
	for (int k = 0; k < DBG_MAX_BP && !slot; k++) {
		if (!d->bp[k].used)
			slot = &d->bp[k];
	}
	if (!slot)
		return -ENOSPC;
	if (how == DBG_HOW_DR && (dr = slot_get(d, addr)) < 0)
		return dr;
	*slot = (struct dbg_bp){ .used = true,
				 .type = type,
				 .how = how,
				 .slot = (int8_t)dr,
				 .addr = addr,
				 .gpa = gpa,
				 .orig = orig,
				 .owners = bit };
	if (how == DBG_HOW_DR) {
		d->dr[dr].users++;
		d->dr[dr].addr = addr;
	}
	if ((r = dbg_settings_sync(d)) < 0) {
		/* Refused: every vCPU back as it was, nothing planted. */
		slot->used = false;
		if (how == DBG_HOW_DR)
			d->dr[dr].users--;
		dbg_settings_sync(d);
		return r;
	}
	if (how == DBG_HOW_INT3)
		int3_sync(d, gpa, orig);
	return 0;
}

static int bp_remove(struct dbg_core *d, int owner, uint8_t type, uint8_t how,
		     uint64_t addr, int cpuid)
{
	uint64_t bit = 1ULL << owner, gpa = ~0ULL;
	struct dbg_bp *b, saved;
	int r;

	if (how == DBG_HOW_INT3)
		dbg_translate(dbg_vcpu(d, cpuid), addr, VM_PROT_EXEC, &gpa);
	if (!(b = bp_find(d, type, how, addr, gpa, bit)))
		return -ENOENT;
	if (b->owners != bit) {
		b->owners &= ~bit; /* another owner keeps it */
		return 0;
	}
	saved = *b;
	bp_drop(d, b);
	if ((r = dbg_settings_sync(d)) < 0) {
		*b = saved;
		if (b->how == DBG_HOW_DR)
			d->dr[b->slot].users++;
		else
			int3_sync(d, b->gpa, b->orig);
		dbg_settings_sync(d);
	}
	return r;
}

int dbg_bp_change(struct dbg_core *d, int owner, bool insert,
		  enum vm_dbg_bp_type type, uint64_t addr, int cpuid)
{
	uint8_t how = DBG_HOW_DR;

	if (type == VM_DBG_BP_SW && d->host_known &&
	    d->host.bp_mode != DBG_BP_DEBUGREG)
		how = DBG_HOW_INT3;
	return insert ? bp_insert(d, owner, type, how, addr, cpuid) :
			bp_remove(d, owner, type, how, addr, cpuid);
}

static void hit_event(struct vm_event *ev, int cpuid, const struct dbg_bp *b,
		      uint64_t addr)
{
	dbg_event_init(ev, VM_EVENT_BREAKPOINT, cpuid, -1);
	ev->addr = addr;
	ev->owners = b->owners;
	ev->kind = b->type;
}

int dbg_bp_int3_hits(struct dbg_core *d, int cpuid, uint64_t gpa, uint64_t pc,
		     struct vm_event *evs, int max)
{
	int n = 0;

	for (int k = 0; k < DBG_MAX_BP && n < max; k++) {
		const struct dbg_bp *b = &d->bp[k];

		if (b->used && b->how == DBG_HOW_INT3 && b->gpa == gpa)
			hit_event(&evs[n++], cpuid, b, pc);
	}
	return n;
}

int dbg_bp_dr_hits(struct dbg_core *d, int cpuid, unsigned int slots,
		   struct vm_event *evs, int max)
{
	int n = 0;

	for (int k = 0; k < DBG_MAX_BP && n < max; k++) {
		const struct dbg_bp *b = &d->bp[k];

		if (b->used && b->how == DBG_HOW_DR &&
		    (slots & (1u << b->slot)))
			hit_event(&evs[n++], cpuid, b, b->addr);
	}
	return n;
}

bool dbg_bp_exec_at(struct dbg_core *d, uint64_t pc, uint64_t gpa)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		const struct dbg_bp *b = &d->bp[k];

		if (b->used && ((b->how == DBG_HOW_INT3 && b->gpa == gpa) ||
				(b->how == DBG_HOW_DR && b->addr == pc)))
			return true;
	}
	return false;
}

bool dbg_bp_any(struct dbg_core *d)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		if (d->bp[k].used)
			return true;
	}
	return false;
}

void dbg_bp_lift(struct dbg_core *d, int i, uint64_t pc, uint64_t gpa)
{
	struct dbg_cpu *c = &d->cpu[i];
	uint8_t orig;

	c->lift_dr = 0;
	for (int k = 0; k < DBG_NDR; k++) {
		if (d->dr[k].users && d->dr[k].addr == pc)
			c->lift_dr |= 1u << k;
	}
	c->lift_int3 = false;
	if (int3_at(d, gpa) && int3_orig(d, gpa, &orig) == 0) {
		c->lift_int3 = true;
		c->lift_gpa = gpa;
		int3_sync(d, gpa, orig);
	}
}

void dbg_bp_unlift(struct dbg_core *d, int i)
{
	struct dbg_cpu *c = &d->cpu[i];
	uint8_t orig;

	c->lift_dr = 0;
	if (!c->lift_int3)
		return;
	c->lift_int3 = false;
	if (int3_orig(d, c->lift_gpa, &orig) == 0)
		int3_sync(d, c->lift_gpa, orig);
}

void dbg_bp_drop_refused(struct dbg_core *d, int i, uint64_t *owners)
{
	const struct dbg_cpu *c = &d->cpu[i];
	bool int3s = c->set.bpt && !c->good.bpt;
	unsigned int slots = 0;

	for (int k = 0; k < DBG_NDR; k++) {
		uint64_t en = 3ULL << (2 * k);

		if ((c->set.dr7 & en) && c->set.hw &&
		    (!c->good.hw || !(c->good.dr7 & en) ||
		     c->good.dr[k] != c->set.dr[k]))
			slots |= 1u << k;
	}
	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *b = &d->bp[k];

		if (!b->used ||
		    !((b->how == DBG_HOW_INT3 && int3s) ||
		      (b->how == DBG_HOW_DR && (slots & (1u << b->slot)))))
			continue;
		*owners |= b->owners;
		bp_drop(d, b);
	}
}

void dbg_bp_owner_free(struct dbg_core *d, int owner)
{
	uint64_t bit = 1ULL << owner;
	bool changed = false;
	int r;

	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *b = &d->bp[k];

		if (!b->used || !(b->owners & bit))
			continue;
		b->owners &= ~bit;
		if (!b->owners) {
			bp_drop(d, b);
			changed = true;
		}
	}
	if (changed && (r = dbg_settings_sync(d)) < 0)
		vitro_log("debug: the breakpoints of owner %d are gone, but a "
			  "vCPU's settings could not follow: %s",
			  owner, strerror(-r));
}

bool dbg_mem_shadowed(struct dbg_core *d)
{
	bool r;

	pthread_mutex_lock(&d->lock);
	r = any_int3(d);
	pthread_mutex_unlock(&d->lock);
	return r;
}

void dbg_mem_shadow(struct dbg_core *d, uint64_t gpa, void *buf, size_t len,
		    bool write)
{
	uint8_t *b = buf;

	pthread_mutex_lock(&d->lock);
	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *bp = &d->bp[k];
		uint64_t off = bp->gpa - gpa;

		if (!bp->used || bp->how != DBG_HOW_INT3 || bp->gpa < gpa ||
		    off >= len)
			continue;
		if (!write) {
			if (int3_wanted(d, bp->gpa))
				b[off] = bp->orig;
			continue;
		}
		/* Every breakpoint at this gpa keeps the new byte under it. */
		for (int j = 0; j < DBG_MAX_BP; j++) {
			if (d->bp[j].used && d->bp[j].how == DBG_HOW_INT3 &&
			    d->bp[j].gpa == bp->gpa)
				d->bp[j].orig = b[off];
		}
		int3_sync(d, bp->gpa, b[off]);
	}
	pthread_mutex_unlock(&d->lock);
}
