/*
 * guest-mem: how fast a guest's memory-heavy user code runs under vitro
 * against QEMU with KVM, on the same guest, one after the other.
 *
 *   guest-mem [-s SIEVE_MIB] [-b BUF_MIB] [-n READS] [-m MEM_MIB]
 *             [-r ROUNDS] [-t SECONDS]
 *
 * The guest is tests/guests/memsieve.elf (memsieve.c says exactly what it
 * does): a Multiboot kernel that enters long mode on its own page tables
 * (2 MiB user pages) and runs three phases at CPL 3, each timed with
 * rdtsc: Eratosthenes' sieve over SIEVE_MIB (default 256) MiB, one byte
 * per odd number; the fill of a BUF_MIB (default 1024) MiB buffer; READS
 * (default 2^27) reads at random 8-byte-aligned addresses in it
 * (xorshift64), summed into a checksum.  Every VMM gets MEM_MIB (default
 * 1536) MiB and one vCPU:
 *
 *   vitro          vitro --debug-exit -m MEM_MIBM -k memsieve.elf -a OPTS
 *   qemu           qemu-system-x86_64 -enable-kvm -cpu host -smp 1
 *                  -m MEM_MIBM -kernel memsieve.elf -append OPTS
 *                  -device isa-debug-exit,iobase=0xf4,iosize=4 ...
 *   vitro hugetlb  vitro -m MEM_MIBM,hugetlb, when the host has enough
 *                  huge pages reserved (vm.nr_hugepages); else, or when
 *                  vitro refuses the option (status 4), a skip line
 *
 * Each must end with the guest's pass status (33), and all must agree on
 * the prime count and the checksum.  For each it prints the host's wall
 * time from fork to exit, the guest's per-phase times (in ms when CPUID
 * gives the TSC frequency, else in cycles), and KVM's counters for its VM
 * from /sys/kernel/debug/kvm/PID-FD/ (exits, pf_fixed, and pages_4k,
 * pages_2m, pages_1g: the sizes KVM maps guest memory with, the most it
 * had mapped at one of its samples, every second), where
 * readable: root, with debugfs mounted (it mounts it when it is not and
 * says so).  The per-VM directory goes away with the VM, so the bench
 * opens its files while the VMM runs: an open file holds the VM, and
 * they are read once the VMM has exited.
 *
 * Every VMM runs ROUNDS (default 3) times, the order rotating from round
 * to round so that none always runs first or last: a host whose speed
 * drifts (a loaded machine, a nested KVM, where one run can differ from
 * the next by a third) then does not favour one VMM.  The figures are the
 * medians over the rounds, with the spread of the per-round ratios.
 * Before the first round, the bench touches and frees as much memory as
 * a guest gets (warm_host_memory says why).
 *
 * The ratios are of the guest's own time for its three phases (TSC
 * cycles, the same clock under both VMMs): the boot is not memory work
 * and differs (QEMU boots through its firmware, vitro loads directly);
 * the whole-run wall-time ratio is printed too.  The last lines:
 *
 *   wall_ratio=W           vitro's median wall time over QEMU's
 *   mem_ratio_hugetlb=H    vitro -m ...,hugetlb over QEMU, or "skip"
 *   mem_ratio=R            vitro's default backing over QEMU
 *
 * Prints figures, never judges them.  Says `skip: reason` (status 0) when
 * /dev/kvm, vitro or qemu-system-x86_64 (`scripts/install-deps --bench`
 * installs it) is missing.  Exit status 0, or 1 when a run fails.
 *
 * Single-threaded; no global state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"

#define DEBUGFS "/sys/kernel/debug"
#define KVM_DEBUGFS DEBUGFS "/kvm"
#define MAX_VMS 8 /* per VMM process */
#define SCAN_FAST_MS 10 /* look for the VM this often... */
#define SCAN_FAST_NS 3000000000ull /* ...for its first 3 s, */
#define SCAN_SLOW_MS 1000 /* then this often */
#define GUEST_PASS 33 /* GUEST_EXIT_STATUS(GUEST_EXIT_PASS) */
#define VITRO_ERROR 4
#define MAX_ROUNDS 15

enum { VITRO, QEMU, VITRO_HUGETLB, NRUN };
enum { SIEVE, FILL, READS, NPHASE };
enum { ST_EXITS, ST_PF_FIXED, ST_4K, ST_2M, ST_1G, NSTAT };

static const char *const run_name[NRUN] = { "vitro", "qemu", "vitro hugetlb" };
static const char *const phase_name[NPHASE] = { "sieve", "fill", "reads" };
static const char *const stat_name[NSTAT] = { "exits", "pf_fixed", "pages_4k",
					      "pages_2m", "pages_1g" };

struct config {
	struct bench_paths p;
	char guest[BENCH_PATH_MAX];
	char qemu[BENCH_PATH_MAX];
	char append[128];
	unsigned long sieve_mib, buf_mib, mem_mib, timeout_s, rounds;
	unsigned long long reads;
	bool stats; /* KVM's debugfs is readable */
};

/*
 * Every VM a VMM process created: exits and pf_fixed held open (read at
 * the end), and the most pages of each size KVM had mapped at one scan
 * (those counts drop to 0 as the VM's memory goes away).
 */
struct vm_watch {
	int n;
	char name[MAX_VMS][32]; /* PID-FD */
	int fd[MAX_VMS][ST_4K];
	uint64_t pages[MAX_VMS][NSTAT - ST_4K];
};

struct figures {
	uint64_t wall_ns;
	uint64_t cycles[NPHASE];
	uint64_t tsc_khz, primes;
	char checksum[32];
	bool have_stats;
	uint64_t stat[NSTAT];
};

static int watch_has(const struct vm_watch *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->name[i], name))
			return 1;
	return 0;
}

/*
 * KVM's stat files are not seekable (no pread): each open file is read
 * once, from its start.
 */
static uint64_t stat_read(int fd)
{
	char buf[32];
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

static int stat_open(const char *vm, int k)
{
	char path[512];

	snprintf(path, sizeof(path), KVM_DEBUGFS "/%s/%s", vm, stat_name[k]);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Hold the counters of pid's new VMs; sample the page counts of all. */
static void watch_scan(struct vm_watch *w, pid_t pid)
{
	DIR *d = opendir(KVM_DEBUGFS);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && w->n < MAX_VMS) {
		size_t len = strlen(de->d_name);
		int p, id, k;

		if (sscanf(de->d_name, "%d-%d", &p, &id) != 2 || p != pid ||
		    len >= sizeof(w->name[0]) || watch_has(w, de->d_name))
			continue;
		memcpy(w->name[w->n], de->d_name, len + 1);
		for (k = 0; k < ST_4K; k++)
			w->fd[w->n][k] = stat_open(de->d_name, k);
		for (k = ST_4K; k < NSTAT; k++)
			w->pages[w->n][k - ST_4K] = 0;
		w->n++;
	}
	closedir(d);
	for (int i = 0; i < w->n; i++) {
		for (int k = ST_4K; k < NSTAT; k++) {
			int fd = stat_open(w->name[i], k);
			uint64_t v = stat_read(fd);
			uint64_t *max = &w->pages[i][k - ST_4K];

			if (fd >= 0)
				close(fd);
			if (v != UINT64_MAX && v > *max)
				*max = v;
		}
	}
}

/* Read the counters of the VM with the most exits, then let them go. */
static void watch_finish(struct vm_watch *w, struct figures *f)
{
	uint64_t v[NSTAT];

	f->have_stats = false;
	for (int i = 0; i < w->n; i++) {
		for (int k = 0; k < ST_4K; k++) {
			v[k] = stat_read(w->fd[i][k]);
			if (w->fd[i][k] >= 0)
				close(w->fd[i][k]);
		}
		for (int k = ST_4K; k < NSTAT; k++)
			v[k] = w->pages[i][k - ST_4K];
		if (v[ST_EXITS] != UINT64_MAX &&
		    (!f->have_stats || v[ST_EXITS] > f->stat[ST_EXITS])) {
			memcpy(f->stat, v, sizeof(v));
			f->have_stats = true;
		}
	}
	w->n = 0;
}

/* Is debugfs's kvm directory readable?  Mounts debugfs if need be. */
static bool stats_setup(void)
{
	DIR *d = opendir(KVM_DEBUGFS);

	if (!d && errno == ENOENT && geteuid() == 0 &&
	    mount("debugfs", DEBUGFS, "debugfs", 0, NULL) == 0) {
		printf("kvm counters: mounted debugfs on " DEBUGFS "\n");
		d = opendir(KVM_DEBUGFS);
	}
	if (!d) {
		printf("kvm counters: unreadable: " KVM_DEBUGFS ": %s (they "
		       "need root and debugfs: mount -t debugfs none " DEBUGFS
		       ")\n",
		       strerror(errno));
		return false;
	}
	closedir(d);
	return true;
}

/* Find "key=" in s and read the number after it. */
static int find_u64(const char *s, const char *key, uint64_t *v)
{
	const char *m = strstr(s, key);
	char *end;

	if (!m)
		return -1;
	*v = strtoull(m + strlen(key), &end, 0);
	return end == m + strlen(key) ? -1 : 0;
}

/* The guest's result line into f; 0 or -1. */
static int parse_result(const char *out, struct figures *f)
{
	const char *line = out ? strstr(out, "memsieve: result ") : NULL;
	const char *cs;
	char buf[512];
	size_t n;

	if (!line)
		return -1;
	n = strcspn(line, "\r\n");
	snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
	cs = strstr(buf, " checksum=");
	if (find_u64(buf, " sieve=", &f->cycles[SIEVE]) < 0 ||
	    find_u64(buf, " fill=", &f->cycles[FILL]) < 0 ||
	    find_u64(buf, " reads=", &f->cycles[READS]) < 0 ||
	    find_u64(buf, " tsc_khz=", &f->tsc_khz) < 0 ||
	    find_u64(buf, " primes=", &f->primes) < 0 || !cs)
		return -1;
	snprintf(f->checksum, sizeof(f->checksum), "%.*s",
		 (int)strcspn(cs + 10, " "), cs + 10);
	return 0;
}

/* Wait for the child to end, holding its VMs' counters; 0 if it did. */
static int child_watch(const struct config *c, struct bench_child *ch,
		       struct vm_watch *w)
{
	int pfd = (int)syscall(SYS_pidfd_open, ch->pid, 0);
	uint64_t limit = ch->t0_ns + c->timeout_s * 1000000000ull;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	for (;;) {
		uint64_t now = bench_now_ns();
		int ms = now - ch->t0_ns < SCAN_FAST_NS ? SCAN_FAST_MS :
							  SCAN_SLOW_MS;

		if (c->stats)
			watch_scan(w, ch->pid);
		if (now > limit) {
			kill(ch->pid, SIGKILL);
			if (pfd >= 0)
				close(pfd);
			return -1;
		}
		if (pfd < 0) {
			/* No pidfd (before Linux 5.3): sleep and look. */
			siginfo_t si = { 0 };

			usleep(ms * 1000);
			if (waitid(P_PID, ch->pid, &si,
				   WEXITED | WNOHANG | WNOWAIT) < 0 ||
			    si.si_pid == ch->pid)
				return 0;
			continue;
		}
		if (poll(&p, 1, ms) > 0) {
			close(pfd);
			return 0;
		}
	}
}

/* One VMM run; 0, 1 when vitro refused the hugetlb option, -1 on error. */
static int run_one(const struct config *c, int which, struct figures *f,
		   char *refusal, size_t rlen)
{
	char mem[64];
	char *vitro[] = { (char *)c->p.vitro,
			  "--debug-exit",
			  "-m",
			  mem,
			  "-k",
			  (char *)c->guest,
			  "-a",
			  (char *)c->append,
			  NULL };
	char *qemu[] = { (char *)c->qemu,
			 "-enable-kvm",
			 "-cpu",
			 "host",
			 "-smp",
			 "1",
			 "-m",
			 mem,
			 "-nodefaults",
			 "-display",
			 "none",
			 "-no-reboot",
			 "-monitor",
			 "none",
			 "-serial",
			 "stdio",
			 "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4",
			 "-kernel",
			 (char *)c->guest,
			 "-append",
			 (char *)c->append,
			 NULL };
	struct vm_watch w = { 0 };
	struct bench_child ch;
	struct bench_result r;
	int err, timed_out, ret = 0;

	snprintf(mem, sizeof(mem), "%luM%s", c->mem_mib,
		 which == VITRO_HUGETLB ? ",hugetlb" : "");
	err = bench_child_start(&ch, which == QEMU ? qemu : vitro);
	if (err < 0) {
		fprintf(stderr, "error: cannot run %s: %s\n", run_name[which],
			strerror(-err));
		return -1;
	}
	timed_out = child_watch(c, &ch, &w) < 0;
	err = bench_child_wait(&ch, &r);
	watch_finish(&w, f);
	if (err < 0) {
		fprintf(stderr, "error: %s: wait: %s\n", run_name[which],
			strerror(-err));
		return -1;
	}
	f->wall_ns = r.wall_ns;
	if (which == VITRO_HUGETLB && r.status == VITRO_ERROR) {
		/* vitro's message: its first line, as it names the problem. */
		snprintf(refusal, rlen, "%.*s",
			 r.out ? (int)strcspn(r.out, "\n") : 0,
			 r.out ? r.out : "");
		ret = 1;
	} else if (timed_out) {
		fprintf(stderr, "error: %s: still running after %lu s\n",
			run_name[which], c->timeout_s);
		ret = -1;
	} else if (r.status != GUEST_PASS || parse_result(r.out, f) < 0) {
		fprintf(stderr,
			"error: %s: status %d (want %d, the guest's pass) or "
			"no result line\n",
			run_name[which], r.status, GUEST_PASS);
		ret = -1;
	}
	if (ret < 0)
		fprintf(stderr, "%s said:\n%s", run_name[which],
			r.out ? r.out : "(lost)\n");
	free(r.out);
	return ret;
}

static uint64_t total_cycles(const struct figures *f)
{
	return f->cycles[SIEVE] + f->cycles[FILL] + f->cycles[READS];
}

/* Two lines: tag (the round, or "med") and name, times; KVM's counters. */
static void print_run(const char *tag, const char *name,
		      const struct figures *f)
{
	printf("  %-4s %-14s wall %8.2f s;", tag, name, f->wall_ns / 1e9);
	for (int k = 0; k < NPHASE; k++) {
		if (f->tsc_khz)
			printf(" %s %.2f s", phase_name[k],
			       (double)f->cycles[k] / f->tsc_khz / 1e3);
		else
			printf(" %s %.0f Mcycles", phase_name[k],
			       f->cycles[k] / 1e6);
	}
	printf("\n");
	if (!f->have_stats) {
		printf("  %-4s %-14s kvm counters: none\n", "", "");
		return;
	}
	printf("  %-4s %-14s kvm:", "", "");
	for (int k = 0; k < NSTAT; k++) {
		if (f->stat[k] == UINT64_MAX)
			printf(" %s=?", stat_name[k]);
		else
			printf(" %s=%llu", stat_name[k],
			       (unsigned long long)f->stat[k]);
	}
	printf("\n");
}

/* Enough free huge pages of the default size for the guest?  0 or 1. */
static int hugetlb_ready(const struct config *c, char *why, size_t len)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long free_pages = 0, kb = 0, need;
	char line[128];

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &kb);
	}
	if (f)
		fclose(f);
	if (!kb) {
		snprintf(why, len, "no huge page size in /proc/meminfo");
		return 0;
	}
	need = (c->mem_mib * 1024 + kb - 1) / kb;
	if (free_pages >= need)
		return 1;
	snprintf(why, len,
		 "%lu huge pages of %lu kB free, %lu needed (as root: "
		 "echo %lu > /proc/sys/vm/nr_hugepages)",
		 free_pages, kb, need, need);
	return 0;
}

static int same_results(const struct figures *a, const struct figures *b,
			const char *bname)
{
	if (a->primes == b->primes && !strcmp(a->checksum, b->checksum))
		return 0;
	fprintf(stderr,
		"error: the guest's results differ: vitro primes=%llu "
		"checksum=%s, %s primes=%llu checksum=%s\n",
		(unsigned long long)a->primes, a->checksum, bname,
		(unsigned long long)b->primes, b->checksum);
	return -1;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	int o;

	c->sieve_mib = 256;
	c->buf_mib = 1024;
	c->reads = 1ull << 27;
	c->mem_mib = 1536;
	c->timeout_s = 1200;
	c->rounds = 3;
	while ((o = getopt(argc, argv, "s:b:n:m:r:t:")) != -1) {
		switch (o) {
		case 's':
			c->sieve_mib = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			c->buf_mib = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			c->reads = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			c->mem_mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			c->rounds = strtoul(optarg, NULL, 0);
			break;
		case 't':
			c->timeout_s = strtoul(optarg, NULL, 0);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || !c->sieve_mib || c->sieve_mib > 2048 ||
	    !c->buf_mib || c->buf_mib > 2048 ||
	    (c->buf_mib & (c->buf_mib - 1)) || !c->timeout_s || !c->rounds ||
	    c->rounds > MAX_ROUNDS ||
	    c->mem_mib < c->sieve_mib + c->buf_mib + 16)
		goto usage;
	snprintf(c->append, sizeof(c->append), "sieve=%lu buf=%lu reads=%llu",
		 c->sieve_mib, c->buf_mib, c->reads);
	return 0;
usage:
	fprintf(stderr,
		"usage: guest-mem [-s SIEVE_MIB] [-b BUF_MIB] [-n READS] "
		"[-m MEM_MIB] [-r ROUNDS] [-t SECONDS]\n"
		"  SIEVE_MIB and BUF_MIB 1 to 2048, BUF_MIB a power of two, "
		"MEM_MIB at least\n  their sum + 16, ROUNDS 1 to %d\n",
		MAX_ROUNDS);
	return -1;
}

/* Everything found, or a skip (1) or an error (-1) printed. */
static int env_find(struct config *c)
{
	char gp[BENCH_PATH_MAX];
	int r;

	if ((r = bench_paths_find(&c->p)) != 0)
		return r;
	/* BUILD/tests/bench/loop-guest.elf -> BUILD/tests/guests/ */
	snprintf(gp, sizeof(gp), "%s", c->p.guest);
	snprintf(c->guest, sizeof(c->guest), "%s/guests/memsieve.elf",
		 dirname(dirname(gp)));
	if (access(c->guest, R_OK) < 0) {
		fprintf(stderr, "error: %s missing: run make\n", c->guest);
		return -1;
	}
	if (bench_find_in_path("qemu-system-x86_64", c->qemu, sizeof(c->qemu)) <
	    0) {
		printf("skip: qemu-system-x86_64 not found "
		       "(scripts/install-deps --bench installs "
		       "qemu-system-x86)\n");
		return 1;
	}
	return 0;
}

/*
 * Touch as much anonymous memory as a guest gets, then give it back, so
 * that the first VMM to run does not pay alone for host memory that no
 * process has used yet: under a nested KVM, that is the L1 guest's RAM,
 * which its own host backs on first touch; on any host, free pages still
 * to be zeroed, compacted into huge pages or reclaimed from the page
 * cache.  Measured: in a fresh nested KVM the first run's fill phase took
 * twice the second's, whichever VMM it was.
 */
static void warm_host_memory(unsigned long mib)
{
	size_t len = (size_t)mib << 20;
	uint64_t t0 = bench_now_ns();
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("host memory: not warmed: mmap %lu MiB: %s\n", mib,
		       strerror(errno));
		return;
	}
	madvise(p, len, MADV_HUGEPAGE);
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	munmap(p, len);
	printf("host memory: %lu MiB touched and freed in %.2f s before the "
	       "runs\n",
	       mib, (bench_now_ns() - t0) / 1e9);
}

/* The median over the rounds of one VMM's wall time or guest time. */
static struct bench_stat run_stat(const struct figures *f, unsigned long n,
				  bool wall)
{
	double v[MAX_ROUNDS];

	for (unsigned long i = 0; i < n; i++)
		v[i] = wall ? (double)f[i].wall_ns :
			      (double)total_cycles(&f[i]);
	return bench_stat(v, n);
}

/*
 * vitro's (which) guest time over QEMU's: the ratio of the medians, with
 * the smallest and largest ratio of a single round.
 */
static void print_ratio(const char *key, const struct config *c,
			struct figures f[NRUN][MAX_ROUNDS], int which)
{
	double r[MAX_ROUNDS];
	struct bench_stat s;

	for (unsigned long i = 0; i < c->rounds; i++)
		r[i] = (double)total_cycles(&f[which][i]) /
		       total_cycles(&f[QEMU][i]);
	s = bench_stat(r, c->rounds);
	printf("%s: per round %.3f to %.3f\n", key, s.min, s.max);
	printf("%s=%.3f\n", key,
	       run_stat(f[which], c->rounds, false).med /
		       run_stat(f[QEMU], c->rounds, false).med);
}

/* The median of each phase and counter over the rounds, as one run. */
static struct figures median_run(const struct figures *f, unsigned long n)
{
	struct figures m = f[0];
	double v[MAX_ROUNDS];

	for (int k = 0; k < NPHASE; k++) {
		for (unsigned long i = 0; i < n; i++)
			v[i] = (double)f[i].cycles[k];
		m.cycles[k] = (uint64_t)bench_stat(v, n).med;
	}
	for (int k = 0; k < NSTAT && m.have_stats; k++) {
		for (unsigned long i = 0; i < n; i++)
			v[i] = f[i].have_stats ? (double)f[i].stat[k] : 0;
		m.stat[k] = (uint64_t)bench_stat(v, n).med;
	}
	m.wall_ns = (uint64_t)run_stat(f, n, true).med;
	return m;
}

/*
 * Round i runs the VMMs in run[] from the i-th on, wrapping.  0, or 1
 * when any run failed (message printed).  A vitro that refuses hugetlb
 * in the first round leaves the rotation (*nrun shrinks).
 */
static int run_rounds(const struct config *c, int *run, int *nrun,
		      struct figures f[NRUN][MAX_ROUNDS])
{
	char why[512] = "", tag[24];

	for (unsigned long i = 0; i < c->rounds; i++) {
		for (int j = 0; j < *nrun; j++) {
			int k = run[(i + j) % *nrun], r;

			r = run_one(c, k, &f[k][i], why, sizeof(why));
			if (r < 0)
				return 1;
			if (r > 0 && i > 0) {
				fprintf(stderr,
					"error: vitro refused hugetlb "
					"in round %lu: %s\n",
					i + 1, why);
				return 1;
			}
			if (r > 0) {
				/* VITRO_HUGETLB, last in round 1's order. */
				printf("hugetlb: skip: vitro refused -m "
				       "%luM,hugetlb: %s\n",
				       c->mem_mib, why);
				(*nrun)--;
				j--;
				continue;
			}
			snprintf(tag, sizeof(tag), "%lu", i + 1);
			print_run(tag, run_name[k], &f[k][i]);
			fflush(stdout);
			if (same_results(&f[VITRO][0], &f[k][i], run_name[k]) <
			    0)
				return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = { 0 };
	struct figures f[NRUN][MAX_ROUNDS] = { 0 };
	int run[NRUN] = { VITRO, QEMU, VITRO_HUGETLB }, nrun = NRUN, r;
	char why[512] = "";

	if (parse_args(argc, argv, &c) < 0)
		return 1;
	if ((r = env_find(&c)) != 0)
		return r > 0 ? 0 : 1;
	printf("guest-mem: memsieve.elf (long mode, loops at CPL 3 on 2 MiB "
	       "user pages), %lu MiB, 1 vCPU;\n"
	       "  sieve over %lu MiB, fill %lu MiB, %llu random 8-byte "
	       "reads in it; %lu rounds, the order rotating\n",
	       c.mem_mib, c.sieve_mib, c.buf_mib, c.reads, c.rounds);
	c.stats = stats_setup();
	warm_host_memory(c.mem_mib);
	if (!hugetlb_ready(&c, why, sizeof(why))) {
		printf("hugetlb: skip: %s\n", why);
		nrun--;
	}
	fflush(stdout);
	/* Round 1 sets the reference results: vitro must run in it. */
	if (run_rounds(&c, run, &nrun, f))
		return 1;
	printf("medians over %lu rounds:\n", c.rounds);
	for (int j = 0; j < nrun; j++) {
		struct figures m = median_run(f[run[j]], c.rounds);

		print_run("med", run_name[run[j]], &m);
	}
	printf("guest results: %llu primes, checksum %s, under every VMM\n",
	       (unsigned long long)f[VITRO][0].primes, f[VITRO][0].checksum);
	if (f[VITRO][0].tsc_khz != f[QEMU][0].tsc_khz)
		printf("note: the guest saw TSC %llu kHz under vitro, %llu "
		       "under qemu\n",
		       (unsigned long long)f[VITRO][0].tsc_khz,
		       (unsigned long long)f[QEMU][0].tsc_khz);
	printf("wall_ratio=%.3f\n",
	       run_stat(f[VITRO], c.rounds, true).med /
		       run_stat(f[QEMU], c.rounds, true).med);
	if (nrun == NRUN)
		print_ratio("mem_ratio_hugetlb", &c, f, VITRO_HUGETLB);
	else
		printf("mem_ratio_hugetlb=skip\n");
	print_ratio("mem_ratio", &c, f, VITRO);
	return 0;
}
