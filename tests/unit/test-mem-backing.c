/*
 * test-mem-backing.c: how vmm backs guest memory (vmm/vmm_mem.c), without
 * KVM: the choice for each host THP setting and each flag, then real
 * segments on this host checked in /proc/self/smaps - the backing
 * reported is the one the kernel shows, 2 MiB alignment, PREALLOC makes
 * every page resident, MLOCK locks them, HUGETLB without reserved pages
 * fails with ENOMEM instead of a SIGBUS later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/vmm_priv.h"

#define MiB (1ULL << 20)

static void test_choice(void)
{
	static const struct {
		uint32_t flags;
		const char *thp, *shmem;
		uint32_t backing, why;
		uint64_t page;
	} c[] = {
		{ 0, "always [madvise] never",
		  "always within_size advise "
		  "[never] deny force",
		  VM_MEMSEG_ANON_THP, VM_MEMSEG_WHY_THP_ANON, 2 * MiB },
		{ 0, "[always] madvise never", "[never]", VM_MEMSEG_ANON_THP,
		  VM_MEMSEG_WHY_THP_ANON, 2 * MiB },
		{ 0, "always madvise [never]", "always [advise] never",
		  VM_MEMSEG_SHMEM_THP, VM_MEMSEG_WHY_THP_SHMEM, 2 * MiB },
		{ 0, "always [madvise] never", "[within_size]",
		  VM_MEMSEG_SHMEM_THP, VM_MEMSEG_WHY_THP_SHMEM, 2 * MiB },
		{ 0, "always madvise [never]", "[deny]", VM_MEMSEG_SHMEM,
		  VM_MEMSEG_WHY_THP_OFF, 4096 },
		{ 0, NULL, NULL, VM_MEMSEG_SHMEM, VM_MEMSEG_WHY_THP_OFF, 4096 },
		{ 0, "garbage", "", VM_MEMSEG_SHMEM, VM_MEMSEG_WHY_THP_OFF,
		  4096 },
		{ VM_MEMSEG_F_SMALL, "[always]", "[always]", VM_MEMSEG_SHMEM,
		  VM_MEMSEG_WHY_ASKED, 4096 },
		{ VM_MEMSEG_F_HUGETLB, "[never]", "[never]", VM_MEMSEG_HUGETLB,
		  VM_MEMSEG_WHY_ASKED, 2 * MiB },
		{ VM_MEMSEG_F_HUGETLB | VM_MEMSEG_F_HUGE_1G, NULL, NULL,
		  VM_MEMSEG_HUGETLB, VM_MEMSEG_WHY_ASKED, 1024 * MiB },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vm_memseg ms = { 0 };

		vmm_mem_backing_choose(c[i].flags, c[i].thp, c[i].shmem, &ms);
		ok(ms.backing == c[i].backing && ms.why == c[i].why &&
			   ms.page_size == c[i].page,
		   "flags %#x, THP '%s', shmem THP '%s': backing %u why %u "
		   "page %llu",
		   c[i].flags, c[i].thp ? c[i].thp : "(none)",
		   c[i].shmem ? c[i].shmem : "(none)", ms.backing, ms.why,
		   (unsigned long long)ms.page_size);
	}
}

/* A field of the smaps entry of the mapping that starts at p, in kB. */
static long long smaps_kb(const void *p, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	unsigned long long start, end;
	char perms[5];
	bool in = false;
	long long v = -1;
	size_t flen = strlen(field);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) == 3) {
			in = start == (uintptr_t)p;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			v = atoll(line + flen + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

static struct vmm *fake_vm(void)
{
	struct vmm *vm = calloc(1, sizeof(*vm));

	snprintf(vm->name, sizeof(vm->name), "test-mem");
	for (int i = 0; i < VM_MAX_MEMSEGS; i++)
		vm->seg[i].fd = -1;
	return vm;
}

static int alloc(struct vmm *vm, uint32_t flags, uint64_t len,
		 struct vm_memseg *ms)
{
	*ms = (struct vm_memseg){ .segid = VM_SYSMEM,
				  .flags = flags,
				  .len = len };
	return vmm_memseg_alloc(vm, ms);
}

static void test_host(void)
{
	struct vmm *vm = fake_vm();
	struct vm_memseg ms, got;
	uint8_t *p;
	int r;

	/* The default: whatever this host gives, and what it says it gave. */
	r = alloc(vm, 0, 16 * MiB, &ms);
	p = vm->seg[0].hva;
	ok(r == 0 && p && ((uintptr_t)p & (2 * MiB - 1)) == 0,
	   "default segment allocated, 2 MiB aligned");
	got = (struct vm_memseg){ .segid = VM_SYSMEM };
	ok(vmm_memseg_get(vm, &got) == 0 && got.backing == ms.backing &&
		   got.why == ms.why && got.page_size == ms.page_size &&
		   got.len == 16 * MiB,
	   "VM_GET_MEMSEG tells the backing");
	if (r == 0) {
		memset(p, 0x5a, 16 * MiB);
		if (ms.backing == VM_MEMSEG_ANON_THP) {
			long long kb = smaps_kb(p, "AnonHugePages");

			ok(kb >= 2048, "anonymous THP: AnonHugePages %lld kB",
			   kb);
		} else if (ms.backing == VM_MEMSEG_SHMEM_THP) {
			long long kb = smaps_kb(p, "ShmemPmdMapped");

			ok(kb >= 2048, "shmem THP: ShmemPmdMapped %lld kB", kb);
		} else {
			ok(smaps_kb(p, "AnonHugePages") <= 0 &&
				   smaps_kb(p, "ShmemPmdMapped") <= 0,
			   "4 KiB pages: no huge mappings");
		}
	}
	vmm_mem_free(vm);

	/* nothp: a memfd of small pages, really. */
	r = alloc(vm, VM_MEMSEG_F_SMALL, 8 * MiB, &ms);
	p = vm->seg[0].hva;
	if (r == 0)
		memset(p, 1, 8 * MiB);
	ok(r == 0 && ms.backing == VM_MEMSEG_SHMEM &&
		   smaps_kb(p, "AnonHugePages") <= 0 &&
		   smaps_kb(p, "ShmemPmdMapped") <= 0 &&
		   smaps_kb(p, "Rss") == 8192,
	   "nothp: 4 KiB shmem pages (Rss %lld kB)", smaps_kb(p, "Rss"));
	vmm_mem_free(vm);

	/* PREALLOC: resident before anything touched it. */
	r = alloc(vm, VM_MEMSEG_F_PREALLOC, 8 * MiB, &ms);
	ok(r == 0 && smaps_kb(vm->seg[0].hva, "Rss") == 8192,
	   "prealloc: 8 MiB resident at once (Rss %lld kB)",
	   r == 0 ? smaps_kb(vm->seg[0].hva, "Rss") : -1LL);
	vmm_mem_free(vm);
	r = alloc(vm, 0, 8 * MiB, &ms);
	ok(r == 0 && smaps_kb(vm->seg[0].hva, "Rss") == 0,
	   "without prealloc nothing is resident (Rss %lld kB)",
	   r == 0 ? smaps_kb(vm->seg[0].hva, "Rss") : -1LL);
	vmm_mem_free(vm);

	/* MLOCK: locked (RLIMIT_MEMLOCK is at least 8 MiB here, or root). */
	r = alloc(vm, VM_MEMSEG_F_MLOCK, 4 * MiB, &ms);
	if (r == -ENOMEM || r == -EPERM)
		tap_skip("mlock of 4 MiB refused here (RLIMIT_MEMLOCK)");
	else
		ok(r == 0 && smaps_kb(vm->seg[0].hva, "Locked") == 4096,
		   "mlock: 4 MiB locked (%d, Locked %lld kB)", r,
		   r == 0 ? smaps_kb(vm->seg[0].hva, "Locked") : -1LL);
	vmm_mem_free(vm);

	/* Bad input. */
	ok(alloc(vm, 1u << 30, 4 * MiB, &ms) == -EINVAL,
	   "unknown flags: EINVAL");
	ok(alloc(vm, VM_MEMSEG_F_HUGETLB, 3 * MiB, &ms) == -EINVAL,
	   "hugetlb with a size not a multiple of 2 MiB: EINVAL");
	ok(!vm->seg[0].len && !vm->seg[0].hva && vm->seg[0].fd == -1,
	   "a refused segment leaves nothing behind");
	vmm_mem_free(vm);
	free(vm);
}

/*
 * HUGETLB on this host: with no free 2 MiB pages the allocation fails at
 * once; with some, the segment is on them.
 */
static void test_hugetlb(void)
{
	struct vmm *vm = fake_vm();
	struct vm_memseg ms;
	FILE *f = fopen(
		"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
		"re");
	long long nfree = -1;
	int r;

	if (f) {
		if (fscanf(f, "%lld", &nfree) != 1)
			nfree = -1;
		fclose(f);
	}
	r = alloc(vm, VM_MEMSEG_F_HUGETLB, 4 * MiB, &ms);
	if (nfree < 0) {
		ok(r < 0, "no 2 MiB huge pages on this host: refused (%d)", r);
	} else if (nfree < 2) {
		ok(r == -ENOMEM, "no free huge pages: ENOMEM at allocation");
	} else {
		ok(r == 0 && ms.backing == VM_MEMSEG_HUGETLB, "hugetlb: ok");
		if (r == 0) {
			memset(vm->seg[0].hva, 1, 4 * MiB);
			ok(smaps_kb(vm->seg[0].hva, "KernelPageSize") == 2048,
			   "hugetlb: 2 MiB kernel pages");
		}
	}
	vmm_mem_free(vm);
	free(vm);
}

int main(void)
{
	test_choice();
	test_host();
	test_hugetlb();
	return tap_done();
}
