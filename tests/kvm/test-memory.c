/*
 * test-memory.c: memory segments and guest-physical maps through
 * libvmmapi - vm_setup_memory below and above the PCI hole,
 * vm_mmap_getnext, named device memory, overlaps, vm_map_gpa bounds,
 * unmapping - MMIO exits for guest accesses to addresses no map covers,
 * and VM_PROTECT_GPA in high memory and across VM_REINIT.
 *
 * The big VM has 4.5 GiB of system memory, of which the guest touches a
 * few pages: memory is allocated lazily, so it costs little.
 * Single-threaded.
 */
#include <errno.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define GIB (1ULL << 30)
#define ROM_GPA 0xffff0000ULL /* named device memory, 64 KiB */
#define ROM_LEN 0x10000ULL
#define ALIAS_GPA 0xfffe0000ULL /* the same segment, mapped again */
#define HOLE_GPA 0xc0000000ULL /* nothing there: MMIO */
#define RO_GPA 0xfffd0000ULL /* a map without VM_PROT_WRITE */

/* clang-format off */
asm(KT_GUEST_BEGIN(gm, KT_CODE)
    ".code64\n"
    KT_LABEL("gm_start")
    "	movabs $0x100000000, %rbx\n"
    "	mov 8(%rbx), %eax\n"
    "	out %eax, $0xe0\n"		/* what the test put at 4 GiB + 8 */
    "	movl $0x4711cafe, (%rbx)\n"	/* lands at segment offset 3 GiB */
    "	mov $0xbffffffc, %ebx\n"
    "	movl $0x600dd00d, (%rbx)\n"	/* the last word below the hole */
    "	mov $0xffff0000, %ebx\n"
    "	mov (%rbx), %eax\n"
    "	out %eax, $0xe0\n"		/* device memory */
    "	movl $0xfeedf00d, 4(%rbx)\n"
    "	mov $0xfffe0000, %ebx\n"
    "	mov 4(%rbx), %eax\n"
    "	out %eax, $0xe0\n"		/* its alias */
    "	mov $0xc0000000, %ebx\n"
    KT_LABEL("gm_rd4")
    "	mov (%rbx), %eax\n"
    KT_LABEL("gm_rd4_end")
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_rd1")
    "	movzbl 1(%rbx), %eax\n"
    KT_LABEL("gm_rd1_end")
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_rd2")
    "	movzwl 2(%rbx), %eax\n"
    KT_LABEL("gm_rd2_end")
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_rd8")
    "	mov 8(%rbx), %rax\n"
    KT_LABEL("gm_rd8_end")
    "	out %eax, $0xe0\n"
    "	shr $32, %rax\n"
    "	out %eax, $0xe0\n"
    "	movabs $0x8899aabbccddeeff, %rax\n"
    KT_LABEL("gm_wr1")
    "	movb $0x11, 0x10(%rbx)\n"
    KT_LABEL("gm_wr2")
    "	movw $0x2233, 0x12(%rbx)\n"
    KT_LABEL("gm_wr4")
    "	movl $0x44556677, 0x14(%rbx)\n"
    KT_LABEL("gm_wr8")
    "	mov %rax, 0x18(%rbx)\n"
    KT_LABEL("gm_wr8_end")
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_ro")
    "	mov $0xfffd0000, %ebx\n"
    "	mov (%rbx), %eax\n"
    "	out %eax, $0xe0\n"
    "	movl $0x11111111, (%rbx)\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_prot")
    "	movabs $0x100001000, %rbx\n"
    "	mov (%rbx), %eax\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_prot_wr")
    "	movl $0x5555aaaa, (%rbx)\n"
    "	movl $0x66667777, 0x1000(%rbx)\n"
    "	mov 0x1000(%rbx), %eax\n"
    "	out %eax, $0xe0\n"
    KT_LABEL("gm_alias")
    "	mov $0xfffe0000, %ebx\n"
    KT_LABEL("gm_alias_rd")
    "	mov 4(%rbx), %eax\n"
    KT_LABEL("gm_alias_rd_end")
    "	out %eax, $0xe0\n"
    KT_GUEST_END(gm));
/* clang-format on */
KT_GUEST_DECLARE(gm);
extern const uint8_t gm_start[], gm_rd4[], gm_rd4_end[], gm_rd1[], gm_rd1_end[],
	gm_rd2[], gm_rd2_end[], gm_rd8[], gm_rd8_end[], gm_wr1[], gm_wr2[],
	gm_wr4[], gm_wr8[], gm_wr8_end[], gm_ro[], gm_prot[], gm_prot_wr[],
	gm_alias[], gm_alias_rd[], gm_alias_rd_end[];

#define GM(label) KT_GADDR(gm, KT_CODE, label)

static void test_small(void)
{
	char name[VM_NAME_MAX];
	struct vmctx *ctx;
	uint64_t gpa = 0, segoff;
	size_t len;
	int segid, prot, flags;

	kt_name(name, sizeof(name), "mem-small");
	ctx = vm_create(name);
	if (!ctx)
		tap_bail("vm_create: %s", strerror(errno));
	is_int(vm_setup_memory(ctx, 0), -EINVAL, "setup of 0 bytes refused");
	is_int(vm_setup_memory(ctx, 4097), -EINVAL,
	       "setup of a size not a multiple of 4 KiB refused");
	is_int(vm_setup_memory(ctx, 1 << 20), 0, "setup 1 MiB");
	is_int(vm_setup_memory(ctx, 1 << 20), -EEXIST, "setup twice refused");
	is_int(vm_get_lowmem_size(ctx), 1 << 20, "lowmem 1 MiB");
	is_int(vm_get_highmem_size(ctx), 0, "no highmem");
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == 0 && segid == VM_SYSMEM && segoff == 0 &&
		   len == 1 << 20 &&
		   prot == (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC) &&
		   flags == 0,
	   "getnext: one map of system memory at 0, rwx");
	gpa = 1;
	is_int(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags),
	       -ENOENT, "getnext above it: ENOENT");
	vm_destroy(ctx);
}

/* Run to the next `out`; the guest value, or ~0 with a failed check. */
static uint32_t next_out(struct vcpu *v, const char *what)
{
	uint32_t val = ~0u;

	ok(kt_run_out(v, KT_PORT_OUT, &val) == 0, "guest reports %s", what);
	return val;
}

/*
 * Expect an MMIO exit for `bytes` at `gpa` from the instruction at `rip`
 * (followed by one at `next`); for a read supply `val`, for a write
 * return what the guest wrote.  KVM may report the rip of the access or,
 * once it has completed the instruction (a write), of the next one.
 */
static uint64_t mmio(struct vcpu *v, bool write, uint64_t gpa, int bytes,
		     uint64_t val, uint64_t rip, uint64_t next)
{
	struct vm_exit e;
	char buf[160];
	uint64_t got = 0;

	if (kt_run(v, &e) < 0 || e.exitcode != VM_EXITCODE_MMIO) {
		ok(0, "MMIO %s of %d bytes at %#llx", write ? "write" : "read",
		   bytes, (unsigned long long)gpa);
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
		return 0;
	}
	ok(e.u.mmio.write == write && e.u.mmio.gpa == gpa &&
		   e.u.mmio.bytes == bytes,
	   "MMIO %s of %d bytes at %#llx", write ? "write" : "read", bytes,
	   (unsigned long long)gpa);
	if (!ok(e.rip == rip || e.rip == next,
		"rip %#llx is the access's (%#llx) or the next (%#llx)",
		(unsigned long long)e.rip, (unsigned long long)rip,
		(unsigned long long)next))
		tap_diag("%s", kt_exit_str(&e, buf, sizeof(buf)));
	if (write)
		memcpy(&got, e.u.mmio.data, bytes);
	else
		memcpy(e.u.mmio.data, &val, bytes);
	return got;
}

/*
 * VM_PROTECT_GPA in high memory, whose map starts at segment offset 3 GiB:
 * the pages around a protected one still reach the right memory, and the
 * protection outlives VM_REINIT.  (test-protect covers the basics.)
 */
static void prot_run(struct kt_vm *vm, uint8_t *high, const char *when)
{
	struct vcpu *v = vm->vcpu[0];
	uint64_t page = VM_HIGHMEM_BASE + 0x1000;
	struct vm_exit e;
	char buf[160];

	memcpy(high + 0x1000, "\x12\x12\x12\x12", 4);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GM(gm_prot));
	is_hex(next_out(v, "a read of the protected page"), 0x12121212,
	       "%s: a read of a read-only page at 4 GiB + 4 KiB goes to memory",
	       when);
	if (kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_MMIO) {
		uint32_t d = 0;

		memcpy(&d, e.u.mmio.data, 4);
		ok(e.u.mmio.write && e.u.mmio.gpa == page && d == 0x5555aaaa,
		   "%s: a write to it exits as MMIO with its data", when);
	} else {
		ok(0, "%s: a write to it exits as MMIO", when);
		tap_diag("got %s", kt_exit_str(&e, buf, sizeof(buf)));
	}
	is_hex(next_out(v, "the next page"), 0x66667777,
	       "%s: the next page is ordinary memory", when);
	ok(memcmp(high + 0x1000, "\x12\x12\x12\x12", 4) == 0 &&
		   memcmp(high + 0x2000, "\x77\x77\x66\x66", 4) == 0,
	   "%s: memory as the guest and the protection say, at segment "
	   "offset 3 GiB + 4 KiB and + 8 KiB",
	   when);
	memset(high + 0x2000, 0, 4);
}

static void test_protect_high(struct kt_vm *vm, uint8_t *high)
{
	struct vm_exit e;

	is_int(vm_protect_gpa(vm->ctx, VM_HIGHMEM_BASE + 0x1000, 0x1000,
			      VM_PROT_READ | VM_PROT_EXEC),
	       0, "protect 4 GiB + 4 KiB read-only");
	prot_run(vm, high, "protected");
	vm_suspend(vm->ctx, VM_SUSPEND_RESET);
	if (vm_run(vm->vcpu[0], &e) < 0 || vm_reinit(vm->ctx) < 0)
		tap_bail("VM_REINIT");
	prot_run(vm, high, "after VM_REINIT");
	is_int(vm_protect_gpa(vm->ctx, VM_HIGHMEM_BASE + 0x1000, 0x1000,
			      VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC),
	       0, "lift the protection");
	kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, GM(gm_prot));
	next_out(vm->vcpu[0], "a read");
	next_out(vm->vcpu[0], "the write and a read");
	is_hex(*(uint32_t *)(high + 0x1000), 0x5555aaaa,
	       "lifted: the guest's write reaches memory");
}

static void test_big(void)
{
	const size_t memsize = 4 * GIB + GIB / 2;
	struct kt_vm *vm = kt_vm_create("mem-big", memsize, 1);
	struct vmctx *ctx = vm->ctx;
	struct vcpu *v = vm->vcpu[0];
	uint64_t gpa, segoff, val;
	size_t len;
	int segid, prot, flags;
	uint8_t *rom, *seg, *high;
	char segname[VM_NAME_MAX];

	is_int(vm_get_lowmem_size(ctx), 3 * GIB, "lowmem 3 GiB");
	is_int(vm_get_highmem_size(ctx), GIB + GIB / 2, "highmem 1.5 GiB");
	ok(vm_get_memseg(ctx, VM_SYSMEM, &len, segname, sizeof(segname)) == 0 &&
		   len == memsize && segname[0] == 0,
	   "system memory segment: 4.5 GiB, no name");

	/* Named device memory: a 64 KiB "ROM" below 4 GiB, and an alias. */
	rom = vm_create_devmem(ctx, 1, "kt-rom", ROM_GPA, ROM_LEN);
	ok(rom != NULL, "vm_create_devmem: kt-rom at %#llx",
	   (unsigned long long)ROM_GPA);
	if (!rom)
		tap_bail("no device memory: %s", strerror(errno));
	ok(vm_get_memseg(ctx, 1, &len, segname, sizeof(segname)) == 0 &&
		   len == ROM_LEN && strcmp(segname, "kt-rom") == 0,
	   "vm_get_memseg: 64 KiB named kt-rom");
	is_int(vm_get_memseg(ctx, 2, &len, segname, sizeof(segname)), -ENOENT,
	       "vm_get_memseg of a free segment: ENOENT");
	is_int(vm_get_memseg(ctx, VM_MAX_MEMSEGS, &len, NULL, 0), -EINVAL,
	       "vm_get_memseg past the last segment: EINVAL");
	ok(vm_create_devmem(ctx, 1, "again", 0x7000000, 4096) == NULL &&
		   errno == EEXIST,
	   "device memory with a segment id in use: EEXIST");
	ok(vm_create_devmem(ctx, 2, "", 0x7000000, 4096) == NULL &&
		   errno == EINVAL,
	   "device memory without a name: EINVAL");
	is_int(vm_alloc_memseg(ctx, VM_SYSMEM, 4096, "x"), -EINVAL,
	       "a named segment 0 refused");
	is_int(vm_alloc_memseg(ctx, 3, 4096, NULL), -EINVAL,
	       "an unnamed device segment refused");
	is_int(vm_alloc_memseg(ctx, 3, 100, "odd"), -EINVAL,
	       "a segment not a multiple of 4 KiB refused");
	is_int(vm_mmap_memseg(ctx, ALIAS_GPA, 1, 0, ROM_LEN,
			      VM_PROT_READ | VM_PROT_WRITE),
	       0, "map kt-rom again at %#llx", (unsigned long long)ALIAS_GPA);

	/* Refusals. */
	is_int(vm_mmap_memseg(ctx, 0x100000, 1, 0, ROM_LEN, VM_PROT_READ),
	       -EEXIST, "a map over system memory: EEXIST");
	is_int(vm_mmap_memseg(ctx, ROM_GPA + 0x8000, 1, 0, 0x8000,
			      VM_PROT_READ),
	       -EEXIST, "a map over the second half of kt-rom: EEXIST");
	is_int(vm_mmap_memseg(ctx, ALIAS_GPA - 0x1000, 1, 0, 0x2000,
			      VM_PROT_READ),
	       -EEXIST, "a map over the first page of the alias: EEXIST");
	is_int(vm_mmap_memseg(ctx, 0xd0000000, 1, 0x1000, ROM_LEN,
			      VM_PROT_READ),
	       -EINVAL, "a map past the end of its segment: EINVAL");
	is_int(vm_mmap_memseg(ctx, 0xd0000800, 1, 0, 0x1000, VM_PROT_READ),
	       -EINVAL, "an unaligned map: EINVAL");
	is_int(vm_mmap_memseg(ctx, 0xd0000000, 1, 0, 0, VM_PROT_READ), -EINVAL,
	       "a map of 0 bytes: EINVAL");
	is_int(vm_mmap_memseg(ctx, 0xd0000000, 5, 0, 0x1000, VM_PROT_READ),
	       -ENOENT, "a map of a free segment: ENOENT");
	is_int(vm_mmap_memseg(ctx, 0xd0000000, VM_MAX_MEMSEGS, 0, 0x1000,
			      VM_PROT_READ),
	       -EINVAL, "a map of a segment id out of range: EINVAL");

	/* Iterate the maps in address order. */
	gpa = 0;
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == 0 && segid == VM_SYSMEM && segoff == 0 &&
		   len == 3 * GIB,
	   "map 1: system memory 0-3 GiB");
	gpa += len;
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == ALIAS_GPA && segid == 1 && segoff == 0 &&
		   len == ROM_LEN && prot == (VM_PROT_READ | VM_PROT_WRITE),
	   "map 2: the alias of kt-rom, rw");
	gpa += len;
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == ROM_GPA && segid == 1 && segoff == 0 &&
		   len == ROM_LEN,
	   "map 3: kt-rom");
	gpa += len;
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == VM_HIGHMEM_BASE && segid == VM_SYSMEM &&
		   segoff == 3 * GIB && len == GIB + GIB / 2,
	   "map 4: system memory from 4 GiB, segment offset 3 GiB");
	gpa += len;
	is_int(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags),
	       -ENOENT, "no map 5");

	/* vm_map_gpa: one map at a time. */
	seg = vm_map_gpa(ctx, 0, 4096);
	high = vm_map_gpa(ctx, VM_HIGHMEM_BASE, 4096);
	ok(seg && high && high == seg + 3 * GIB,
	   "4 GiB is the system memory segment at offset 3 GiB");
	ok(vm_map_gpa(ctx, 3 * GIB - 4096, 4096) != NULL,
	   "the last page below the hole");
	ok(vm_map_gpa(ctx, 3 * GIB - 4096, 8192) == NULL && errno == EFAULT,
	   "a range crossing the end of low memory: EFAULT");
	ok(vm_map_gpa(ctx, HOLE_GPA, 1) == NULL, "the hole is not memory");
	ok(vm_map_gpa(ctx, VM_HIGHMEM_BASE + GIB + GIB / 2 - 8, 16) == NULL,
	   "a range crossing the end of high memory");
	ok(vm_map_gpa(ctx, ROM_GPA, ROM_LEN) == rom, "kt-rom, all of it");
	ok(vm_map_gpa(ctx, ROM_GPA - 0x1000, 0x2000) == NULL,
	   "a range across two adjacent maps");

	/* The guest sees the same memory. */
	memcpy(high + 8, "\x78\x56\x34\x12", 4);
	memcpy(rom, "\xef\xbe\xad\xde", 4);
	memset(rom + 4, 0, 4);
	if (kt_vcpu_set_mode(v, KT_MODE_LONG64, GM(gm_start)) < 0)
		tap_bail("set mode");
	kt_load(vm, KT_CODE, gm, gm_end);
	is_hex(next_out(v, "a read at 4 GiB + 8"), 0x12345678,
	       "guest read at 4 GiB + 8 sees what the host wrote there");
	is_hex(next_out(v, "a read of kt-rom"), 0xdeadbeef,
	       "guest read of device memory");
	is_hex(*(uint32_t *)high, 0x4711cafe,
	       "guest write at 4 GiB lands at segment offset 3 GiB");
	is_hex(*(uint32_t *)(vm->mem + 3 * GIB - 4), 0x600dd00d,
	       "guest write below the hole lands in low memory");
	is_hex(next_out(v, "a read of the alias"), 0xfeedf00d,
	       "the alias shows the guest's write to kt-rom");
	is_hex(*(uint32_t *)(rom + 4), 0xfeedf00d,
	       "device memory has the guest's write");

	/* MMIO: reads get what the test supplies, writes deliver data. */
	mmio(v, false, HOLE_GPA, 4, 0xa1b2c3d4, GM(gm_rd4), GM(gm_rd4_end));
	is_hex(next_out(v, "MMIO read"), 0xa1b2c3d4,
	       "4-byte MMIO read returns the value supplied");
	mmio(v, false, HOLE_GPA + 1, 1, 0x5a, GM(gm_rd1), GM(gm_rd1_end));
	is_hex(next_out(v, "MMIO read"), 0x5a, "1-byte MMIO read");
	mmio(v, false, HOLE_GPA + 2, 2, 0xbeef, GM(gm_rd2), GM(gm_rd2_end));
	is_hex(next_out(v, "MMIO read"), 0xbeef, "2-byte MMIO read");
	mmio(v, false, HOLE_GPA + 8, 8, 0x0123456789abcdefULL, GM(gm_rd8),
	     GM(gm_rd8_end));
	val = next_out(v, "MMIO read, low half");
	val |= (uint64_t)next_out(v, "MMIO read, high half") << 32;
	is_hex(val, 0x0123456789abcdefULL, "8-byte MMIO read");
	is_hex(mmio(v, true, HOLE_GPA + 0x10, 1, 0, GM(gm_wr1), GM(gm_wr2)),
	       0x11, "1-byte MMIO write delivers its value");
	is_hex(mmio(v, true, HOLE_GPA + 0x12, 2, 0, GM(gm_wr2), GM(gm_wr4)),
	       0x2233, "2-byte MMIO write");
	is_hex(mmio(v, true, HOLE_GPA + 0x14, 4, 0, GM(gm_wr4), GM(gm_wr8)),
	       0x44556677, "4-byte MMIO write");
	is_hex(mmio(v, true, HOLE_GPA + 0x18, 8, 0, GM(gm_wr8), GM(gm_wr8_end)),
	       0x8899aabbccddeeffULL, "8-byte MMIO write");
	next_out(v, "the end of the MMIO writes");

	/*
	 * A map without VM_PROT_WRITE: the guest reads it; its writes must
	 * not change it (with KVM_MEM_READONLY they exit as MMIO).
	 */
	is_int(vm_alloc_memseg(ctx, 2, 4096, "kt-ro"), 0, "segment kt-ro");
	is_int(vm_mmap_memseg(ctx, RO_GPA, 2, 0, 4096,
			      VM_PROT_READ | VM_PROT_EXEC),
	       0, "map it read and execute only");
	memcpy(vm_map_gpa(ctx, RO_GPA, 4), "\x0d\xf0\xad\x0b", 4);
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GM(gm_ro));
	is_hex(next_out(v, "a read of kt-ro"), 0x0badf00d,
	       "the guest reads a read-only map");
	{
		struct vm_exit e;

		if (kt_run(v, &e) == 0 && e.exitcode == VM_EXITCODE_MMIO) {
			ok(e.u.mmio.write && e.u.mmio.gpa == RO_GPA,
			   "the guest's write exits as MMIO");
			next_out(v, "the end of kt-ro");
		} else {
			ok(e.exitcode == VM_EXITCODE_INOUT,
			   "the guest's write completes");
		}
	}
	is_hex(*(uint32_t *)vm_map_gpa(ctx, RO_GPA, 4), 0x0badf00d,
	       "a guest write to a map without VM_PROT_WRITE leaves it "
	       "unchanged");

	/* Unmap the alias: it becomes MMIO, and leaves the map list. */
	is_int(vm_munmap_memseg(ctx, ALIAS_GPA, 0x1000), -ENOENT,
	       "unmap of part of a map: ENOENT");
	is_int(vm_munmap_memseg(ctx, 0xd0000000, 0x1000), -ENOENT,
	       "unmap where nothing is mapped: ENOENT");
	is_int(vm_munmap_memseg(ctx, ALIAS_GPA, ROM_LEN), 0, "unmap the alias");
	ok(vm_map_gpa(ctx, ALIAS_GPA, 4) == NULL,
	   "vm_map_gpa of the unmapped alias fails");
	gpa = ALIAS_GPA;
	ok(vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags) ==
			   0 &&
		   gpa == ROM_GPA,
	   "getnext skips the unmapped alias");
	kt_vcpu_set_mode(v, KT_MODE_LONG64, GM(gm_alias));
	mmio(v, false, ALIAS_GPA + 4, 4, 0x0badcafe, GM(gm_alias_rd),
	     GM(gm_alias_rd_end));
	is_hex(next_out(v, "a read of the unmapped alias"), 0x0badcafe,
	       "a guest read there is MMIO now");
	is_int(vm_mmap_memseg(ctx, ALIAS_GPA, 1, 0x1000, 0x1000, VM_PROT_READ),
	       0, "map one page of kt-rom at offset 4 KiB there");
	ok(vm_map_gpa(ctx, ALIAS_GPA, 4096) == rom + 0x1000,
	   "vm_map_gpa gives the segment at that offset");
	test_protect_high(vm, high);
	kt_vm_destroy(vm);
}

int main(void)
{
	kt_require_kvm();
	test_small();
	test_big();
	return tap_done();
}
