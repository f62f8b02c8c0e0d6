/*
 * test-translate.c: VM_GLA2GPA and VM_GLA2GPA_NOFAULT, vm_copyin and
 * vm_copyout, against page tables the test builds in guest memory for
 * 4-level, PAE and 32-bit paging (and none), with the vCPU put in that
 * mode through vm_set_register_set.
 *
 * NOFAULT walks and guest copies must leave the tables byte-identical;
 * the faulting form sets accessed and dirty bits as the CPU does and, on
 * a fault, injects it: the guest then takes it in its IDT stub, which
 * reports vector, error code and CR2.
 *
 * A KVM that cannot run legacy paging (kvm_pvm refuses CR0.PG outside
 * long mode; the legacy-paging probe measures it on a bare VM) still has its PAE and 32-bit walks checked, with the paging
 * state passed in explicitly instead of taken from the vCPU; only what
 * needs the vCPU in that mode (guest copies, the PDPTE registers) is
 * skipped.  Single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kvm/kvm_util.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

#define MEMSIZE (8u << 20)
#define PT_BASE 0x100000 /* page tables from here */
#define A_GPA 0x300000 /* la_a's page */
#define B_GPA 0x302000 /* la_b's: not contiguous with la_a's */
#define NX_GPA 0x304000
#define BIG_GPA 0x400000 /* the large page */

#define PG_P 0x1ULL
#define PG_RW 0x2ULL
#define PG_US 0x4ULL
#define PG_A 0x20ULL
#define PG_D 0x40ULL
#define PG_PS 0x80ULL
#define PG_XD (1ULL << 63)

/* clang-format off */
asm(KT_GUEST_BEGIN(gt, KT_CODE)
    /* The same bytes in 32- and 64-bit mode. */
    KT_LABEL("gt_idle")
    "	nop\n"
    "	out %eax, $0xe0\n"
    KT_GUEST_END(gt));
/* clang-format on */
KT_GUEST_DECLARE(gt);

struct mode {
	const char *name;
	enum vm_paging_mode pm;
	int levels;
	int esize;
	uint64_t la_a; /* 4 KiB, supervisor, rw; +4K user rw; +8K absent */
	uint64_t la_big; /* large page, supervisor, read-only */
	uint64_t big_size;
	uint64_t la_hole; /* the top-level entry is absent */
};

static const struct mode modes[] = {
	{ "4-level", PAGING_MODE_64, 4, 8, 0x00007f0000001000ULL,
	  0xffff800000200000ULL, 2 << 20, 0x0000100000000000ULL },
	{ "PAE", PAGING_MODE_PAE, 3, 8, 0xc0001000, 0x80200000, 2 << 20,
	  0x40000000 },
	{ "32-bit", PAGING_MODE_32, 2, 4, 0xc0001000, 0x80400000, 4 << 20,
	  0x40000000 },
};

/* Page tables in guest memory, allocated upwards from PT_BASE. */
struct pt {
	struct kt_vm *vm;
	const struct mode *m;
	uint64_t root;
	uint64_t next;
};

static uint64_t pt_get(struct pt *p, uint64_t gpa)
{
	uint64_t v = 0;

	memcpy(&v, kt_gpa(p->vm, gpa), p->m->esize);
	return v;
}

static void pt_put(struct pt *p, uint64_t gpa, uint64_t v)
{
	memcpy(kt_gpa(p->vm, gpa), &v, p->m->esize);
}

static uint64_t pt_alloc(struct pt *p)
{
	uint64_t gpa = p->next;

	memset(kt_gpa(p->vm, gpa), 0, 4096);
	p->next += 4096;
	return gpa;
}

static int pt_shift(const struct mode *m, int level)
{
	return m->levels == 2 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
}

static uint64_t pt_entry_gpa(const struct mode *m, uint64_t table, uint64_t la,
			     int level)
{
	uint64_t mask = m->levels == 2 ? 0x3ff : 0x1ff;

	return table + ((la >> pt_shift(m, level)) & mask) * m->esize;
}

static uint64_t pt_frame(const struct mode *m, uint64_t e)
{
	return m->esize == 4 ? e & 0xfffff000 : e & 0x000ffffffffff000ULL;
}

/* Map la to gpa with a page of `size` and leaf `flags`. */
static void pt_map(struct pt *p, uint64_t la, uint64_t gpa, uint64_t size,
		   uint64_t flags)
{
	const struct mode *m = p->m;
	uint64_t table = p->root;

	for (int level = m->levels; level >= 1; level--) {
		uint64_t eg = pt_entry_gpa(m, table, la, level);
		uint64_t e;

		if (1ULL << pt_shift(m, level) == size) {
			pt_put(p, eg,
			       gpa | flags | PG_P | (level > 1 ? PG_PS : 0));
			return;
		}
		e = pt_get(p, eg);
		if (!(e & PG_P)) {
			e = pt_alloc(p) | PG_P;
			/* PAE PDPTEs have no access rights. */
			if (!(m->pm == PAGING_MODE_PAE && level == 3))
				e |= PG_RW | PG_US;
			pt_put(p, eg, e);
		}
		table = pt_frame(m, e);
	}
}

/* The entries a CPU reads for la, top first, and where they are. */
static int pt_walk(struct pt *p, uint64_t la, uint64_t *e, uint64_t *where)
{
	const struct mode *m = p->m;
	uint64_t table = p->root;
	int n = 0;

	for (int level = m->levels; level >= 1; level--) {
		where[n] = pt_entry_gpa(m, table, la, level);
		e[n] = pt_get(p, where[n]);
		n++;
		if (!(e[n - 1] & PG_P) || (level > 1 && (e[n - 1] & PG_PS)))
			break;
		table = pt_frame(m, e[n - 1]);
	}
	return n;
}

static void build(struct pt *p)
{
	const struct mode *m = p->m;
	uint64_t lsize = m->levels == 2 ? 4 << 20 : 2 << 20;

	p->next = PT_BASE;
	p->root = pt_alloc(p);
	/* Code, stack, IDT, runtime and these tables: identity. */
	for (uint64_t a = 0; a < 4 << 20; a += lsize)
		pt_map(p, a, a, lsize, PG_RW);
	pt_map(p, m->la_a, A_GPA, 4096, PG_RW);
	pt_map(p, m->la_a + 0x1000, B_GPA, 4096, PG_RW | PG_US);
	pt_map(p, m->la_big, BIG_GPA, m->big_size, 0);
	if (m->pm == PAGING_MODE_64)
		pt_map(p, m->la_a + 0x3000, NX_GPA, 4096, PG_RW | PG_XD);
}

/* What the vCPU's paging should be in mode m. */
static struct vm_guest_paging expected_paging(const struct pt *p)
{
	struct vm_guest_paging pg = {
		.cr3 = p->root,
		.cpl = 0,
		.cpu_mode = p->m->pm == PAGING_MODE_64 ? CPU_MODE_64BIT :
							 CPU_MODE_PROTECTED,
		.paging_mode = p->m->pm,
		.wp = true,
		.nxe = p->m->pm == PAGING_MODE_64,
		.pse = p->m->pm == PAGING_MODE_32,
	};

	return pg;
}

/*
 * Enter the mode: paging on, CR3 at the tables.  Returns 1 when the vCPU
 * is in it, 0 when KVM dropped CR0.PG, or -errno.
 */
static int enter(struct kt_vm *vm, struct pt *p)
{
	struct vcpu *v = vm->vcpu[0];
	int regs[4] = { VM_REG_GUEST_CR0, VM_REG_GUEST_CR3, VM_REG_GUEST_CR4,
			VM_REG_GUEST_EFER };
	uint64_t vals[4];
	int r;

	if (p->m->pm == PAGING_MODE_64)
		r = kt_vcpu_set_mode(v, KT_MODE_LONG64, KT_CODE);
	else
		r = kt_vcpu_set_mode(v, KT_MODE_PROT32, KT_CODE);
	if (r < 0 || (r = vm_get_register_set(v, 4, regs, vals)) < 0)
		return r;
	vals[0] |= 0x80010000; /* PG, WP */
	vals[1] = p->root;
	if (p->m->pm == PAGING_MODE_PAE)
		vals[2] |= 0x20; /* PAE */
	if (p->m->pm == PAGING_MODE_32)
		vals[2] |= 0x10; /* PSE */
	if (p->m->pm == PAGING_MODE_64)
		vals[3] |= 0x800; /* NXE */
	if ((r = vm_set_register_set(v, 4, regs, vals)) < 0 ||
	    (r = vm_get_register(v, VM_REG_GUEST_CR0, &vals[0])) < 0)
		return r;
	return (vals[0] >> 31) & 1;
}

/* A NOFAULT walk with the vCPU's paging, or with pg. */
static struct vm_gla2gpa walk(struct vcpu *v, const struct vm_guest_paging *pg,
			      uint64_t la, int prot, bool nofault)
{
	struct vm_gla2gpa w = { .gla = la, .prot = prot };
	int r;

	if (pg)
		w.paging = *pg;
	else
		w.use_current = true;
	r = vm_gla2gpa_walk(v, &w, nofault);
	if (r < 0) {
		tap_diag("walk of %#llx: %s", (unsigned long long)la,
			 strerror(-r));
		w.fault = true;
		w.vector = -1;
	}
	return w;
}

/* A successful walk: gpa, size and the entries the tables hold. */
static void check_ok(struct pt *p, struct vcpu *v,
		     const struct vm_guest_paging *pg, uint64_t la, int prot,
		     uint64_t gpa, uint64_t size, const char *what)
{
	struct vm_gla2gpa w = walk(v, pg, la, prot, true);
	uint64_t e[5], where[5];
	int n = pt_walk(p, la, e, where);
	bool same = w.levels == n;

	for (int i = 0; same && i < n; i++)
		same = w.pte[i] == e[i];
	ok(!w.fault && w.gpa == gpa && w.page_size == size,
	   "%s %s: %#llx -> %#llx, %llu KiB page", p->m->name, what,
	   (unsigned long long)la, (unsigned long long)w.gpa,
	   (unsigned long long)w.page_size >> 10);
	ok(same, "%s %s: %d levels, entries as in the tables", p->m->name, what,
	   w.levels);
}

static void check_fault(struct vcpu *v, const struct vm_guest_paging *pg,
			const char *mode, uint64_t la, int prot, int vector,
			uint32_t ec, int level, const char *what)
{
	struct vm_gla2gpa w = walk(v, pg, la, prot, true);

	if (!ok(w.fault && w.vector == vector && w.error_code == ec &&
			w.fault_level == level,
		"%s %s: fault %d, error code %#x, level %d", mode, what, vector,
		ec, level))
		tap_diag("got fault %d vector %d error code %#x level %d",
			 w.fault, w.vector, w.error_code, w.fault_level);
}

/*
 * legacy: the probe of whether this KVM runs legacy (32-bit, PAE) paging
 * on a bare VM.  kvm_pvm does not: it refuses CR0.PG outside long mode.
 */
static void test_mode(const struct mode *m, const struct kp_result *legacy)
{
	struct kt_vm *vm = kt_vm_create("xlate", MEMSIZE, 1);
	struct vcpu *v = vm->vcpu[0];
	struct pt p = { vm, m, 0, 0 };
	struct vm_guest_paging pg, upg;
	const struct vm_guest_paging *cpg;
	uint8_t *snap, buf[32], out[32];
	uint64_t gpa, e[5], where[5], bits;
	size_t tlen;
	int fault, n, bad, live;
	struct kt_exc x;
	const char *mn = m->name;

	kt_load(vm, KT_CODE, gt, gt_end);
	build(&p);
	pg = expected_paging(&p);
	if (m->pm == PAGING_MODE_64 || legacy->verdict != KP_CANNOT) {
		/* The KVM can: the mode must take. */
		if ((live = enter(vm, &p)) == 0)
			live = -EIO;
	} else {
		live = kt_vcpu_set_mode(v, KT_MODE_PROT32, KT_CODE);
	}
	if (live < 0) {
		ok(0, "%s: enter the mode: %s", mn,
		   live == -EIO ? "CR0.PG did not stay set" : strerror(-live));
		kt_vm_destroy(vm);
		return;
	}
	if (live) {
		struct vm_guest_paging cur;

		/*
		 * Field by field: vm_get_guest_paging leaves the struct's pad
		 * bytes as the caller had them, so a memcmp compares stack
		 * garbage.
		 */
		memset(&cur, 0xa5, sizeof(cur));
		if (!ok(vm_get_guest_paging(v, &cur) == 0 &&
				cur.cr3 == pg.cr3 && cur.cpl == pg.cpl &&
				cur.cpu_mode == pg.cpu_mode &&
				cur.paging_mode == pg.paging_mode &&
				cur.wp == pg.wp && cur.nxe == pg.nxe &&
				cur.smep == pg.smep && cur.smap == pg.smap &&
				cur.ac == pg.ac && cur.pse == pg.pse,
			"%s: vm_get_guest_paging", mn))
			tap_diag(
				"got cr3 %#llx cpl %d cpu_mode %u paging_mode %u "
				"wp %u nxe %u smep %u smap %u ac %u pse %u, pad "
				"%02x%02x%02x%02x%02x%02x",
				(unsigned long long)cur.cr3, cur.cpl,
				cur.cpu_mode, cur.paging_mode, cur.wp, cur.nxe,
				cur.smep, cur.smap, cur.ac, cur.pse, cur.pad[0],
				cur.pad[1], cur.pad[2], cur.pad[3], cur.pad[4],
				cur.pad[5]);
		cpg = NULL;
	} else {
		/* The vCPU stays in flat protected mode. */
		tap_skip("%s: the vCPU in the mode, so walks use an explicit "
			 "paging state: %s (probe)",
			 mn, legacy->why);
		cpg = &pg;
	}

	tlen = p.next - PT_BASE;
	snap = malloc(tlen);
	memcpy(snap, kt_gpa(vm, PT_BASE), tlen);

	/* NOFAULT walks. */
	check_ok(&p, v, cpg, m->la_a + 0x123, VM_PROT_READ, A_GPA + 0x123, 4096,
		 "read");
	check_ok(&p, v, cpg, m->la_a + 0x1008, VM_PROT_WRITE, B_GPA + 8, 4096,
		 "write, next page");
	check_ok(&p, v, cpg, m->la_big + 0x12345, VM_PROT_READ,
		 BIG_GPA + 0x12345, m->big_size, "large page");
	check_fault(v, cpg, mn, m->la_big, VM_PROT_WRITE, IDT_PF,
		    PGEX_P | PGEX_W, 2, "write to a read-only large page");
	check_fault(v, cpg, mn, m->la_a + 0x2000, VM_PROT_READ, IDT_PF, 0, 1,
		    "not present");
	check_fault(v, cpg, mn, m->la_hole, VM_PROT_WRITE, IDT_PF, PGEX_W,
		    m->levels, "top level absent");
	upg = pg;
	upg.cpl = 3;
	check_fault(v, &upg, mn, m->la_a, VM_PROT_READ, IDT_PF, PGEX_P | PGEX_U,
		    1, "user read of a supervisor page");
	check_ok(&p, v, &upg, m->la_a + 0x1000, VM_PROT_WRITE, B_GPA, 4096,
		 "user write of a user page");
	if (m->pm == PAGING_MODE_64) {
		check_fault(v, cpg, mn, 0x0000800000000000ULL, VM_PROT_READ,
			    IDT_GP, 0, 0, "non-canonical");
		check_ok(&p, v, cpg, m->la_a + 0x3000, VM_PROT_READ, NX_GPA,
			 4096, "read of an XD page");
		check_fault(v, cpg, mn, m->la_a + 0x3000, VM_PROT_EXEC, IDT_PF,
			    PGEX_P | PGEX_I, 1, "fetch from an XD page");
	}
	if (m->pm == PAGING_MODE_PAE && !live) {
		tap_skip("PAE: the PDPTE registers need the vCPU in PAE mode: "
			 "%s (probe)",
			 legacy->why);
	} else if (m->pm == PAGING_MODE_PAE) {
		bad = 0;
		for (int i = 0; i < 4; i++) {
			uint64_t val;

			if (vm_get_register(v, VM_REG_GUEST_PDPTE0 + i, &val) <
				    0 ||
			    val != pt_get(&p, p.root + 8 * i))
				bad++;
		}
		is_int(bad, 0, "PAE: the PDPTE registers hold the PDPT");
	}
	ok(vm_gla2gpa_nofault(v, cpg, m->la_a + 0x1fff, VM_PROT_READ, &gpa,
			      &fault) == 0 &&
		   !fault && gpa == B_GPA + 0xfff,
	   "%s: vm_gla2gpa_nofault", mn);

	/* Copies across la_a -> la_b, which are not contiguous. */
	for (int i = 0; i < 32; i++)
		buf[i] = 0x40 + i;
	if (!live) {
		tap_skip("%s: guest copies need the vCPU in the mode: %s "
			 "(probe)",
			 mn, legacy->why);
		goto copied;
	}
	is_int(vm_copyout(v, buf, m->la_a + 0xff8, 16), 16,
	       "%s: vm_copyout of 16 bytes across a page boundary", mn);
	ok(memcmp(kt_gpa(vm, A_GPA + 0xff8), buf, 8) == 0 &&
		   memcmp(kt_gpa(vm, B_GPA), buf + 8, 8) == 0,
	   "%s: 8 bytes at the end of one frame, 8 at the start of the other",
	   mn);
	memset(out, 0, sizeof(out));
	is_int(vm_copyin(v, m->la_a + 0xff8, out, 16), 16,
	       "%s: vm_copyin of them", mn);
	ok(memcmp(out, buf, 16) == 0, "%s: the same bytes back", mn);
	memcpy(kt_gpa(vm, B_GPA + 0xff0), buf, 16);
	memset(out, 0, sizeof(out));
	is_int(vm_copyin(v, m->la_a + 0x1ff0, out, 32), 16,
	       "%s: vm_copyin into an absent page stops at it", mn);
	ok(memcmp(out, buf, 16) == 0, "%s: with the bytes before it", mn);
	is_int(vm_copyout(v, buf, m->la_a + 0x1ff0, 32), 16,
	       "%s: vm_copyout likewise", mn);
	is_int(vm_copyin(v, m->la_a + 0x2000, out, 4), -EFAULT,
	       "%s: vm_copyin at an absent page: EFAULT", mn);
copied:
	ok(memcmp(snap, kt_gpa(vm, PT_BASE), tlen) == 0,
	   "%s: the tables are byte-identical after NOFAULT walks and copies",
	   mn);

	/* The faulting form: accessed and dirty bits. */
	ok(vm_gla2gpa(v, cpg, m->la_a + 0x10, VM_PROT_WRITE, &gpa, &fault) ==
			   0 &&
		   !fault && gpa == A_GPA + 0x10,
	   "%s: vm_gla2gpa write", mn);
	n = pt_walk(&p, m->la_a, e, where);
	bad = 0;
	for (int i = 0; i < n; i++) {
		uint64_t old;

		memcpy(&old, snap + (where[i] - PT_BASE), m->esize);
		if (m->esize == 4)
			old &= 0xffffffff;
		bits = PG_A;
		if (m->pm == PAGING_MODE_PAE && i == 0)
			bits = 0; /* a PDPTE has no A bit */
		if (i == n - 1)
			bits |= PG_D;
		if (e[i] != (old | bits)) {
			tap_diag("level %d: %#llx, was %#llx", m->levels - i,
				 (unsigned long long)e[i],
				 (unsigned long long)old);
			bad++;
		}
	}
	is_int(bad, 0, "%s: A set at every level, D in the leaf only", mn);
	ok(vm_gla2gpa(v, cpg, m->la_big + 8, VM_PROT_READ, &gpa, &fault) == 0 &&
		   !fault,
	   "%s: vm_gla2gpa read of the large page", mn);
	n = pt_walk(&p, m->la_big, e, where);
	ok((e[n - 1] & (PG_A | PG_D)) == PG_A, "%s: its entry has A, not D",
	   mn);

	/* A fault is injected: the guest's #PF handler sees it. */
	memcpy(snap, kt_gpa(vm, PT_BASE), tlen);
	kt_exc_reset(vm);
	ok(vm_gla2gpa(v, cpg, m->la_a + 0x2010, VM_PROT_WRITE, &gpa, &fault) ==
			   0 &&
		   fault,
	   "%s: vm_gla2gpa of an absent page faults", mn);
	ok(memcmp(snap, kt_gpa(vm, PT_BASE), tlen) == 0,
	   "%s: a faulting walk sets no bit", mn);
	ok(kt_run_out(v, KT_PORT_EXC, NULL) == 0,
	   "%s: the guest takes the injected fault", mn);
	x = kt_exc_get(vm);
	ok(x.vector == IDT_PF && x.error_code == PGEX_W &&
		   x.cr2 == ((m->la_a + 0x2010) &
			     (m->pm == PAGING_MODE_64 ? ~0ULL :
							0xffffffffULL)) &&
		   x.rip == KT_CODE,
	   "%s: #PF, error code W, CR2 the address, at the vCPU's rip", mn);
	if (x.vector != IDT_PF)
		tap_diag("vector %llu error %#llx cr2 %#llx rip %#llx",
			 (unsigned long long)x.vector,
			 (unsigned long long)x.error_code,
			 (unsigned long long)x.cr2, (unsigned long long)x.rip);

	if (m->pm == PAGING_MODE_64) {
		kt_exc_reset(vm);
		vm_set_register(v, VM_REG_GUEST_RIP, KT_CODE);
		ok(vm_gla2gpa(v, cpg, 0xfff0000000000000ULL, VM_PROT_READ, &gpa,
			      &fault) == 0 &&
			   fault,
		   "%s: vm_gla2gpa of a non-canonical address faults", mn);
		ok(kt_run_out(v, KT_PORT_EXC, NULL) == 0 &&
			   kt_exc_get(vm).vector == IDT_GP,
		   "%s: the guest takes #GP", mn);
	}
	free(snap);
	kt_vm_destroy(vm);
}

/* No paging: linear is physical (32 bits of it outside long mode). */
static void test_flat(void)
{
	struct kt_vm *vm = kt_vm_create("xlate-flat", KT_MEM_DEFAULT, 1);
	struct vcpu *v = vm->vcpu[0];
	struct vm_guest_paging pg;
	struct vm_gla2gpa w;
	uint64_t gpa;
	int fault;
	uint8_t buf[8];

	kt_vcpu_set_mode(v, KT_MODE_PROT32, KT_CODE);
	ok(vm_get_guest_paging(v, &pg) == 0 &&
		   pg.paging_mode == PAGING_MODE_FLAT &&
		   pg.cpu_mode == CPU_MODE_PROTECTED,
	   "flat: no paging, protected mode");
	ok(vm_gla2gpa_nofault(v, NULL, 0x12345678, VM_PROT_READ, &gpa,
			      &fault) == 0 &&
		   !fault && gpa == 0x12345678,
	   "flat: linear = physical");
	ok(vm_gla2gpa(v, NULL, 0x100001000ULL, VM_PROT_WRITE, &gpa, &fault) ==
			   0 &&
		   !fault && gpa == 0x1000,
	   "flat: 32 bits of the address");
	w = walk(v, NULL, 0x5000, VM_PROT_EXEC, true);
	ok(!w.fault && w.levels == 0 && w.gpa == 0x5000, "flat: no levels");
	memcpy(kt_gpa(vm, 0x1ffffc), "abcd", 4);
	is_int(vm_copyin(v, 0x1ffffc, buf, 8), 4,
	       "flat: vm_copyin stops where memory ends");
	ok(memcmp(buf, "abcd", 4) == 0, "flat: with the bytes before it");
	kt_vcpu_set_mode(v, KT_MODE_REAL, KT_CODE);
	ok(vm_get_guest_paging(v, &pg) == 0 &&
		   pg.paging_mode == PAGING_MODE_FLAT &&
		   pg.cpu_mode == CPU_MODE_REAL && pg.cpl == 0,
	   "real mode: flat, CPL 0");
	kt_vm_destroy(vm);
}

int main(void)
{
	struct kp_result legacy;

	kt_require_kvm();
	kp_probe("legacy-paging", &legacy);
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		test_mode(&modes[i], &legacy);
	test_flat();
	return tap_done();
}
