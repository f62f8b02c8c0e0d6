/*
 * test-paging-walk.c: vitro's page walker against paging.elf.  For each
 * paging mode the guest builds its tables, lists its mappings in the
 * result area (guest_abi.h) and writes GUEST_REQ_PAGING_CHECK; at that
 * exit every mapping is translated on the live vCPU with
 * VM_GLA2GPA_NOFAULT: the accesses the guest says succeed must give its
 * physical address and page size, the others must fault, and a CPL 3 read
 * must succeed exactly on user pages.  Whether the virtual CPU can do a
 * mode is measured first by a probe on a bare KVM VM (tests/kvm/probe.h):
 * where it cannot (kvm_pvm refuses CR0.PG outside long mode; LA57 is
 * rare) the guest must say so (GUEST_EXIT_UNSUPPORTED), and the tables it
 * still built (GUEST_REQ_PAGING_TABLES) are walked with the paging state
 * its header gives; elsewhere it must pass.  Where the probe finds the CPU
 * writes a reserved bit into PAE PDPTEs in memory (QEMU's emulated SVM
 * with nested paging sets the accessed bit there), the live PAE walks,
 * which read the PDPTEs from memory, are skipped with that reason.  Needs
 * /dev/kvm and paging.elf.
 *
 * Single-threaded: the test runs the guest's one vCPU itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libvmmapi/vmmapi.h"
#include "monitor/boot/loader.h"
#include "monitor/platform.h"
#include "tests/guests/guest_abi.h"
#include "tests/kvm/probe.h"
#include "tests/tap.h"

#define GUEST_MEM (256ull << 20)
#define MAX_EXITS 1000000
#define CONSOLE_MAX 8192

struct run {
	struct vmctx *ctx;
	struct vcpu *vc;
	const char *mode;
	const struct kp_result *pdpte; /* the pae-pdpte probe */
	char console[CONSOLE_MAX];
	size_t console_len;
	bool checked; /* the test request came */
};

static void *map_gpa(void *arg, uint64_t gpa, size_t len)
{
	return vm_map_gpa(arg, gpa, len);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static const int prots[] = { GUEST_PROT_READ, GUEST_PROT_WRITE,
			     GUEST_PROT_EXEC };
static const char *const prot_names[] = { "read", "write", "exec" };

/* The walk behind an unexpected fault: state, then entries, top first. */
static void show_walk(const struct vm_guest_paging *pg,
		      const struct vm_gla2gpa *w)
{
	tap_diag("  walk of %#llx: cr3 %#llx mode %u nxe %u wp %u pse %u, "
		 "fault at level %d",
		 (unsigned long long)w->gla, (unsigned long long)pg->cr3,
		 pg->paging_mode, pg->nxe, pg->wp, pg->pse, w->fault_level);
	for (int l = 0; l < w->levels && l < VM_WALK_MAX_LEVELS; l++)
		tap_diag("    entry %d: %#018llx", l,
			 (unsigned long long)w->pte[l]);
}

/* One entry: every access as the guest describes it, and CPL 3. */
static void check_entry(struct run *r, const struct vm_guest_paging *pg,
			const uint8_t *e, uint32_t i)
{
	uint64_t gla = rd64(e + GUEST_PAGING_E_GLA);
	uint64_t want = rd64(e + GUEST_PAGING_E_GPA);
	uint32_t okp = rd32(e + GUEST_PAGING_E_PROT_OK);
	uint32_t faultp = rd32(e + GUEST_PAGING_E_PROT_FAULT);
	uint32_t size = rd32(e + GUEST_PAGING_E_PAGE_SIZE);
	uint32_t flags = rd32(e + GUEST_PAGING_E_FLAGS);
	struct vm_guest_paging user = *pg;
	char why[256] = "";
	size_t n = 0;

	for (unsigned int k = 0; k < 3; k++) {
		struct vm_gla2gpa w = { .cpuid = 0, .paging = *pg };

		if (!((okp | faultp) & prots[k]))
			continue;
		w.gla = gla;
		w.prot = prots[k];
		if (vm_gla2gpa_walk(r->vc, &w, true) < 0) {
			n += snprintf(why + n, sizeof(why) - n, " %s: error;",
				      prot_names[k]);
			continue;
		}
		if ((okp & prots[k]) && w.fault) {
			n += snprintf(why + n, sizeof(why) - n,
				      " %s faults (vector %d, error %#x);",
				      prot_names[k], w.vector, w.error_code);
			show_walk(pg, &w);
		} else if ((okp & prots[k]) && w.gpa != want)
			n += snprintf(why + n, sizeof(why) - n,
				      " %s gives %#llx;", prot_names[k],
				      (unsigned long long)w.gpa);
		else if ((okp & prots[k]) && w.page_size != size)
			n += snprintf(why + n, sizeof(why) - n,
				      " %s page size %#llx;", prot_names[k],
				      (unsigned long long)w.page_size);
		else if ((faultp & prots[k]) && !w.fault)
			n += snprintf(why + n, sizeof(why) - n,
				      " %s does not fault;", prot_names[k]);
	}
	user.cpl = 3;
	{
		uint64_t gpa = 0;
		int fault = 0;

		if (vm_gla2gpa_nofault(r->vc, &user, gla, VM_PROT_READ, &gpa,
				       &fault) < 0)
			n += snprintf(why + n, sizeof(why) - n,
				      " CPL 3 read: error;");
		else if (!!(flags & GUEST_PAGING_F_USER) == !!fault)
			n += snprintf(why + n, sizeof(why) - n,
				      " CPL 3 read %s;",
				      fault ? "faults" : "succeeds");
	}
	ok(n == 0, "mode %s: entry %u, %#llx -> %#llx (%s%s)%s", r->mode, i,
	   (unsigned long long)gla, (unsigned long long)want,
	   size >= (1u << 30) ? "1G" :
	   size >= (4u << 20) ? "4M" :
	   size >= (2u << 20) ? "2M" :
				"4K",
	   flags & GUEST_PAGING_F_USER ? " user" : "", why);
}

static const enum vm_paging_mode modes_abi[] = {
	[GUEST_PAGING_MODE_32] = PAGING_MODE_32,
	[GUEST_PAGING_MODE_PAE] = PAGING_MODE_PAE,
	[GUEST_PAGING_MODE_64] = PAGING_MODE_64,
	[GUEST_PAGING_MODE_LA57] = PAGING_MODE_64_LA57,
};

/* The paging the header describes, for tables the CPU would not take. */
static void paging_from_header(const uint8_t *res, struct vm_guest_paging *pg)
{
	uint32_t mode = rd32(res + GUEST_PAGING_MODE);

	memset(pg, 0, sizeof(*pg));
	pg->cr3 = rd64(res + GUEST_PAGING_CR3);
	pg->cpl = 0;
	pg->cpu_mode = mode >= GUEST_PAGING_MODE_64 ? CPU_MODE_COMPATIBILITY :
						      CPU_MODE_PROTECTED;
	pg->paging_mode = modes_abi[mode];
	pg->wp = !!(rd64(res + GUEST_PAGING_CR0) & (1u << 16));
	pg->nxe = !!(rd64(res + GUEST_PAGING_EFER) & (1u << 11));
	pg->pse = !!(rd64(res + GUEST_PAGING_CR4) & (1u << 4));
}

/* live: the mode is on in the vCPU; else only in the header. */
static void check_table(struct run *r, bool live)
{
	const uint8_t *res =
		vm_map_gpa(r->ctx, GUEST_RESULT_ADDR, GUEST_RESULT_SIZE);
	struct vm_guest_paging pg;
	uint32_t count, mode;

	r->checked = true;
	if (!ok(res && rd32(res + GUEST_RESULT_MAGIC) == GUEST_PAGING_MAGIC &&
			rd32(res + GUEST_RESULT_STATE) == GUEST_STATE_READY,
		"mode %s: the result area is ready", r->mode))
		return;
	count = rd32(res + GUEST_PAGING_COUNT);
	mode = rd32(res + GUEST_PAGING_MODE);
	if (!ok(count > 0 && count <= GUEST_PAGING_MAX_ENTRIES &&
			mode >= GUEST_PAGING_MODE_32 &&
			mode <= GUEST_PAGING_MODE_LA57,
		"mode %s: %u entries, mode %u", r->mode, count, mode))
		return;
	if (live) {
		if (!ok(vm_get_guest_paging(r->vc, &pg) == 0 && pg.cpl == 0 &&
				pg.paging_mode == modes_abi[mode],
			"mode %s: the vCPU pages in that mode, at CPL 0",
			r->mode))
			return;
	} else {
		paging_from_header(res, &pg);
		tap_diag("mode %s: not live: walking the tables at cr3 %#llx "
			 "as the header says",
			 r->mode, (unsigned long long)pg.cr3);
	}
	if (live && pg.paging_mode == PAGING_MODE_PAE &&
	    r->pdpte->verdict == KP_CANNOT) {
		tap_skip("mode %s live: %u entries: %s (probe)", r->mode, count,
			 r->pdpte->why);
		return;
	}
	for (uint32_t i = 0; i < count; i++)
		check_entry(r, &pg,
			    res + GUEST_PAGING_ENTRIES +
				    i * GUEST_PAGING_ENTRY_SIZE,
			    i);
}

static void console_put(struct run *r, uint8_t c)
{
	if (r->console_len + 1 < CONSOLE_MAX && c != '\r')
		r->console[r->console_len++] = (char)c;
	r->console[r->console_len] = '\0';
}

/* Run the guest to its exit port; the exit code, or -1. */
static int run_guest(struct run *r)
{
	struct vm_exit e;

	for (int i = 0; i < MAX_EXITS; i++) {
		if (vm_run(r->vc, &e) < 0)
			return -1;
		if (e.exitcode == VM_EXITCODE_BOGUS)
			continue;
		if (e.exitcode != VM_EXITCODE_INOUT) {
			tap_diag("mode %s: exit %s at rip %#llx", r->mode,
				 vm_exitcode_name(e.exitcode),
				 (unsigned long long)e.rip);
			return -1;
		}
		if (e.u.inout.in) {
			/* Unclaimed ports float high; so COM1's LSR is ready. */
			memset(e.u.inout.data, 0xff,
			       (size_t)e.u.inout.bytes * e.u.inout.count);
			continue;
		}
		if (e.u.inout.port == COM1_PORT)
			console_put(r, e.u.inout.data[0]);
		else if (e.u.inout.port == DEBUG_EXIT_PORT)
			return e.u.inout.data[0];
		else if (e.u.inout.port == GUEST_TEST_PORT &&
			 rd32(e.u.inout.data) == GUEST_REQ_PAGING_CHECK)
			check_table(r, true);
		else if (e.u.inout.port == GUEST_TEST_PORT &&
			 rd32(e.u.inout.data) == GUEST_REQ_PAGING_TABLES)
			check_table(r, false);
	}
	tap_diag("mode %s: no exit after %d port writes", r->mode, MAX_EXITS);
	return -1;
}

/*
 * Boot paging.elf in `mode`.  `can` is the probe of whether the virtual
 * CPU does the mode, `pdpte` the probe of what it writes into PDPTEs.
 */
static void test_mode(const char *mode, const struct kp_result *can,
		      const struct kp_result *pdpte, const void *image,
		      size_t len)
{
	char name[64], cmdline[32], msg[LOADER_MSG_MAX];
	static struct run r;
	struct loader_result res;
	struct loader_params p = { 0 };
	int code = -1;

	memset(&r, 0, sizeof(r));
	r.mode = mode;
	r.pdpte = pdpte;
	snprintf(name, sizeof(name), "test-paging-walk-%d-%s", (int)getpid(),
		 mode);
	snprintf(cmdline, sizeof(cmdline), "mode=%s", mode);
	r.ctx = vm_create(name);
	if (!r.ctx || vm_setup_memory(r.ctx, GUEST_MEM) < 0)
		tap_bail("cannot create a VM: %s", strerror(errno));
	r.vc = vm_vcpu_open(r.ctx, 0);
	if (!r.vc || vm_activate_cpu(r.vc) < 0)
		tap_bail("cannot set up vCPU 0");
	p.image = image;
	p.image_len = len;
	p.cmdline = cmdline;
	p.lowmem_size = GUEST_MEM;
	p.map = map_gpa;
	p.map_arg = r.ctx;
	if (loader_load(&p, &res, msg, sizeof(msg)) < 0)
		tap_bail("loading paging.elf: %s", msg);
	if (vm_set_register_set(r.vc, res.nregs, res.regnums, res.regvals) < 0)
		tap_bail("cannot set the boot registers");

	code = run_guest(&r);
	if (can->verdict == KP_CANNOT) {
		const char *why = strstr(r.console, "support");

		while (why && why > r.console && why[-1] != '\n')
			why--;
		ok(code == GUEST_EXIT_UNSUPPORTED && r.checked,
		   "mode %s: the guest finds the CPU cannot (exit %#x), as the "
		   "probe did: %s",
		   mode, code, can->why);
		tap_diag("the guest: %.*s", why ? (int)strcspn(why, "\n") : 0,
			 why ? why : "");
	} else {
		ok(code == GUEST_EXIT_PASS && r.checked,
		   "mode %s: the guest passed (exit %#x) and asked for the "
		   "check",
		   mode, code);
	}
	if (code != GUEST_EXIT_PASS && code != GUEST_EXIT_UNSUPPORTED)
		for (char *l = strtok(r.console, "\n"); l;
		     l = strtok(NULL, "\n"))
			tap_diag("  %s", l);
	vm_vcpu_close(r.vc);
	vm_destroy(r.ctx);
}

int main(void)
{
	static const char *const modes[] = { "32", "pae", "64", "la57" };
	/* Which probe says whether the CPU does each; 64-bit always works. */
	static const char *const probes[] = { "legacy-paging", "pae-paging",
					      NULL, "la57" };
	struct kp_result can[4], pdpte;
	const char *build = getenv("VITRO_BUILD");
	char path[4096];
	struct stat st;
	void *image;
	int fd = open("/dev/kvm", O_RDWR);

	if (fd < 0)
		tap_skip_all("/dev/kvm not available: %s", strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "%s/tests/guests/paging.elf",
		 build ? build : "build");
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		tap_skip_all("%s: %s", path, strerror(errno));
	image = malloc(st.st_size);
	if (!image || read(fd, image, st.st_size) != st.st_size)
		tap_bail("cannot read %s", path);
	close(fd);
	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (probes[i])
			kp_probe(probes[i], &can[i]);
		else
			can[i] = (struct kp_result){ .verdict = KP_CAN };
	kp_probe("pae-pdpte", &pdpte);
	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		test_mode(modes[i], &can[i], &pdpte, image, st.st_size);
	free(image);
	return tap_done();
}
