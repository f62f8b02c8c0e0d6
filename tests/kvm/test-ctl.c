/*
 * test-ctl.c: libvmmapi over both transports, and the control socket.
 *
 * One guest (below) runs on a VM created in this process and on a VM that
 * a real vitro process runs, opened with vm_open() through its control
 * socket; the same suite checks both: registers, memory by guest-physical
 * and by linear address (through an alias the guest maps), translation,
 * statistics and their names, topology, vCPU sets, memory maps and
 * segments, and what the socket refuses.  Then what only the socket has:
 * registers and copies of a vCPU that runs, malformed requests from a raw
 * client, another user's connection, a client killed in the middle of
 * its requests, two clients at once (one subscribed to events), a monitor
 * that stops answering, a gdb connection that never speaks, and the VM's
 * end (a stale socket after kill -9 too).
 *
 * Needs /dev/kvm and $VITRO_BUILD/bin/vitro; the other user's check needs
 * root.  The vitro processes are started by the main thread, which makes
 * every TAP check; the helper thread of the two-client check reports by
 * its struct only.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/kvm/kvm_util.h"
#include "tests/tap.h"

#define DATA 0x200000 /* the guest's counter */
#define PAT 0x90000 /* 8 KiB free in both VMs, below 2 MiB (the alias) */
#define ALIAS 0x3fe00000ULL /* linear: maps guest-physical 0, 2 MiB */
#define R12_MAGIC 0x1122334455667788ULL
#define ELF_BASE 0x100000 /* where vitro loads the guest */
#define MEMSIZE (16u << 20)
#define WAIT_MS 60000 /* bound on anything the test waits for */

/*
 * The guest, 64-bit CPL 0, position-independent: map ALIAS to physical 0
 * with a 2 MiB page in the page directory that maps the first GiB (found
 * through CR3, so any identity map will do), set r12, report on
 * KT_PORT_OUT (an exit in-process; an unclaimed port under vitro), then
 * count at DATA forever.
 */
/* clang-format off */
asm(KT_GUEST_BEGIN(gc, KT_CODE)
    ".code64\n"
    "	movabs $0x000ffffffffff000, %rcx\n"
    "	mov %cr3, %rax\n"
    "	and %rcx, %rax\n"
    "	mov (%rax), %rax\n" /* PML4[0] */
    "	and %rcx, %rax\n"
    "	mov (%rax), %rax\n" /* PDPT[0] */
    "	and %rcx, %rax\n"
    "	movq $0x83, 0xff8(%rax)\n" /* PD[511]: P, RW, PS at 0 */
    "	mov $" KT_STR(ALIAS) ", %eax\n"
    "	invlpg (%rax)\n"
    "	movabs $" KT_STR(R12_MAGIC) ", %r12\n"
    "	xor %r13d, %r13d\n"
    "	mov $" KT_STR(DATA) ", %ebx\n"
    "	out %al, $" KT_STR(KT_PORT_OUT) "\n"
    KT_LABEL("gc_loop")
    "1:	incq (%rbx)\n"
    "	inc %r13\n"
    "	pause\n"
    "	jmp 1b\n"
    KT_GUEST_END(gc));
/* clang-format on */
KT_GUEST_DECLARE(gc);
extern const uint8_t gc_loop[];

static char tmp[64]; /* the test's directory */
static char vitro_bin[4096];

/* What the in-process run found, for the remote run to match. */
struct results {
	int bad_memseg; /* vm_get_memseg of an unused segment */
	int bad_stat; /* vm_get_stat_desc past the last */
	int nstats;
};

/* Write the guest as an ELF64 that vitro enters in 64-bit mode. */
static void write_elf(const char *path)
{
	size_t len = gc_end - gc;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = ELF_BASE,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD,
		.p_flags = PF_R | PF_W | PF_X,
		.p_offset = 0x1000,
		.p_vaddr = ELF_BASE,
		.p_paddr = ELF_BASE,
		.p_filesz = len,
		.p_memsz = len,
		.p_align = 0x1000,
	};
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || write(fd, &eh, sizeof(eh)) != sizeof(eh) ||
	    write(fd, &ph, sizeof(ph)) != sizeof(ph) ||
	    pwrite(fd, gc, len, 0x1000) != (ssize_t)len)
		tap_bail("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

static pid_t vitro_start(const char *name, bool gdb, const char *errfile)
{
	char elf[128], gdbarg[128];
	pid_t pid;

	snprintf(elf, sizeof(elf), "%s/guest.elf", tmp);
	snprintf(gdbarg, sizeof(gdbarg), "unix:%s/gdb.sock", tmp);
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDWR);
		int err = open(errfile, O_CREAT | O_TRUNC | O_WRONLY, 0644);

		dup2(in, 0);
		dup2(in, 1);
		dup2(err, 2);
		if (gdb)
			execl(vitro_bin, "vitro", "--debug-exit", "-m", "16M",
			      "-c", "2,sockets=1,cores=2,threads=1", "-G",
			      gdbarg, "-k", elf, name, (char *)NULL);
		else
			execl(vitro_bin, "vitro", "--debug-exit", "-m", "16M",
			      "-c", "2", "-k", elf, name, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

static void show_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		tap_diag("  %s", strtok(line, "\n") ? line : "");
	if (f)
		fclose(f);
}

static bool file_has(const char *path, const char *text)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/*
 * Open VM name once its vitro serves it; NULL when it does not in time,
 * or says it goes on without a control socket.
 */
static struct vmctx *wait_open(const char *name, pid_t pid, const char *errfile)
{
	uint64_t t0 = kt_now_ms();

	while (kt_now_ms() - t0 < WAIT_MS && alive(pid) &&
	       !file_has(errfile, "control socket:")) {
		struct vmctx *ctx = vm_open(name);

		if (ctx)
			return ctx;
		kt_sleep_ms(100);
	}
	return NULL;
}

/* Whether `text` appears in the file, waiting for it up to WAIT_MS. */
static bool wait_log(const char *path, const char *text)
{
	uint64_t t0 = kt_now_ms();

	do {
		if (file_has(path, text))
			return true;
		kt_sleep_ms(100);
	} while (kt_now_ms() - t0 < WAIT_MS);
	return false;
}

static uint64_t counter(struct vmctx *ctx)
{
	uint64_t v = 0;

	if (vm_read_gpa(ctx, DATA, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Whether the guest's counter moves past `from` within WAIT_MS. */
static bool counter_moves(struct vmctx *ctx, uint64_t from)
{
	uint64_t t0 = kt_now_ms();

	while (kt_now_ms() - t0 < WAIT_MS) {
		if (counter(ctx) > from)
			return true;
		kt_sleep_ms(20);
	}
	return false;
}

static bool in_guest_code(uint64_t rip, uint64_t base)
{
	return rip >= base && rip < base + (uint64_t)(gc_end - gc);
}

/*
 * The suite, on a VM whose vCPU 0 has set up and is stopped.  base: where
 * the guest's code is (guest-physical = linear).
 */
static void suite(const char *how, struct vmctx *ctx, uint64_t base,
		  struct results *res)
{
	bool remote = vm_is_remote(ctx);
	struct vcpu *v0 = vm_vcpu_open(ctx, 0), *v1 = vm_vcpu_open(ctx, 1);
	static const int regs[] = { VM_REG_GUEST_RIP, VM_REG_GUEST_R12,
				    VM_REG_GUEST_CR3, VM_REG_GUEST_CS };
	uint64_t vals[4], v, rip, gpa, len, segoff;
	static uint8_t pat[8192], back[8192];
	struct vm_gla2gpa w = { .use_current = 1, .gla = ALIAS + 0x1234 };
	uint16_t s, c, t, m;
	struct vm_cpuset cpus;
	enum vm_runstate rs;
	char name[VM_STAT_NAME_MAX];
	uint64_t stats[1024];
	int r, fault, nstats, segid, prot, flags, ndesc;
	size_t seglen;

	tap_diag("%s", how);
	if (!v0 || !v1)
		tap_bail("vm_vcpu_open: %s", strerror(errno));
	is_int(vm_get_ncpus(ctx), 2, "%s: 2 vCPUs", how);
	ok(vm_vcpu_open(ctx, VM_MAXCPU) == NULL, "%s: no vCPU %d", how,
	   VM_MAXCPU);

	/* Registers of the stopped vCPU. */
	r = vm_get_register(v0, VM_REG_GUEST_RIP, &rip);
	ok(r == 0 && in_guest_code(rip, base),
	   "%s: rip %#llx is in the guest's code", how,
	   (unsigned long long)rip);
	r = vm_get_register(v0, VM_REG_GUEST_R12, &v);
	is_hex(r == 0 ? v : (uint64_t)r, R12_MAGIC, "%s: r12 as the guest set",
	       how);
	r = vm_get_register_set(v0, 4, regs, vals);
	ok(r == 0 && vals[0] == rip && vals[1] == R12_MAGIC &&
		   vals[3] == KT_SEL_CODE64,
	   "%s: the same in one register set (cs %#llx)", how,
	   (unsigned long long)vals[3]);
	ok(vm_set_register(v0, VM_REG_GUEST_R14, 0xfeedULL) == 0 &&
		   vm_get_register(v0, VM_REG_GUEST_R14, &v) == 0 &&
		   v == 0xfeed,
	   "%s: a register written reads back", how);
	v = counter(ctx);
	kt_sleep_ms(50);
	is_int(counter(ctx), v, "%s: a stopped guest does not count", how);
	rs = VRS_OTHER;
	r = vm_get_run_state(v0, &rs);
	ok(r == 0 && rs == VRS_RUN, "%s: vCPU 0 runs (run state %d)", how, rs);
	rs = VRS_OTHER;
	r = vm_get_run_state(v1, &rs);
	ok(r == 0 && rs == VRS_INIT, "%s: vCPU 1 waits for INIT (run state %d)",
	   how, rs);

	/* Memory by guest-physical address, across a page. */
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	is_int(vm_write_gpa(ctx, PAT, pat, sizeof(pat)), sizeof(pat),
	       "%s: write 8 KiB of guest-physical memory", how);
	memset(back, 0, sizeof(back));
	ok(vm_read_gpa(ctx, PAT, back, sizeof(back)) == (ssize_t)sizeof(back) &&
		   !memcmp(pat, back, sizeof(pat)),
	   "%s: and read it back", how);
	is_int(vm_read_gpa(ctx, MEMSIZE - 16, back, 64), 16,
	       "%s: a read past the end of memory stops there", how);
	is_int(vm_read_gpa(ctx, 0xc0000000, back, 8), -EFAULT,
	       "%s: a read of no memory: -EFAULT", how);

	/* By linear address, through the guest's alias of physical 0. */
	memset(back, 0, sizeof(back));
	ok(vm_copyin(v0, ALIAS + PAT, back, sizeof(back)) ==
			   (ssize_t)sizeof(back) &&
		   !memcmp(pat, back, sizeof(pat)),
	   "%s: the same bytes by linear address through the paging", how);
	pat[0] ^= 0xff;
	ok(vm_copyout(v0, pat, ALIAS + PAT, 1) == 1 &&
		   vm_read_gpa(ctx, PAT, back, 1) == 1 && back[0] == pat[0],
	   "%s: a write by linear address lands in physical memory", how);

	/* Translation. */
	r = vm_gla2gpa_nofault(v0, NULL, ALIAS + 0x1234, VM_PROT_READ, &gpa,
			       &fault);
	ok(r == 0 && !fault && gpa == 0x1234,
	   "%s: alias %#llx translates to 0x1234 (got %#llx)", how,
	   (unsigned long long)(ALIAS + 0x1234), (unsigned long long)gpa);
	r = vm_gla2gpa_walk(v0, &w, true);
	ok(r == 0 && !w.fault && w.levels == 3 && w.page_size == 2 << 20,
	   "%s: the walk went 3 levels to a 2 MiB page (levels %d)", how,
	   w.levels);
	r = vm_gla2gpa_nofault(v0, NULL, 0x7f0000000000ULL, VM_PROT_READ, &gpa,
			       &fault);
	ok(r == 0 && fault, "%s: an unmapped address faults", how);
	r = vm_gla2gpa_nofault(v0, NULL, 0x8000000000000000ULL, VM_PROT_READ,
			       &gpa, &fault);
	ok(r == 0 && fault, "%s: a non-canonical address faults", how);

	/* Statistics and their names. */
	r = vm_get_stats(v0, stats, 1024, &nstats);
	ok(r == 0 && nstats > VM_EXITCODE_MAX, "%s: %d statistics", how,
	   nstats);
	for (ndesc = 0; ndesc < 1024; ndesc++) {
		if (vm_get_stat_desc(ctx, ndesc, name, sizeof(name)) < 0)
			break;
	}
	is_int(ndesc, nstats, "%s: each has a name", how);
	r = vm_get_stat_desc(ctx, ndesc, name, sizeof(name));
	if (!remote) {
		res->bad_stat = r;
		res->nstats = nstats;
	}
	is_int(r, res->bad_stat, "%s: past the last name: %d", how, r);
	ok(vm_get_stat_desc(ctx, VM_EXITCODE_INOUT, name, sizeof(name)) == 0 &&
		   strstr(name, "inout"),
	   "%s: statistic %d is %s", how, VM_EXITCODE_INOUT, name);

	/* Topology, vCPU sets, memory. */
	r = vm_get_topology(ctx, &s, &c, &t, &m);
	ok(r == 0 && s == 1 && c == 2 && t == 1 && m == 2,
	   "%s: topology 1 socket, 2 cores, 1 thread, 2 vCPUs (%u %u %u %u)",
	   how, s, c, t, m);
	ok(vm_active_cpus(ctx, &cpus) == 0 && vm_cpuset_isset(&cpus, 0) &&
		   vm_cpuset_isset(&cpus, 1) && !vm_cpuset_isset(&cpus, 2),
	   "%s: active vCPUs 0 and 1", how);
	ok(vm_suspended_cpus(ctx, &cpus) == 0 && !vm_cpuset_isset(&cpus, 0),
	   "%s: none suspended", how);
	ok(vm_debug_cpus(ctx, &cpus) == 0 &&
		   vm_cpuset_isset(&cpus, 0) == remote,
	   "%s: vCPU 0 %s the debug set", how, remote ? "in" : "not in");
	is_int(vm_get_lowmem_size(ctx), MEMSIZE, "%s: low memory", how);
	is_int(vm_get_highmem_size(ctx), 0, "%s: no high memory", how);
	gpa = 0;
	r = vm_mmap_getnext(ctx, &gpa, &segid, &segoff, &len, &prot, &flags);
	ok(r == 0 && gpa == 0 && segid == VM_SYSMEM && segoff == 0 &&
		   len == MEMSIZE,
	   "%s: the first map is system memory at 0", how);
	r = vm_get_memseg(ctx, VM_SYSMEM, &seglen, name, sizeof(name));
	ok(r == 0 && seglen == MEMSIZE, "%s: segment 0 is %zu bytes", how,
	   seglen);
	r = vm_get_memseg(ctx, 9, &seglen, name, sizeof(name));
	if (!remote)
		res->bad_memseg = r;
	is_int(r, res->bad_memseg, "%s: an unused segment: %d", how, r);

	/* What only the monitor may do. */
	if (remote) {
		is_int(vm_alloc_memseg(ctx, 3, 4096, "x"), -EPERM,
		       "%s: vm_alloc_memseg: -EPERM", how);
		is_int(vm_mmap_memseg(ctx, 1ULL << 40, 0, 0, 4096,
				      VM_PROT_READ),
		       -EPERM, "%s: vm_mmap_memseg: -EPERM", how);
		is_int(vm_munmap_memseg(ctx, 0, 4096), -EPERM,
		       "%s: vm_munmap_memseg: -EPERM", how);
		is_int(vm_protect_gpa(ctx, 0, 4096, VM_PROT_READ), -EPERM,
		       "%s: vm_protect_gpa: -EPERM", how);
		is_int(vm_set_topology(ctx, 1, 1, 1, 1), -EPERM,
		       "%s: vm_set_topology: -EPERM", how);
		is_int(vm_activate_cpu(v1), -EPERM,
		       "%s: vm_activate_cpu: -EPERM", how);
		is_int(vm_reinit(ctx), -EPERM, "%s: vm_reinit: -EPERM", how);
		is_int(vm_set_capability(v0, VM_CAP_MTRAP_EXIT, 1), -EPERM,
		       "%s: vm_set_capability: -EPERM", how);
		is_int(vm_set_hw_debug(v0, false, NULL, 0), -EPERM,
		       "%s: vm_set_hw_debug: -EPERM", how);
		is_int(vm_run(v0, &(struct vm_exit){ 0 }), -EOPNOTSUPP,
		       "%s: vm_run: -EOPNOTSUPP", how);
		ok(vm_map_gpa(ctx, 0, 4096) == NULL && errno == EOPNOTSUPP,
		   "%s: vm_map_gpa: EOPNOTSUPP", how);
		ok(vm_create_devmem(ctx, 4, "rom", 0xfff00000, 4096) == NULL,
		   "%s: vm_create_devmem fails", how);
	} else {
		ok(vm_map_gpa(ctx, DATA, 4096) != NULL, "%s: vm_map_gpa works",
		   how);
		is_int(vm_events_subscribe(ctx, VM_EVENT_MASK_ALL), -EOPNOTSUPP,
		       "%s: events: -EOPNOTSUPP", how);
	}
	vm_vcpu_close(v0);
	vm_vcpu_close(v1);
}

static void inprocess(struct results *res)
{
	struct kt_vm *vm = kt_vm_create("ctl", MEMSIZE, 2);
	uint32_t val;

	kt_load(vm, KT_CODE, gc, gc_end);
	if (kt_vcpu_set_mode(vm->vcpu[0], KT_MODE_LONG64, KT_CODE) < 0)
		tap_bail("kt_vcpu_set_mode");
	if (kt_run_out(vm->vcpu[0], KT_PORT_OUT, &val) < 0)
		tap_bail("the guest did not report");
	suite("in-process", vm->ctx, KT_CODE, res);
	kt_vm_destroy(vm);
}

/* The vCPU runs: the monitor stops it for each state command. */
static void running(struct vmctx *ctx)
{
	struct vcpu *v0 = vm_vcpu_open(ctx, 0);
	struct vm_cpuset dbg;
	uint64_t rip, n, v;
	uint8_t b[16], p[16];
	int r, fault;

	is_int(vm_debug_resume(ctx, -1), 0, "socket: resume every vCPU");
	ok(counter_moves(ctx, counter(ctx)), "socket: the guest counts");
	ok(vm_debug_cpus(ctx, &dbg) == 0 && !vm_cpuset_isset(&dbg, 0),
	   "socket: vCPU 0 is out of the debug set");
	r = vm_get_register(v0, VM_REG_GUEST_RIP, &rip);
	ok(r == 0 && in_guest_code(rip, ELF_BASE),
	   "socket: rip of the running vCPU: %#llx (%d)",
	   (unsigned long long)rip, r);
	r = vm_get_register(v0, VM_REG_GUEST_R13, &v);
	ok(r == 0 && v > 0, "socket: its loop count r13 = %llu",
	   (unsigned long long)v);
	ok(vm_debug_cpus(ctx, &dbg) == 0 && !vm_cpuset_isset(&dbg, 0),
	   "socket: and it was resumed after each read");
	n = counter(ctx);
	ok(counter_moves(ctx, n), "socket: the guest counts on");
	r = vm_gla2gpa_nofault(v0, NULL, ALIAS + 0x42, VM_PROT_READ, &v,
			       &fault);
	ok(r == 0 && !fault && v == 0x42,
	   "socket: translation with the running vCPU's paging");
	ok(vm_copyin(v0, ALIAS + ELF_BASE, b, sizeof(b)) == sizeof(b) &&
		   vm_read_gpa(ctx, ELF_BASE, p, sizeof(p)) == sizeof(p) &&
		   !memcmp(b, p, sizeof(b)) && !memcmp(b, gc, sizeof(b)),
	   "socket: the guest's code by linear and physical address");
	vm_vcpu_close(v0);
}

/* A raw client's message and the header of the reply it gets. */
static int raw_call(int fd, const void *msg, size_t len, uint32_t seq,
		    struct vm_ctl_hdr *rh, void *payload, size_t plen)
{
	static uint8_t buf[VM_CTL_MSG_MAX + 1];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	for (;;) {
		if (poll(&p, 1, WAIT_MS) != 1)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(*rh))
			return n < 0 ? -errno : -EPROTO;
		memcpy(rh, buf, sizeof(*rh));
		if (rh->cmd != VM_CTL_EVENT && rh->seq == seq)
			break;
	}
	if (payload && (size_t)n == sizeof(*rh) + plen)
		memcpy(payload, buf + sizeof(*rh), plen);
	return n;
}

static size_t raw_msg(uint8_t *m, uint32_t magic, uint32_t cmd, uint32_t seq,
		      const void *arg, size_t len)
{
	struct vm_ctl_hdr h = { magic, cmd, seq, 0 };

	memcpy(m, &h, sizeof(h));
	if (len)
		memmove(m + sizeof(h), arg, len);
	return sizeof(h) + len;
}

static void bad_input(const char *name, pid_t pid, struct vmctx *ctx)
{
	static uint8_t m[VM_CTL_MSG_MAX + 200];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct vm_register reg = { .cpuid = 0, .regnum = VM_REG_GUEST_R12 };
	struct vm_ctl_hello hello = { .abi = VMM_ABI_VERSION };
	struct vm_ctl_hdr rh;
	struct {
		const char *what;
		uint32_t magic, cmd;
		size_t len; /* of the struct sent */
		int err;
	} bad[] = {
		{ "a bad magic", 0xdeadbeef, VM_GET_REGISTER, sizeof(reg),
		  -EPROTO },
		{ "a length that disagrees", VM_CTL_MAGIC, VM_GET_REGISTER,
		  sizeof(reg) - 4, -EBADMSG },
		{ "an unknown command", VM_CTL_MAGIC, VMM_CMD_(250, 16), 16,
		  -ENOTTY },
		{ "another ABI version", VM_CTL_MAGIC,
		  (VM_GET_REGISTER & ~0xff00u) | (VMM_ABI_VERSION + 1) << 8,
		  sizeof(reg), -EPROTONOSUPPORT },
		{ "an in-process command", VM_CTL_MAGIC, VM_RUN,
		  VMM_CMD_SIZE(VM_RUN), -EOPNOTSUPP },
		{ "an oversized message", VM_CTL_MAGIC, VM_GET_REGISTER,
		  VM_CTL_MSG_MAX + 100 - sizeof(rh), -EMSGSIZE },
	};
	uint64_t v = 0;
	uint32_t seq = 1;
	int fd, n;

	if (vm_ctl_socket_path(name, sun.sun_path, sizeof(sun.sun_path)) < 0)
		tap_bail("vm_ctl_socket_path");
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		tap_bail("connect %s: %s", sun.sun_path, strerror(errno));
	memset(m, 0, sizeof(m));
	memcpy(m, &reg, sizeof(reg));
	/* A short header: the reply cannot know the seq, so it says 0. */
	n = raw_call(fd, &(uint32_t){ VM_CTL_MAGIC }, 4, 0, &rh, NULL, 0);
	ok(n == sizeof(rh) && rh.error == -EBADMSG,
	   "raw: a short header gets -EBADMSG (%d, %d)", n, rh.error);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len;

		memmove(m + sizeof(rh), &reg, sizeof(reg));
		len = raw_msg(m, bad[i].magic, bad[i].cmd, ++seq,
			      m + sizeof(rh), bad[i].len);
		n = raw_call(fd, m, len, seq, &rh, NULL, 0);
		ok(n == sizeof(rh) && rh.error == bad[i].err,
		   "raw: %s gets %d alone (got %d, length %d)", bad[i].what,
		   bad[i].err, rh.error, n);
	}
	reg.cpuid = 7;
	seq++;
	n = raw_call(fd, m,
		     raw_msg(m, VM_CTL_MAGIC, VM_GET_REGISTER, seq, &reg,
			     sizeof(reg)),
		     seq, &rh, NULL, 0);
	ok(n == sizeof(rh) && rh.error == -EINVAL,
	   "raw: vCPU 7 of 2 gets -EINVAL (%d)", rh.error);
	seq++;
	n = raw_call(fd, m,
		     raw_msg(m, VM_CTL_MAGIC, 0x20000000u | 2, seq, NULL, 0),
		     seq, &rh, NULL, 0);
	ok(n == sizeof(rh) && rh.error < 0, "raw: bit 29 alone gets %d",
	   rh.error);
	seq++;
	n = raw_call(fd, m,
		     raw_msg(m, VM_CTL_MAGIC, VM_CTL_HELLO, seq, &hello,
			     sizeof(hello)),
		     seq, &rh, &hello, sizeof(hello));
	ok(n == sizeof(rh) + sizeof(hello) && rh.error == 0 &&
		   hello.ncpus == 2 && !strcmp(hello.name, name) &&
		   hello.pid == pid,
	   "raw: then the same connection says hello");
	reg.cpuid = 0;
	seq++;
	n = raw_call(fd, m,
		     raw_msg(m, VM_CTL_MAGIC, VM_GET_REGISTER, seq, &reg,
			     sizeof(reg)),
		     seq, &rh, &reg, sizeof(reg));
	ok(n == sizeof(rh) + sizeof(reg) && rh.error == 0 &&
		   reg.regval == R12_MAGIC,
	   "raw: and reads r12 (%#llx)", (unsigned long long)reg.regval);
	close(fd);
	ok(alive(pid), "raw: vitro lives on");
	v = counter(ctx);
	ok(counter_moves(ctx, v), "raw: and so does the guest");
}

static void other_user(const char *name, pid_t pid, const char *errfile)
{
	char dir[256], path[256], parent[256];
	pid_t child;
	int st = -1;

	if (geteuid() != 0) {
		tap_skip("not root: cannot connect as another user");
		return;
	}
	if (vm_ctl_runtime_dir(dir, sizeof(dir)) < 0 ||
	    vm_ctl_socket_path(name, path, sizeof(path)) < 0)
		tap_bail("runtime dir");
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir),
		 dir);
	/* Open what vitro made private, so that the refusal is vitro's. */
	chmod(dir, 0711);
	chmod(path, 0666);
	child = fork();
	if (child == 0) {
		struct vmctx *c;

		if (setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		setenv("XDG_RUNTIME_DIR", parent, 1);
		c = vm_open(name);
		_exit(c ? 3 : errno == EACCES ? 0 : 10 + errno);
	}
	waitpid(child, &st, 0);
	chmod(path, 0600);
	chmod(dir, 0700);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
	       "uid 65534: vm_open fails with EACCES");
	ok(wait_log(errfile, "refusing a connection from pid") &&
		   wait_log(errfile, "uid 65534: only uid 0 or root"),
	   "and vitro says so");
	ok(alive(pid), "vitro lives on");
}

static void killed_client(const char *name, pid_t pid)
{
	int pfd[2];
	pid_t child;
	char b;
	int got = 0, st;
	struct vmctx *ctx;
	struct vcpu *v;
	uint64_t val = 0;

	if (pipe(pfd) < 0)
		tap_bail("pipe");
	child = fork();
	if (child == 0) {
		struct vmctx *c = vm_open(name);
		struct vcpu *cv = c ? vm_vcpu_open(c, 0) : NULL;

		close(pfd[0]);
		for (int i = 0; cv; i++) {
			uint64_t x;

			if (vm_get_register(cv, VM_REG_GUEST_RIP, &x) < 0)
				_exit(1);
			if (i % 5 == 0 && write(pfd[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(1);
	}
	close(pfd[1]);
	while (got < 4 && read(pfd[0], &b, 1) == 1)
		got++;
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	close(pfd[0]);
	is_int(got, 4, "kill -9: the client was reading registers");
	ok(alive(pid), "kill -9: vitro lives on");
	ctx = vm_open(name);
	v = ctx ? vm_vcpu_open(ctx, 0) : NULL;
	ok(v && vm_get_register(v, VM_REG_GUEST_R12, &val) == 0 &&
		   val == R12_MAGIC,
	   "kill -9: another client is served");
	ok(ctx && counter_moves(ctx, counter(ctx)),
	   "kill -9: the guest runs on");
	vm_vcpu_close(v);
	vm_destroy(ctx);
}

struct reader {
	const char *name;
	int n, good; /* reads asked, done */
};

static void *reader_thread(void *arg)
{
	struct reader *rd = arg;
	struct vmctx *ctx = vm_open(rd->name);
	struct vcpu *v = ctx ? vm_vcpu_open(ctx, 0) : NULL;

	for (int i = 0; v && i < rd->n; i++) {
		uint64_t x;

		if (vm_get_register(v, VM_REG_GUEST_R12, &x) == 0 &&
		    x == R12_MAGIC)
			rd->good++;
	}
	vm_vcpu_close(v);
	vm_destroy(ctx);
	return NULL;
}

static void two_clients(const char *name)
{
	struct reader rd = { .name = name, .n = 100 };
	struct vmctx *ctx = vm_open(name);
	struct vcpu *v;
	struct vm_event ev;
	struct vm_ctl_hello hi;
	pthread_t th;
	int stops = 0, resumes = 0, theirs = 0, fd, r;
	uint64_t last = 0;
	bool ordered = true;

	if (!ctx || !(v = vm_vcpu_open(ctx, 0)) || vm_get_info(ctx, &hi) < 0)
		tap_bail("vm_open: %s", strerror(errno));
	is_int(vm_events_subscribe(ctx, VM_EVENT_MASK_ALL), 0,
	       "events: subscribe");
	fd = vm_event_fd(ctx);
	ok(fd >= 0, "events: an fd to poll");
	pthread_create(&th, NULL, reader_thread, &rd);
	pthread_join(th, NULL);
	is_int(rd.good, rd.n, "events: the other client read r12 %d times",
	       rd.n);
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		/* A read borrows a running vCPU quietly. */
		is_int(poll(&p, 1, 300), 0,
		       "events: reading a running vCPU published nothing");
		for (int i = 0; i < 3; i++) {
			vm_suspend_cpu(v);
			vm_resume_cpu(v);
		}
		ok(poll(&p, 1, WAIT_MS) == 1, "events: the fd is readable");
	}
	while ((r = vm_event_next(ctx, &ev, 500)) == 0) {
		stops += ev.type == VM_EVENT_STOP;
		resumes += ev.type == VM_EVENT_RESUME;
		theirs += ev.owner != hi.owner;
		ordered &= ev.seq > last;
		last = ev.seq;
	}
	is_int(r, -ETIMEDOUT, "events: then none");
	ok(stops == 3 && resumes == 3 && theirs == 0,
	   "events: its three stops and resumes were seen, as ours "
	   "(%d, %d, %d of another owner)",
	   stops, resumes, theirs);
	ok(ordered, "events: in order");
	is_int(vm_events_subscribe(ctx, 1u << 31), -EINVAL,
	       "events: an unknown event type: -EINVAL");
	vm_vcpu_close(v);
	vm_destroy(ctx);
}

static void no_answer(struct vmctx *ctx, pid_t pid)
{
	struct vcpu *v = vm_vcpu_open(ctx, 0);
	uint64_t x = 0;

	kill(pid, SIGSTOP);
	vm_set_ctl_timeout(ctx, 300);
	is_int(vm_get_register(v, VM_REG_GUEST_RIP, &x), -ETIMEDOUT,
	       "a monitor that does not answer: -ETIMEDOUT");
	kill(pid, SIGCONT);
	vm_set_ctl_timeout(ctx, VM_CTL_TIMEOUT_MS);
	ok(vm_get_register(v, VM_REG_GUEST_R12, &x) == 0 && x == R12_MAGIC,
	   "then the next call gets its own reply, not the late one");
	vm_vcpu_close(v);
}

static void gdb_slot(pid_t pid, const char *errfile)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd p;
	struct stat st;
	char c = 0;
	int silent, fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/gdb.sock", tmp);
	ok(lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		   (st.st_mode & 0777) == 0600,
	   "gdb: its unix socket is mode 0600");
	silent = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(silent, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		tap_bail("connect %s: %s", sun.sun_path, strerror(errno));
	ok(wait_log(errfile, "said nothing in"),
	   "gdb: a silent connection is dropped, with a log line");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		tap_bail("connect %s: %s", sun.sun_path, strerror(errno));
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ok(write(fd, "$?#3f", 5) == 5 && poll(&p, 1, WAIT_MS) == 1 &&
		   read(fd, &c, 1) == 1 && c == '+',
	   "gdb: then a debugger gets the slot");
	close(fd);
	close(silent);
	ok(alive(pid), "gdb: vitro lives on");
}

static void the_end(const char *name, pid_t pid, struct vmctx *ctx)
{
	struct vcpu *v = vm_vcpu_open(ctx, 0);
	char errfile[128];
	uint64_t x;
	pid_t again;
	int st;
	struct vmctx *c2;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	is_int(vm_get_register(v, VM_REG_GUEST_RIP, &x), -ECONNRESET,
	       "end: a call after kill -9 of vitro: -ECONNRESET");
	is_int(vm_get_register(v, VM_REG_GUEST_RIP, &x), -ECONNRESET,
	       "end: and the next one too");
	ok(vm_open(name) == NULL && errno == ECONNREFUSED,
	   "end: vm_open finds its socket stale: ECONNREFUSED");
	vm_vcpu_close(v);
	vm_destroy(ctx);

	snprintf(errfile, sizeof(errfile), "%s/vitro2.err", tmp);
	again = vitro_start(name, false, errfile);
	c2 = wait_open(name, again, errfile);
	ok(c2 != NULL,
	   "end: a new vitro of that name replaces the stale socket");
	kill(again, SIGTERM);
	waitpid(again, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 1,
	       "end: SIGTERM powers it off");
	if (c2) {
		ok(vm_get_ncpus(c2) == 2 && vm_events_subscribe(c2, 0) < 0,
		   "end: a call on its connection fails");
		vm_destroy(c2);
	}
	ok(vm_open(name) == NULL && errno == ENOENT,
	   "end: vm_open of an ended VM: ENOENT");
}

/*
 * Where sockets cannot be made in the runtime directory (the nested KVM
 * mounts the host's /run over 9p), root gives this test and its vitro
 * processes a tmpfs there, in a mount namespace of their own.
 */
static void runtime_dir_usable(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[128];
	int fd, r;

	if (geteuid() != 0 || vm_ctl_runtime_dir(dir, sizeof(dir)) < 0)
		return;
	mkdir(dir, 0700);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.80s/probe-%d", dir,
		 (int)getpid());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	unlink(sun.sun_path);
	if (r == 0)
		return;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "mode=0700") < 0)
		tap_diag("cannot make %s usable for sockets: %s", dir,
			 strerror(errno));
	else
		tap_diag("%s cannot hold sockets here: a tmpfs of this test's "
			 "is mounted on it",
			 dir);
}

int main(void)
{
	struct results res = { 0 };
	const char *build = getenv("VITRO_BUILD");
	char name[VM_NAME_MAX], errfile[128], elf[128], path[108];
	struct vmctx *ctx;
	pid_t pid, twin;
	int st;

	kt_require_kvm();
	snprintf(vitro_bin, sizeof(vitro_bin), "%s/bin/vitro",
		 build ? build : "build");
	snprintf(tmp, sizeof(tmp), "/tmp/test-ctl.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	runtime_dir_usable();

	inprocess(&res);

	if (access(vitro_bin, X_OK) < 0) {
		tap_skip("%s: %s", vitro_bin, strerror(errno));
		return tap_done();
	}
	kt_name(name, sizeof(name), "ctl");
	if (vm_ctl_socket_path(name, path, sizeof(path)) < 0) {
		tap_skip("no runtime directory for control sockets "
			 "(XDG_RUNTIME_DIR)");
		return tap_done();
	}
	snprintf(elf, sizeof(elf), "%s/guest.elf", tmp);
	write_elf(elf);
	snprintf(errfile, sizeof(errfile), "%s/vitro.err", tmp);
	pid = vitro_start(name, true, errfile);
	ctx = wait_open(name, pid, errfile);
	if (!ctx && file_has(errfile, "control socket:")) {
		/* A runtime directory where sockets cannot be (9p, say). */
		show_file(errfile);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		tap_skip("vitro serves no control socket here");
		return tap_done();
	}
	if (!ctx) {
		show_file(errfile);
		tap_bail("cannot open VM %s: %s", name, strerror(errno));
	}
	ok(vm_is_remote(ctx) && !strcmp(vm_get_name(ctx), name),
	   "vm_open: a remote handle on %s", name);
	ok(counter_moves(ctx, 0), "the guest has set up and counts");
	{
		struct vm_dbg_stop out;

		is_int(vm_debug_stop(ctx, -1, 5000, &out), 0,
		       "stop every vCPU");
		ok(vm_cpuset_isset(&out.stopped, 0), "vCPU 0 is stopped");
	}
	suite("socket", ctx, ELF_BASE, &res);
	running(ctx);
	bad_input(name, pid, ctx);
	other_user(name, pid, errfile);
	killed_client(name, pid);
	two_clients(name);
	no_answer(ctx, pid);
	gdb_slot(pid, errfile);

	snprintf(path, sizeof(path), "%s/twin.err", tmp);
	twin = vitro_start(name, false, path);
	waitpid(twin, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 4,
	       "a second vitro of the same name exits with status 4");
	ok(wait_log(path, "already"), "saying the name is taken");
	ok(alive(pid), "the first goes on");

	the_end(name, pid, ctx);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmp);
	}
	return tap_done();
}
