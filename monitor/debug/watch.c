/*
 * watch.c: watchpoints by page protection, for the debug core.
 *
 * Debug registers do not fire on every KVM (never on this project's
 * software KVM), so a watched page is protected instead: read-only for
 * write watchpoints, inaccessible for read and access watchpoints
 * (VM_PROTECT_GPA).  Every guest access that the protection stops exits
 * as MMIO; vitro performs it on guest memory and stops when it touches a
 * watched range.  There is no limit of four; vmm's protection table
 * bounds the pages.
 *
 * Keeping the guest's semantics.  The access vitro performs must be the
 * one the instruction would have made:
 * - its width, and one atomic access where the guest's would be: an
 *   aligned 2, 4 or 8 bytes is one __atomic load or store, and any access
 *   within one aligned 8-byte word is a compare-and-swap of that word, so
 *   another vCPU never sees half of it (x86 makes such accesses atomic);
 *   an access that crosses an 8-byte boundary is copied bytewise, as the
 *   CPU may split it too (KVM already splits one that crosses a page).
 * - a locked read-modify-write (lock add, xchg, cmpxchg, xadd...) must
 *   stay atomic against every other vCPU.  KVM emulates it in pieces:
 *   - on a read-only page (write watchpoints) the read is native and only
 *     the write exits: KVM reads memory itself, computes, and, unable to
 *     do a locked exchange on an MMIO page, sends the result as a plain
 *     write ("emulating exchange as write").  vitro never sees the read,
 *     so a store another vCPU made between KVM's read and vitro's write
 *     (through vitro, since that vCPU's write exits too) is lost: the
 *     instruction is not atomic there.  This cannot be repaired without
 *     seeing the read; vitro says so once, when a write watchpoint is set
 *     on a VM with more than one vCPU (log line, vitro.8), and an access
 *     watchpoint on the same data keeps it atomic.
 *   - on an inaccessible page (read and access watchpoints) both the read
 *     and the write exit.  At the read exit vitro decodes the instruction
 *     at rip (its prefixes: LOCK 0xF0, or XCHG 0x86/0x87 with a memory
 *     operand, which is locked without a prefix) and, for a locked one,
 *     takes the RMW slot (d->rmw_cpu) until that vCPU's next exit: the
 *     write, which KVM sends in the very next KVM_RUN, before any guest
 *     instruction (it completes the emulated instruction first).  Every
 *     other vCPU's access to a watched page waits for the slot, so the
 *     read, the computation and the write are one atomic step for every
 *     access that goes through vitro, and on such a page they all do.
 *     If the next exit is not the write (a stop came first), the slot is
 *     kept until it is: a waiting vCPU that is asked to stop parks where
 *     it waits, so stops still complete.
 * - an instruction fetch from an inaccessible page cannot be emulated:
 *   KVM reports an emulation failure, which stops the VM in the debugger
 *   with a message naming the page and the watchpoint (dbg_watch_fetch)
 *   instead of ending it.  Pages the CPU reads by itself (GDT, IDT, TSS,
 *   running code, page tables) are refused for read watchpoints.
 *
 * A read or write exit that hits watchpoints holds every vCPU and keeps
 * the hits (dbg_self_stop_after): the vCPU goes back to vm_run, vmm
 * finishes the instruction before the DEBUG exit, and the hits are
 * published then, with rip past the access and a read's value in its
 * register.  For a locked read-modify-write on an inaccessible page,
 * access watchpoints report at the write only, so the instruction stops
 * once.
 *
 * Locking: d->lock (debug_int.h); the RMW slot is an atomic so that the
 * vCPU that holds it can tell without the lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/debug/debug_int.h"
#include "monitor/vitro.h"

#define PAGE 4096ULL
#define PAGE_OF(a) ((a) & ~(PAGE - 1))

/* How the watchpoints on page pg protect it: VM_PROT_* for the guest. */
static int page_prot(struct dbg_core *d, uint64_t pg)
{
	int prot = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC;

	for (int i = 0; i < DBG_MAX_WATCH; i++) {
		const struct dbg_watch *w = &d->watch[i];

		if (!w->used)
			continue;
		for (int j = 0; j < w->npieces; j++) {
			uint64_t a = w->piece[j].gpa;

			if (a >= pg + PAGE || a + w->piece[j].len <= pg)
				continue;
			if (w->type == VM_DBG_WP_WRITE)
				prot &= ~VM_PROT_WRITE;
			else
				prot = 0;
		}
	}
	return prot;
}

/* Protect the pages of [gpa, gpa+len) as their watchpoints need. */
static int reprotect(struct dbg_core *d, uint64_t gpa, uint64_t len)
{
	int r = 0;

	for (uint64_t pg = PAGE_OF(gpa); pg <= PAGE_OF(gpa + len - 1) && !r;
	     pg += PAGE) {
		int prot = page_prot(d, pg);

		r = vm_protect_gpa(d->vm->ctx, pg, PAGE, prot);
		if (r == 0 &&
		    prot == (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC))
			d->unwatched[d->nunwatched++ % 16] = pg;
	}
	return r;
}

/* Whether a guest access at gpa is the core's to perform. */
static bool page_ours(struct dbg_core *d, uint64_t gpa)
{
	uint64_t pg = PAGE_OF(gpa);
	unsigned int n = d->nunwatched < 16 ? d->nunwatched : 16;

	if (page_prot(d, pg) != (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC))
		return true;
	/* An exit from before the page was given back is still memory. */
	for (unsigned int i = 0; i < n; i++) {
		if (d->unwatched[i] == pg)
			return true;
	}
	return false;
}

/* Whether linear [a, a+len) as vCPU v's paging maps it touches page pg. */
static bool range_on_page(struct vcpu *v, uint64_t a, uint64_t len, uint64_t pg)
{
	for (uint64_t off = 0; off < len + (a & (PAGE - 1)); off += PAGE) {
		uint64_t gpa;

		if (dbg_translate(v, PAGE_OF(a) + off, VM_PROT_READ, &gpa) ==
			    0 &&
		    PAGE_OF(gpa) == pg)
			return true;
	}
	return false;
}

/*
 * A read or access watchpoint makes its page inaccessible: the guest's
 * own accesses exit and vitro performs them, but the CPU's accesses while
 * it delivers an interrupt or walks page tables, and instruction fetches,
 * cannot be performed for it, and the guest would fault.  Refuse a page
 * that holds a stopped vCPU's GDT, IDT, TSS or current code, or a page
 * table translating the watched address; -EPERM, with a log line.
 */
static int page_is_cpus_own(struct dbg_core *d, int cpuid, uint64_t addr,
			    uint64_t gpa)
{
	static const int regs[] = {
		VM_REG_GUEST_GDTR_BASE, VM_REG_GUEST_GDTR_LIMIT,
		VM_REG_GUEST_IDTR_BASE, VM_REG_GUEST_IDTR_LIMIT,
		VM_REG_GUEST_TR_BASE,	VM_REG_GUEST_TR_LIMIT,
		VM_REG_GUEST_CS_BASE,	VM_REG_GUEST_RIP,
		VM_REG_GUEST_CR3,
	};
	static const char *const what[] = { "GDT", "IDT", "TSS", "code" };
	uint64_t pg = PAGE_OF(gpa);
	struct vm_gla2gpa w = { .cpuid = cpuid,
				.use_current = true,
				.gla = addr,
				.prot = VM_PROT_READ };
	uint64_t cr3 = 0;

	for (unsigned int i = 0; i < d->ncpus; i++) {
		struct vcpu *v = dbg_vcpu(d, i);
		uint64_t r[9];

		/* A vCPU that did not stop in time cannot be read. */
		if (!d->cpu[i].parked &&
		    atomic_load(&d->cpu[i].state) != VM_DBG_CPU_IDLE)
			continue;
		if (vm_get_register_set(v, 9, regs, r) < 0)
			continue;
		if ((int)i == cpuid)
			cr3 = r[8];
		for (int k = 0; k < 4; k++) {
			uint64_t base = r[2 * k], len = r[2 * k + 1] + 1;

			if (k == 3) {
				base += r[7];
				len = 16; /* an instruction, at most */
			}
			if (!range_on_page(v, base, len, pg))
				continue;
			vitro_log(
				"debug: no read watchpoint at %#llx: its page "
				"holds vCPU %u's %s, which the CPU must read "
				"itself",
				(unsigned long long)addr, i, what[k]);
			return -EPERM;
		}
	}
	/* The tables translating addr: the first from CR3, then each entry. */
	if (vm_gla2gpa_walk(dbg_vcpu(d, cpuid), &w, true) == 0) {
		for (int l = 0; l < w.levels; l++) {
			uint64_t table =
				l ? w.pte[l - 1] & 0x000ffffffffff000ULL :
				    PAGE_OF(cr3);

			if (table == pg) {
				vitro_log("debug: no read watchpoint at %#llx: "
					  "its page holds a page table the CPU "
					  "walks to reach it",
					  (unsigned long long)addr);
				return -EPERM;
			}
		}
	}
	return 0;
}

static struct dbg_watch *watch_find(struct dbg_core *d, uint8_t type,
				    uint64_t addr, uint64_t len,
				    uint64_t owner_bit)
{
	for (int i = 0; i < DBG_MAX_WATCH; i++) {
		struct dbg_watch *w = &d->watch[i];

		if (w->used && w->type == type && w->addr == addr &&
		    w->len == len && (!owner_bit || (w->owners & owner_bit)))
			return w;
	}
	return NULL;
}

static void reprotect_watch(struct dbg_core *d, const struct dbg_watch *w)
{
	for (int j = 0; j < w->npieces; j++)
		reprotect(d, w->piece[j].gpa, w->piece[j].len);
}

static int watch_insert(struct dbg_core *d, int owner, uint8_t type,
			uint64_t addr, uint64_t len, int cpuid)
{
	struct dbg_watch w = { .used = true,
			       .type = type,
			       .addr = addr,
			       .len = len,
			       .owners = 1ULL << owner },
			 *slot = NULL, *old;
	struct vcpu *v = dbg_vcpu(d, cpuid);
	uint64_t done = 0;
	int r;

	if (len == 0 || len > PAGE || addr + len < addr)
		return -EINVAL;
	if ((old = watch_find(d, type, addr, len, 0))) {
		old->owners |= w.owners;
		return 0;
	}
	for (int i = 0; i < DBG_MAX_WATCH && !slot; i++) {
		if (!d->watch[i].used)
			slot = &d->watch[i];
	}
	if (!slot)
		return -ENOSPC;
	/* A range within two pages: each may map anywhere. */
	while (done < len) {
		uint64_t a = addr + done, gpa;
		uint64_t n = PAGE - (a & (PAGE - 1));

		if (n > len - done)
			n = len - done;
		if ((r = dbg_translate(v, a, VM_PROT_READ, &gpa)) < 0)
			return r;
		if (!vm_map_gpa(d->vm->ctx, gpa, n))
			return -EINVAL; /* not memory: nothing to protect */
		w.piece[w.npieces].gpa = gpa;
		w.piece[w.npieces].len = n;
		w.piece[w.npieces].addr = a;
		w.npieces++;
		done += n;
	}
	if (type != VM_DBG_WP_WRITE) {
		for (int j = 0; j < w.npieces; j++) {
			if ((r = page_is_cpus_own(d, cpuid, w.piece[j].addr,
						  w.piece[j].gpa)) < 0)
				return r;
		}
	}
	*slot = w;
	for (int j = 0; j < w.npieces; j++) {
		if ((r = reprotect(d, w.piece[j].gpa, w.piece[j].len)) < 0) {
			/* Refused: leave the pages as they were. */
			slot->used = false;
			reprotect_watch(d, &w);
			return r;
		}
	}
	if (type == VM_DBG_WP_WRITE && d->ncpus > 1 && !d->rmw_warned) {
		d->rmw_warned = true;
		vitro_log(
			"debug: a write watchpoint leaves its page readable, "
			"so KVM reads natively and only writes exit: a locked "
			"read-modify-write there (lock add, xchg, cmpxchg) is "
			"not atomic across vCPUs while it is set; an access "
			"watchpoint (awatch) keeps it atomic");
	}
	return 0;
}

static int watch_remove(struct dbg_core *d, int owner, uint8_t type,
			uint64_t addr, uint64_t len)
{
	uint64_t bit = 1ULL << owner;
	struct dbg_watch *w = watch_find(d, type, addr, len, bit), saved;
	int r = 0;

	if (!w)
		return -ENOENT;
	if (w->owners != bit) {
		w->owners &= ~bit;
		return 0;
	}
	saved = *w;
	w->used = false;
	for (int j = 0; j < saved.npieces; j++) {
		int r2 = reprotect(d, saved.piece[j].gpa, saved.piece[j].len);

		if (r2 < 0 && r == 0)
			r = r2;
	}
	return r;
}

int dbg_watch_change(struct dbg_core *d, int owner, bool insert,
		     enum vm_dbg_bp_type type, uint64_t addr, uint64_t len,
		     int cpuid)
{
	if (type < VM_DBG_WP_WRITE || type > VM_DBG_WP_ACCESS)
		return -EOPNOTSUPP;
	return insert ? watch_insert(d, owner, type, addr, len, cpuid) :
			watch_remove(d, owner, type, addr, len);
}

void dbg_watch_owner_free(struct dbg_core *d, int owner)
{
	uint64_t bit = 1ULL << owner;

	for (int i = 0; i < DBG_MAX_WATCH; i++) {
		struct dbg_watch *w = &d->watch[i];

		if (!w->used || !(w->owners & bit))
			continue;
		w->owners &= ~bit;
		if (!w->owners) {
			w->used = false;
			reprotect_watch(d, w);
		}
	}
}

/* The RMW slot. */

void dbg_watch_rmw_release(struct dbg_core *d, int id)
{
	if (atomic_load(&d->rmw_cpu) != id)
		return;
	pthread_mutex_lock(&d->lock);
	if (atomic_load(&d->rmw_cpu) == id) {
		atomic_store(&d->rmw_cpu, -1);
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
}

/*
 * Whether the instruction at the vCPU's rip is a locked read-modify-write:
 * a LOCK prefix among its legacy prefixes, or XCHG with a memory operand.
 */
static bool insn_locked(struct vcpu *v)
{
	uint8_t b[15];
	uint64_t pc;
	ssize_t n;
	int i;

	if (dbg_pc(v, &pc) < 0 || (n = vm_copyin(v, pc, b, sizeof(b))) <= 0)
		return false;
	for (i = 0; i < n; i++) {
		switch (b[i]) {
		case 0xf0:
			return true;
		case 0xf2:
		case 0xf3:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x26:
		case 0x64:
		case 0x65:
		case 0x66:
		case 0x67:
			continue;
		}
		break;
	}
	/* A REX prefix (long mode; in other modes 0x4x is inc/dec, no RMW). */
	if (i < n && (b[i] & 0xf0) == 0x40)
		i++;
	return i + 1 < n && (b[i] == 0x86 || b[i] == 0x87) &&
	       (b[i + 1] >> 6) != 3;
}

/* One access of n bytes at p, as the guest's instruction would make it. */
static void mem_access(uint8_t *p, unsigned int n, bool write, uint8_t *data)
{
	uintptr_t a = (uintptr_t)p;

	if (n == 1) {
		if (write)
			__atomic_store_n(p, data[0], __ATOMIC_SEQ_CST);
		else
			data[0] = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	} else if (n == 2 && !(a & 1)) {
		uint16_t v;

		if (write) {
			memcpy(&v, data, 2);
			__atomic_store_n((uint16_t *)p, v, __ATOMIC_SEQ_CST);
		} else {
			v = __atomic_load_n((uint16_t *)p, __ATOMIC_SEQ_CST);
			memcpy(data, &v, 2);
		}
	} else if (n == 4 && !(a & 3)) {
		uint32_t v;

		if (write) {
			memcpy(&v, data, 4);
			__atomic_store_n((uint32_t *)p, v, __ATOMIC_SEQ_CST);
		} else {
			v = __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
			memcpy(data, &v, 4);
		}
	} else if (n == 8 && !(a & 7)) {
		uint64_t v;

		if (write) {
			memcpy(&v, data, 8);
			__atomic_store_n((uint64_t *)p, v, __ATOMIC_SEQ_CST);
		} else {
			v = __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
			memcpy(data, &v, 8);
		}
	} else if ((a & ~7ULL) == ((a + n - 1) & ~7ULL)) {
		/* Within one aligned word: all of it at once. */
		uint64_t *wp = (uint64_t *)(a & ~7ULL);
		unsigned int off = a & 7;
		uint64_t old = __atomic_load_n(wp, __ATOMIC_SEQ_CST), nw;

		if (!write) {
			memcpy(data, (uint8_t *)&old + off, n);
			return;
		}
		do {
			nw = old;
			memcpy((uint8_t *)&nw + off, data, n);
		} while (!__atomic_compare_exchange_n(wp, &old, nw, false,
						      __ATOMIC_SEQ_CST,
						      __ATOMIC_SEQ_CST));
	} else if (write) {
		memcpy(p, data, n);
	} else {
		memcpy(data, p, n);
	}
}

/* The watchpoints an access hits, as events. */
static int watch_hits(struct dbg_core *d, int cpuid, uint64_t gpa,
		      unsigned int n, bool write, bool rmw_read,
		      struct vm_event *evs, int max)
{
	int k = 0;

	for (int i = 0; i < DBG_MAX_WATCH && k < max; i++) {
		const struct dbg_watch *w = &d->watch[i];

		if (!w->used || (w->type == VM_DBG_WP_WRITE && !write) ||
		    (w->type == VM_DBG_WP_READ && write) ||
		    (w->type == VM_DBG_WP_ACCESS && rmw_read))
			continue;
		for (int j = 0; j < w->npieces; j++) {
			uint64_t a = w->piece[j].gpa, l = w->piece[j].len;

			if (gpa >= a + l || a >= gpa + n)
				continue;
			dbg_event_init(&evs[k], VM_EVENT_WATCHPOINT, cpuid, -1);
			evs[k].addr =
				w->piece[j].addr + (gpa > a ? gpa - a : 0);
			evs[k].owners = w->owners;
			evs[k].kind = w->type;
			k++;
			break;
		}
	}
	return k;
}

bool dbg_vcpu_memory_access(struct dbg_core *d, struct vitro_vcpu *vc,
			    const struct vm_exit *vme)
{
	uint64_t gpa = vme->u.mmio.gpa;
	unsigned int n = vme->u.mmio.bytes;
	bool write = vme->u.mmio.write, rmw_read = false;
	struct dbg_cpu *c = &d->cpu[vc->id];
	struct vm_event evs[16], ev;
	uint8_t *p;
	int k;

	if (n == 0 || n > 8)
		return false;
	pthread_mutex_lock(&d->lock);
	if (!page_ours(d, gpa) && atomic_load(&d->rmw_cpu) != vc->id) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	if (!(p = vm_map_gpa(d->vm->ctx, gpa, n))) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	/* Wait for a locked instruction of another vCPU to finish. */
	while (atomic_load(&d->rmw_cpu) >= 0 &&
	       atomic_load(&d->rmw_cpu) != vc->id && !d->ending) {
		if (c->hold)
			dbg_park_locked(d, vc); /* a stop: park while waiting */
		else
			pthread_cond_wait(&d->cond, &d->lock);
	}
	if (!write && atomic_load(&d->rmw_cpu) < 0 && !d->ending &&
	    insn_locked(vc->vcpu)) {
		atomic_store(&d->rmw_cpu, vc->id);
		rmw_read = true;
	}
	mem_access(p, n, write, vme->u.mmio.data);
	k = watch_hits(d, vc->id, gpa, n, write, rmw_read, evs, 16);
	if (write && atomic_load(&d->rmw_cpu) == vc->id) {
		atomic_store(&d->rmw_cpu, -1);
		pthread_cond_broadcast(&d->cond);
	}
	if (k == 0) {
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
	dbg_self_stop_after(d, vc, evs, k, &ev);
	return true;
}

bool dbg_watch_fetch(struct dbg_core *d, struct vitro_vcpu *vc,
		     const struct vm_exit *vme)
{
	uint64_t pc, gpa, pg = 0;
	const struct dbg_watch *hit = NULL;
	struct vm_event ev;
	int k;

	if (dbg_pc(vc->vcpu, &pc) < 0)
		return false;
	pthread_mutex_lock(&d->lock);
	/* The instruction's first byte, and its last if on the next page. */
	for (k = 0; k < 2 && !hit; k++) {
		uint64_t a = k ? pc + VM_EXIT_INST_BYTES - 1 : pc;

		if (dbg_translate(vc->vcpu, a, VM_PROT_EXEC, &gpa) < 0 ||
		    page_prot(d, PAGE_OF(gpa)) != 0)
			continue;
		pg = PAGE_OF(gpa);
		for (int i = 0; i < DBG_MAX_WATCH && !hit; i++) {
			const struct dbg_watch *w = &d->watch[i];

			for (int j = 0; w->used && j < w->npieces; j++) {
				if (w->type != VM_DBG_WP_WRITE &&
				    PAGE_OF(w->piece[j].gpa) == pg)
					hit = w;
			}
		}
	}
	if (!hit) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	dbg_event_init(&ev, VM_EVENT_STOP, vc->id, -1);
	ev.addr = pc;
	snprintf(ev.msg, sizeof(ev.msg),
		 "fetch at %#llx from page %#llx, inaccessible for the %s "
		 "watchpoint at %#llx",
		 (unsigned long long)pc, (unsigned long long)pg,
		 hit->type == VM_DBG_WP_READ ? "read" : "access",
		 (unsigned long long)hit->addr);
	vitro_log("debug: vCPU %d fetched an instruction at %#llx from "
		  "guest-physical page %#llx, which the %s watchpoint at %#llx "
		  "(%llu bytes) makes inaccessible; the VM is stopped: remove "
		  "the watchpoint to go on",
		  vc->id, (unsigned long long)pc, (unsigned long long)pg,
		  hit->type == VM_DBG_WP_READ ? "read" : "access",
		  (unsigned long long)hit->addr, (unsigned long long)hit->len);
	dbg_self_stop(d, vc, NULL, 0, &ev);
	return true;
}
