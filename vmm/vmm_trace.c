/*
 * vmm_trace.c: VM-exit trace rings (VM_TRACE_START, _STOP, _READ in
 * vmm_dev.h; the record in libvmmapi/vm_trace.h).
 *
 * Each vCPU has at most one ring, a single-producer single-consumer queue
 * of fixed slots (a record and room for its stack): the vCPU's thread
 * produces, the one consumer thread (the monitor's tracer) takes.  head
 * and tail count slots; the producer publishes a slot with a release
 * store of head, the consumer frees slots with a release store of tail.
 *
 * A record is filled in the vCPU's own struct when KVM_RUN returns
 * (vmm_trace_exit) and pushed to the ring when the vCPU goes back
 * (vmm_trace_entry), so the ring is touched only for that short push.
 * The push holds ring_busy; START and STOP swap the ring pointer and then
 * wait for ring_busy to clear before freeing the old ring.  Both sides
 * use sequentially consistent operations on the pointer and the flag, so
 * either the producer sees the new pointer or the swapper sees it busy.
 *
 * vm->trace (the configuration) is guarded by vm->lock; rings of vCPUs
 * created later are made from it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/vmm_paging.h"
#include "vmm/vmm_priv.h"

_Static_assert(VM_TRACE_KVM_EXIT_IO == KVM_EXIT_IO &&
		       VM_TRACE_KVM_EXIT_HLT == KVM_EXIT_HLT &&
		       VM_TRACE_KVM_EXIT_MMIO == KVM_EXIT_MMIO &&
		       VM_TRACE_KVM_EXIT_INTR == KVM_EXIT_INTR &&
		       VM_TRACE_KVM_EXIT_X86_RDMSR == KVM_EXIT_X86_RDMSR &&
		       VM_TRACE_KVM_EXIT_X86_WRMSR == KVM_EXIT_X86_WRMSR,
	       "vm_trace.h's KVM exit numbers are KVM's");

struct vmm_trace_ring {
	uint32_t mask; /* slots - 1 */
	uint32_t stride; /* bytes per slot */
	_Atomic uint64_t head; /* slots produced */
	_Atomic uint64_t tail; /* slots consumed */
	_Atomic uint64_t dropped;
	uint8_t buf[]; /* slots */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct vmm_trace_ring *ring_new(uint32_t records, uint32_t stack)
{
	struct vmm_trace_ring *r;
	uint32_t n = 1, stride;

	while (n < records)
		n <<= 1;
	stride = sizeof(struct vm_trace_rec) + stack * sizeof(uint64_t);
	r = calloc(1, sizeof(*r) + (size_t)n * stride);
	if (!r)
		return NULL;
	r->mask = n - 1;
	r->stride = stride;
	return r;
}

/* Swap a vCPU's ring; the old one is freed once no push uses it. */
static void ring_swap(struct vmm_vcpu *v, struct vmm_trace_ring *nr)
{
	struct vmm_trace_ring *old = atomic_exchange(&v->ring, nr);

	while (atomic_load(&v->ring_busy))
		sched_yield();
	free(old);
}

/* For a new vCPU, with vm->lock held. */
int vmm_trace_vcpu_init(struct vmm_vcpu *v)
{
	struct vmm *vm = v->vm;
	struct vmm_trace_ring *r;

	v->tr_pending = false;
	if (!vm->trace_on)
		return 0;
	if (!(r = ring_new(vm->trace_ring, vm->trace_stack)))
		return -ENOMEM;
	atomic_store(&v->ring, r);
	return 0;
}

void vmm_trace_vcpu_fini(struct vmm_vcpu *v)
{
	ring_swap(v, NULL);
}

int vmm_trace_start(struct vmm *vm, const struct vm_trace_start *a)
{
	struct vmm_trace_ring *nr[VM_MAXCPU] = { 0 };
	int r = 0;

	if (a->stack > VM_TRACE_STACK_MAX || a->ring == 0 ||
	    a->ring > VM_TRACE_RING_MAX)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < VM_MAXCPU && r == 0; i++) {
		if (vm->vcpu[i] && !(nr[i] = ring_new(a->ring, a->stack)))
			r = -ENOMEM;
	}
	if (r == 0) {
		vm->trace_on = true;
		vm->trace_ring = a->ring;
		vm->trace_stack = a->stack;
		atomic_store(&vm->trace_depth, a->stack);
		for (int i = 0; i < VM_MAXCPU; i++) {
			if (vm->vcpu[i])
				ring_swap(vm->vcpu[i], nr[i]);
		}
	} else {
		for (int i = 0; i < VM_MAXCPU; i++)
			free(nr[i]);
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vmm_trace_stop(struct vmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->trace_on = false;
	for (int i = 0; i < VM_MAXCPU; i++) {
		if (vm->vcpu[i])
			ring_swap(vm->vcpu[i], NULL);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/*
 * The consumer.  The ring cannot be swapped under it: START and STOP
 * come from the same thread (vmm_dev.h).
 */
int vmm_trace_read(struct vmm_vcpu *v, struct vm_trace_read *a)
{
	struct vmm_trace_ring *r = atomic_load(&v->ring);
	uint8_t *out = (uint8_t *)(uintptr_t)a->buf;
	uint64_t tail, head;
	uint32_t used = 0, n = 0;

	if (!r)
		return -ENOENT;
	if (!out && a->len)
		return -EFAULT;
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	for (; tail != head; tail++) {
		const uint8_t *slot = r->buf + (tail & r->mask) * r->stride;
		const struct vm_trace_rec *rec = (const void *)slot;
		uint32_t len = sizeof(*rec) + rec->nstack * sizeof(uint64_t);

		if (used + len > a->len)
			break;
		memcpy(out + used, slot, len);
		used += len;
		n++;
	}
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	a->bytes = used;
	a->nrecs = n;
	a->dropped = atomic_load_explicit(&r->dropped, memory_order_relaxed);
	return 0;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* The last guest page a stack walk mapped: frames share pages. */
struct page_cache {
	uint64_t page; /* guest-linear page, or 1 (no page is odd) */
	uint8_t *hva;
};

/* The walk's view of guest memory; the caller holds vm->lock. */
static void *gpa2hva_held(void *vm, uint64_t gpa, size_t len)
{
	return vmm_gpa2hva_locked(vm, gpa, len);
}

/* Map the guest page at linear address `page` into pc; vm->lock held. */
static __attribute__((noinline)) bool map_page(struct vmm_vcpu *v,
					       const struct vm_guest_paging *pg,
					       struct page_cache *pc,
					       uint64_t page)
{
	struct vm_gla2gpa w;

	if (vmm_paging_walk(pg, page, VM_PROT_READ, true, gpa2hva_held, v->vm,
			    &w) < 0 ||
	    w.fault || !(pc->hva = vmm_gpa2hva_locked(v->vm, w.gpa, 0x1000)))
		return false;
	pc->page = page;
	return true;
}

/*
 * Read a guest word (4 or 8 bytes, aligned) at gla with paging pg, never
 * touching the guest.  vm->lock held.  The page walk is apart, so that
 * the common read, from the page of the last, costs a few instructions.
 */
static inline bool read_word(struct vmm_vcpu *v,
			     const struct vm_guest_paging *pg,
			     struct page_cache *pc, uint64_t gla, unsigned size,
			     uint64_t *val)
{
	uint64_t page = gla & ~0xfffULL;

	if (page != pc->page && !map_page(v, pg, pc, page))
		return false;
	if (size == 8) {
		memcpy(val, pc->hva + (gla & 0xfff), 8);
	} else {
		uint32_t w32;

		memcpy(&w32, pc->hva + (gla & 0xfff), 4);
		*val = w32;
	}
	return true;
}

/*
 * The guest's return addresses by its frame pointers: [rbp] is the
 * caller's rbp and [rbp + word] the return address, frames going up the
 * stack.  A walk that ends anywhere but at a zero frame or return
 * address is marked truncated.  Frames are word-aligned, so neither read
 * of a frame crosses a page.  vm->lock is taken once for the walk.
 */
static void walk_stack(struct vmm_vcpu *v, const struct vm_guest_paging *pg,
		       struct vm_trace_rec *rec, uint64_t *stack,
		       unsigned depth)
{
	const struct kvm_regs *regs = &v->run->s.regs.regs;
	struct page_cache pc = { .page = 1 };
	unsigned word = pg->cpu_mode == CPU_MODE_64BIT ? 8 : 4;
	uint64_t fp = regs->rbp, next, ret;
	bool whole = false;

	if (word == 4)
		fp &= 0xffffffffu;
	pthread_mutex_lock(&v->vm->lock);
	for (;;) {
		if (fp == 0) {
			whole = true; /* the outermost frame */
			break;
		}
		if (rec->nstack == depth || (fp & (word - 1)) ||
		    (word == 8 && !canonical(fp)) ||
		    !read_word(v, pg, &pc, fp, word, &next) ||
		    !read_word(v, pg, &pc, fp + word, word, &ret))
			break;
		if (ret == 0) {
			whole = true;
			break;
		}
		stack[rec->nstack++] = ret;
		/* Callers' frames are above; anything else is not a chain. */
		if (next != 0 && (next <= fp || next - fp > (1u << 20)))
			break;
		fp = next;
	}
	pthread_mutex_unlock(&v->vm->lock);
	if (!whole)
		rec->flags |= VM_TRACE_F_STACK_TRUNC;
}

/* What the exit says, from the run area, for KVM_RUN's result r. */
static void describe(struct vmm_vcpu *v, int r, struct vm_trace_rec *rec)
{
	struct kvm_run *run = v->run;

	if (r == -EINTR) {
		rec->reason = KVM_EXIT_INTR;
		return;
	}
	rec->reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		rec->addr = run->io.port;
		rec->size = run->io.size;
		rec->count = run->io.count;
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			rec->flags |= VM_TRACE_F_WRITE;
			memcpy(&rec->data, (uint8_t *)run + run->io.data_offset,
			       run->io.size <= 8 ? run->io.size : 8);
		}
		break;
	case KVM_EXIT_MMIO:
		rec->addr = run->mmio.phys_addr;
		rec->size = run->mmio.len;
		if (run->mmio.is_write) {
			rec->flags |= VM_TRACE_F_WRITE;
			memcpy(&rec->data, run->mmio.data,
			       run->mmio.len <= 8 ? run->mmio.len : 8);
		}
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		rec->addr = run->msr.index;
		if (run->exit_reason == KVM_EXIT_X86_WRMSR) {
			rec->flags |= VM_TRACE_F_WRITE;
			rec->data = run->msr.data;
		}
		break;
	case KVM_EXIT_DEBUG:
		rec->addr = run->debug.arch.exception;
		rec->data = run->debug.arch.dr6;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		rec->addr = run->internal.suberror;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		rec->addr = run->fail_entry.hardware_entry_failure_reason;
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		rec->addr = run->system_event.type;
		break;
	}
}

void vmm_trace_exit(struct vmm_vcpu *v, int r, bool complete)
{
	struct vm_trace_rec *rec = &v->tr_rec;
	const struct kvm_run *run = v->run;
	struct vm_guest_paging pg;
	unsigned depth, sync;
	bool have_pg;

	/* A completion that entered no guest code is not an exit. */
	if ((complete && r == -EINTR) || (r < 0 && r != -EINTR))
		return;
	memset(rec, 0, sizeof(*rec));
	rec->t_exit = now_ns();
	rec->vcpu = v->id;
	rec->source = VM_TRACE_USER;
	rec->count = 1;
	/*
	 * KVM_RUN syncs the special registers while tracing (vmm_vcpu.c);
	 * not yet for the first exit after tracing began during a KVM_RUN,
	 * which asks KVM.
	 */
	sync = atomic_load(&v->synced);
	depth = atomic_load_explicit(&v->vm->trace_depth, memory_order_relaxed);
	if (!(sync & KVM_SYNC_X86_REGS))
		depth = 0; /* no rbp to start from */
	if (sync & KVM_SYNC_X86_SREGS) {
		const struct kvm_sregs *sr = &run->s.regs.sregs;

		rec->cpl = (sr->cr0 & 1) ? sr->ss.dpl : 0; /* real mode: 0 */
		if (depth)
			vmm_paging_from_sregs(&run->s.regs.regs, sr, &pg);
		have_pg = true;
	} else {
		have_pg = vmm_get_paging(v, &pg) == 0;
		rec->cpl = have_pg ? (uint8_t)pg.cpl : VM_TRACE_CPL_UNKNOWN;
	}
	if (sync & KVM_SYNC_X86_REGS)
		rec->rip = run->s.regs.regs.rip;
	describe(v, r, rec);
	if (depth && have_pg)
		walk_stack(v, &pg, rec, v->tr_stack, depth);
	else if (depth)
		rec->flags |= VM_TRACE_F_STACK_TRUNC;
	v->tr_pending = true;
}

/* What the monitor answered, now in the run area, goes in the record. */
static void complete_data(struct vmm_vcpu *v, struct vm_trace_rec *rec)
{
	const struct kvm_run *run = v->run;

	if (rec->flags & VM_TRACE_F_WRITE) {
		if (rec->reason == KVM_EXIT_X86_WRMSR && run->msr.error)
			rec->flags |= VM_TRACE_F_ERROR;
		return;
	}
	switch (rec->reason) {
	case KVM_EXIT_IO:
		memcpy(&rec->data, (const uint8_t *)run + run->io.data_offset,
		       rec->size <= 8 ? rec->size : 8);
		break;
	case KVM_EXIT_MMIO:
		memcpy(&rec->data, run->mmio.data,
		       rec->size <= 8 ? rec->size : 8);
		break;
	case KVM_EXIT_X86_RDMSR:
		rec->data = run->msr.data;
		if (run->msr.error)
			rec->flags |= VM_TRACE_F_ERROR;
		break;
	}
}

void vmm_trace_entry(struct vmm_vcpu *v)
{
	struct vm_trace_rec *rec = &v->tr_rec;
	struct vmm_trace_ring *r;
	uint64_t head;

	if (!v->tr_pending)
		return;
	v->tr_pending = false;
	rec->t_entry = now_ns();
	complete_data(v, rec);
	atomic_store(&v->ring_busy, true);
	r = atomic_load(&v->ring);
	if (r) {
		head = atomic_load_explicit(&r->head, memory_order_relaxed);
		if (head - atomic_load_explicit(&r->tail,
						memory_order_acquire) >
		    r->mask) {
			atomic_fetch_add_explicit(&r->dropped, 1,
						  memory_order_relaxed);
		} else {
			uint8_t *slot = r->buf + (head & r->mask) * r->stride;
			unsigned n = rec->nstack;

			if (sizeof(*rec) + n * sizeof(uint64_t) > r->stride)
				n = (r->stride - sizeof(*rec)) /
				    sizeof(uint64_t);
			rec->nstack = n;
			memcpy(slot, rec, sizeof(*rec));
			memcpy(slot + sizeof(*rec), v->tr_stack,
			       n * sizeof(uint64_t));
			atomic_store_explicit(&r->head, head + 1,
					      memory_order_release);
		}
	}
	atomic_store(&v->ring_busy, false);
}
