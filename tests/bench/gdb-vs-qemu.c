/*
 * gdb-vs-qemu: how fast gdb single-steps and reads memory through vitro's
 * gdb stub, against QEMU's gdbstub with KVM, on the same guest with the
 * same gdb script.
 *
 *   gdb-vs-qemu [-c free|pinned|both] [-n STEPS] [-r ROUNDS]
 *
 * The guest is step-guest.elf (step-guest.c), a Multiboot 1 kernel in
 * ELF32 whose entry point is the top of an endless 6-instruction loop run
 * in 32-bit protected mode at CPL 0 (emulated on a software KVM).  vitro
 * runs it with `-m 64M -G w0` (held before its first instruction; the port
 * is read from its "gdb: listening on" line), QEMU with `-enable-kvm -m 64M
 * -kernel ... -gdb tcp:127.0.0.1:PORT -S` (held at the reset vector; its
 * firmware then boots the kernel).  The real gdb, in batch mode, connects
 * to each and runs one script: a hardware breakpoint at the entry point,
 * `continue` (both stop there, in the loop), delete it, then two phases,
 * timed inside gdb with Python's time.monotonic():
 *
 *   `stepi STEPS`  (default 2000): steps/s = STEPS / time.  The loop
 *                  counter in EAX must have moved by exactly the number
 *                  of loop iterations STEPS single steps make, or the run
 *                  is an error (a "step" that ran more, or stopped early).
 *   `dump binary memory FILE 0x100000 0x1100000`: 16 MiB of guest memory
 *                  with paging off (linear = physical); MB/s = 16 MiB /
 *                  time (MB = 10^6 bytes).  The file must be 16 MiB long
 *                  and end with the word the guest stores there.
 *
 * gdb's own start-up, the connection and the boot are outside the timed
 * phases.  Each round runs both VMMs (in alternating order) from a fresh
 * start, in two placements (-c picks one): "free", where the scheduler
 * puts the VMM's threads and gdb, as a user runs them; and "pinned", all
 * of them on one CPU.  Every step is a round trip between gdb, the VMM's
 * control thread and its vCPU thread, and on a virtual machine like the
 * ones this project is tested on, waking a thread on another (idle) CPU
 * costs tens of microseconds, so the free figures swing with where the
 * threads land; the pinned ones measure the work per step and hold steady.
 * Medians over ROUNDS (default 7).
 *
 * Prints figures, never judges them; the last line is `stepi_ratio=A
 * dump_ratio=B`, vitro's median over QEMU's, free when both placements
 * ran (the pinned ratios, as pinned_stepi_ratio= and pinned_dump_ratio=,
 * on the line before).  Says `skip: reason` (status 0) when /dev/kvm,
 * vitro, qemu-system-x86_64 (`scripts/install-deps --bench` installs it)
 * or gdb with Python is missing, or when tests/kvm/kvm-probe finds that
 * hardware breakpoints do not stop a guest on this KVM.  Exit status 0,
 * or 1 when a run fails.
 *
 * Single-threaded; no global state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"
#include "tests/bench/bench.h"

#define MAX_RUNS 50
#define DEFAULT_STEPS 2000
#define MIN_STEPS 1000
#define MAX_STEPS 1000000
#define MEM "64" /* MiB, both VMMs: the dump range ends at 17 MiB */
#define PORT_WAIT_MS 10000 /* for vitro's "listening" line */
#define GDB_WAIT_MS 60000 /* for a gdb session, plus GDB_STEP_MS a step */
#define GDB_STEP_MS 5
#define VMM_WAIT_MS 5000 /* for a VMM to end after gdb's `kill` */
#define LOOP_INSNS 6 /* step-guest.c's loop, `addl $1,%eax` 2nd */

enum { VITRO, QEMU, NVMM };
enum { FREE, PINNED, NMODE };

struct run_env {
	struct bench_paths p;
	char step_guest[BENCH_PATH_MAX];
	char qemu[BENCH_PATH_MAX];
	char gdb[BENCH_PATH_MAX];
	char dir[BENCH_PATH_MAX / 2]; /* scratch: the script and the dump */
	char script[BENCH_PATH_MAX];
	char dump[BENCH_PATH_MAX];
	unsigned long steps;
};

struct figures {
	double steps_s; /* stepi rate */
	double dump_mb_s; /* dump rate, 10^6 bytes/s */
};

static const char *const vmm_name[NVMM] = { "vitro", "qemu" };

/* The ELF32 entry point of the guest; 0, or -1 with a message printed. */
static int elf32_entry(const char *path, uint32_t *entry)
{
	unsigned char h[52];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(h, 1, sizeof(h), f) : 0;

	if (f)
		fclose(f);
	if (n != sizeof(h) || memcmp(h, "\177ELF", 4) || h[4] != 1) {
		fprintf(stderr, "error: %s: expected an ELF32 file; run make\n",
			path);
		return -1;
	}
	*entry = h[24] | h[25] << 8 | h[26] << 16 | (uint32_t)h[27] << 24;
	return 0;
}

/* Has the child ended?  Never reaps it. */
static bool child_ended(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return true;
	return si.si_pid == pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Wait up to ms for the child to end, then kill it; reap it either way.
 * Returns true when it ended by itself.
 */
static bool child_finish(struct bench_child *c, struct bench_result *r, long ms)
{
	bool ended = false;

	for (long t = 0; t <= ms; t += 10) {
		if ((ended = child_ended(c->pid)))
			break;
		sleep_ms(10);
	}
	if (!ended)
		kill(c->pid, SIGKILL);
	if (bench_child_wait(c, r) < 0) {
		r->out = NULL;
		r->status = -1;
	}
	return ended;
}

/* The output captured so far (NUL-terminated, malloc'd), or NULL. */
static char *child_output(const struct bench_child *c)
{
	off_t len = lseek(c->outfd, 0, SEEK_END);
	char *buf;

	if (len < 0 || !(buf = malloc((size_t)len + 1)))
		return NULL;
	if (pread(c->outfd, buf, (size_t)len, 0) != len) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* vitro's gdb port, from its log line; 0, or -1 with a message printed. */
static int vitro_port(const struct bench_child *c, unsigned *port)
{
	static const char key[] = "gdb: listening on ";

	for (long t = 0; t < PORT_WAIT_MS; t += 10) {
		char *out = child_output(c), *m, *colon;
		int found = 0;

		if (out && (m = strstr(out, key)) &&
		    (colon = strchr(m + sizeof(key) - 1, ';'))) {
			*colon = 0;
			colon = strrchr(m, ':');
			found = colon && sscanf(colon + 1, "%u", port) == 1;
		}
		free(out);
		if (found)
			return 0;
		if (child_ended(c->pid))
			break;
		sleep_ms(10);
	}
	fprintf(stderr, "error: vitro did not say which port it listens on\n");
	return -1;
}

/* A TCP port on 127.0.0.1 that is free now (QEMU binds it next). */
static int free_port(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		r = -errno;
	else
		*port = ntohs(a.sin_port);
	close(fd);
	return r;
}

static int write_script(const struct run_env *e, uint32_t entry)
{
	FILE *f = fopen(e->script, "w");

	if (!f) {
		fprintf(stderr, "error: %s: %s\n", e->script, strerror(errno));
		return -1;
	}
	fprintf(f,
		"set pagination off\n"
		"set confirm off\n"
		"set height 0\n"
		"hbreak *%#x\n"
		"continue\n"
		"delete\n"
		"python import time\n"
		"python a0 = int(gdb.parse_and_eval('$rax')) & 0xffffffff\n"
		"python t0 = time.monotonic()\n"
		"stepi %lu\n"
		"python t1 = time.monotonic()\n"
		"python a1 = int(gdb.parse_and_eval('$rax')) & 0xffffffff\n"
		"python print('bench: stepi_s=%%.6f iterations=%%d' %% "
		"(t1 - t0, (a1 - a0) & 0xffffffff))\n"
		"python t0 = time.monotonic()\n"
		"dump binary memory %s %#x %#x\n"
		"python t1 = time.monotonic()\n"
		"python print('bench: dump_s=%%.6f' %% (t1 - t0))\n"
		"kill\n",
		entry, e->steps, e->dump, STEP_DUMP_START,
		STEP_DUMP_START + STEP_DUMP_LEN);
	if (fclose(f) != 0) {
		fprintf(stderr, "error: %s: %s\n", e->script, strerror(errno));
		return -1;
	}
	return 0;
}

/* The dump is 16 MiB and ends with the guest's signature; 0 or -1. */
static int check_dump(const char *path, const char *who)
{
	unsigned char w[4];
	struct stat st;
	uint32_t v;
	FILE *f = fopen(path, "rb");
	int ok = f && fstat(fileno(f), &st) == 0 &&
		 st.st_size == STEP_DUMP_LEN &&
		 fseek(f, STEP_SIGNATURE_ADDR - STEP_DUMP_START, SEEK_SET) ==
			 0 &&
		 fread(w, 1, 4, f) == 4;

	if (f)
		fclose(f);
	unlink(path);
	v = ok ? w[0] | w[1] << 8 | w[2] << 16 | (uint32_t)w[3] << 24 : 0;
	if (!ok || v != STEP_SIGNATURE) {
		fprintf(stderr,
			"error: %s: the dump is not 16 MiB ending with %#x "
			"(%s, last word %#x)\n",
			who, STEP_SIGNATURE, ok ? "16 MiB" : "short or missing",
			v);
		return -1;
	}
	return 0;
}

/* Start one VMM held for gdb; its port in *port.  0, or -1 (message). */
static int vmm_start(const struct run_env *e, int which, struct bench_child *c,
		     unsigned *port)
{
	char qspec[64];
	char *vitro[] = { (char *)e->p.vitro,
			  "--debug-exit",
			  "-m",
			  MEM "M",
			  "-G",
			  "w0",
			  "-k",
			  (char *)e->step_guest,
			  NULL };
	char *qemu[] = { (char *)e->qemu,
			 "-enable-kvm",
			 "-nodefaults",
			 "-display",
			 "none",
			 "-serial",
			 "none",
			 "-monitor",
			 "none",
			 "-no-reboot",
			 "-m",
			 MEM "M",
			 "-kernel",
			 (char *)e->step_guest,
			 "-gdb",
			 qspec,
			 "-S",
			 NULL };
	struct bench_result r;
	int err;

	if (which == QEMU) {
		if ((err = free_port(port)) < 0) {
			fprintf(stderr, "error: no free port: %s\n",
				strerror(-err));
			return -1;
		}
		snprintf(qspec, sizeof(qspec), "tcp:127.0.0.1:%u", *port);
	}
	err = bench_child_start(c, which == VITRO ? vitro : qemu);
	if (err < 0) {
		fprintf(stderr, "error: cannot run %s: %s\n", vmm_name[which],
			strerror(-err));
		return -1;
	}
	if (which == VITRO && vitro_port(c, port) < 0) {
		child_finish(c, &r, 0);
		fprintf(stderr, "vitro said:\n%s", r.out ? r.out : "");
		free(r.out);
		return -1;
	}
	return 0;
}

/* Find "key=%lf" in s. */
static int find_double(const char *s, const char *key, double *v)
{
	const char *m = s ? strstr(s, key) : NULL;

	return m && sscanf(m + strlen(key), "%lf", v) == 1 ? 0 : -1;
}

/* One VMM, one gdb session; 0, or -1 with a message printed. */
static int run_one(const struct run_env *e, int which, struct figures *fig)
{
	char target[64];
	char *gdb[] = { (char *)e->gdb,
			"-batch",
			"-nx",
			"-ex",
			"set tcp connect-timeout 30",
			"-ex",
			target,
			"-x",
			(char *)e->script,
			NULL };
	struct bench_child vc, gc;
	struct bench_result vr, gr;
	double stepi_s = 0, dump_s = 0, iters = -1;
	unsigned port = 0;
	int err, ok;

	if (vmm_start(e, which, &vc, &port) < 0)
		return -1;
	snprintf(target, sizeof(target), "target remote 127.0.0.1:%u", port);
	err = bench_child_start(&gc, gdb);
	if (err < 0) {
		fprintf(stderr, "error: cannot run gdb: %s\n", strerror(-err));
		child_finish(&vc, &vr, 0);
		free(vr.out);
		return -1;
	}
	if (!child_finish(&gc, &gr, GDB_WAIT_MS + GDB_STEP_MS * (long)e->steps))
		fprintf(stderr, "error: gdb against %s timed out\n",
			vmm_name[which]);
	/* gdb's `kill` ends both VMMs; a failed script leaves them running. */
	child_finish(&vc, &vr, VMM_WAIT_MS);
	ok = find_double(gr.out, "bench: stepi_s=", &stepi_s) == 0 &&
	     find_double(gr.out, "iterations=", &iters) == 0 &&
	     find_double(gr.out, "bench: dump_s=", &dump_s) == 0 &&
	     stepi_s > 0 && dump_s > 0;
	if (!ok) {
		fprintf(stderr,
			"error: gdb against %s gave no figures; gdb said:\n%s"
			"%s said:\n%s",
			vmm_name[which], gr.out ? gr.out : "(lost)\n",
			vmm_name[which], vr.out ? vr.out : "(lost)\n");
	} else if ((unsigned long)iters !=
		   (e->steps + LOOP_INSNS - 2) / LOOP_INSNS) {
		fprintf(stderr,
			"error: %s: %lu steps ran %.0f loop iterations, "
			"expected %lu\n",
			vmm_name[which], e->steps, iters,
			(e->steps + LOOP_INSNS - 2) / LOOP_INSNS);
		ok = 0;
	} else if (check_dump(e->dump, vmm_name[which]) < 0) {
		ok = 0;
	}
	unlink(e->dump);
	free(gr.out);
	free(vr.out);
	if (!ok)
		return -1;
	fig->steps_s = e->steps / stepi_s;
	fig->dump_mb_s = STEP_DUMP_LEN / dump_s / 1e6;
	return 0;
}

static double print_stat(const char *label, const char *unit, double *v, int n)
{
	struct bench_stat s = bench_stat(v, n);

	printf("  %-22s median %9.1f %-7s (min %.1f, max %.1f, %d runs)\n",
	       label, s.med, unit, s.min, s.max, n);
	return s.med;
}

/*
 * Run the VMMs and gdb on every CPU we may use, or on only one: the
 * children inherit the affinity.  0, or -1 with a message printed.
 */
static int set_cpus(int mode, const cpu_set_t *all)
{
	cpu_set_t one;
	int cpu = 0;

	if (mode == FREE) {
		if (sched_setaffinity(0, sizeof(*all), all) == 0)
			return 0;
		fprintf(stderr, "error: cannot unpin: %s\n", strerror(errno));
		return -1;
	}
	while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, all))
		cpu++;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		fprintf(stderr, "error: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The script starts at an hbreak on the guest's entry: where hardware
 * breakpoints do not stop a guest (the nested SVM KVM), vitro's run would
 * only end at its timeout.  Asks tests/kvm/kvm-probe, beside the build's
 * benchmarks; prints skip and returns true when the probe says no.
 */
static bool hw_bp_refused(const struct bench_paths *p)
{
	char probe[BENCH_PATH_MAX], dir[BENCH_PATH_MAX];
	struct bench_result r;
	char *argv[] = { probe, "hw-bp", NULL };
	bool no;

	/* BUILD/tests/bench/bare-kvm -> BUILD/tests/kvm/kvm-probe */
	snprintf(dir, sizeof(dir), "%s", p->bare);
	snprintf(probe, sizeof(probe), "%s/kvm/kvm-probe",
		 dirname(dirname(dir)));
	if (access(probe, X_OK) < 0 || bench_run(argv, &r) < 0)
		return false; /* no probe: try */
	no = r.status == 1;
	if (no) {
		/* "hw-bp: VERDICT: why" */
		const char *why = r.out ? strstr(r.out, ": ") : NULL;

		why = why ? strstr(why + 2, ": ") : NULL;
		printf("skip: hardware breakpoints do not stop the guest on "
		       "this KVM: %.*s (probe hw-bp)\n",
		       why ? (int)strcspn(why + 2, "\n") : 0,
		       why ? why + 2 : "");
	}
	free(r.out);
	return no;
}
/* Everything found, or a skip (1) or an error (-1) printed. */
static int env_find(struct run_env *e)
{
	char gp[BENCH_PATH_MAX], cmd[BENCH_PATH_MAX + 128];
	const char *tmp = getenv("TMPDIR");
	FILE *f;
	int r, py = 0;

	if ((r = bench_paths_find(&e->p)) != 0)
		return r;
	snprintf(gp, sizeof(gp), "%s", e->p.guest);
	snprintf(e->step_guest, sizeof(e->step_guest), "%s/step-guest.elf",
		 dirname(gp));
	if (access(e->step_guest, R_OK) < 0) {
		fprintf(stderr, "error: %s missing: run make\n", e->step_guest);
		return -1;
	}
	if (bench_find_in_path("qemu-system-x86_64", e->qemu, sizeof(e->qemu)) <
	    0) {
		printf("skip: qemu-system-x86_64 not found "
		       "(scripts/install-deps --bench installs "
		       "qemu-system-x86)\n");
		return 1;
	}
	if (bench_find_in_path("gdb", e->gdb, sizeof(e->gdb)) < 0) {
		printf("skip: gdb not found\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd),
		 "'%s' -batch -nx -ex \"python print('bench-py-' + 'ok')\" "
		 "2>&1",
		 e->gdb);
	if ((f = popen(cmd, "r"))) {
		char line[256];

		while (fgets(line, sizeof(line), f))
			py |= strstr(line, "bench-py-ok") != NULL;
		pclose(f);
	}
	if (!py) {
		printf("skip: %s has no Python (the script times with it)\n",
		       e->gdb);
		return 1;
	}
	if (hw_bp_refused(&e->p))
		return 1;
	snprintf(e->dir, sizeof(e->dir), "%s/gdb-vs-qemu.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->dir)) {
		fprintf(stderr, "error: mkdtemp %s: %s\n", e->dir,
			strerror(errno));
		return -1;
	}
	snprintf(e->script, sizeof(e->script), "%s/bench.gdb", e->dir);
	snprintf(e->dump, sizeof(e->dump), "%s/dump.bin", e->dir);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const mode_opt[NMODE] = { "free", "pinned" };
	static const char *const mode_desc[NMODE] = {
		"free: threads where the scheduler puts them",
		"pinned: the VMM and gdb share one CPU",
	};
	struct run_env e = { 0 };
	double steps[NMODE][NVMM][MAX_RUNS], dump[NMODE][NVMM][MAX_RUNS];
	double smed[NMODE][NVMM], dmed[NMODE][NVMM];
	int runs = 7, c, r, status = 0, first = FREE, last = PINNED;
	cpu_set_t all;
	uint32_t entry;

	e.steps = DEFAULT_STEPS;
	while ((c = getopt(argc, argv, "c:n:r:")) != -1) {
		switch (c) {
		case 'c':
			if (!strcmp(optarg, mode_opt[FREE])) {
				first = last = FREE;
			} else if (!strcmp(optarg, mode_opt[PINNED])) {
				first = last = PINNED;
			} else if (strcmp(optarg, "both")) {
				fprintf(stderr, "gdb-vs-qemu: -c free, pinned "
						"or both\n");
				return 1;
			}
			break;
		case 'n':
			e.steps = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: gdb-vs-qemu [-c free|pinned|both] "
				"[-n STEPS] [-r ROUNDS]\n");
			return 1;
		}
	}
	if (e.steps < MIN_STEPS || e.steps > MAX_STEPS) {
		fprintf(stderr, "gdb-vs-qemu: -n %d to %d\n", MIN_STEPS,
			MAX_STEPS);
		return 1;
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "gdb-vs-qemu: -r 1 to %d\n", MAX_RUNS);
		return 1;
	}
	if (sched_getaffinity(0, sizeof(all), &all) < 0) {
		fprintf(stderr, "error: sched_getaffinity: %s\n",
			strerror(errno));
		return 1;
	}
	if ((r = env_find(&e)) != 0)
		return r > 0 ? 0 : 1;
	if (elf32_entry(e.step_guest, &entry) < 0 ||
	    write_script(&e, entry) < 0) {
		status = 1;
		goto out;
	}

	printf("gdb-vs-qemu: step-guest.elf (Multiboot, 32-bit protected mode, "
	       "CPL 0), %s MiB, 1 vCPU;\n"
	       "  one gdb script: hbreak at the entry %#x, continue, then "
	       "`stepi %lu` and\n"
	       "  `dump binary memory` of %#x-%#x (16 MiB), timed in gdb\n",
	       MEM, entry, e.steps, STEP_DUMP_START,
	       STEP_DUMP_START + STEP_DUMP_LEN);
	for (int i = 0; i < runs; i++) {
		for (int m = first; m <= last; m++) {
			struct figures fig[NVMM];

			if (set_cpus(m, &all) < 0) {
				status = 1;
				goto out;
			}
			/* Alternate the order so neither always runs first. */
			for (int k = 0; k < NVMM; k++) {
				int w = (i + k) % NVMM;

				if (run_one(&e, w, &fig[w]) < 0) {
					status = 1;
					goto out;
				}
				steps[m][w][i] = fig[w].steps_s;
				dump[m][w][i] = fig[w].dump_mb_s;
			}
			printf("  round %d, %-6s vitro %6.0f steps/s %6.1f "
			       "MB/s, qemu %6.0f steps/s %6.1f MB/s\n",
			       i + 1, mode_opt[m], fig[VITRO].steps_s,
			       fig[VITRO].dump_mb_s, fig[QEMU].steps_s,
			       fig[QEMU].dump_mb_s);
		}
	}
	for (int m = first; m <= last; m++) {
		printf("%s\n", mode_desc[m]);
		smed[m][VITRO] = print_stat("vitro stepi:", "steps/s",
					    steps[m][VITRO], runs);
		dmed[m][VITRO] =
			print_stat("vitro dump:", "MB/s", dump[m][VITRO], runs);
		smed[m][QEMU] = print_stat("qemu stepi:", "steps/s",
					   steps[m][QEMU], runs);
		dmed[m][QEMU] =
			print_stat("qemu dump:", "MB/s", dump[m][QEMU], runs);
		printf("  per step: vitro %.0f us, qemu %.0f us\n",
		       1e6 / smed[m][VITRO], 1e6 / smed[m][QEMU]);
	}
	/* The free figures last when there are both: what a user sees. */
	for (int m = last; m >= first; m--) {
		const char *pre = m == PINNED && first != last ? "pinned_" : "";

		printf("%sstepi_ratio=%.3f %sdump_ratio=%.3f\n", pre,
		       smed[m][VITRO] / smed[m][QEMU], pre,
		       dmed[m][VITRO] / dmed[m][QEMU]);
	}
out:
	unlink(e.script);
	unlink(e.dump);
	rmdir(e.dir);
	return status;
}
