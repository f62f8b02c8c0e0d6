/*
 * vmm_mem.c: guest memory - segments (backed as the comment on
 * VM_MEMSEG_F_* in vmm_dev.h says, mapped once into vitro), maps of
 * segments into guest-physical space, page protections, and the KVM
 * memory slots derived from maps and protections.
 *
 * A map is what the user asked for (VM_MMAP_MEMSEG); a protection
 * (VM_PROTECT_GPA) carves part of it into a read-only slot or a hole.  The
 * KVM slots of a map are rebuilt from both whenever either changes, so the
 * two never disagree; gpa2hva looks at maps only, so the monitor reaches
 * protected memory as usual.
 *
 * Locking: every function here runs with vm->lock held (vmm_ioctl and
 * vmm_gpa2hva take it).  Slots change while vCPUs may run: KVM handles
 * that, and an access that falls in the moment between deleting and adding
 * a slot exits as MMIO, which the monitor serves from memory (gpa2hva).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/memfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/vmm_priv.h"

#define PAGE_MASK 4095ULL

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The host's THP setting from the text of a transparent_hugepage file:
 * the word in brackets ("always [madvise] never" gives "madvise"), or ""
 * when there is none.
 */
static void thp_selected(const char *text, char *out, size_t len)
{
	const char *a = text ? strchr(text, '[') : NULL;
	const char *b = a ? strchr(a, ']') : NULL;
	size_t n = a && b ? (size_t)(b - a - 1) : 0;

	if (n >= len)
		n = 0;
	memcpy(out, a ? a + 1 : "", n);
	out[n] = 0;
}

void vmm_mem_backing_choose(uint32_t flags, const char *thp,
			    const char *shmem_thp, struct vm_memseg *ms)
{
	char t[32], st[32];

	thp_selected(thp, t, sizeof(t));
	thp_selected(shmem_thp, st, sizeof(st));
	ms->why = VM_MEMSEG_WHY_ASKED;
	ms->page_size = 2ULL << 20;
	if (flags & VM_MEMSEG_F_HUGETLB) {
		ms->backing = VM_MEMSEG_HUGETLB;
		if (flags & VM_MEMSEG_F_HUGE_1G)
			ms->page_size = 1ULL << 30;
	} else if (flags & VM_MEMSEG_F_SMALL) {
		ms->backing = VM_MEMSEG_SHMEM;
		ms->page_size = 4096;
	} else if (!strcmp(st, "always") || !strcmp(st, "within_size") ||
		   !strcmp(st, "advise") || !strcmp(st, "force")) {
		/* Keep a memfd (a file others can map) where it costs nothing. */
		ms->backing = VM_MEMSEG_SHMEM_THP;
		ms->why = VM_MEMSEG_WHY_THP_SHMEM;
	} else if (!strcmp(t, "always") || !strcmp(t, "madvise")) {
		ms->backing = VM_MEMSEG_ANON_THP;
		ms->why = VM_MEMSEG_WHY_THP_ANON;
	} else {
		ms->backing = VM_MEMSEG_SHMEM;
		ms->why = VM_MEMSEG_WHY_THP_OFF;
		ms->page_size = 4096;
	}
}

static void read_sys(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41 /* Linux 5.17 */
#define PR_SET_VMA_ANON_NAME 0
#endif

/*
 * Map `len` bytes of fd (or anonymous memory when fd < 0) at an address
 * aligned to `align`: reserve len + align of address space, map over the
 * aligned part, and give back the rest.
 */
static void *map_aligned(size_t len, size_t align, int flags, int fd)
{
	uint8_t *res, *p, *aligned;
	size_t head;

	res = mmap(NULL, len + align, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	aligned = (uint8_t *)(((uintptr_t)res + align - 1) & ~(align - 1));
	p = mmap(aligned, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd,
		 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(res, len + align);
		errno = e;
		return MAP_FAILED;
	}
	head = aligned - res;
	if (head)
		munmap(res, head);
	if (align - head)
		munmap(aligned + len, align - head);
	return p;
}

/* Fault every page in, for PREALLOC, where MADV_POPULATE_WRITE is absent. */
static void touch_pages(uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4096) {
		volatile uint8_t *b = p + off;

		*b = *b;
	}
}

/* Make the segment's memory as ms->backing says; 0 or -errno. */
static int seg_make(struct vmm_memseg *seg, const char *name,
		    const struct vm_memseg *ms)
{
	int fd = -1, mflags = MAP_SHARED | MAP_NORESERVE;
	unsigned mfd = MFD_CLOEXEC;
	uint8_t *p;

	switch (ms->backing) {
	case VM_MEMSEG_HUGETLB:
		mfd |= MFD_HUGETLB |
		       (ms->page_size == (1ULL << 30) ? MFD_HUGE_1GB :
							MFD_HUGE_2MB);
		/* Reserve the pages now: ENOMEM here, not SIGBUS later. */
		mflags = MAP_SHARED;
		break;
	case VM_MEMSEG_ANON_THP:
		mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
		break;
	}
	if (!(mflags & MAP_ANONYMOUS)) {
		fd = memfd_create(name, mfd);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, ms->len) < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
	}
	p = map_aligned(ms->len,
			ms->page_size < (2ULL << 20) ? 2ULL << 20 :
						       ms->page_size,
			mflags, fd);
	if (p == MAP_FAILED) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	seg->fd = fd;
	seg->hva = p;
	seg->len = ms->len;
	if (ms->backing == VM_MEMSEG_SHMEM_THP ||
	    ms->backing == VM_MEMSEG_ANON_THP)
		madvise(p, ms->len, MADV_HUGEPAGE);
	/* A name in /proc/PID/maps; kernels without it just say no. */
	if (fd < 0)
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, ms->len, name);
	/*
	 * Guest memory is useless in a core dump of vitro, and huge; a child
	 * (Tcl's exec) must not copy its page tables or make it copy-on-write.
	 */
	madvise(p, ms->len, MADV_DONTDUMP);
	madvise(p, ms->len, MADV_DONTFORK);
	if ((ms->flags & VM_MEMSEG_F_PREALLOC) &&
	    madvise(p, ms->len, MADV_POPULATE_WRITE) < 0) {
		if (errno != EINVAL)
			return -ENOMEM; /* no memory, or no huge page left */
		touch_pages(p, ms->len);
	}
	/* The system call itself: ASan's mlock() does nothing and says 0. */
	if ((ms->flags & VM_MEMSEG_F_MLOCK) &&
	    syscall(SYS_mlock, p, ms->len) < 0)
		return errno == EAGAIN ? -ENOMEM : -errno;
	return 0;
}

static void seg_free(struct vmm_memseg *seg)
{
	if (seg->hva)
		munmap(seg->hva, seg->len);
	if (seg->fd >= 0)
		close(seg->fd);
	seg->hva = NULL;
	seg->fd = -1;
	seg->len = 0;
}

int vmm_memseg_alloc(struct vmm *vm, struct vm_memseg *ms)
{
	struct vmm_memseg *seg;
	char name[2 * VM_NAME_MAX + 16], thp[128], shmem_thp[128];
	int r;

	if (ms->segid < 0 || ms->segid >= VM_MAX_MEMSEGS || ms->len == 0 ||
	    ms->len & PAGE_MASK || ms->flags & ~VM_MEMSEG_F_ALL)
		return -EINVAL;
	if (memchr(ms->name, 0, sizeof(ms->name)) == NULL)
		return -EINVAL;
	if ((ms->segid == VM_SYSMEM) != (ms->name[0] == 0))
		return -EINVAL;
	seg = &vm->seg[ms->segid];
	if (seg->len)
		return -EEXIST;
	read_sys("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		 sizeof(thp));
	read_sys("/sys/kernel/mm/transparent_hugepage/shmem_enabled", shmem_thp,
		 sizeof(shmem_thp));
	vmm_mem_backing_choose(ms->flags, thp, shmem_thp, ms);
	if (ms->len % ms->page_size && ms->backing == VM_MEMSEG_HUGETLB)
		return -EINVAL;
	snprintf(name, sizeof(name), "vitro:%s:%s", vm->name,
		 ms->name[0] ? ms->name : "sysmem");
	if ((r = seg_make(seg, name, ms)) < 0) {
		seg_free(seg);
		return r;
	}
	seg->flags = ms->flags;
	seg->backing = ms->backing;
	seg->why = ms->why;
	seg->page_size = ms->page_size;
	memcpy(seg->name, ms->name, sizeof(seg->name));
	return 0;
}

int vmm_memseg_get(struct vmm *vm, struct vm_memseg *ms)
{
	struct vmm_memseg *seg;

	if (ms->segid < 0 || ms->segid >= VM_MAX_MEMSEGS)
		return -EINVAL;
	seg = &vm->seg[ms->segid];
	if (!seg->len)
		return -ENOENT;
	ms->len = seg->len;
	ms->flags = seg->flags;
	ms->backing = seg->backing;
	ms->why = seg->why;
	ms->page_size = seg->page_size;
	memcpy(ms->name, seg->name, sizeof(ms->name));
	return 0;
}

void vmm_mem_free(struct vmm *vm)
{
	for (int i = 0; i < VM_MAX_MEMSEGS; i++)
		seg_free(&vm->seg[i]);
}

/* KVM slots. */

static int slot_kvm(struct vmm *vm, int i, bool on)
{
	const struct vmm_slot *s = &vm->slot[i];
	struct kvm_userspace_memory_region r = {
		.slot = i,
		.flags = s->readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = s->gpa,
		.memory_size = on ? s->len : 0,
		.userspace_addr = (uintptr_t)s->hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

/* Delete the KVM slots of map `mi`. */
static void map_slots_clear(struct vmm *vm, int mi)
{
	for (int i = 0; i < vm->nslots; i++) {
		if (vm->slot[i].map == mi) {
			slot_kvm(vm, i, false);
			vm->slot[i].map = -1;
		}
	}
}

static int slot_add(struct vmm *vm, int mi, uint64_t gpa, uint64_t end,
		    bool readonly)
{
	const struct vmm_memmap *m = &vm->map[mi];
	int r;

	if (gpa >= end)
		return 0;
	for (int i = 0; i < vm->nslots; i++) {
		struct vmm_slot *s = &vm->slot[i];

		if (s->map != -1)
			continue;
		*s = (struct vmm_slot){
			.gpa = gpa,
			.len = end - gpa,
			.hva = vm->seg[m->segid].hva + m->segoff +
			       (gpa - m->gpa),
			.readonly = readonly,
			.map = mi,
		};
		if ((r = slot_kvm(vm, i, true)) < 0)
			s->map = -1;
		return r;
	}
	return -ENOSPC;
}

/* The protection entries overlapping [gpa, end), in address order. */
static int prots_in(struct vmm *vm, uint64_t gpa, uint64_t end,
		    const struct vmm_prot **out)
{
	int n = 0;

	for (int i = 0; i < VMM_MAX_PROTS; i++) {
		const struct vmm_prot *p = &vm->prot[i];
		int j;

		if (!p->len || !overlap(p->gpa, p->len, gpa, end - gpa))
			continue;
		for (j = n; j > 0 && out[j - 1]->gpa > p->gpa; j--)
			out[j] = out[j - 1];
		out[j] = p;
		n++;
	}
	return n;
}

/* Build map mi's KVM slots: the map minus its protected ranges. */
static int map_slots_build(struct vmm *vm, int mi)
{
	const struct vmm_memmap *m = &vm->map[mi];
	const struct vmm_prot *ps[VMM_MAX_PROTS];
	uint64_t cur = m->gpa, end = m->gpa + m->len;
	bool ro =
		(m->flags & VM_MEMMAP_F_READONLY) || !(m->prot & VM_PROT_WRITE);
	int n, r;

	map_slots_clear(vm, mi);
	n = prots_in(vm, m->gpa, end, ps);
	for (int i = 0; i < n; i++) {
		uint64_t pa = ps[i]->gpa > cur ? ps[i]->gpa : cur;
		uint64_t pe = ps[i]->gpa + ps[i]->len < end ?
				      ps[i]->gpa + ps[i]->len :
				      end;

		if ((r = slot_add(vm, mi, cur, pa, ro)) < 0)
			goto fail;
		/* No access at all: a hole, every access exits. */
		if (ps[i]->prot & (VM_PROT_READ | VM_PROT_EXEC)) {
			r = slot_add(vm, mi, pa, pe,
				     ro || !(ps[i]->prot & VM_PROT_WRITE));
			if (r < 0)
				goto fail;
		}
		cur = pe;
	}
	if ((r = slot_add(vm, mi, cur, end, ro)) < 0)
		goto fail;
	return 0;
fail:
	map_slots_clear(vm, mi);
	return r;
}

int vmm_memslots_restore(struct vmm *vm)
{
	for (int i = 0; i < vm->nslots; i++)
		vm->slot[i].map = -1;
	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		int r;

		if (vm->map[i].len && (r = map_slots_build(vm, i)) < 0)
			return r;
	}
	return 0;
}

/* Maps. */

int vmm_memmap_add(struct vmm *vm, const struct vm_memmap *mm)
{
	struct vmm_memseg *seg;
	int free = -1, r;

	if (mm->segid < 0 || mm->segid >= VM_MAX_MEMSEGS)
		return -EINVAL;
	seg = &vm->seg[mm->segid];
	if (!seg->len)
		return -ENOENT;
	if (mm->len == 0 || (mm->gpa | mm->len | mm->segoff) & PAGE_MASK ||
	    mm->segoff > seg->len || mm->len > seg->len - mm->segoff ||
	    mm->gpa + mm->len < mm->gpa)
		return -EINVAL;
	if (mm->flags & ~(VM_MEMMAP_F_WIRED | VM_MEMMAP_F_READONLY))
		return -EINVAL;
	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		struct vmm_memmap *m = &vm->map[i];

		if (!m->len) {
			if (free < 0)
				free = i;
		} else if (overlap(m->gpa, m->len, mm->gpa, mm->len)) {
			return -EEXIST;
		}
	}
	if (free < 0)
		return -ENOSPC;
	vm->map[free] = (struct vmm_memmap){
		.gpa = mm->gpa,
		.len = mm->len,
		.segid = mm->segid,
		.segoff = mm->segoff,
		.prot = mm->prot,
		.flags = mm->flags,
	};
	if ((r = map_slots_build(vm, free)) < 0)
		vm->map[free].len = 0;
	return r;
}

int vmm_memmap_remove(struct vmm *vm, const struct vm_munmap *mu)
{
	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		struct vmm_memmap *m = &vm->map[i];

		if (m->len && m->gpa == mu->gpa && m->len == mu->len) {
			map_slots_clear(vm, i);
			m->len = 0;
			return 0;
		}
	}
	return -ENOENT;
}

int vmm_memmap_getnext(struct vmm *vm, struct vm_memmap *mm)
{
	const struct vmm_memmap *best = NULL;

	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		const struct vmm_memmap *m = &vm->map[i];

		if (m->len && m->gpa >= mm->gpa &&
		    (!best || m->gpa < best->gpa))
			best = m;
	}
	if (!best)
		return -ENOENT;
	mm->gpa = best->gpa;
	mm->segid = best->segid;
	mm->segoff = best->segoff;
	mm->len = best->len;
	mm->prot = best->prot;
	mm->flags = best->flags;
	return 0;
}

void *vmm_gpa2hva_locked(struct vmm *vm, uint64_t gpa, size_t len)
{
	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		const struct vmm_memmap *m = &vm->map[i];

		if (m->len && gpa >= m->gpa && gpa - m->gpa < m->len &&
		    len <= m->len - (gpa - m->gpa))
			return vm->seg[m->segid].hva + m->segoff +
			       (gpa - m->gpa);
	}
	return NULL;
}

/* Protections. */

/* Take [gpa, end) out of every protection entry, splitting as needed. */
static int prot_cut(struct vmm *vm, uint64_t gpa, uint64_t end)
{
	for (int i = 0; i < VMM_MAX_PROTS; i++) {
		struct vmm_prot *p = &vm->prot[i];
		uint64_t pe = p->gpa + p->len;

		if (!p->len || !overlap(p->gpa, p->len, gpa, end - gpa))
			continue;
		if (p->gpa < gpa && pe > end) {
			/* The cut is inside: keep the head, add the tail. */
			int j;

			for (j = 0; j < VMM_MAX_PROTS && vm->prot[j].len; j++)
				;
			if (j == VMM_MAX_PROTS)
				return -ENOSPC;
			vm->prot[j] =
				(struct vmm_prot){ end, pe - end, p->prot };
			p->len = gpa - p->gpa;
		} else if (p->gpa < gpa) {
			p->len = gpa - p->gpa;
		} else if (pe > end) {
			p->len = pe - end;
			p->gpa = end;
		} else {
			p->len = 0;
		}
	}
	return 0;
}

int vmm_protect_gpa(struct vmm *vm, const struct vm_gpa_prot *gp)
{
	const int all = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC;
	uint64_t end = gp->gpa + gp->len;
	int r;

	if (gp->len == 0 || (gp->gpa | gp->len) & PAGE_MASK || end < gp->gpa ||
	    gp->prot & ~all)
		return -EINVAL;
	r = prot_cut(vm, gp->gpa, end);
	/* Read and write make an ordinary page again. */
	if (r == 0 && (gp->prot & (VM_PROT_READ | VM_PROT_WRITE)) !=
			      (VM_PROT_READ | VM_PROT_WRITE)) {
		int i;

		for (i = 0; i < VMM_MAX_PROTS && vm->prot[i].len; i++)
			;
		if (i < VMM_MAX_PROTS)
			vm->prot[i] =
				(struct vmm_prot){ gp->gpa, gp->len, gp->prot };
		else
			r = -ENOSPC;
	}
	/* Even after a failure, the slots follow what the list now says. */
	for (int i = 0; i < VM_MAX_MEMMAPS; i++) {
		const struct vmm_memmap *m = &vm->map[i];
		int r2;

		if (m->len && overlap(m->gpa, m->len, gp->gpa, gp->len) &&
		    (r2 = map_slots_build(vm, i)) < 0 && r == 0)
			r = r2;
	}
	return r;
}
